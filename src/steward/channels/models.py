"""Channel tables: the simulated SMS and order centres' stores, inbound replies, opt-outs.

``sms_message`` and ``billing_order`` stand in for outside systems (an SMS gateway, the
billing order centre); they live in the operational store so that a submission and the
ledger row that records it commit together. ``inbound_sms`` keeps every reply, matched or
not; an unsubscribe reply feeds the policy's opt-out list (``policy.models.ChannelOptOut``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class SmsStatus(StrEnum):
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    FAILED = "failed"


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class SmsMessage(Base):
    """One message handed to the (simulated) SMS centre; at most one per contact."""

    __tablename__ = "sms_message"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'delivered', 'failed')", name="status"),
        Index("ix_sms_message_status", "status"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    contact_key: Mapped[str] = mapped_column(String(64), unique=True)
    msisdn: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=SmsStatus.SUBMITTED.value)
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(64))


class InboundSms(Base):
    """A text a subscriber sent back; kept whatever it says, marked once it is handled."""

    __tablename__ = "inbound_sms"
    __table_args__ = (Index("ix_inbound_sms_processed", "processed"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    msisdn: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32))
    contact_key: Mapped[str | None] = mapped_column(String(64))


class BillingOrder(Base):
    """One order as the (simulated) billing order centre recorded it; one per order key."""

    __tablename__ = "billing_order"
    __table_args__ = (CheckConstraint("status IN ('accepted', 'rejected')", name="status"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_key: Mapped[str] = mapped_column(String(64), unique=True)
    msisdn: Mapped[str] = mapped_column(String(20))
    billing_product_id: Mapped[str | None] = mapped_column(String(32))
    offer_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
