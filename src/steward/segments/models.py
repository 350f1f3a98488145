"""Segments (customer groups): a rule, a static list, or a combination of segments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class SegmentKind(StrEnum):
    RULE = "rule"
    LIST = "list"
    COMBINATION = "combination"


class CombineOp(StrEnum):
    UNION = "union"
    INTERSECT = "intersect"
    MINUS = "minus"


class Segment(Base):
    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(Text)
    combine_op: Mapped[str | None] = mapped_column(String(16))
    operands: Mapped[list[int] | None] = mapped_column(JSON)
    list_size: Mapped[int | None] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
