"""The contact ledger; campaigns name the DND categories they include and past campaigns
whose contacts they exclude.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("contact_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("exclusion_group", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("arm", sa.String(8), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_event"),
    )
    op.create_index("ix_contact_event_msisdn_at", "contact_event", ["msisdn", "at"])
    op.create_index("ix_contact_event_contact_key", "contact_event", ["contact_key"])
    op.create_index("ix_contact_event_campaign_state", "contact_event", ["campaign_id", "state"])
    op.create_index("ix_contact_event_day_channel", "contact_event", ["day", "channel"])
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("dnd_include", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("exclude_campaigns", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("exclude_campaigns")
        batch.drop_column("dnd_include")
    op.drop_table("contact_event")
