"""The online decision for one event: which triggers match, then the batch loop's own rules.

``Triggers`` compiles the day's running triggered campaigns once: each condition to Python by
the rule language, each campaign's members (its segments over the snapshot, in its district)
to a sorted array of numbers. ``decide`` is pure — the ledger's facts and the channels' room
come in as functions — so the same code runs in the worker, in the tests and in the benchmark.
The judging is ``policy.online.Referee``'s, the reference the batch run is held to, so an event
and the day's batch decide alike (docs/arbitration.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.contacts.models import Arm
from steward.events.library import Event
from steward.offers.models import Channel
from steward.policy import online
from steward.policy.arbitration import (
    HELD_BACK,
    PLANNED,
    STAGES,
    CampaignSpec,
    LedgerFacts,
    stage,
)
from steward.rules.to_python import Evaluator

LATE = "trigger.late"
NOT_MEMBER = "segment.not_member"
CONDITION = "trigger.condition"
NONE_MATCHED = "trigger.none_matched"
NOT_IN_SNAPSHOT = "not.in_snapshot"


@dataclass(frozen=True)
class Listener:
    """A running triggered campaign, compiled for the day."""

    spec: CampaignSpec
    name: str
    event: str
    condition: Evaluator | None  # None: every event of the type
    members: npt.NDArray[np.int64] | None  # sorted numbers; None: every subscriber
    delay: timedelta
    window: tuple[time, time] | None
    respond_within: timedelta

    def member(self, key: int) -> bool:
        """Whether the number ``key`` (the msisdn as an integer) is among the members."""
        return is_member(self.members, key)

    def due(self, at: datetime) -> datetime:
        """When the contact may go out: after the delay, inside the window."""
        due = at + self.delay
        if self.window is None:
            return due
        start, end = self.window
        clock = due.time()
        inside = start <= clock < end if start < end else (clock >= start or clock < end)
        if inside:
            return due
        day = due.date() if clock < start else due.date() + timedelta(days=1)
        return datetime.combine(day, start, tzinfo=due.tzinfo)


def is_member(members: npt.NDArray[np.int64] | None, key: int) -> bool:
    """Whether ``key`` (a number as an integer) is among sorted ``members`` (None: all)."""
    if members is None:
        return True
    at = int(members.searchsorted(key))
    return at < len(members) and int(members[at]) == key


@dataclass
class Triggers:
    """Who listens to which event on ``day``, with the referee their candidates face."""

    day: date
    referee: online.Referee
    listeners: dict[str, list[Listener]] = field(default_factory=dict)  # event type -> ...

    def count(self) -> int:
        return sum(len(v) for v in self.listeners.values())


@dataclass
class Decision:
    event: Event
    outcome: str
    explanation: dict[str, Any]
    winner: online.Candidate | None = None
    due_at: datetime | None = None
    by_campaign: dict[int, str] = field(default_factory=dict)  # each listener's outcome

    @property
    def contacts(self) -> bool:
        return self.outcome in (PLANNED, HELD_BACK)

    def contact_key(self) -> str | None:
        if self.winner is None or self.due_at is None:
            return None
        return f"{self.due_at:%Y%m%d}-c{self.winner.campaign.id}-{self.event.msisdn}"


Facts = Callable[[Sequence[CampaignSpec]], LedgerFacts]
Room = Callable[[Channel], int]  # capacity left today on a channel with a capacity


def decide(
    triggers: Triggers,
    event: Event,
    profile: Mapping[str, Any] | None,
    *,
    now: datetime,
    facts: Facts,
    room: Room,
) -> Decision | None:
    """The decision for ``event`` (None when no running campaign listens to its type)."""
    listeners = triggers.listeners.get(event.type)
    if not listeners:
        return None
    if profile is None:
        return Decision(event, NOT_IN_SNAPSHOT, {"triggers": []})
    heard = _heard(listeners, event, profile, now)
    explanation: dict[str, Any] = {
        "triggers": [
            {"campaign_id": t.spec.id, "name": t.name, "matched": why is None, "reason": why}
            for t, why in heard
        ]
    }
    matched = {t.spec.id: t for t, why in heard if why is None}
    stopped = {t.spec.id: why for t, why in heard if why is not None}
    if not matched:
        return Decision(event, NONE_MATCHED, explanation, by_campaign=stopped)
    specs = [t.spec for t in matched.values()]
    referee = triggers.referee.with_facts(facts(specs))
    judged = referee.candidates(event.msisdn, profile, list(matched))
    explanation["candidates"] = [_candidate(c) for c in judged]
    winner = min((c for c in judged if c.outcome is None), key=online.Candidate.order, default=None)
    if winner is not None:
        offered = winner.channels
        remaining = {ch: room(ch) for ch in offered if ch in triggers.referee.policy.capacity}
        online.allocate(winner, remaining)
        explanation["winner"] = _candidate(winner)
        explanation["channel"] = _channel_reason(winner, offered)
    by_campaign = stopped | _per_campaign(judged)
    if winner is None or winner.outcome not in (PLANNED, HELD_BACK):
        overall = min(by_campaign.values(), key=online_stage)
        return Decision(event, overall, explanation, by_campaign=by_campaign)
    due = matched[winner.campaign.id].due(max(event.at, now))
    explanation["due_at"] = due.isoformat()
    return Decision(event, str(winner.outcome), explanation, winner, due, by_campaign)


ONLINE_STAGES = (NOT_MEMBER, CONDITION, LATE)  # stopped before the policy: earliest of all


def online_stage(outcome: str) -> int:
    """``stage`` with the trigger's own outcomes after the policy's."""
    if outcome in ONLINE_STAGES:
        return len(STAGES) + ONLINE_STAGES.index(outcome)
    return stage(outcome)


def _per_campaign(judged: Sequence[online.Candidate]) -> dict[int, str]:
    """Each judged campaign's furthest outcome (the batch's rule: then score, then offer)."""
    best: dict[int, online.Candidate] = {}
    for c in sorted(judged, key=lambda c: (stage(str(c.outcome)), -c.score, c.offer.id)):
        best.setdefault(c.campaign.id, c)
    return {cid: str(c.outcome) for cid, c in best.items()}


def _heard(
    listeners: list[Listener], event: Event, profile: Mapping[str, Any], now: datetime
) -> list[tuple[Listener, str | None]]:
    """Each listener with why it does not act on the event (None: it does), checked in the
    order lateness, membership, condition. The hot loop of the online path: kept flat."""
    age, key = now - event.at, int(event.msisdn)
    heard: list[tuple[Listener, str | None]] = []
    for listener in listeners:
        if age > listener.respond_within:
            heard.append((listener, LATE))
        elif listener.members is not None and not listener.member(key):
            heard.append((listener, NOT_MEMBER))
        elif listener.condition is not None and listener.condition(profile) is not True:
            heard.append((listener, CONDITION))
        else:
            heard.append((listener, None))
    return heard


def _candidate(candidate: online.Candidate) -> dict[str, Any]:
    return {
        "campaign_id": candidate.campaign.id,
        "offer_id": candidate.offer.id,
        "score": candidate.score,
        "outcome": candidate.outcome or "eligible",
        "channels": [c.value for c in candidate.channels],
    }


def _channel_reason(winner: online.Candidate, offered: tuple[Channel, ...]) -> str:
    chosen = winner.channels[0].value if winner.channels else None
    order = ", ".join(c.value for c in winner.campaign.channels)
    usable = ", ".join(c.value for c in offered)
    if winner.outcome == HELD_BACK:
        return f"{chosen}: first with room of the usable ({usable}); held back as control"
    if chosen is None or winner.outcome != PLANNED:
        return f"no usable channel had room today (campaign's order: {order})"
    return f"{chosen}: first with room among the usable channels ({usable}) in the order {order}"


def ledger_row(decision: Decision, *, category: str, group: str | None) -> dict[str, Any]:
    """The contact the decision makes, as the ledger's first state of it."""
    winner = decision.winner
    assert winner is not None
    assert decision.due_at is not None
    held = decision.outcome == HELD_BACK
    return {
        "contact_key": decision.contact_key(),
        "state": "held_back" if held else "reserved",
        "day": decision.due_at.date(),
        "msisdn": decision.event.msisdn,
        "campaign_id": winner.campaign.id,
        "kind": winner.campaign.kind,
        "offer_id": winner.offer.id,
        "category": category,
        "exclusion_group": group,
        "channel": winner.channels[0].value,
        "arm": Arm.CONTROL.value if held else Arm.TARGET.value,
        "detail": f"event {decision.event.id}"[:200],
        "source": f"event {decision.event.type}"[:32],
        "due_at": decision.due_at,
    }
