"""The inbox, the action log and deadlines.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.String(), nullable=False),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("source_type", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String()),
        sa.Column("lease_expires_at", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("outcome", sa.Text()),
        sa.Column("finished_at", sa.DateTime()),
        sa.UniqueConstraint("platform", "delivery_id", name="uq_inbox_delivery"),
    )
    op.create_index("ix_inbox_claim", "inbox", ["status", "available_at", "id"])
    op.create_index("ix_inbox_ticket", "inbox", ["ticket_key", "id"])
    op.create_index(
        "uq_inbox_one_lease_per_ticket",
        "inbox",
        ["ticket_key"],
        unique=True,
        sqlite_where=sa.text("status = 'leased'"),
        postgresql_where=sa.text("status = 'leased'"),
    )
    op.create_table(
        "action_log",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("action_key", sa.String(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("event_id", "action_key", name="uq_action_log_event_action"),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime()),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("within", sa.String(40), nullable=False),
        sa.Column("calendar", sa.String()),
        sa.Column("met_by", sa.String(), nullable=False),
        sa.Column("pause_while", sa.String(), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("ticket_key", "name", name="uq_deadline_ticket_name"),
    )
    op.create_index("ix_deadlines_due", "deadlines", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("deadlines")
    op.drop_table("action_log")
    op.drop_index("uq_inbox_one_lease_per_ticket", "inbox")
    op.drop_index("ix_inbox_ticket", "inbox")
    op.drop_index("ix_inbox_claim", "inbox")
    op.drop_table("inbox")
