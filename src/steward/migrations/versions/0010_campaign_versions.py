"""Campaign versions: what a campaign said each time it was submitted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_campaign_version_campaign_id_campaign"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_version"),
        sa.UniqueConstraint("campaign_id", "version", name="uq_campaign_version_campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("campaign_version")
