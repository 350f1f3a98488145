"""Decide a batch of events against the operational store, exactly once in effect.

One transaction a batch: lock the batch's subscribers (PostgreSQL advisory locks, so two
workers never judge one subscriber at once even while a crashed worker's entries are being
reclaimed), skip the events already processed, decide the rest in order, append their
contacts to the ledger with their decisions, and mark every event processed. The broker is
acknowledged only after the commit: a crash before it redelivers, and the redelivery finds
the events processed and changes nothing.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from steward.campaigns.batch import campaign_spec, members_sql, offer_spec, running
from steward.campaigns.models import Campaign, Transition
from steward.campaigns.schemas import Trigger
from steward.contacts import service as ledger
from steward.contacts.service import SERVICE
from steward.events.library import Event, EventLibrary
from steward.events.models import EventDecision, EventInbox, TriggerOutcome, WatchEntry
from steward.events.service import inbox_row
from steward.events.triggers import check_condition
from steward.lake.service import Lake
from steward.mining import service as models
from steward.offers.models import Channel, Offer
from steward.policy import online
from steward.policy.arbitration import CampaignSpec, LedgerFacts, ledger_facts
from steward.policy.config import Policy
from steward.realtime.decide import Decision, Listener, Triggers, decide, ledger_row
from steward.realtime.profile import OnlineProfile
from steward.rules import to_python
from steward.tags.schemas import TagCatalogue
from steward.tags.service import SNAPSHOT_TABLE

PROCESSED = "processed"
# Events that put a subscriber on the high-usage watch list (R-EVT-4), with the figure read.
WATCHED = {
    "high_realtime_charges": "charges",
    "monthly_bill_high": "amount",
    "international_roaming": None,
    "data_quota_100": "used_mb",
}


def load_triggers(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    library: EventLibrary,
    *,
    day: date,
    snapshot: str,
) -> Triggers:
    """The day's running triggered campaigns, compiled against the snapshot."""
    campaigns = running(session, day, triggered=True)
    learned = models.learning_factors(session, lake, day)
    specs = {c.id: campaign_spec(c, day, learned) for c in campaigns}
    offer_ids = sorted({o for c in campaigns for o in c.offer_ids})
    offers = session.scalars(select(Offer).where(Offer.id.in_(offer_ids))).all()
    referee = online.Referee(
        day=day,
        policy=policy,
        catalogue=catalogue,
        campaigns=specs.values(),
        offers=[offer_spec(o) for o in offers],
        facts=LedgerFacts(units=pa.table({}), history=pa.table({})),
    )
    triggers = Triggers(day=day, referee=referee)
    for campaign in campaigns:
        listener = _listener(
            session, lake, catalogue, library, campaign, specs[campaign.id], snapshot
        )
        triggers.listeners.setdefault(listener.event, []).append(listener)
    return triggers


def _listener(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    library: EventLibrary,
    campaign: Campaign,
    spec: CampaignSpec,
    snapshot: str,
) -> Listener:
    trigger = Trigger.model_validate(campaign.trigger)
    rule = check_condition(library, catalogue, trigger.event, trigger.condition)
    window = None
    if trigger.window_start is not None and trigger.window_end is not None:
        window = (trigger.window_start, trigger.window_end)
    return Listener(
        spec=spec,
        name=campaign.name,
        event=trigger.event,
        condition=None if rule is None else to_python(rule),
        members=member_numbers(session, lake, catalogue, campaign, snapshot),
        delay=timedelta(minutes=trigger.delay_minutes),
        window=window,
        respond_within=timedelta(minutes=trigger.respond_within_minutes),
    )


def member_numbers(
    session: Session, lake: Lake, catalogue: TagCatalogue, campaign: Campaign, snapshot: str
) -> npt.NDArray[np.int64] | None:
    """The campaign's members as sorted numbers (None: every subscriber of the snapshot),
    so one subscriber's membership is a binary search, not a query."""
    members = (
        lake.engine.query(
            f"SELECT DISTINCT CAST(msisdn AS BIGINT) AS k "
            f"FROM ({members_sql(session, lake, catalogue, campaign, snapshot)}) ORDER BY 1"
        )["k"]
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )
    everyone = lake.engine.query(f"SELECT count(*) AS n FROM {snapshot}")["n"][0].as_py()
    return None if len(members) == everyone else members


T = TypeVar("T")


class Refreshing(Generic[T]):
    """A value built from the stores for a day — compiled campaigns, the online profile —
    rebuilt when the day's running campaigns or the newest snapshot change (looked at most
    every ``every_s``; a build costs a second, a look one small query)."""

    def __init__(self, build: Callable[[Session, date], T], *, every_s: float = 30.0) -> None:
        self.build = build
        self.every_s = every_s
        self._lock = threading.Lock()
        self._held: dict[date, tuple[T, tuple[Any, ...], float]] = {}

    def get(self, session: Session, day: date, lake: Lake) -> T:
        with self._lock:
            held = self._held.get(day)
            if held is not None and time.monotonic() - held[2] < self.every_s:
                return held[0]
            signature = state_signature(session, lake, day)
            if held is not None and held[1] == signature:
                self._held[day] = (held[0], signature, time.monotonic())
                return held[0]
            value = self.build(session, day)
            for old in sorted(self._held)[:-2]:  # today's, and a day either side, at most
                del self._held[old]
            self._held[day] = (value, signature, time.monotonic())
            return value


def state_signature(session: Session, lake: Lake, day: date) -> tuple[Any, ...]:
    """What a day's compiled state depends on: the newest snapshot, the campaigns' moves."""
    latest = lake.latest_day(session, SNAPSHOT_TABLE, day)
    moves = session.scalar(select(func.max(Transition.id)))
    return (latest, moves)


@dataclass
class Runtime:
    """What a worker holds between batches: the online profile and the compiled triggers."""

    profile: OnlineProfile
    triggers: Triggers
    policy: Policy
    offers: dict[int, Offer]
    library: EventLibrary


@dataclass
class BatchReport:
    events: int = 0
    duplicates: int = 0
    decided: int = 0
    contacts: int = 0
    notices: int = 0  # service actions' messages (R-EVT-1)
    outcomes: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)  # contacts by channel


def handle(
    session: Session, runtime: Runtime, events: Sequence[Event], *, now: datetime
) -> BatchReport:
    """Decide ``events`` in order inside the caller's transaction (the caller commits)."""
    report = BatchReport(events=len(events))
    _lock(session, sorted({e.msisdn for e in events}))
    status = _status(session, [e.id for e in events])
    fresh: dict[str, Event] = {}
    for event in events:
        if status.get(event.id) == PROCESSED or event.id in fresh:
            report.duplicates += 1
        else:
            fresh[event.id] = event
    capacity = _Capacity(session, runtime)
    pending = _Pending()
    heard = [e for e in fresh.values() if runtime.triggers.listeners.get(e.type)]
    known = _BatchFacts(session, runtime, sorted({e.msisdn for e in heard}))
    for event in fresh.values():
        runtime.profile.apply(event)

        def facts(specs: Sequence[CampaignSpec], msisdn: str = event.msisdn) -> LedgerFacts:
            return known.of(msisdn)

        listened = runtime.triggers.listeners.get(event.type)
        view = runtime.profile.view(event.msisdn, event) if listened else None
        decision = decide(runtime.triggers, event, view, now=now, facts=facts, room=capacity.room)
        pending.watch += _watch(runtime, event)
        pending.notices += _notices(runtime, event, now)
        if decision is not None:
            _count(report, decision)
            _record(session, runtime, decision, now, pending, capacity, known)
    pending.write(session)
    report.notices = len(pending.notices)
    _mark_processed(session, list(fresh.values()), status, now)
    return report


def _count(report: BatchReport, decision: Decision) -> None:
    report.decided += 1
    report.outcomes[decision.outcome] = report.outcomes.get(decision.outcome, 0) + 1
    if decision.contacts and decision.winner is not None:
        report.contacts += 1
        channel = decision.winner.channels[0].value
        report.channels[channel] = report.channels.get(channel, 0) + 1


@dataclass
class _Pending:
    """What a batch writes at its end, one statement a table: nothing is read back from the
    store while the batch decides (its facts and capacity are kept in memory)."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    watch: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        for table, rows in (
            (EventDecision, self.decisions),
            (TriggerOutcome, self.outcomes),
            (WatchEntry, self.watch),
        ):
            if rows:
                session.execute(insert(table), rows)
        ledger.append(session, [*self.contacts, *self.notices])


class _Capacity:
    """Channel capacity for one batch: the channels' locks taken together in one order (two
    workers never wait on each other crosswise), each channel's use counted once, then
    kept as the batch takes from it."""

    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.left: dict[Channel, int] | None = None

    def room(self, channel: Channel) -> int:
        if self.left is None:
            self.left = {}
            _lock(self.session, [f"capacity:{c.value}" for c in self.runtime.policy.capacity])
        if channel not in self.left:
            day = self.runtime.triggers.day
            used = ledger.units_on(self.session, day=day, channel=channel.value)
            self.left[channel] = max(self.runtime.policy.capacity[channel] - used, 0)
        return self.left[channel]

    def took(self, channel: Channel) -> None:
        if self.left is not None and channel in self.left:
            self.left[channel] -= 1


def _lock(session: Session, names: list[str]) -> None:
    """Hold ``names`` (subscribers' numbers, channels' capacity) for the transaction: one
    transaction at a time judges a subscriber or takes from a channel (PostgreSQL; SQLite
    writes one transaction at a time anyway). Taken in one statement, in one order for
    every worker, so two workers never wait on each other crosswise."""
    if session.get_bind().dialect.name != "postgresql" or not names:
        return
    keys = sorted({_lock_key(n) for n in names})
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"
        ),
        {"keys": keys},
    )


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _status(session: Session, ids: list[str]) -> dict[str, str]:
    query = select(EventInbox.event_id, EventInbox.status).where(EventInbox.event_id.in_(ids))
    return {row.event_id: row.status for row in session.execute(query)}


class _BatchFacts:
    """The ledger facts of a batch's subscribers: read in one go (three queries for the
    batch, not three an event), then kept current as the batch adds contacts. The windows
    are those of every listening campaign — more rows than one campaign needs does no harm:
    each rule looks only as far back as it counts."""

    def __init__(self, session: Session, runtime: Runtime, msisdns: list[str]) -> None:
        specs = [t.spec for found in runtime.triggers.listeners.values() for t in found]
        day, policy = runtime.triggers.day, runtime.policy
        facts = (
            ledger_facts(session, day=day, policy=policy, campaigns=specs, msisdn=msisdns)
            if msisdns
            else LedgerFacts(units=pa.table({}), history=pa.table({}))
        )
        self.schemas = (facts.units.schema, facts.history.schema, facts.opt_outs.schema)
        self.units = _grouped(facts.units)
        self.history = _grouped(facts.history)
        self.opt_outs = _grouped(facts.opt_outs)

    def of(self, msisdn: str) -> LedgerFacts:
        units, history, opt_outs = self.schemas
        return LedgerFacts(
            units=pa.Table.from_pylist(self.units.get(msisdn, []), schema=units),
            history=pa.Table.from_pylist(self.history.get(msisdn, []), schema=history),
            opt_outs=pa.Table.from_pylist(self.opt_outs.get(msisdn, []), schema=opt_outs),
        )

    def add(self, row: dict[str, Any]) -> None:
        """A contact the batch reserved or held back: a unit held, and a row of history."""
        msisdn = str(row["msisdn"])
        if row["state"] == "reserved":
            unit = {name: row.get(name) for name in self.schemas[0].names}
            self.units.setdefault(msisdn, []).append(unit)
        past = {name: row.get(name) for name in self.schemas[1].names}
        self.history.setdefault(msisdn, []).append(past)


def _grouped(table: pa.Table) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        found.setdefault(str(row["msisdn"]), []).append(row)
    return found


def _record(
    session: Session,
    runtime: Runtime,
    decision: Decision,
    now: datetime,
    pending: _Pending,
    capacity: _Capacity,
    known: _BatchFacts,
) -> None:
    winner = decision.winner
    if decision.contacts and winner is not None:
        offer = runtime.offers[winner.offer.id]
        row = ledger_row(decision, category=offer.category, group=offer.exclusion_group)
        pending.contacts.append(row)
        known.add(row | {"at": now})  # the subscriber's next event in the batch sees it
        capacity.took(winner.channels[0])
    event = decision.event
    pending.decisions.append(
        {
            "event_id": event.id,
            "msisdn": event.msisdn,
            "event_type": event.type,
            "event_at": event.at,
            "decided_at": now,
            "outcome": decision.outcome[:48],
            "campaign_id": None if winner is None else winner.campaign.id,
            "offer_id": None if winner is None else winner.offer.id,
            "channel": None if winner is None else winner.channels[0].value,
            "contact_key": decision.contact_key(),
            "explanation": decision.explanation,
        }
    )
    day = runtime.triggers.day
    pending.outcomes += [
        {"event_id": event.id, "day": day, "campaign_id": c, "msisdn": event.msisdn}
        | {"outcome": outcome[:48]}
        for c, outcome in sorted(decision.by_campaign.items())
    ]


def _notices(runtime: Runtime, event: Event, now: datetime) -> list[dict[str, Any]]:
    """The service actions bound to the event's type (R-EVT-1): a notice each, beside any
    marketing contact — service contacts hold no cap unit and do not end the subscriber's
    day. An action whose text names an offer goes only with a triggered campaign's contact
    (its offer's own text says it), and only SMS actions are carried until the app and
    outbound adapters take notices."""
    spec = runtime.library.get(event.type)
    if spec is None or runtime.profile.row(event.msisdn) is None:
        return []
    return [
        {
            "contact_key": "sa-"
            + hashlib.blake2b(f"{event.id}|{action.name}".encode(), digest_size=16).hexdigest(),
            "state": "reserved",
            "day": now.date(),
            "msisdn": event.msisdn,
            "campaign_id": None,
            "kind": SERVICE,
            "offer_id": None,
            "category": None,
            "exclusion_group": None,
            "channel": Channel.SMS.value,
            "detail": action.render(event.params, event.msisdn)[:200],
            "source": f"service {event.type}"[:32],
            "due_at": now,
        }
        for action in spec.service_actions
        if action.enabled and not action.needs_offer and action.channel.value == Channel.SMS.value
    ]


def _watch(runtime: Runtime, event: Event) -> list[dict[str, Any]]:
    """A watch-list entry when the event is one of high usage (R-EVT-4)."""
    if event.type not in WATCHED:
        return []
    figure_param = WATCHED[event.type]
    view = runtime.profile.view(event.msisdn)
    city = view.get("city") if view is not None else None
    county = view.get("county") if view is not None else None
    district = "/".join(str(p) for p in (city, county) if p) or "unknown"
    figure = event.params.get(figure_param) if figure_param else None
    return [
        {
            "msisdn": event.msisdn,
            "reason": event.type,
            "district": district,
            "event_id": event.id,
            "figure": float(figure) if isinstance(figure, int | float) else None,
            "opened_at": event.at,
            "status": "open",
        }
    ]


def _mark_processed(
    session: Session, events: list[Event], status: dict[str, str], now: datetime
) -> None:
    known = [e.id for e in events if e.id in status]
    if known:
        session.execute(
            update(EventInbox)
            .where(EventInbox.event_id.in_(known))
            .values(status=PROCESSED, processed_at=now)
        )
    arrived = [_inbox_row(e, now) for e in events if e.id not in status]
    if arrived:  # came straight from the broker, not through POST /events
        session.execute(insert(EventInbox), arrived)


def _inbox_row(event: Event, now: datetime) -> dict[str, Any]:
    return inbox_row(event) | {"received_at": now, "status": PROCESSED, "processed_at": now}
