"""API and file shapes of campaigns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from steward.campaigns.models import CampaignKind, Status
from steward.offers.models import Channel


class Wave(BaseModel):
    """One dated run of a campaign (波次, R-CAMP-3)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    start: date
    end: date


class BudgetKind(StrEnum):
    ITEM = "item"
    COMMISSION = "commission"
    DISCOUNT = "discount"
    GIFTED_CREDIT = "gifted_credit"


class BudgetLine(BaseModel):
    """One line of the campaign's budget (R-CAMP-5)."""

    model_config = ConfigDict(extra="forbid")

    kind: BudgetKind
    item: str = Field(min_length=1, max_length=128)
    amount: float = Field(ge=0, le=100_000_000)


class SuccessRule(BaseModel):
    """What counts as a success (R-CAMP-6): an order of the campaign's offer within N days."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(default="order", pattern=r"^(order|reply|visit)$")
    within_days: int = Field(default=7, ge=1, le=90)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    kind: CampaignKind
    segment_ids: list[int] = Field(min_length=1)
    offer_ids: list[int] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)
    waves: list[Wave] = Field(default_factory=list)
    control_share: float = Field(default=0.1, ge=0, le=0.5)
    priority: int = Field(default=50, ge=1, le=100)
    expected_rate: float = Field(default=0.02, ge=0, le=1)
    success_rule: SuccessRule = Field(default_factory=SuccessRule)
    budget: list[BudgetLine] = Field(default_factory=list)
    start_date: date
    end_date: date
    district: str | None = None
    dnd_include: list[str] = Field(default_factory=list, max_length=20)
    exclude_campaigns: list[int] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _dates(self) -> CampaignCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date lies before start_date")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        for wave in self.waves:
            if wave.end < wave.start or wave.start < self.start_date or wave.end > self.end_date:
                raise ValueError(f"wave {wave.name!r} must lie within the campaign's dates")
        return self


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Status
    comment: str = Field(default="", max_length=2000)


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: Status
    to_status: Status
    actor: str
    actor_role: str
    comment: str
    override: bool
    at: datetime


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: CampaignKind
    status: Status
    segment_ids: list[int]
    offer_ids: list[int]
    channels: list[str]
    waves: list[dict[str, Any]]
    control_share: float
    priority: int
    expected_rate: float
    success_rule: dict[str, Any]
    budget: list[dict[str, Any]]
    start_date: date
    end_date: date
    owner: str
    district: str
    copied_from: int | None
    dnd_include: list[str]
    exclude_campaigns: list[int]
    created_at: datetime


class WarningRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    actor: str
    message: str
    acknowledged_by: str | None
    at: datetime
