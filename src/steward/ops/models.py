"""Daily operation: the registered data sources, and the record of every step the day ran.

``step_run`` is what the dashboard reads: one row per attempt of a step for a business day,
so a re-run adds a row and the history stays. A failed row nobody has acknowledged, and no
later success of the same step for the same day, is an alert.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow

DELIVERY = "delivery"  # a source whose folder holds whole deliveries of every interface


class StepStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: a step it needs failed, or another process runs it


RUNNING_ONLY = text("status = 'running'")


class DataSource(Base):
    """A drop folder an upstream system fills: which files, which interface, due when."""

    __tablename__ = "data_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    folder: Mapped[str] = mapped_column(String(1024))
    pattern: Mapped[str] = mapped_column(String(200))  # a glob over the folder's file names
    # an interface of steward.ingest.schemas, or "delivery" for every interface at once
    interface: Mapped[str] = mapped_column(String(32))
    # the time on the business day by which the files of the day before are due
    expected_by: Mapped[time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StepRun(Base):
    """One attempt of one step of one business day, and how it ended."""

    __tablename__ = "step_run"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed', 'skipped')", name="status"),
        Index("ix_step_run_day_step", "day", "step"),
        Index("ix_step_run_status", "status"),
        # at most one attempt of a step of a day runs at a time, whichever process starts it
        Index(
            "ix_step_run_one_running",
            "day",
            "step",
            unique=True,
            sqlite_where=RUNNING_ONLY,
            postgresql_where=RUNNING_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
