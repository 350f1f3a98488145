"""The offer catalogue: what Steward recommends, mapped to the billing product it orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, utcnow


class Channel(StrEnum):
    SMS = "sms"
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    HALL = "hall"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    SELF_SERVICE = "self_service"
    ACCOUNT_MANAGER = "account_manager"


class OfferType(StrEnum):
    DATA_PACK = "data_pack"
    VAS = "vas"
    CONTENT = "content"
    PLAN_CHANGE = "plan_change"
    FAMILY = "family"
    ROAMING = "roaming"
    HANDSET = "handset"
    BROADBAND = "broadband"
    CARE = "care"  # a service action: a reminder or greeting, nothing to order


class Offer(Base):
    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    billing_product_id: Mapped[str | None] = mapped_column(String(32))
    offer_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    price: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    commission: Mapped[float] = mapped_column(Float)
    exclusion_group: Mapped[str | None] = mapped_column(String(64))
    commitment_months: Mapped[int] = mapped_column(Integer, default=0)
    eligibility: Mapped[str] = mapped_column(Text, default="TRUE")
    channel_fit: Mapped[dict[str, int]] = mapped_column(JSON)
    scripts: Mapped[dict[str, Any]] = mapped_column(JSON)
    sms_zh: Mapped[str | None] = mapped_column(Text)
    sms_en: Mapped[str | None] = mapped_column(Text)
    reply_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
