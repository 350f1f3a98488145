"""The simulated SMS centre's store, inbound replies, the simulated order centre, and channel
opt-outs (an unsubscribe by reply).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "sms_message",
        _id(),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("contact_key", sa.String(64), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'delivered', 'failed')", name="ck_sms_message_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sms_message"),
        sa.UniqueConstraint("message_id", name="uq_sms_message_message_id"),
        sa.UniqueConstraint("contact_key", name="uq_sms_message_contact_key"),
    )
    op.create_index("ix_sms_message_status", "sms_message", ["status"])
    op.create_table(
        "inbound_sms",
        _id(),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("contact_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_sms"),
    )
    op.create_index("ix_inbound_sms_processed", "inbound_sms", ["processed"])
    op.create_table(
        "billing_order",
        _id(),
        sa.Column("order_key", sa.String(64), nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("billing_product_id", sa.String(32), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('accepted', 'rejected')", name="ck_billing_order_status"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_order"),
        sa.UniqueConstraint("order_key", name="uq_billing_order_order_key"),
    )
    op.create_table(
        "channel_opt_out",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("msisdn", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_opt_out"),
        sa.UniqueConstraint("msisdn", "channel", name="uq_channel_opt_out_msisdn"),
    )


def downgrade() -> None:
    op.drop_table("channel_opt_out")
    op.drop_table("billing_order")
    op.drop_index("ix_inbound_sms_processed", table_name="inbound_sms")
    op.drop_table("inbound_sms")
    op.drop_index("ix_sms_message_status", table_name="sms_message")
    op.drop_table("sms_message")
