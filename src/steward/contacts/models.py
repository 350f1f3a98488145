"""The contact ledger: every state change of every contact, appended, never edited.

It is the truth for frequency caps, intervals, capacity, reports and evaluation
(ARCHITECTURE principle 3); counters elsewhere are caches that can be rebuilt from it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class State(StrEnum):
    PLANNED = "planned"  # scheduled for later (a call-back), holds no cap unit yet
    RESERVED = "reserved"  # in today's plan: holds one unit of every cap it touches
    HELD_BACK = "held_back"  # control group: would have been contacted, deliberately not
    SENT = "sent"  # handed to the channel
    DELIVERED = "delivered"
    FAILED = "failed"  # the channel could not reach the subscriber: the unit is released
    ANSWERED = "answered"  # a reply or a call result; ``detail`` says which
    ORDERED = "ordered"  # the order reached the billing system; ``detail`` holds its key
    CANCELLED = "cancelled"  # withdrawn before execution: the unit is released


# States after which the contact no longer holds a cap unit (reconcile, R-POL-4).
RELEASING = frozenset({State.FAILED, State.CANCELLED})


class Arm(StrEnum):
    TARGET = "target"
    CONTROL = "control"


class ContactEvent(Base):
    """One state change of one contact; the contact's fields repeat so no query needs a join."""

    __tablename__ = "contact_event"
    __table_args__ = (
        Index("ix_contact_event_msisdn_at", "msisdn", "at"),
        Index("ix_contact_event_contact_key", "contact_key"),
        Index("ix_contact_event_campaign_state", "campaign_id", "state"),
        Index("ix_contact_event_day_channel", "day", "channel"),
        Index("ix_contact_event_state_key", "state", "contact_key"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    contact_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    day: Mapped[date] = mapped_column(Date)  # the business day the contact belongs to
    msisdn: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # care | marketing
    offer_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(32))
    exclusion_group: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    arm: Mapped[str] = mapped_column(String(8), default=Arm.TARGET.value)
    detail: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # the run, adapter or file that wrote it
    # a reserved contact is not handed to its channel before this (a trigger's delay or window)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
