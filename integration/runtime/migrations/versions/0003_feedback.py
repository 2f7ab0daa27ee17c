"""Feedback requests (one per resolution) and the answers customers submit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feedback_requests",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(), nullable=False),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=False),
        sa.Column("department", sa.String()),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("platform", "ticket_id", "resolution", name="uq_feedback_request_resolution"),
    )
    op.create_index("ix_feedback_requests_sent", "feedback_requests", ["sent_at"])
    op.create_table(
        "feedback_answers",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(), nullable=False),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("department", sa.String()),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_feedback_answers_resolution", "feedback_answers", ["platform", "ticket_id", "resolution", "id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_answers_resolution", "feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_index("ix_feedback_requests_sent", "feedback_requests")
    op.drop_table("feedback_requests")
