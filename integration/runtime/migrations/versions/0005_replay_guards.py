"""Replay guards: delivery ids kept after `events prune` (tombstones), and the signed webhook
content seen while its signature is within its time window.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery_tombstones",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("delivery_id", sa.String(), primary_key=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_delivery_tombstones_received", "delivery_tombstones", ["received_at"])
    op.create_table(
        "webhook_signatures",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("platform", "digest", name="uq_webhook_signature"),
    )
    op.create_index("ix_webhook_signatures_expires", "webhook_signatures", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_signatures_expires", table_name="webhook_signatures")
    op.drop_table("webhook_signatures")
    op.drop_index("ix_delivery_tombstones_received", table_name="delivery_tombstones")
    op.drop_table("delivery_tombstones")
