"""The model registry (R-MINE-1): every trained version, its inputs, metrics and sign-off.

A version is trained (artifact and the inputs it was trained from, so it can be trained
again), validated (a metrics report), published after a business user other than its
trainer signs off, and retired when a newer one is published or it is rolled back. The
artifact is a few kilobytes and lives in the row, so a version and its model are one fact.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class ModelKind(StrEnum):
    CHURN_30D = "churn_30d"
    CHURN_60D = "churn_60d"
    PROPENSITY = "propensity"


class ModelStatus(StrEnum):
    TRAINED = "trained"
    VALIDATED = "validated"
    PUBLISHED = "published"
    REJECTED = "rejected"
    RETIRED = "retired"  # a newer version was published, or this one was rolled back


class ModelVersion(Base):
    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("kind", "version", name="uq_model_version_kind_version"),
        Index("ix_model_version_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ModelStatus.TRAINED.value)
    as_of: Mapped[date] = mapped_column(Date)  # the data the version was trained up to
    seed: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # horizon, features, estimator
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # lake partitions + checksums
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    trained_by: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelEvent(Base):
    """One step of a version's life: who trained, validated, signed off, published, rolled
    back, and what they said."""

    __tablename__ = "model_event"
    __table_args__ = (Index("ix_model_event_model", "model_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
