"""Daily operation: registered data sources and the record of every step of every day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RUNNING_ONLY = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        "data_source",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("folder", sa.String(1024), nullable=False),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("interface", sa.String(32), nullable=False),
        sa.Column("expected_by", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_source"),
        sa.UniqueConstraint("name", name="uq_data_source_name"),
    )
    op.create_table(
        "step_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped')", name="ck_step_run_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_step_run"),
    )
    op.create_index("ix_step_run_day_step", "step_run", ["day", "step"])
    op.create_index("ix_step_run_status", "step_run", ["status"])
    op.create_index(
        "ix_step_run_one_running",
        "step_run",
        ["day", "step"],
        unique=True,
        sqlite_where=RUNNING_ONLY,
        postgresql_where=RUNNING_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_step_run_one_running", table_name="step_run")
    op.drop_index("ix_step_run_status", table_name="step_run")
    op.drop_index("ix_step_run_day_step", table_name="step_run")
    op.drop_table("step_run")
    op.drop_table("data_source")
