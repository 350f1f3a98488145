"""Manual evaluation reports (R-EVAL-4): a file an analyst uploads about a campaign.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_report",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_evaluation_report_campaign_id_campaign"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_report"),
    )
    op.create_index("ix_evaluation_report_campaign", "evaluation_report", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_evaluation_report_campaign", table_name="evaluation_report")
    op.drop_table("evaluation_report")
