"""The demo's closed loop on a small synthetic city: the platform's real services, in order.

Five example campaigns of R-CAMP-7 — birthday care, low-balance reminder, data-pack
recommendation, handset upgrade, churn retention — are made by a demo planner, approved by a
demo approver and started; the day is arbitrated; SMS go out through the simulated SMS
centre and outbound calls become work orders for demo agents; the customers' side is
simulated (``responses.py``); and every campaign is evaluated: its funnel and its lift over
the control group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.campaigns import batch as campaign_runs
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.campaigns.schemas import CampaignCreate
from steward.channels import outbound
from steward.channels import service as channels
from steward.channels.orders import SimulatedOrderCentre, accepted_orders
from steward.channels.sms import SimulatedSmsCentre
from steward.evaluation import service as evaluation
from steward.events import service as events_in
from steward.events.bus import InProcessBus
from steward.events.library import load_library
from steward.events.service import MAX_BATCH
from steward.lake.service import Lake
from steward.mining import service as models
from steward.mining.churn import ChurnError
from steward.mining.models import ModelKind
from steward.mining.propensity import PropensityError
from steward.offers import service as offers
from steward.offers.models import Channel
from steward.policy import handoff
from steward.policy.config import Policy
from steward.realtime import replay
from steward.realtime.worker import Decider, relay
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.simulation.responses import simulate_responses
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue

PASSWORD = "demo password, change me"
USERS = (
    ("demo.planner", Role.PLANNER),
    ("demo.approver", Role.APPROVER),
    ("demo.analyst", Role.ANALYST),
    ("demo.agent1", Role.AGENT),
    ("demo.agent2", Role.AGENT),
    ("demo.clerk", Role.CLERK),
    ("demo.data", Role.DATA_ADMIN),
    ("demo.admin", Role.SYSTEM_ADMIN),
)
TEAM = "province call centre"
TEAM_CAPACITY = 800  # calls a day: small on purpose, so capacity and overflow show


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    kind: str
    rule: str
    offer: str
    channels: tuple[str, ...]
    priority: int
    expected_rate: float
    control_share: float
    trigger: dict[str, Any] | None = None  # acts on events (steward run), not in the batch


CAMPAIGNS = (
    DemoCampaign(
        "生日关怀 Birthday care", "care", "birthday_this_month", "BIRTHDAY", ("sms",), 90, 1.0, 0.1
    ),
    DemoCampaign(
        "流量包推荐 Data-pack recommendation",
        "marketing",
        "data_mb_30d > 3000 AND NOT complaint_sensitive",
        "DP10G",
        ("sms", "outbound"),
        60,
        0.05,
        0.2,
    ),
    DemoCampaign(
        "换机推荐 Handset upgrade",
        "marketing",
        "handset_upgrade_candidate AND arpu_3m >= 58",
        "HS5G24",
        ("outbound", "sms"),
        50,
        0.04,
        0.2,
    ),
    DemoCampaign(
        "流失挽留 Churn retention",
        "marketing",
        # the published churn model's warning, or a contract about to end
        "churn_30d >= 0.05 OR (tenure_months >= 12 AND contract_days_left BETWEEN 0 AND 90)",
        "RETAIN200",
        ("outbound", "sms"),
        70,
        0.08,
        0.2,
    ),
    DemoCampaign(
        "实时余额提醒 Low balance, as it happens",
        "care",
        "",
        "LOWBAL",
        ("sms",),
        95,
        1.0,
        0.1,
        {"event": "balance_low", "condition": "event_balance < 5", "repeat_after_days": 7},
    ),
    DemoCampaign(
        "漫游流量包 Roaming data pack",
        "marketing",
        "data_mb_30d > 1000",
        "DP10G",
        ("sms",),
        65,
        0.06,
        0.2,
        {
            "event": "roaming_entry",
            "condition": "NOT complaint_sensitive",
            "window_start": "08:00",
            "window_end": "21:00",
        },
    ),
    DemoCampaign(
        "合约到期挽留 Contract ending",
        "marketing",
        "",
        "RETAIN200",
        ("outbound", "sms"),
        75,
        0.08,
        0.2,
        {
            "event": "contract_expiring",
            "condition": "event_days_left <= 30 AND tenure_months >= 12",
        },
    ),
)


def prepare(session: Session, lake: Lake, catalogue: TagCatalogue, *, day: date) -> list[int]:
    """Demo users, offers, segments and the campaigns (four batch, three triggered),
    approved and running."""
    people = {name: _user(session, name, role) for name, role in USERS}
    if not offers.list_all(session):
        offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="demo.planner")
    by_code = {o.code: o for o in offers.list_all(session)}
    if not outbound.teams(session):
        outbound.create_team(session, name=TEAM, district="province", daily_capacity=TEAM_CAPACITY)
    ids = []
    for spec in CAMPAIGNS:
        campaign = session.scalar(select(Campaign).where(Campaign.name == spec.name))
        if campaign is None:
            campaign = _launch(session, catalogue, spec, by_code[spec.offer].id, people, day)
        ids.append(campaign.id)
    return ids


def publish_models(
    sessions: sessionmaker[Session],
    lake: Lake,
    *,
    kinds: tuple[ModelKind, ...],
    data_day: date,
    settle_days: int = 0,
) -> dict[str, Any]:
    """Train each kind not yet published as the analyst, validate it, publish it with the
    approver's sign-off; then score every published model as of ``data_day`` (the caller
    refreshes the tags). A kind the data cannot support is reported with the reason.

    ``settle_days=0``: the simulated customers answer the day they are contacted, so a
    contact without an answer by the evening is a no."""
    done: dict[str, Any] = {}
    for kind in kinds:
        try:
            with db.transaction(sessions) as session:
                done[kind.value] = _publish(session, lake, kind, data_day, settle_days)
        except (models.ModelError, ChurnError, PropensityError) as exc:
            done[kind.value] = {"published": False, "reason": str(exc)}
    with db.transaction(sessions) as session:
        scored = models.score_published(session, lake, as_of=data_day)
        done["scored"] = scored.to_dict() if scored else None
    return done


def _publish(
    session: Session, lake: Lake, kind: ModelKind, data_day: date, settle_days: int
) -> dict[str, Any]:
    version = models.published(session, kind)
    if version is None:
        analyst = _user(session, "demo.analyst", Role.ANALYST)
        approver = _user(session, "demo.approver", Role.APPROVER)
        version = models.train(
            session, lake, kind=kind, by=analyst, seed=0, settle_days=settle_days
        )
        models.validate(session, lake, model_id=version.id, by=analyst, as_of=data_day)
        note = f"out-of-time AUC {version.metrics['auc']}, lift and calibration checked"
        models.publish(session, model_id=version.id, by=approver, note=note)
    return {
        "published": True,
        "version": version.version,
        "auc": version.metrics["auc"],
        "top_decile_lift": version.metrics["top_decile_lift"],
        "positives": version.metrics["positives"],
    }


def _user(session: Session, name: str, role: Role) -> User:
    found = session.scalar(select(User).where(User.username == name))
    if found is not None:
        return found
    return auth.create_user(
        session, username=name, password=PASSWORD, role=role, district="province", by="demo"
    )


def _launch(
    session: Session,
    catalogue: TagCatalogue,
    spec: DemoCampaign,
    offer_id: int,
    people: dict[str, User],
    day: date,
) -> Campaign:
    segment_ids = []
    if spec.rule:
        segment_in = SegmentCreate(name=spec.name, rule=spec.rule)
        segment_ids.append(
            segments.create(session, catalogue, by="demo.planner", segment_in=segment_in).id
        )
    waves = [{"name": "wave 1", "start": day, "end": day + timedelta(days=6)}]
    campaign_in = CampaignCreate.model_validate(
        {
            "name": spec.name,
            "kind": spec.kind,
            "segment_ids": segment_ids,
            "offer_ids": [offer_id],
            "channels": list(spec.channels),
            "waves": waves if spec.trigger is None else [],
            "trigger": spec.trigger,
            "control_share": spec.control_share,
            "priority": spec.priority,
            "expected_rate": spec.expected_rate,
            "start_date": day,
            "end_date": day + timedelta(days=29),
        }
    )
    planner, approver = people["demo.planner"], people["demo.approver"]
    campaign = campaigns.create(session, campaign_in=campaign_in, by=planner)
    campaigns.move(session, campaign, to=Status.SUBMITTED, by=planner, comment="demo")
    campaigns.move(session, campaign, to=Status.APPROVED, by=approver, comment="demo: approved")
    campaigns.move(session, campaign, to=Status.RUNNING, by=planner, comment="demo: start")
    return campaign


def run_loop(
    sessions: sessionmaker[Session],
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    day: date,
    truth: Path,
    seed: int,
    quarantine: Path,
) -> dict[str, Any]:
    """Arbitrate, decide the day's events, execute, simulate the customers; each step its
    own transaction."""
    now = datetime.combine(day, time(10, 0), tzinfo=UTC)  # inside every channel's hours
    # arbitration knows what the call centre can take today, so calls overflow to SMS
    capacity = dict(policy.capacity) | {Channel.OUTBOUND: TEAM_CAPACITY}
    policy = policy.model_copy(update={"capacity": capacity})
    centre, orders = SimulatedSmsCentre(), SimulatedOrderCentre()
    steps: dict[str, Any] = {}
    with db.transaction(sessions) as session:
        steps["arbitration"] = campaign_runs.run_day(session, lake, catalogue, policy, day=day)
    steps["events"] = run_events(sessions, lake, catalogue, policy, now=now, quarantine=quarantine)
    with db.transaction(sessions) as session:
        quiet = policy.quiet_hours.get(Channel.SMS)

        def recheck(contacts: list[dict[str, Any]]) -> dict[str, str]:
            return handoff.recheck(session, lake, catalogue, policy, day=day, contacts=contacts)

        steps["sms"] = channels.send_due_sms(
            session, centre, day=day, now=now, quiet=quiet, recheck=recheck
        )
        steps["outbound"] = outbound.queue_due_contacts(
            session, day=day, now=now, districts=_districts(session, lake, day), recheck=recheck
        )
        for team in outbound.teams(session):
            outbound.assign(
                session, team_id=team.id, agents=["demo.agent1", "demo.agent2"], now=now
            )
    with db.transaction(sessions) as session:
        steps["receipts"] = channels.collect_receipts(session, centre)
    with db.transaction(sessions) as session:
        steps["simulation"] = simulate_responses(
            session, lake, truth=truth, day=day, now=now, seed=seed, centre=centre, orders=orders
        )
    with db.transaction(sessions) as session:
        steps["replies"] = channels.process_replies(session, centre, orders)
    return steps


def run_events(
    sessions: sessionmaker[Session],
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    now: datetime,
    quarantine: Path,
) -> dict[str, Any]:
    """The latest day's events replayed into the inbox and decided by the triggered
    campaigns, as `steward run` would as they came (here in one pass, at ``now``)."""
    library = load_library()
    with db.transaction(sessions) as session:
        latest = lake.latest_day(session, "recharge", now.date())
        raws = [] if latest is None else list(replay.day_events(session, lake, latest, now=now))
    for start in range(0, len(raws), MAX_BATCH):
        with db.transaction(sessions) as session:
            events_in.accept(session, library, raws[start : start + MAX_BATCH])
    decider = Decider(
        transaction=lambda: db.transaction(sessions),
        lake=lake,
        catalogue=catalogue,
        policy=policy,
        library=library,
        quarantine=quarantine,
        clock=lambda: now,
    )
    totals: dict[str, Any] = {"replayed": len(raws), "decided": 0, "contacts": 0, "notices": 0}
    totals["outcomes"] = {}
    bus, after = InProcessBus(partitions=1), 0
    while True:
        after = relay(decider.transaction, bus, after=after)
        deliveries = bus.consume("demo", [0], count=MAX_BATCH, block_ms=0)
        if not deliveries:
            return totals
        report = decider.handle([d.payload for d in deliveries])
        bus.ack(deliveries)
        totals["decided"] += report.decided
        totals["contacts"] += report.contacts
        totals["notices"] += report.notices
        for outcome, n in report.outcomes.items():
            totals["outcomes"][outcome] = totals["outcomes"].get(outcome, 0) + n


def _districts(session: Session, lake: Lake, day: date) -> dict[str, str]:
    """Each planned subscriber's district (city/county) from the profile snapshot."""
    latest = tags.latest_snapshot(session, lake, day)
    if latest is None:
        return {}
    rows = lake.engine.query(
        f"SELECT msisdn, CAST(city AS VARCHAR) || '/' || CAST(county AS VARCHAR) AS district "
        f"FROM {latest[1]}"
    ).to_pylist()
    return {r["msisdn"]: r["district"] for r in rows}


def evaluate(session: Session, lake: Lake, campaign_ids: list[int]) -> list[dict[str, Any]]:
    """Each campaign's funnel and its order lift over the control group."""
    feed = accepted_orders(session)
    found = []
    for funnel in evaluation.funnels(session, lake, campaign_ids):
        campaign = campaigns.get(session, funnel.campaign_id)
        within = int((campaign.success_rule or {}).get("within_days", 7)) if campaign else 7
        lift = evaluation.control_vs_target(
            session, lake, campaign_id=funnel.campaign_id, orders=feed, within_days=within
        )
        if campaign is not None and campaign.kind == "care":
            lift["order_lift"] = None  # care sells nothing: its success is being there
        found.append(
            {
                "name": campaign.name if campaign else "",
                "triggered": campaign is not None and campaign.trigger is not None,
                "funnel": funnel.to_dict(),
                "lift": lift,
            }
        )
    return found
