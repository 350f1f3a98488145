"""The dashboard's watch over the day's execution (issue 6, screen 2), beside the broken-feed
alerts of ``ops.service``: a running campaign far from its expected success rate, and a
channel (or the outbound teams) over its capacity today.

**Far from the expected rate.** A campaign's success is an order (or, by its success rule,
a reply) within ``within_days`` of the contact. The counts come from the evaluation
service: the funnel gives the target contacts handed to a channel and their successes so
far; the daily report gives how many of those contacts were sent inside the last
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
from datetime import date, timedelta
from enum import StrEnum
from statistics import NormalDist
from typing import Any

from sqlalchemy.orm import Session

from steward.campaigns.models import Campaign
from steward.contacts import service as ledger
from steward.evaluation import service as evaluation
from steward.evaluation.stats import wilson
from steward.lake.service import Lake
from steward.ops import service as ops
from steward.ops.daily import Step
from steward.ops.models import StepStatus
from steward.policy.config import Policy

MINIMUM = 100  # contacts a rate is judged on, at least
TOLERANCE = 0.25  # "far": outside expected_rate x (1 +/- TOLERANCE)
CONFIDENCE = 0.95
# The success rule's events the ledger records (a hall visit is not in it: not judged).
SUCCESS_STEPS = {"order": "ordered", "reply": "responded"}
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


def rate_alerts(
    session: Session, lake: Lake, campaigns: Sequence[Campaign], *, today: date
) -> list[RateAlert]:
    """The ``campaigns`` (the running ones the user may see) far from their expected rate
    on ``today``, counted by the evaluation service's funnel and daily report."""
    judged = [c for c in campaigns if _success_step(c) is not None]
    if not judged:
        return []
    funnels = evaluation.funnels(session, lake, [c.id for c in judged])
    sent_on = _sent_by_day(session, lake, today)
    found = []
    for campaign, funnel in zip(judged, funnels, strict=True):
        window = int((campaign.success_rule or {}).get("within_days", 7))
        since = today - timedelta(days=window)
        open_contacts = sum(n for d, n in sent_on[campaign.id].items() if d > since)
        verdict = judge_rate(
            expected=campaign.expected_rate,
            successes=getattr(funnel, str(_success_step(campaign))),
            contacted=funnel.contacted,
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


def _success_step(campaign: Campaign) -> str | None:
    return SUCCESS_STEPS.get(str((campaign.success_rule or {}).get("event", "order")))


def _sent_by_day(session: Session, lake: Lake, today: date) -> dict[int, dict[date, int]]:
    """Per campaign and day, the target contacts handed to a channel (the daily report's
    ``contacted_today``, summed over its places and channels)."""
    report = evaluation.daily_report(session, lake, until=today)
    sent: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    columns = report.select(["campaign_id", "day", "contacted_today"]).to_pylist()
    for row in columns:
        if row["campaign_id"] is None:  # a service notice belongs to no campaign
            continue
        sent[int(row["campaign_id"])][row["day"]] += int(row["contacted_today"])
    return sent


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
