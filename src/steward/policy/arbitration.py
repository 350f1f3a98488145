"""Arbitration's shared vocabulary: what goes in, what comes out, and the order of the rules.

The semantics (docs/arbitration.md) are written once here and run twice: set-based over the
whole base in ``batch.py`` and one subscriber at a time in ``online.py``. Both read the same
ledger facts and compile the same rules, and a property test holds them to the same plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.contacts.models import State
from steward.offers.models import Channel
from steward.policy.config import Interval, Policy
from steward.policy.models import ChannelOptOut

CARE = "care"
MARKETING = "marketing"
# A campaign's earlier contacts with a subscriber that end its turn in the campaign's wave.
BEGUN = (State.RESERVED, State.HELD_BACK, State.PLANNED)
# An excluded past campaign's contacts that count: the subscriber really heard from it.
REACHED = (State.SENT, State.DELIVERED, State.ANSWERED, State.ORDERED)
EXCLUDED_CAMPAIGN_DAYS = 365

# Outcomes from furthest reached to earliest stopped. A subscriber's outcome in a campaign is
# that of its offer that got furthest (then the higher score, then the lower offer id).
PLANNED = "planned"
HELD_BACK = "held_back"
STAGES = (
    PLANNED,
    HELD_BACK,
    "capacity",
    "arbitration.lost",
    "channel",  # no channel left: not fit, opted out, or the channel's cap reached
    "cap.overall",
    "interval",
    "campaign.excluded",
    "dnd",
    "offer.not_eligible",
    "day.contacted",
    "campaign.contacted",
)


def stage(outcome: str) -> int:
    """The position of an outcome (``interval.marketed_3m`` → the ``interval`` stage)."""
    if outcome.startswith(("cap.", "dnd.optout_channel", "channel.")) and outcome != "cap.overall":
        return STAGES.index("channel")
    for position, name in enumerate(STAGES):
        if outcome == name or outcome.startswith(name + "."):
            return position
    raise ValueError(f"unknown outcome {outcome!r}")


def stage_sql(column: str) -> str:
    """``stage`` in SQL, from the same table."""
    whens = [
        f"WHEN {column} LIKE 'cap.%' AND {column} <> 'cap.overall' "
        f"OR {column} = 'dnd.optout_channel' OR {column} LIKE 'channel.%' "
        f"THEN {STAGES.index('channel')}"
    ]
    for position, name in enumerate(STAGES):
        whens.append(f"WHEN {column} = '{name}' OR {column} LIKE '{name}.%' THEN {position}")
    return f"CASE {' '.join(whens)} END"


@dataclass(frozen=True)
class OfferSpec:
    id: int
    category: str
    group: str | None
    eligibility: str  # a rule over tags
    value: float  # what a success is worth: margin, at least 1 so care actions still rank
    fit: tuple[Channel, ...]  # channels the offer can go through


@dataclass(frozen=True)
class CampaignSpec:
    id: int
    kind: str  # care | marketing
    priority: int
    expected_rate: float
    control_share: float
    channels: tuple[Channel, ...]  # in the campaign's order of preference
    offers: tuple[int, ...]
    wave_start: date  # the subscriber's turn: one contact per campaign per wave
    dnd_include: tuple[str, ...] = ()
    exclude_campaigns: tuple[int, ...] = ()
    # (offer, factor): how the offer's answers in this campaign moved its expected response
    # against the propensity model's (steward.mining.propensity.factors)
    learned: tuple[tuple[int, float], ...] = ()

    def factor(self, offer_id: int) -> float:
        return dict(self.learned).get(offer_id, 1.0)


OPT_OUT_SCHEMA = pa.schema([("msisdn", pa.string()), ("channel", pa.string())])


@dataclass(frozen=True)
class LedgerFacts:
    """What the operational store says that arbitration needs, as Arrow tables both paths
    read: the ledger's units and history, and the opt-out list."""

    units: pa.Table  # contacts holding cap units: msisdn, channel, kind, day, campaign_id
    history: pa.Table  # ledger rows the intervals and campaign rules look at
    opt_outs: pa.Table = field(default_factory=OPT_OUT_SCHEMA.empty_table)  # msisdn, channel


@dataclass
class Plan:
    contacts: pa.Table  # msisdn, campaign_id, offer_id, channel, arm, score
    outcomes: dict[tuple[int, str], int] = field(default_factory=dict)  # (campaign, outcome)

    def planned(self) -> int:
        return sum(n for (_, o), n in self.outcomes.items() if o == PLANNED)


PLAN_SCHEMA = pa.schema(
    [
        ("msisdn", pa.string()),
        ("campaign_id", pa.int64()),
        ("offer_id", pa.int64()),
        ("channel", pa.string()),
        ("arm", pa.string()),
        ("score", pa.float64()),
    ]
)


def propensity_tag(offer: OfferSpec) -> str:
    """The tag holding a subscriber's published propensity for the offer's category."""
    return f"propensity_{offer.category}"


def score(campaign: CampaignSpec, offer: OfferSpec, propensity: float | None = None) -> float:
    """Priority × expected response × value, multiplied in this order on both paths.

    The expected response is the subscriber's published propensity for the offer's category
    times the learning factor of the campaign's offer, or, where no model has scored the
    subscriber, the campaign's fixed expected rate."""
    known = propensity is not None
    rate = propensity * campaign.factor(offer.id) if known else campaign.expected_rate  # type: ignore[operator]
    return float(campaign.priority) * rate * offer.value


def control_draw(campaign_id: int, msisdn: str) -> float:
    """A stable draw in [0, 1) per campaign and subscriber: below the share, held back."""
    digest = hashlib.md5(f"{campaign_id}:{msisdn}".encode(), usedforsecurity=False)
    return int(digest.hexdigest()[:8], 16) / 4294967296.0


def tie_break(msisdn: str) -> str:
    """Equal scores compete in an order no one can game: the number's hash."""
    return hashlib.md5(msisdn.encode(), usedforsecurity=False).hexdigest()


def period_start(day: date, period: str) -> date:
    """Calendar months: ``1m`` is this month, ``3m`` this month and the two before."""
    months = int(period.removesuffix("m")) - 1
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def interval_since(day: date, interval: Interval) -> date:
    return day - timedelta(days=interval.days)


def ledger_facts(
    session: Session,
    *,
    day: date,
    policy: Policy,
    campaigns: Iterable[CampaignSpec],
    msisdn: ledger.Numbers = None,
) -> LedgerFacts:
    """Read from the ledger the units caps count and the rows intervals look at (of one
    subscriber, or some, when ``msisdn`` is given: the online path and "why not")."""
    campaigns = list(campaigns)
    starts = [period_start(day, p) for p in policy.caps.periods.values()] + [day]
    units = ledger.holding_units(session, since=min(starts), until=day, msisdn=msisdn)
    windows: list[tuple[Iterable[State], date]] = [
        (i.states, interval_since(day, i)) for i in policy.intervals
    ]
    windows += [(BEGUN, c.wave_start) for c in campaigns]
    if any(c.exclude_campaigns for c in campaigns):
        windows.append((REACHED, day - timedelta(days=EXCLUDED_CAMPAIGN_DAYS)))
    history = ledger.history(session, windows=windows, until=day, msisdn=msisdn)
    opt_outs = opt_out_list(session, msisdn=msisdn)
    return LedgerFacts(units=units, history=history, opt_outs=opt_outs)


def opt_out_list(session: Session, *, msisdn: ledger.Numbers = None) -> pa.Table:
    """The opt-out list (msisdn, channel), of some subscribers when ``msisdn`` is given."""
    query = select(ChannelOptOut.msisdn, ChannelOptOut.channel)
    if isinstance(msisdn, str):
        query = query.where(ChannelOptOut.msisdn == msisdn)
    elif msisdn is not None:
        query = query.where(ChannelOptOut.msisdn.in_(list(msisdn)))
    listed = session.execute(query).all()
    return pa.table(
        {"msisdn": [r[0] for r in listed], "channel": [r[1] for r in listed]},
        schema=OPT_OUT_SCHEMA,
    )
