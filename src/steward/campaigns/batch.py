"""Run the day's waves: every running campaign at once, through the contact policy.

Reads the running campaigns and their offers from the operational store, their members from
the segments over the day's profile snapshot, the ledger's facts; arbitrates in the engine
(policy/batch.py); appends the plan to the ledger — ``reserved`` for target contacts,
``held_back`` for the control group — and writes the run's outcomes by rule to the lake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.service import district_rule
from steward.campaigns.models import Campaign, Status
from steward.contacts import service as ledger
from steward.contacts.models import Arm, State
from steward.db import utcnow
from steward.lake.service import Lake
from steward.mining import service as models
from steward.offers.models import Channel, Offer
from steward.policy import online
from steward.policy.arbitration import (
    HELD_BACK,
    PLANNED,
    CampaignSpec,
    OfferSpec,
    Plan,
    ledger_facts,
    stage,
)
from steward.policy.batch import Arbiter
from steward.policy.config import Policy
from steward.segments import service as segments
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue

OUTCOME_TABLE = "arbitration_outcome"


class RunError(ValueError):
    """A run that cannot start; the message says why."""


@dataclass
class RunReport:
    day: date
    snapshot: date
    campaigns: list[int]
    reserved: int = 0
    held_back: int = 0
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign -> outcome -> n

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "snapshot": self.snapshot.isoformat(),
            "campaigns": self.campaigns,
            "reserved": self.reserved,
            "held_back": self.held_back,
            "outcomes": self.outcomes,
        }


def running(session: Session, day: date, *, triggered: bool = False) -> list[Campaign]:
    """Campaigns that reach customers on ``day``: running, in their dates, in a wave if any;
    the day's batch campaigns, or with ``triggered`` those that act on events."""
    query = (
        select(Campaign)
        .where(
            Campaign.status == Status.RUNNING.value,
            Campaign.start_date <= day,
            Campaign.end_date >= day,
        )
        .order_by(Campaign.id)
    )
    return [
        c
        for c in session.scalars(query)
        if wave_start(c, day) is not None and (c.trigger is not None) == triggered
    ]


def wave_start(campaign: Campaign, day: date) -> date | None:
    """The start of the wave ``day`` falls in (the campaign's start when it has no waves)."""
    if not campaign.waves:
        return campaign.start_date
    for wave in campaign.waves:
        if date.fromisoformat(wave["start"]) <= day <= date.fromisoformat(wave["end"]):
            return date.fromisoformat(wave["start"])
    return None


def campaign_spec(
    campaign: Campaign, day: date, learned: Mapping[tuple[int, int], float] | None = None
) -> CampaignSpec:
    """The campaign as arbitration sees it on ``day``; ``learned``: the learning factors of
    (campaign, offer) pairs (``steward.mining.service.learning_factors``)."""
    start = wave_start(campaign, day)
    if campaign.trigger is not None and start is not None:
        # a triggered campaign's turn is a rolling window: it may act again after a while
        repeat = timedelta(days=int(campaign.trigger["repeat_after_days"]) - 1)
        start = max(start, day - repeat)
    return CampaignSpec(
        id=campaign.id,
        kind=campaign.kind,
        priority=campaign.priority,
        expected_rate=campaign.expected_rate,
        control_share=campaign.control_share,
        channels=tuple(Channel(c) for c in campaign.channels),
        offers=tuple(campaign.offer_ids),
        wave_start=start if start is not None else campaign.start_date,
        dnd_include=tuple(campaign.dnd_include or ()),
        exclude_campaigns=tuple(campaign.exclude_campaigns or ()),
        learned=tuple(
            (offer_id, factor)
            for (campaign_id, offer_id), factor in sorted((learned or {}).items())
            if campaign_id == campaign.id
        ),
    )


def offer_spec(offer: Offer) -> OfferSpec:
    fit = sorted((p, Channel(c)) for c, p in offer.channel_fit.items() if p > 0)
    return OfferSpec(
        id=offer.id,
        category=offer.category,
        group=offer.exclusion_group,
        eligibility=offer.eligibility,
        value=max(offer.price - offer.cost, 1.0),
        fit=tuple(c for _, c in fit),
    )


def run_day(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, *, day: date
) -> RunReport:
    """Arbitrate every running campaign for ``day`` and append the plan to the ledger."""
    planned = plan_day(session, lake, catalogue, policy, day=day)
    report = RunReport(day, planned.snapshot_day, [c.id for c in planned.campaigns])
    if planned.plan is None:
        return report
    plan = planned.plan
    report.reserved, report.held_back = _append_plan(
        session, plan, planned.campaigns, planned.offers, day
    )
    _write_outcomes(session, lake, plan, day)
    for (campaign_id, outcome), n in sorted(plan.outcomes.items()):
        report.outcomes.setdefault(str(campaign_id), {})[outcome] = n
    return report


@dataclass
class PlannedDay:
    snapshot_day: date
    campaigns: list[Campaign]
    offers: dict[int, Offer]
    plan: Plan | None  # None: no campaign runs that day


def plan_day(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    day: date,
    profile: Callable[[str], str] | None = None,
) -> PlannedDay:
    """The day's plan, written nowhere. ``profile`` rewrites the snapshot's relation (a
    benchmark compares plans made with and without the published propensity)."""
    latest = tags.latest_snapshot(session, lake, day)
    if latest is None:
        raise RunError(f"no profile snapshot on or before {day}: run steward tags refresh")
    snapshot_day, snapshot = latest
    if profile is not None:
        snapshot = profile(snapshot)
    campaigns = running(session, day)
    if not campaigns:
        return PlannedDay(snapshot_day, campaigns, {}, None)
    learned = models.learning_factors(session, lake, day)
    specs = [campaign_spec(c, day, learned) for c in campaigns]
    offer_ids = sorted({o for c in campaigns for o in c.offer_ids})
    offers = {o.id: o for o in session.scalars(select(Offer).where(Offer.id.in_(offer_ids)))}
    members = " UNION ALL ".join(
        members_sql(session, lake, catalogue, c, snapshot) for c in campaigns
    )
    facts = ledger_facts(session, day=day, policy=policy, campaigns=specs)
    arbiter = Arbiter(
        lake.engine,
        day=day,
        policy=policy,
        catalogue=catalogue,
        campaigns=specs,
        offers=[offer_spec(o) for o in offers.values()],
    )
    plan = arbiter.run(members=members, profile=snapshot, facts=facts)
    return PlannedDay(snapshot_day, campaigns, offers, plan)


def members_sql(
    session: Session, lake: Lake, catalogue: TagCatalogue, campaign: Campaign, snapshot: str
) -> str:
    """The campaign's members: the union of its segments (everyone for a triggered campaign
    without one), inside its district."""
    parts = [] if campaign.segment_ids else [f"(SELECT msisdn FROM {snapshot})"]
    for segment_id in campaign.segment_ids:
        segment = segments.get(session, segment_id)
        if segment is None:
            raise RunError(f"campaign {campaign.name!r} names missing segment {segment_id}")
        parts.append(f"({segments.members_sql(session, lake, catalogue, segment, snapshot)})")
    union = " UNION ".join(parts)
    scope = district_rule(campaign.district)
    inside = ""
    if scope is not None:
        condition = segments.condition_sql(scope, catalogue, lake.engine.dialect)
        inside = f" SEMI JOIN (SELECT msisdn FROM {snapshot} WHERE {condition}) d USING (msisdn)"
    return f"SELECT {campaign.id} AS campaign_id, u.msisdn FROM ({union}) u{inside}"


def _append_plan(
    session: Session,
    plan: Plan,
    campaigns: list[Campaign],
    offers: dict[int, Offer],
    day: date,
) -> tuple[int, int]:
    kinds = {c.id: c.kind for c in campaigns}
    source = f"run {day.isoformat()}"
    rows = (
        {
            "contact_key": f"{day:%Y%m%d}-c{r['campaign_id']}-{r['msisdn']}",
            "state": (State.HELD_BACK if r["arm"] == Arm.CONTROL.value else State.RESERVED).value,
            "day": day,
            "msisdn": r["msisdn"],
            "campaign_id": r["campaign_id"],
            "kind": kinds[r["campaign_id"]],
            "offer_id": r["offer_id"],
            "category": offers[r["offer_id"]].category,
            "exclusion_group": offers[r["offer_id"]].exclusion_group,
            "channel": r["channel"],
            "arm": r["arm"],
            "detail": f"score {r['score']:.6g}",
            "source": source,
        }
        for r in _batches(plan.contacts)
    )
    ledger.append(session, rows)
    held = sum(n for (_, o), n in plan.outcomes.items() if o == HELD_BACK)
    reserved = sum(n for (_, o), n in plan.outcomes.items() if o == PLANNED)
    return reserved, held


def _batches(table: pa.Table) -> Any:
    for batch in table.to_batches(max_chunksize=50_000):
        yield from batch.to_pylist()


def _write_outcomes(session: Session, lake: Lake, plan: Plan, day: date) -> None:
    run_at = utcnow()
    rows = [
        {"run_day": day, "run_at": run_at, "campaign_id": c, "outcome": o, "subscribers": n}
        for (c, o), n in sorted(plan.outcomes.items())
    ]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("run_day", pa.date32()),
                ("run_at", pa.timestamp("us", tz="UTC")),
                ("campaign_id", pa.int64()),
                ("outcome", pa.string()),
                ("subscribers", pa.int64()),
            ]
        ),
    )
    lake.engine.register("run_outcomes", table)
    part = f"r{run_at:%H%M%S%f}"  # every run of a day keeps its own record
    lake.write(session, OUTCOME_TABLE, day, part, "SELECT * FROM run_outcomes")


def explain(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    msisdn: str,
    campaign_id: int,
    day: date,
) -> dict[str, Any]:
    """Why a subscriber is, or is not, contacted by a campaign on ``day`` ("why not").

    The one-subscriber reference path judges every running campaign the subscriber belongs
    to, exactly as the day's run does; only channel capacity, which depends on everyone
    else, is left to the run (a winner is reported as ``winner``).
    """
    answers = explain_many(
        session, lake, catalogue, policy, msisdn=msisdn, campaign_ids=[campaign_id], day=day
    )
    return answers[campaign_id]


def explain_many(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    msisdn: str,
    campaign_ids: Sequence[int],
    day: date,
) -> dict[int, dict[str, Any]]:
    """``explain`` for several campaigns at once, by campaign id: the competing campaigns,
    the subscriber's memberships, the learned factors and the referee are worked out once,
    and each campaign's answer is read off the one judgement."""
    chosen: dict[int, Campaign] = {}
    for campaign_id in campaign_ids:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise RunError(f"no campaign {campaign_id}")
        chosen[campaign_id] = campaign
    latest = tags.latest_snapshot(session, lake, day)
    if latest is None:
        raise RunError(f"no profile snapshot on or before {day}: run steward tags refresh")
    snapshot = latest[1]
    rows = lake.engine.query(f"SELECT * FROM {snapshot} WHERE msisdn = ?", [msisdn]).to_pylist()
    answers = {i: {"msisdn": msisdn, "campaign_id": i, "day": day.isoformat()} for i in chosen}
    if not rows:
        return {i: a | {"outcome": "not.in_snapshot", "offers": []} for i, a in answers.items()}
    competing = running(session, day)
    today = {c.id for c in competing}
    member_of: list[int] = []
    if today & set(chosen):
        member_of = _member_of(session, lake, catalogue, competing, snapshot, msisdn)
    judged: list[online.Candidate] = []
    if today & set(chosen) & set(member_of):
        learned = models.learning_factors(session, lake, day)
        specs = [campaign_spec(c, day, learned) for c in competing]
        offers = {o.id: o for o in session.scalars(select(Offer))}
        wanted = {o for c in competing for o in c.offer_ids}
        referee = online.Referee(
            day=day,
            policy=policy,
            catalogue=catalogue,
            campaigns=specs,
            offers=[offer_spec(offers[o]) for o in sorted(wanted)],
            facts=ledger_facts(session, day=day, policy=policy, campaigns=specs, msisdn=msisdn),
        )
        judged = referee.candidates(msisdn, rows[0], member_of)
    winner = next((c for c in judged if c.outcome is None), None)
    for campaign_id, campaign in chosen.items():
        if campaign_id not in today:
            idle = "not_today" if campaign.status == Status.RUNNING.value else campaign.status
            answers[campaign_id] |= {"outcome": f"campaign.{idle}", "offers": []}
        elif campaign_id not in member_of:
            answers[campaign_id] |= {"outcome": "segment.not_member", "offers": []}
        else:
            answers[campaign_id] |= _judgement(
                [c for c in judged if c.campaign.id == campaign_id], winner
            )
    return answers


def _judgement(mine: list[online.Candidate], winner: online.Candidate | None) -> dict[str, Any]:
    return {
        "outcome": _outcome_of(mine, winner),
        "offers": [
            {
                "offer_id": c.offer.id,
                "outcome": c.outcome or "winner",
                "channels": [ch.value for ch in c.channels],
                "score": c.score,
            }
            for c in mine
        ],
        "won_by": None
        if winner is None
        else {
            "campaign_id": winner.campaign.id,
            "offer_id": winner.offer.id,
            "score": winner.score,
        },
    }


def _member_of(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    campaigns: list[Campaign],
    snapshot: str,
    msisdn: str,
) -> list[int]:
    union = " UNION ALL ".join(
        members_sql(session, lake, catalogue, c, snapshot) for c in campaigns
    )
    query = f"SELECT DISTINCT campaign_id FROM ({union}) WHERE msisdn = ? ORDER BY 1"
    return [int(r["campaign_id"]) for r in lake.engine.query(query, [msisdn]).to_pylist()]


def _outcome_of(mine: list[online.Candidate], winner: online.Candidate | None) -> str:
    if winner is not None and winner in mine:
        return "winner"
    best = min(mine, key=lambda c: (stage(c.outcome or "planned"), -c.score, c.offer.id))
    return best.outcome or "winner"
