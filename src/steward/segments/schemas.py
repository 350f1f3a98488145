"""API shapes of segments and trial counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from steward.segments.models import CombineOp, SegmentKind
from steward.wording import N_, Refusal


class SegmentCreate(BaseModel):
    """A rule segment or a combination; static lists come by file upload."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    rule: str | None = Field(default=None, max_length=10_000)
    combine: CombineOp | None = None
    operands: list[int] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SegmentCreate:
        if (self.rule is None) == (self.combine is None):
            raise Refusal(
                N_("give either a rule or a combination (combine + operands)"), field="rule"
            )
        if self.combine is not None and (not self.operands or len(self.operands) < 2):
            raise Refusal(N_("a combination needs at least two operand segments"), field="operands")
        return self

    @property
    def kind(self) -> SegmentKind:
        return SegmentKind.RULE if self.rule is not None else SegmentKind.COMBINATION


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    kind: SegmentKind
    rule: str | None
    combine_op: CombineOp | None
    operands: list[int] | None
    list_size: int | None
    owner: str
    created_at: datetime


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str = Field(min_length=1, max_length=10_000)
    as_of: date | None = None


class CountResult(BaseModel):
    """A trial count (试算): the total and its breakdown, with a small masked sample."""

    as_of: date
    total: int
    by_city: dict[str, int]
    by_brand: dict[str, int]
    by_vip_level: dict[str, int]
    sample: list[dict[str, Any]]
    seconds: float


class ListImportReport(BaseModel):
    """What an uploaded list of numbers held: accepted, bad lines, unknown numbers."""

    segment_id: int | None
    lines: int
    accepted: int
    duplicates: int
    bad_lines: list[dict[str, Any]]
    unknown_numbers: int
    unknown_sample: list[str]


class SnapshotReport(BaseModel):
    segment_id: int
    as_of: date
    members: int
