"""Manual evaluation reports (R-EVAL-4): a file an analyst or planner uploads about a
campaign, kept with its digest so a download can be checked against what was uploaded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class EvaluationReport(Base):
    __tablename__ = "evaluation_report"
    __table_args__ = (Index("ix_evaluation_report_campaign", "campaign_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("campaign.id"))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: listing a campaign's reports must not read every file into memory.
    body: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
