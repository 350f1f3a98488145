"""Outbound-call tables: the teams that call, and the work orders they call from (R-CHAN-8).

A work order is one call to one contact of the ledger. A call-back is a new work order for
the same contact (``attempt`` + 1), so every call and its result stay on record.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class WorkOrderStatus(StrEnum):
    QUEUED = "queued"  # waiting for an agent of the team
    ASSIGNED = "assigned"  # on one agent's list
    CLOSED = "closed"  # the result is recorded


class CallResult(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CONSIDERING = "considering"
    CALL_BACK = "call_back"
    FAILED = "failed"  # the subscriber could not be reached; ``reason`` says why


class OutboundTeam(Base):
    """A call-centre team: it calls the subscribers of its district, so many a day."""

    __tablename__ = "outbound_team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # "province", a city ("lanzhou") or a county within it ("lanzhou/chengguan"), as in auth.
    district: Mapped[str] = mapped_column(String(96))
    daily_capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkOrder(Base):
    """One call to make; its contact's fields repeat so an agent's list needs no join."""

    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'assigned', 'closed')", name="status"),
        CheckConstraint(
            "result IS NULL OR result IN "
            "('accepted', 'rejected', 'considering', 'call_back', 'failed')",
            name="result",
        ),
        # one order per attempt: a repeated or concurrent queue run cannot call anyone twice
        UniqueConstraint("contact_key", "attempt"),
        Index("ix_work_order_team_day", "team_id", "day"),
        Index("ix_work_order_team_status_due", "team_id", "status", "due_at"),
        Index("ix_work_order_assigned_status", "assigned_to", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_key: Mapped[str] = mapped_column(String(64))
    msisdn: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    offer_id: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int] = mapped_column(Integer, ForeignKey("outbound_team.id"))
    day: Mapped[date] = mapped_column(Date)  # the day whose team capacity it takes
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assigned_to: Mapped[str | None] = mapped_column(String(64))  # the agent's username
    status: Mapped[str] = mapped_column(String(16), default=WorkOrderStatus.QUEUED.value)
    result: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
