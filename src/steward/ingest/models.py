"""Every load and every file it read, with the counts its report gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class IngestLoad(Base):
    __tablename__ = "ingest_load"

    load_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class IngestFile(Base):
    __tablename__ = "ingest_file"

    load_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ingest_load.load_id"), primary_key=True
    )
    file_name: Mapped[str] = mapped_column(String(512), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    rows_read: Mapped[int] = mapped_column(BigInteger)
    rows_loaded: Mapped[int] = mapped_column(BigInteger)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger)
