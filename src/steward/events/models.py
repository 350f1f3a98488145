"""The event inbox: every accepted event, stored before the producer hears "accepted".

An event is kept until a worker has committed its effects, so a crash never loses one; its id
is unique, so a producer's retry changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow

_ID = BigInteger().with_variant(Integer, "sqlite")


class EventInbox(Base):
    __tablename__ = "event_inbox"
    __table_args__ = (Index("ix_event_inbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    msisdn: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="accepted")  # then processed
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EventDecision(Base):
    """What one event decided, and why; unique by event, so a redelivery decides nothing."""

    __tablename__ = "event_decision"
    __table_args__ = (Index("ix_event_decision_msisdn", "msisdn", "decided_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    msisdn: Mapped[str] = mapped_column(String(20))
    event_type: Mapped[str] = mapped_column(String(40))
    event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(48))  # planned, held_back or why nothing
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    offer_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    contact_key: Mapped[str | None] = mapped_column(String(64))
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)


class TriggerOutcome(Base):
    """How far one event took one listening campaign: its funnel's population online."""

    __tablename__ = "trigger_outcome"
    __table_args__ = (Index("ix_trigger_outcome_campaign", "campaign_id", "day", "outcome"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    campaign_id: Mapped[int] = mapped_column(Integer)
    msisdn: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(48))


class WatchEntry(Base):
    """A subscriber on the high-usage watch list (R-EVT-4), until someone reviews it."""

    __tablename__ = "watch_entry"
    __table_args__ = (Index("ix_watch_entry_status", "status", "district"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    msisdn: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(32))  # the event type that opened it
    district: Mapped[str] = mapped_column(String(96))
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    figure: Mapped[float | None] = mapped_column(Float)  # the amount that tripped it
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open")  # reviewing, cleared, acted
    handler: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
