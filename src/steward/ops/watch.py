"""The dashboard's watch over the day's execution (issue 6, screen 2), beside the broken-feed
alerts of ``ops.service``: a running campaign far from its expected success rate, and a
channel (or the outbound teams) over its capacity today.

**Far from the expected rate.** A campaign's success is an order (or, by its success rule,
a reply) within ``within_days`` of the contact. The counts are narrow aggregates over
the ledger (the dashboard must not read it whole): the contacts handed to a channel and
their successes so far (the evaluation funnel's ``contacted``, ``ordered`` and
``responded``), and how many of the target contacts were sent inside the last
``within_days``, whose outcome is not known yet. Those still-open contacts make the rate
uncertain in a known direction, so the two judgements bracket it:

* *below*: successes over the settled contacts only (the open ones left out, their early
  successes kept) can only overstate the settled cohort's rate; if even its interval's
  upper bound lies below the band around ``expected_rate``, the campaign is below.
* *above*: successes over every contact (the open ones counted as failures so far) can
  only understate the final rate; if its interval's lower bound lies above the band, the
  campaign is above.

The interval is Wilson's score interval (the one ``evaluation.stats`` builds its lift
interval from), not the textbook Wald interval: campaign rates sit near 0, where Wald's
collapses to a point and leaves [0, 1]. A rate is judged only on ``MINIMUM`` contacts, so a
handful of early contacts never raise an alarm; and it must be outside a band of
``TOLERANCE`` around the expected rate, so a large campaign a hair off its plan — which any
test finds significant at millions of contacts — is not called "far".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from statistics import NormalDist
from typing import Any

from sqlalchemy.orm import Session

from steward.campaigns.models import Campaign
from steward.contacts import service as ledger
from steward.contacts.models import Arm, State
from steward.evaluation.stats import wilson
from steward.ops import service as ops
from steward.ops.daily import Step
from steward.ops.models import StepStatus
from steward.policy.config import Policy

MINIMUM = 100  # contacts a rate is judged on, at least
TOLERANCE = 0.25  # "far": outside expected_rate x (1 +/- TOLERANCE)
CONFIDENCE = 0.95
# The success rule's events the ledger records (a hall visit is not in it: not judged).
SUCCESS_STATES = {"order": State.ORDERED, "reply": State.ANSWERED}
TEAMS = "outbound_teams"  # the subject of the teams' capacity alert


class Direction(StrEnum):
    BELOW = "below"
    ABOVE = "above"


@dataclass(frozen=True)
class RateAlert:
    """A running campaign whose success rate is far from the one it was planned with."""

    campaign_id: int
    name: str
    direction: Direction
    expected: float
    rate: float  # the judged estimate: over settled contacts (below) or over all (above)
    low: float  # its Wilson interval
    high: float
    successes: int
    contacts: int  # the contacts the rate is over
    open: int  # contacts sent within the success window, not settled yet

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "direction": self.direction.value,
            "expected": self.expected,
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
            "successes": self.successes,
            "contacts": self.contacts,
            "open": self.open,
        }


def judge_rate(
    *,
    expected: float,
    successes: int,
    contacted: int,
    open_contacts: int,
    confidence: float = CONFIDENCE,
    minimum: int = MINIMUM,
    tolerance: float = TOLERANCE,
) -> tuple[Direction, float, float, float, int, int] | None:
    """Whether ``successes`` of ``contacted`` (``open_contacts`` of them still inside their
    success window) are far from ``expected``: the direction, the judged rate, its
    interval and the successes and contacts it is over; None when they are not (or too
    few contacts to tell)."""
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    settled = max(contacted - open_contacts, 0)
    if settled >= minimum:
        kept = min(successes, settled)
        low, high = wilson(kept, settled, z)
        if high < expected * (1.0 - tolerance):
            return Direction.BELOW, kept / settled, low, high, kept, settled
    if contacted >= minimum:
        low, high = wilson(successes, contacted, z)
        if low > expected * (1.0 + tolerance):
            return Direction.ABOVE, successes / contacted, low, high, successes, contacted
    return None


def rate_alerts(session: Session, campaigns: Sequence[Campaign], *, today: date) -> list[RateAlert]:
    """The ``campaigns`` (the running ones the user may see) far from their expected rate
    on ``today`` (the business day), counted by narrow aggregates over the ledger."""
    judged = [c for c in campaigns if _success_state(c) is not None]
    if not judged:
        return []
    reached = ledger.contacts_by_state(
        session,
        campaign_ids=[c.id for c in judged],
        states=(State.SENT, *SUCCESS_STATES.values()),
    )
    still_open = _open_contacts(session, judged, today)
    found = []
    for campaign in judged:
        counts = reached.get(campaign.id, {})
        open_contacts = still_open.get(campaign.id, 0)
        verdict = judge_rate(
            expected=campaign.expected_rate,
            successes=counts.get(str(_success_state(campaign)), 0),
            contacted=counts.get(State.SENT.value, 0),
            open_contacts=open_contacts,
        )
        if verdict is not None:
            direction, rate, low, high, successes, contacts = verdict
            found.append(
                RateAlert(
                    campaign.id,
                    campaign.name,
                    direction,
                    campaign.expected_rate,
                    rate,
                    low,
                    high,
                    successes,
                    contacts,
                    open_contacts,
                )
            )
    return found


def _success_state(campaign: Campaign) -> State | None:
    return SUCCESS_STATES.get(str((campaign.success_rule or {}).get("event", "order")))


def _open_contacts(session: Session, campaigns: Sequence[Campaign], today: date) -> dict[int, int]:
    """Per campaign, the target contacts sent on one of the last ``within_days`` days up to
    ``today`` (or later): their success window is still open. A day is a UTC date of the
    ledger's ``at``; one aggregate per distinct window length."""
    by_window: dict[int, list[int]] = defaultdict(list)
    for campaign in campaigns:
        by_window[int((campaign.success_rule or {}).get("within_days", 7))].append(campaign.id)
    found: dict[int, int] = {}
    for window, ids in sorted(by_window.items()):
        first_open = today - timedelta(days=window - 1)
        sent = ledger.contacts_by_state(
            session,
            campaign_ids=ids,
            states=(State.SENT,),
            arm=Arm.TARGET,
            since=datetime.combine(first_open, time.min, tzinfo=UTC),
        )
        found |= {c: counts[State.SENT.value] for c, counts in sent.items()}
    return found


@dataclass(frozen=True)
class CapacityAlert:
    """A channel whose day holds as many contacts as the policy lets it take, or more; or
    the outbound teams, which turned contacts away for their daily capacity."""

    subject: str  # a channel, or TEAMS
    used: int  # contacts holding a unit of the channel's day; for the teams, those turned away
    capacity: int | None  # the policy's capacity (None for the teams: each has its own)

    @property
    def over(self) -> bool:
        return self.capacity is None or self.used > self.capacity

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "used": self.used, "capacity": self.capacity}


def capacity_alerts(session: Session, policy: Policy, *, day: date) -> list[CapacityAlert]:
    """Channels full or over capacity on ``day`` (the ledger's units, as the policy counts
    them), then the outbound teams if the day's dispatch turned contacts away."""
    found = []
    for channel, capacity in sorted(policy.capacity.items()):
        used = ledger.units_on(session, day=day, channel=channel.value)
        if used >= capacity:
            found.append(CapacityAlert(channel.value, used, capacity))
    turned_away = _turned_away(session, day)
    if turned_away:
        found.append(CapacityAlert(TEAMS, turned_away, None))
    return found


def _turned_away(session: Session, day: date) -> int:
    """Outbound contacts the day's dispatch runs cancelled for the teams' daily capacity,
    as each run recorded (``ops.daily.dispatch``)."""
    total = 0
    for run in ops.runs(session, day=day):
        if run.step == Step.DISPATCH.value and run.status == StepStatus.SUCCEEDED.value:
            outbound = (run.detail or {}).get("outbound") or {}
            total += int(outbound.get("over_capacity") or 0)
    return total
