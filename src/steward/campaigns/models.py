"""Campaigns, their every state change, and the warnings overrides raise (R-CAMP-1..7)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class CampaignKind(StrEnum):
    CARE = "care"  # service first: reminders, greetings, care
    MARKETING = "marketing"


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    REJECTED = "rejected"
    TERMINATED = "terminated"


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value)
    segment_ids: Mapped[list[int]] = mapped_column(JSON)
    offer_ids: Mapped[list[int]] = mapped_column(JSON)
    channels: Mapped[list[str]] = mapped_column(JSON)  # in priority order
    waves: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    control_share: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    expected_rate: Mapped[float] = mapped_column(Float)
    success_rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    budget: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(96))
    copied_from: Mapped[int | None] = mapped_column(Integer)
    # default DND categories the planner includes (R-POL-2) and past campaigns whose
    # contacts this one skips (R-POL-5)
    dnd_include: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_campaigns: Mapped[list[int]] = mapped_column(JSON, default=list)
    # a triggered campaign acts on events, not in the day's batch run (R-EVT-1)
    trigger: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transition(Base):
    """One state change: who, when, from what to what, and why."""

    __tablename__ = "campaign_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("campaign.id"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignWarning(Base):
    """An event approvers must see: an administrator's override of the approval flow."""

    __tablename__ = "campaign_warning"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("campaign.id"))
    actor: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignVersion(Base):
    """What the campaign said when it was submitted: approvers see what changed since."""

    __tablename__ = "campaign_version"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("campaign.id"))
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
