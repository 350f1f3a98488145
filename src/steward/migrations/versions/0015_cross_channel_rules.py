"""Cross-channel rules (R-CHAN-4, R-CHAN-5): which channels show which contacts of other
channels, and what an outcome on one channel does to the campaign's contacts on the others.

The defaults are seeded here, written out rather than imported, so this revision means the
same whatever the code becomes: voice-plan, voice-VAS and data marketing show their history
in outbound, inbound and hall; care and retention show none, nor do the topics R-CHAN-4
does not name. A completed conversation (accepted, ordered, refused) cancels the campaign's
pending contacts on the other channels; an interrupted or open one (not reached, call back,
considering, an SMS opt-out) keeps them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SEEDED_BY = "migration 0015"
TOPICS = (
    "plan_change",
    "vas",
    "data_pack",
    "content",
    "family",
    "roaming",
    "handset",
    "broadband",
    "care",
    "retention",
)
SHOWN_TOPICS = ("plan_change", "vas", "data_pack")
VIEWING_CHANNELS = ("outbound", "inbound", "hall")
OUTCOMES = {
    "outbound": (
        "accepted",
        "ordered",
        "rejected",
        "considering",
        "call_back",
        "not_reached",
    ),
    "sms": ("accepted", "ordered", "rejected", "unsubscribed"),
    "inbound": ("accepted", "ordered", "rejected"),
    "hall": ("accepted", "ordered", "rejected"),
}
CANCELLING = ("accepted", "ordered", "rejected")


def upgrade() -> None:
    visibility = op.create_table(
        "history_visibility",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("shows", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_history_visibility"),
        sa.UniqueConstraint("topic", "channel", name="uq_history_visibility_topic"),
    )
    rules = op.create_table(
        "outcome_rule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('cancel', 'keep')", name="ck_outcome_rule_action"),
        sa.PrimaryKeyConstraint("id", name="pk_outcome_rule"),
        sa.UniqueConstraint("channel", "outcome", name="uq_outcome_rule_channel"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        visibility,
        [
            {
                "topic": topic,
                "channel": channel,
                "shows": topic in SHOWN_TOPICS,
                "updated_by": SEEDED_BY,
                "updated_at": now,
            }
            for topic in TOPICS
            for channel in VIEWING_CHANNELS
        ],
    )
    op.bulk_insert(
        rules,
        [
            {
                "channel": channel,
                "outcome": outcome,
                "action": "cancel" if outcome in CANCELLING else "keep",
                "updated_by": SEEDED_BY,
                "updated_at": now,
            }
            for channel, outcomes in OUTCOMES.items()
            for outcome in outcomes
        ],
    )


def downgrade() -> None:
    op.drop_table("outcome_rule")
    op.drop_table("history_visibility")
