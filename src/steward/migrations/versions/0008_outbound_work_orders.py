"""Outbound-call teams and their work orders.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_team",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("district", sa.String(96), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_team"),
        sa.UniqueConstraint("name", name="uq_outbound_team_name"),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_key", sa.String(64), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_to", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'assigned', 'closed')", name="ck_work_order_status"
        ),
        sa.CheckConstraint(
            "result IS NULL OR result IN "
            "('accepted', 'rejected', 'considering', 'call_back', 'failed')",
            name="ck_work_order_result",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["outbound_team.id"], name="fk_work_order_team_id_outbound_team"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_work_order"),
        sa.UniqueConstraint("contact_key", "attempt", name="uq_work_order_contact_key"),
    )
    op.create_index("ix_work_order_team_day", "work_order", ["team_id", "day"])
    op.create_index("ix_work_order_team_status_due", "work_order", ["team_id", "status", "due_at"])
    op.create_index("ix_work_order_assigned_status", "work_order", ["assigned_to", "status"])


def downgrade() -> None:
    op.drop_index("ix_work_order_assigned_status", table_name="work_order")
    op.drop_index("ix_work_order_team_status_due", table_name="work_order")
    op.drop_index("ix_work_order_team_day", table_name="work_order")
    op.drop_table("work_order")
    op.drop_table("outbound_team")
