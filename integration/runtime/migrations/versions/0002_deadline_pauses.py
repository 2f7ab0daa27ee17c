"""Deadlines remember the time left while paused, and when they were breached.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as table:
        table.add_column(sa.Column("remaining_seconds", sa.Float()))
        table.add_column(sa.Column("breached_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as table:
        table.drop_column("breached_at")
        table.drop_column("remaining_seconds")
