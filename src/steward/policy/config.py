"""The contact policy as data: do-not-disturb categories and frequency caps (R-POL-2, R-POL-3).

Every condition is a rule in the rule language, checked against the tag catalogue when the
policy is loaded, so the batch and the online paths read the same definitions.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from steward.contacts.models import State
from steward.offers.models import Channel
from steward.rules import RuleError, parse_rule
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types

DEFAULTS = Path(__file__).with_name("defaults.yaml")
PERIOD = r"^[1-9][0-9]?m$"


class Exclusion(StrEnum):
    ALWAYS = "always"  # no campaign may include the category
    DEFAULT = "default"  # excluded unless the planner includes it


class DndCategory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_]{2,40}$")
    rule: str
    exclusion: Exclusion
    description: str
    per_channel: bool = False


class Caps(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: dict[str, str]  # class -> rule; the first class that matches applies
    table: dict[str, dict[str, int]]  # class -> {"overall" | channel: max contacts}
    periods: dict[str, str]  # "overall" | channel -> period (months)
    outside_overall: list[Channel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> Caps:
        if set(self.table) != set(self.classes):
            raise ValueError("caps: every class needs a row in the table and a rule")
        keys = {"overall"} | {c.value for c in Channel}
        for name, row in self.table.items():
            unknown = set(row) - keys
            if unknown:
                raise ValueError(f"caps.table.{name}: unknown channel(s) {sorted(unknown)}")
            if any(v < 0 for v in row.values()):
                raise ValueError(f"caps.table.{name}: caps cannot be negative")
            missing = set(row) - set(self.periods)
            if missing:
                raise ValueError(f"caps.periods: no period for {sorted(missing)}")
        return self


class Scope(StrEnum):
    """What an earlier contact must share with a candidate for an interval to apply."""

    OFFER = "offer"
    CATEGORY = "category"
    GROUP = "group"  # the offer's mutual-exclusion group
    ANY = "any"


class Interval(BaseModel):
    """R-POL-5 and the conflict rule: skip a marketing candidate when the subscriber's ledger
    holds a contact in one of ``states`` (and ``details``, ``channels`` if given) sharing the
    ``scope`` with it, within ``days`` before the run's day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    states: list[State] = Field(min_length=1)
    scope: Scope
    days: int = Field(ge=1, le=3660)
    channels: list[Channel] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)
    description: str


class QuietHours(BaseModel):
    """Local hours in which a channel hands nothing to a subscriber (start may pass midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time

    def holds(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dnd: list[DndCategory]
    caps: Caps
    intervals: list[Interval] = Field(default_factory=list)
    capacity: dict[Channel, int] = Field(default_factory=dict)  # contacts per channel per day
    quiet_hours: dict[Channel, QuietHours] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _distinct(self) -> Policy:
        names = [i.name for i in self.intervals]
        if len(set(names)) != len(names):
            raise ValueError("intervals: two intervals share a name")
        if any(v < 0 for v in self.capacity.values()):
            raise ValueError("capacity: a channel's capacity cannot be negative")
        return self

    def rules(self) -> dict[str, str]:
        """Every condition of the policy by where it sits, for checking and compiling."""
        found = {f"dnd.{d.name}": d.rule for d in self.dnd}
        found |= {f"caps.classes.{k}": v for k, v in self.caps.classes.items()}
        return found


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the place and the reason."""


def load_policy(catalogue: TagCatalogue, path: Path = DEFAULTS) -> Policy:
    """Read a policy file and check every rule in it against the tag catalogue."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        shape = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{path.name}: {shape}") from None
    types = rule_types(catalogue)
    problems: list[str] = []
    for where, rule in policy.rules().items():
        try:
            parse_rule(rule, types)
        except RuleError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise PolicyError(f"{path.name}: " + "; ".join(problems))
    return policy
