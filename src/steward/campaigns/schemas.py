"""API and file shapes of campaigns."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from steward.campaigns.models import CampaignKind, Status
from steward.offers.models import Channel
from steward.wording import N_, Refusal

# The wordings of the models' own checks (a page words each in the reader's language).
WINDOW_HALF = N_("window_start and window_end go together")
WINDOW_EMPTY = N_("the window is empty: window_start equals window_end")
NO_TARGETS = N_("a campaign needs a segment, or a trigger")
ENDS_BEFORE = N_("end_date lies before start_date")
CHANNEL_TWICE = N_("a channel is listed twice")
WAVE_OUTSIDE = N_("wave %(name)r must lie within the campaign's dates")


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


class Trigger(BaseModel):
    """What makes a triggered campaign act (R-EVT-1): an event type, a condition over the
    event's parameters (``event_<name>``) and the subscriber's tags, and when to reach out."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    condition: str = Field(default="", max_length=4000)
    delay_minutes: int = Field(default=0, ge=0, le=1440)
    # the hours the contact may be due in; a due time outside moves to the next window
    window_start: time | None = None
    window_end: time | None = None
    # an event decided later than this after it happened is too late to act on
    respond_within_minutes: int = Field(default=1440, ge=1, le=10080)
    # a subscriber contacted by the campaign waits this long before it may act again
    repeat_after_days: int = Field(default=30, ge=1, le=365)

    @model_validator(mode="after")
    def _window(self) -> Trigger:
        if (self.window_start is None) != (self.window_end is None):
            raise Refusal(WINDOW_HALF, field="trigger")
        if self.window_start is not None and self.window_start == self.window_end:
            raise Refusal(WINDOW_EMPTY, field="trigger")
        return self


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    kind: CampaignKind
    # members; a triggered campaign may have none: then every subscriber of its district
    segment_ids: list[int] = Field(default_factory=list)
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
    trigger: Trigger | None = None

    @model_validator(mode="after")
    def _dates(self) -> CampaignCreate:
        if not self.segment_ids and self.trigger is None:
            raise Refusal(NO_TARGETS, field="segment_ids")
        if self.end_date < self.start_date:
            raise Refusal(ENDS_BEFORE, field="end_date")
        if len(set(self.channels)) != len(self.channels):
            raise Refusal(CHANNEL_TWICE, field="channels")
        for wave in self.waves:
            if wave.end < wave.start or wave.start < self.start_date or wave.end > self.end_date:
                raise Refusal(WAVE_OUTSIDE, field="waves", name=wave.name)
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
    trigger: dict[str, Any] | None
    created_at: datetime


class WarningRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    actor: str
    message: str
    acknowledged_by: str | None
    at: datetime
