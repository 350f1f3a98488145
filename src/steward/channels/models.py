"""Channel tables: the simulated SMS and order centres' stores, inbound replies, opt-outs.

``sms_message`` and ``billing_order`` stand in for outside systems (an SMS gateway, the
billing order centre); they live in the operational store so that a submission and the
ledger row that records it commit together. ``inbound_sms`` keeps every reply, matched or
not; an unsubscribe reply feeds the policy's opt-out list (``policy.models.ChannelOptOut``).
``history_visibility`` and ``outcome_rule`` hold the cross-channel rules (R-CHAN-4, R-CHAN-5).
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
    UniqueConstraint,
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


class Topic(StrEnum):
    """What a contact was about, for the history rules (R-CHAN-4): the offer's type, except
    that a care campaign (or a service notice) is ``care`` and a retention offer
    (category ``retention``) is ``retention``, whatever its type."""

    PLAN_CHANGE = "plan_change"  # voice plan
    VAS = "vas"  # voice value-added services
    DATA_PACK = "data_pack"
    CONTENT = "content"
    FAMILY = "family"
    ROAMING = "roaming"
    HANDSET = "handset"
    BROADBAND = "broadband"
    CARE = "care"
    RETENTION = "retention"


class Outcome(StrEnum):
    """What happened on a channel, for the outcome rules (R-CHAN-5)."""

    ACCEPTED = "accepted"
    ORDERED = "ordered"
    REJECTED = "rejected"
    CONSIDERING = "considering"
    CALL_BACK = "call_back"
    NOT_REACHED = "not_reached"
    UNSUBSCRIBED = "unsubscribed"


class Action(StrEnum):
    """What an outcome does to the same campaign's pending contacts on the other channels."""

    CANCEL = "cancel"
    KEEP = "keep"


class HistoryVisibility(Base):
    """Whether ``channel``'s screen shows the contacts about ``topic`` that other channels
    made (R-CHAN-4); a pair without a row shows nothing."""

    __tablename__ = "history_visibility"
    __table_args__ = (UniqueConstraint("topic", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    shows: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutcomeRule(Base):
    """What ``outcome`` on ``channel`` does to the same campaign's still-pending contacts
    of the subscriber on the other channels (R-CHAN-5); a pair without a row keeps them."""

    __tablename__ = "outcome_rule"
    __table_args__ = (
        UniqueConstraint("channel", "outcome"),
        CheckConstraint("action IN ('cancel', 'keep')", name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
