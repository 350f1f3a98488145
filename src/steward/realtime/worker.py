"""The event workers: take events from the bus, decide them, commit, then acknowledge.

``Decider`` is a process's decision state (the online profile and the compiled triggers),
shared by its worker threads and rebuilt when the day turns, a campaign changes state or a
newer snapshot lands. ``work`` is one worker's loop over its partitions; ``relay`` hands the
inbox's accepted events to the bus (a transactional outbox: the inbox is the record, the bus
is the delivery, and a redelivery decides nothing twice).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from steward.db import detached, utcnow
from steward.events import metrics
from steward.events.bus import Bus, Delivery
from steward.events.library import Event, EventError, EventLibrary, validate_event
from steward.events.models import EventInbox
from steward.events.service import as_sent
from steward.events.triggers import rederived
from steward.lake.service import Lake
from steward.offers.models import Offer
from steward.policy.config import Policy
from steward.realtime.profile import OnlineProfile
from steward.realtime.service import BatchReport, Refreshing, Runtime, handle, load_triggers
from steward.tags.schemas import TagCatalogue
from steward.tags.service import latest_snapshot

log = logging.getLogger("steward.realtime")
Transaction = Callable[[], AbstractContextManager[Session]]
Clock = Callable[[], datetime]
REFRESH_S = 30.0  # how often a worker looks for changed campaigns or a newer snapshot


class NoSnapshotError(RuntimeError):
    """Nothing to decide on yet: no profile snapshot in the lake."""


class Decider:
    """One process's decision state, shared by its worker threads."""

    def __init__(
        self,
        *,
        transaction: Transaction,
        lake: Lake,
        catalogue: TagCatalogue,
        policy: Policy,
        library: EventLibrary,
        quarantine: Path,
        clock: Clock = utcnow,
    ) -> None:
        self.transaction = transaction
        self.lake = lake
        self.catalogue = catalogue
        self.policy = policy
        self.library = library
        self.quarantine = quarantine
        self.clock = clock
        self._last: Runtime | None = None
        self._runtimes = Refreshing(self._build, every_s=REFRESH_S)

    def runtime(self) -> Runtime:
        """Today's runtime, rebuilt when what it was built from has changed."""
        with self.transaction() as session:
            return self._runtimes.get(session, self.clock().date(), self.lake)

    def current_profile(self) -> OnlineProfile | None:
        """The online profile in use, with what events changed (the inbound path shares it)."""
        return None if self._last is None else self._last.profile

    def _build(self, session: Session, day: date) -> Runtime:
        latest = latest_snapshot(session, self.lake, day)
        if latest is None:
            raise NoSnapshotError("no profile snapshot: run steward tags refresh (or steward demo)")
        as_of, snapshot = latest
        previous = self._last
        if previous is not None and previous.profile.as_of == as_of:
            profile = previous.profile  # keep what events changed since the snapshot
        else:
            table = self.lake.engine.query(f"SELECT * FROM {snapshot}")
            profile = OnlineProfile(table, as_of, rederived(self.catalogue))
        triggers = load_triggers(
            session,
            self.lake,
            self.catalogue,
            self.policy,
            self.library,
            day=day,
            snapshot=snapshot,
        )
        offers = {o.id: detached(o) for o in session.scalars(select(Offer))}
        log.info(
            "decider ready: snapshot %s, %d subscribers, %d triggers",
            as_of,
            len(profile),
            triggers.count(),
        )
        self._last = Runtime(
            profile=profile,
            triggers=triggers,
            policy=self.policy,
            offers=offers,
            library=self.library,
        )
        return self._last

    def handle(self, payloads: Sequence[dict[str, Any]]) -> BatchReport:
        """Check, decide and commit a batch; a malformed event goes to quarantine."""
        events = self._checked(payloads)
        runtime = self.runtime()
        started = time.perf_counter()
        with self.transaction() as session:
            report = handle(session, runtime, events, now=self.clock())
        committed = self.clock()
        metrics.DECISION_SECONDS.observe(time.perf_counter() - started)
        _count(report, events, committed)
        return report

    def _checked(self, payloads: Sequence[dict[str, Any]]) -> list[Event]:
        events: list[Event] = []
        for payload in payloads:
            try:
                events.append(validate_event(self.library, payload))
            except EventError as exc:
                self._quarantine(payload, exc.problems)
        return events

    def _quarantine(self, payload: Any, problems: list[dict[str, str]]) -> None:
        metrics.EVENTS_REJECTED.labels("worker").inc()
        self.quarantine.mkdir(parents=True, exist_ok=True)
        path = self.quarantine / f"events-{self.clock():%Y%m%d}.jsonl"
        line = {"at": self.clock().isoformat(), "event": payload, "problems": problems}
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        log.warning("event quarantined: %s", problems)


def _count(report: BatchReport, events: Sequence[Event], committed: datetime) -> None:
    metrics.EVENTS_DUPLICATE.inc(report.duplicates)
    for outcome, n in report.outcomes.items():
        metrics.DECISIONS.labels(outcome).inc(n)
    for channel, n in report.channels.items():
        metrics.CONTACTS.labels(channel).inc(n)
    for event in events:
        metrics.EVENT_LAG_SECONDS.observe(max((committed - event.at).total_seconds(), 0.0))


def work(
    bus: Bus,
    decider: Decider,
    *,
    consumer: str,
    partitions: Sequence[int],
    stop: threading.Event,
    batch: int = 200,
    block_ms: int = 200,
    reclaim_idle_ms: int = 10_000,
) -> None:
    """One worker's loop: reclaim what a crashed worker left, take, decide, commit, ack."""
    last_reclaim = 0.0
    while not stop.is_set():
        deliveries: list[Delivery] = []
        if time.monotonic() - last_reclaim > reclaim_idle_ms / 1000:
            last_reclaim = time.monotonic()
            deliveries = bus.reclaim(consumer, partitions, idle_ms=reclaim_idle_ms, count=batch)
        if not deliveries:
            deliveries = bus.consume(consumer, partitions, count=batch, block_ms=block_ms)
        if deliveries:
            _decide(decider, [d.payload for d in deliveries])
            bus.ack(deliveries)


RETRIES = 3


def _decide(decider: Decider, payloads: list[dict[str, Any]]) -> None:
    """A batch the database refused for a moment (a deadlock, a lost connection) is tried
    again: nothing of it was committed, and it is not acknowledged until it is."""
    for attempt in range(1, RETRIES + 1):
        try:
            decider.handle(payloads)
            return
        except OperationalError:
            if attempt == RETRIES:
                raise
            log.warning("batch refused by the database (attempt %d); trying again", attempt)
            time.sleep(0.1 * attempt)


def relay(transaction: Transaction, bus: Bus, *, after: int, limit: int = 1_000) -> int:
    """Publish the inbox's accepted events after id ``after``; returns the last id sent."""
    with transaction() as session:
        rows = session.scalars(
            select(EventInbox)
            .where(EventInbox.status == "accepted", EventInbox.id > after)
            .order_by(EventInbox.id)
            .limit(limit)
        ).all()
        payloads = [as_sent(r) for r in rows]
        last = rows[-1].id if rows else after
    if payloads:
        bus.publish(payloads)
    return last


def relay_loop(
    transaction: Transaction, bus: Bus, *, stop: threading.Event, every_s: float = 0.2
) -> None:
    """Relay until ``stop``; starts from the oldest unprocessed event (at least once)."""
    after = 0
    while not stop.is_set():
        sent = relay(transaction, bus, after=after)
        if sent == after:
            with transaction() as session:
                metrics.BACKLOG.set(undecided(session))
            stop.wait(every_s)
        after = sent


def undecided(session: Session) -> int:
    """Accepted events not processed yet: the backlog the workers have to catch up."""
    query = select(func.count()).select_from(EventInbox).where(EventInbox.status == "accepted")
    return int(session.scalar(query) or 0)
