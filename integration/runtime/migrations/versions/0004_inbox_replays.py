"""The inbox counts replays: a replayed event starts its attempts afresh, but an earlier
run may have written to the ticket, so the worker must look there before writing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as table:
        table.add_column(sa.Column("replays", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as table:
        table.drop_column("replays")
