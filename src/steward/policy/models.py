"""The policy's own lists: subscribers who opted out of a channel (R-POL-2).

Fed by an unsubscribe reply, by an upload, or by the profile interface's opt-out flags (those
stay on the profile); arbitration reads both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class ChannelOptOut(Base):
    """A subscriber who asked not to be reached on a channel (read by the policy as DND)."""

    __tablename__ = "channel_opt_out"
    __table_args__ = (UniqueConstraint("msisdn", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    msisdn: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
