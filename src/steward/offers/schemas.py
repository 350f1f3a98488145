"""API and file shapes of offers."""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steward.offers.models import Channel, OfferType

# Placeholders an SMS template may use; anything else would leak or fail at send time.
SMS_PLACEHOLDERS = frozenset({"offer_name", "price", "reply_code", "msisdn_tail"})
SMS_MAX_CHARS = 300  # about four SMS segments of 70 Chinese characters

# R-OFFER-2: simple, cheap offers suit SMS and e-channels; complex ones the hall or phone.
SIMPLE = {Channel.SMS: 1, Channel.APP: 2, Channel.WEB: 3, Channel.WECHAT: 4, Channel.INBOUND: 5}
COMPLEX = {Channel.HALL: 1, Channel.OUTBOUND: 2, Channel.INBOUND: 3, Channel.ACCOUNT_MANAGER: 4}
DEFAULT_CHANNEL_FIT: dict[OfferType, dict[Channel, int]] = {
    OfferType.DATA_PACK: SIMPLE,
    OfferType.VAS: SIMPLE,
    OfferType.CONTENT: SIMPLE,
    OfferType.ROAMING: SIMPLE,
    OfferType.CARE: {Channel.SMS: 1, Channel.APP: 2},
    OfferType.PLAN_CHANGE: COMPLEX,
    OfferType.FAMILY: COMPLEX,
    OfferType.HANDSET: COMPLEX,
    OfferType.BROADBAND: COMPLEX,
}


class Script(BaseModel):
    """What a person or a screen says on one channel, in both languages."""

    model_config = ConfigDict(extra="forbid")

    zh: str = Field(min_length=1, max_length=4000)
    en: str = Field(min_length=1, max_length=4000)


class OfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z0-9_]{2,32}$")
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    billing_product_id: str | None = Field(default=None, pattern=r"^[A-Z0-9_]{3,32}$")
    offer_type: OfferType
    category: str = Field(pattern=r"^[a-z_]{2,32}$")
    price: float = Field(ge=0, le=100_000)
    cost: float = Field(default=0, ge=0, le=100_000)
    commission: float = Field(default=0, ge=0, le=100_000)
    exclusion_group: str | None = Field(default=None, pattern=r"^[a-z0-9_]{2,64}$")
    commitment_months: int = Field(default=0, ge=0, le=60)
    eligibility: str = Field(default="TRUE", min_length=1, max_length=10_000)
    channel_fit: dict[Channel, int] | None = None
    scripts: dict[Channel, Script] = Field(default_factory=dict)
    sms_zh: str | None = Field(default=None, max_length=SMS_MAX_CHARS)
    sms_en: str | None = Field(default=None, max_length=SMS_MAX_CHARS)
    reply_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2,16}$")

    @field_validator("sms_zh", "sms_en")
    @classmethod
    def _known_placeholders(cls, template: str | None) -> str | None:
        if template is None:
            return None
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as exc:
            raise ValueError(f"template {template!r}: {exc}") from None
        unknown = names - SMS_PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; use {sorted(SMS_PLACEHOLDERS)}"
            )
        return template

    @field_validator("channel_fit")
    @classmethod
    def _priorities(cls, fit: dict[Channel, int] | None) -> dict[Channel, int] | None:
        if fit is not None and (not fit or any(p < 1 or p > 99 for p in fit.values())):
            raise ValueError("channel_fit: one or more channels with priorities 1 (best) to 99")
        return fit

    @model_validator(mode="after")
    def _orderable_offers_name_their_product(self) -> OfferCreate:
        if self.offer_type is not OfferType.CARE and self.billing_product_id is None:
            raise ValueError("an offer that can be ordered needs its billing_product_id")
        if Channel.SMS in self.effective_channel_fit() and self.sms_zh is None:
            raise ValueError("an offer that fits SMS needs an sms_zh template")
        if self.sms_zh and "{reply_code}" in self.sms_zh and self.reply_code is None:
            raise ValueError("the SMS template names {reply_code} but the offer has none")
        return self

    def effective_channel_fit(self) -> dict[Channel, int]:
        return dict(self.channel_fit or DEFAULT_CHANNEL_FIT[self.offer_type])


class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_zh: str
    name_en: str
    billing_product_id: str | None
    offer_type: OfferType
    category: str
    price: float
    cost: float
    commission: float
    exclusion_group: str | None
    commitment_months: int
    eligibility: str
    channel_fit: dict[str, int]
    scripts: dict[str, Any]
    sms_zh: str | None
    sms_en: str | None
    reply_code: str | None
    active: bool
    created_by: str
    created_at: datetime


def reply_code_of(text: str) -> str:
    """Normalise a reply as customers type it ('kt 10g' → 'KT10G')."""
    return re.sub(r"\s+", "", text).upper()
