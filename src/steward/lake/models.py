"""The lake's catalogue: which Parquet files are the current content of each partition.

Readers resolve a table through this catalogue, so publishing a load is one database
transaction: readers see every partition of the old load or every one of the new, never a half.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class LakePartition(Base):
    __tablename__ = "lake_partition"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    part_date: Mapped[date] = mapped_column(Date, primary_key=True)
    part_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024))
    row_count: Mapped[int] = mapped_column(BigInteger)
    content_sha256: Mapped[str] = mapped_column(String(64))
    load_id: Mapped[str] = mapped_column(String(36))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
