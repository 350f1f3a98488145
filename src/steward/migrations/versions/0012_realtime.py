"""Real time: triggered campaigns, due times, online decisions and the watch list.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("trigger", sa.JSON(), nullable=True))
    with op.batch_alter_table("contact_event") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    # released contacts (failed, cancelled) are few: found by state, not by scanning the ledger
    op.create_index("ix_contact_event_state_key", "contact_event", ["state", "contact_key"])
    with op.batch_alter_table("event_inbox") as batch:
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "event_decision",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(48), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("contact_key", sa.String(64), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_decision"),
        sa.UniqueConstraint("event_id", name="uq_event_decision_event_id"),
    )
    op.create_index("ix_event_decision_msisdn", "event_decision", ["msisdn", "decided_at"])
    op.create_table(
        "trigger_outcome",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(48), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trigger_outcome"),
    )
    op.create_index(
        "ix_trigger_outcome_campaign", "trigger_outcome", ["campaign_id", "day", "outcome"]
    )
    op.create_table(
        "watch_entry",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("district", sa.String(96), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("figure", sa.Float(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handler", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_watch_entry"),
        sa.UniqueConstraint("event_id", name="uq_watch_entry_event_id"),
    )
    op.create_index("ix_watch_entry_status", "watch_entry", ["status", "district"])


def downgrade() -> None:
    op.drop_table("watch_entry")
    op.drop_table("trigger_outcome")
    op.drop_table("event_decision")
    with op.batch_alter_table("event_inbox") as batch:
        batch.drop_column("processed_at")
    op.drop_index("ix_contact_event_state_key", table_name="contact_event")
    with op.batch_alter_table("contact_event") as batch:
        batch.drop_column("due_at")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("trigger")
