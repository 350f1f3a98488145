"""Events through Redis Streams with the ledger on PostgreSQL, against the bare Streams round trip.

    uv run python benchmarks/bench_stream.py [--subscribers 100000] [--events 10000]
        [--workers 2] [--partitions 8] [--rate 2000] [--rate-seconds 10] [--batch 1000]
        [--ledger-past 0.25] [--ledger-today 0.05] [--with-outbound]
        [--postgres URL] [--redis URL] [--seed 7] [--json]

Setup (not timed): a PostgreSQL schema of its own (migrated), a temporary lake with a profile
snapshot of ``--subscribers`` (the profile, product and subscription tables written as Arrow
and published as a load would leave them, then ``tags.refresh``), the sample offers and ten
triggered campaigns on balance_low, recharge, data_quota_80, roaming_entry,
contract_expiring and birthday (conditions over event parameters and tags, two with
segments), each made, submitted, approved and started through the approval flow; a ledger
past (``--ledger-past`` of the base contacted one to three times in the last 90 days,
``--ledger-today`` in today's batch plan), then ``ANALYZE`` (the statistics a running database
keeps); Redis streams of their own (``bench:<id>``, ``--partitions``). Everything is dropped
at the end.

The campaigns reach out by SMS and the app only unless ``--with-outbound``: with SMS and
outbound both in play, two workers take the channels' capacity locks
(``pg_advisory_xact_lock`` in ``realtime/service.py``'s ``_room``, held to the commit) in
opposite orders, PostgreSQL at times reports a deadlock, and ``steward events work`` exits on
it (the script then stops with the worker's log).

Steward: ``--workers`` processes ``python -m steward.cli events work`` on that schema, lake and
streams, the partitions dealt round-robin; ready once a warm-up event on every partition is
decided. The producer (this process) publishes valid events (``at`` = the publish moment;
checked by ``validate_event`` on a sample; a fifth of them of types no campaign listens to):

- saturation: ``--events`` as fast as it can, in pipelined batches of ``--batch``. Throughput
  = events / (first publish -> last batch committed);
- fixed rate: ``--rate`` events/s for ``--rate-seconds``, below saturation (latency is judged
  here; at saturation it is the backlog's age). When the saturation throughput is under
  1.25 x ``--rate`` the phase runs at half the saturation throughput instead, and says so.

End-to-end latency = the commit of the worker's transaction - the event's ``at``. The inbox's
``processed_at`` is the moment the worker *began* the batch (it stamps the whole batch with
it), so the commit is taken from a probe: a row trigger on ``event_inbox`` in the benchmark's
schema calls ``pg_notify`` with the batch's ``processed_at`` (PostgreSQL delivers it at
commit, one a batch), and a listener process records when each arrives. ``queue`` =
``processed_at - at`` (waiting for a worker), ``decide+commit`` = commit - ``processed_at``
per batch, and its sum over a worker's batches divided by their events is the worker's
cost an event.

Baseline (same run, same events, same number of processes): the bare Redis Streams round
trip — the events published the same way to other streams and taken by ``--workers``
processes that only XREADGROUP (``RedisStreamsBus.consume``, 500 at a time like the worker)
and XACK, nothing else; latency = the ack - ``at``. The ratio ours/raw is the cost of deciding
and committing. Nothing is asserted: the script prints figures and ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from report import print_result
from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.campaigns import service as campaigns
from steward.campaigns.models import Status
from steward.campaigns.schemas import CampaignCreate
from steward.contacts import service as ledger
from steward.events.bus import RedisStreamsBus, partition_of
from steward.events.library import load_library, validate_event
from steward.ingest.schemas import INTERFACES, FieldType
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake, StagedPartition
from steward.offers import service as offers
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from steward.synth.writer import ARROW_TYPES
from steward.tags import service as tags_service

TARGET_EVENTS_S = 10_000  # the target, this machine
TARGET_P99_MS = 20.0
CONSUME_COUNT = 500  # what the worker's loop takes at a time (realtime.worker.work)
CITIES = ["lanzhou", "tianshui", "baiyin", "dingxi", "longnan", "qingyang", "wuwei", "jiuquan"]
PLANS = [p.product_id for p in CATALOGUE if p.kind == "plan"]
ARROW = ARROW_TYPES | {FieldType.TIMESTAMP: pa.timestamp("us")}


@dataclass(frozen=True)
class Triggered:
    name: str
    kind: str
    offer: str
    channels: tuple[str, ...]
    priority: int
    event: str
    condition: str
    segment: str = ""  # a rule segment: members; none = every subscriber
    repeat_after_days: int = 30
    window: tuple[str, str] | None = None


CAMPAIGNS = (
    Triggered("low balance reminder", "care", "LOWBAL", ("sms",), 95, "balance_low",
              "event_balance < 10", repeat_after_days=7),
    Triggered("low balance retention", "marketing", "RETAIN200", ("outbound", "sms"), 60,
              "balance_low", "event_balance < 20 AND tenure_months >= 24"),
    Triggered("big recharge family", "marketing", "FAMSHARE", ("sms",), 55, "recharge",
              "event_amount >= 50 AND age < 50",
              segment="city IN ('lanzhou', 'tianshui', 'baiyin', 'dingxi')"),
    Triggered("recharge loyalty", "marketing", "RETAIN200", ("sms",), 50, "recharge",
              "event_amount >= 100 AND tenure_months >= 12"),
    Triggered("data quota family", "marketing", "FAMSHARE", ("app", "sms"), 65, "data_quota_80",
              "event_used_mb >= 4000 AND brand <> 'easyown'"),
    Triggered("data quota pack", "marketing", "DP10G", ("sms",), 70, "data_quota_80",
              "event_quota_mb <= 10240"),
    Triggered("roaming welcome", "marketing", "FAMSHARE", ("sms",), 45, "roaming_entry",
              "event_province IN ('sichuan', 'beijing') OR is_5g_handset",
              window=("08:00", "21:00")),
    Triggered("contract ending", "marketing", "RETAIN200", ("outbound", "sms"), 75,
              "contract_expiring", "event_days_left <= 30 AND tenure_months >= 12",
              segment="payment_type = 'postpaid' OR vip_level = 'none'"),
    Triggered("contract ending handset", "marketing", "HS5G24", ("outbound",), 40,
              "contract_expiring", "event_days_left <= 60"),
    Triggered("birthday care", "care", "BIRTHDAY", ("sms",), 90, "birthday", ""),
)  # fmt: skip

# Event types by share; web_login and call_10086 have no listener (the worker still records
# them in the inbox).
MIX = {
    "balance_low": 0.25,
    "recharge": 0.25,
    "data_quota_80": 0.12,
    "roaming_entry": 0.10,
    "contract_expiring": 0.05,
    "birthday": 0.03,
    "web_login": 0.10,
    "call_10086": 0.10,
}


# --- the world ----------------------------------------------------------------------------


def msisdn_of(i: int) -> str:
    return f"139{i:08d}"


def profile_table(n: int, seed: int, day: date) -> pa.Table:
    """The profile interface, one row a subscriber, built column by column."""
    g = np.random.default_rng(seed)

    def pick(values: Sequence[Any], p: Sequence[float] | None = None) -> np.ndarray:
        return np.asarray(values, dtype=object)[g.choice(len(values), n, p=p)]

    def days_before(low: int, high: int) -> np.ndarray:
        return np.datetime64(day, "D") - g.integers(low, high, n).astype("timedelta64[D]")

    contract = pick(["none", "monthly", "one_year", "two_year"], [0.5, 0.2, 0.15, 0.15])
    contract_end = np.datetime64(day, "D") + g.integers(-30, 700, n).astype("timedelta64[D]")
    columns: dict[str, Any] = {
        "msisdn": [msisdn_of(i) for i in range(n)],
        "customer_id": [f"C{i}" for i in range(n)],
        "gender": pick(["M", "F"]),
        "birth_date": days_before(18 * 365, 80 * 365),
        "city": pick(CITIES),
        "county": pick(["c1", "c2", "c3", "c4"]),
        "brand": pick(["gotone", "mzone", "easyown"], [0.3, 0.35, 0.35]),
        "vip_level": pick(["none", "silver", "gold", "diamond"], [0.92, 0.05, 0.02, 0.01]),
        "plan_id": pick(PLANS),
        "payment_type": pick(["prepaid", "postpaid"], [0.7, 0.3]),
        "activation_date": days_before(30, 20 * 365),
        "status": pick(["active", "suspended"], [0.97, 0.03]),
        "customer_type": pick(
            ["personal", "corporate_group", "staff", "government", "unit_account"],
            [0.95, 0.02, 0.01, 0.01, 0.01],
        ),
        "is_foreigner": g.random(n) < 0.002,
        "is_blacklisted": g.random(n) < 0.002,
        "is_data_card": g.random(n) < 0.01,
        "optout_sms": g.random(n) < 0.01,
        "optout_outbound": g.random(n) < 0.02,
        "optout_app": g.random(n) < 0.005,
        "id_region": pick(CITIES),
        "handset_model": pick(["Mate 60", "iPhone 15", "Mi 14", "Reno 11", "Y35"]),
        "handset_network": pick(["4g", "5g"], [0.45, 0.55]),
        "handset_since": days_before(0, 5 * 365),
        "contract_type": contract,
        "contract_end": np.where(contract == "none", np.datetime64("NaT"), contract_end),
        "monthly_fee": np.round(g.choice([18.0, 38.0, 58.0, 88.0, 128.0, 188.0], n), 2),
        "payment_method": pick(["cash", "bank", "wechat", "alipay"]),
    }
    fields = INTERFACES["profile"].fields
    return pa.table({f.name: pa.array(columns[f.name], ARROW[f.type]) for f in fields})


def product_table() -> pa.Table:
    fields = INTERFACES["product"].fields
    rows = [asdict(p) for p in CATALOGUE]
    return pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in fields} for r in rows],
        pa.schema([(f.name, ARROW[f.type]) for f in fields]),
    )


def publish(session: Session, lake: Lake, table: str, day: date, data: pa.Table) -> None:
    """Into the lake as a load leaves a table (what the tests' factories do)."""
    path = lake.stage_path(table, day, "0", f"bench-{table}-{day}")
    pq.write_table(data, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lake.publish(session, [StagedPartition(table, day, "0", path, data.num_rows, digest)], "bench")


def build_world(
    engine: Engine,
    folder: Path,
    subscribers: int,
    seed: int,
    today: date,
    *,
    outbound: bool,
    past: float,
    planned: float,
) -> int:
    catalogue = tags_service.load_catalogue()
    duck = DuckDBEngine(memory_limit="2GB", temp_directory=folder / "duck")
    lake = Lake(folder / "lake", duck)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            publish(session, lake, "product", today - timedelta(days=30), product_table())
            profile = profile_table(subscribers, seed, today - timedelta(days=2))
            publish(session, lake, "profile", today - timedelta(days=2), profile)
            publish(session, lake, "subscription", today - timedelta(days=2), subs_of(profile))
            tags_service.refresh(session, lake, catalogue, today - timedelta(days=1))
            offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="bench")
            launch(session, catalogue, today, outbound=outbound)
            by_code = {o.code: o for o in offers.list_all(session)}
            rows = ledger_past(subscribers, seed, today, by_code, past=past, planned=planned)
            ledger.append(session, rows)
    finally:
        duck.close()
    with engine.connect() as connection:  # the statistics a running database keeps
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return len(rows)


def ledger_past(
    subscribers: int,
    seed: int,
    today: date,
    by_code: dict[str, Any],
    *,
    past: float,
    planned: float,
) -> list[dict[str, Any]]:
    """A ledger as a running province has one: ``past`` of the base contacted once to three
    times in the last 90 days by batch campaigns (reserved, sent, then delivered, failed or
    answered), and ``planned`` of it in today's batch plan (reserved on SMS today)."""
    rng = random.Random(seed + 3)
    codes = ["DP10G", "FAMSHARE", "HS5G24", "RETAIN200"]
    rows: list[dict[str, Any]] = []

    def contact(i: int, day: date, n: int, states: list[str]) -> None:
        offer = by_code[rng.choice(codes)]
        key = f"{day:%Y%m%d}-b{n}-{msisdn_of(i)}"
        channel = rng.choice(["sms", "sms", "sms", "outbound"])
        arm = "control" if rng.random() < 0.1 else "target"
        for state in states if arm == "target" else ["held_back"]:
            rows.append(
                {
                    "contact_key": key,
                    "state": state,
                    "day": day,
                    "msisdn": msisdn_of(i),
                    "campaign_id": 100 + n,
                    "kind": "marketing",
                    "offer_id": offer.id,
                    "category": offer.category,
                    "exclusion_group": offer.exclusion_group,
                    "channel": channel,
                    "arm": arm,
                    "source": "bench past",
                }
            )

    for i in range(subscribers):
        if rng.random() < past:
            for n in range(rng.randint(1, 3)):
                ending = rng.choices(["delivered", "failed", "answered"], [0.8, 0.05, 0.15])[0]
                states = ["reserved", "sent", ending]
                contact(i, today - timedelta(days=rng.randint(1, 90)), n, states)
        if rng.random() < planned:
            contact(i, today, 9, ["reserved"])
    return rows


def subs_of(profile: pa.Table) -> pa.Table:
    n = profile.num_rows
    fields = INTERFACES["subscription"].fields
    columns = {
        "msisdn": profile["msisdn"],
        "product_id": profile["plan_id"],
        "start_date": pa.array([date(2024, 1, 1)] * n, pa.date32()),
        "end_date": pa.nulls(n, pa.date32()),
        "status": pa.array(["active"] * n),
    }
    return pa.table({f.name: columns[f.name] for f in fields}).cast(
        pa.schema([(f.name, ARROW[f.type]) for f in fields])
    )


def launch(session: Session, catalogue: Any, today: date, *, outbound: bool) -> None:
    """The campaigns, through the approval flow: made, submitted, approved, started; without
    ``outbound`` their outbound channel is left out (SMS instead)."""

    def user(name: str, role: Role) -> Any:
        return auth.create_user(
            session,
            username=name,
            password="a long password",
            role=role,
            district="province",
            by="bench",
        )

    maker, checker = user("maker", Role.PLANNER), user("checker", Role.APPROVER)
    by_code = {o.code: o.id for o in offers.list_all(session)}
    for spec in CAMPAIGNS:
        segment_ids = []
        if spec.segment:
            segment_in = SegmentCreate(name=spec.name, rule=spec.segment)
            segment_ids.append(
                segments.create(session, catalogue, segment_in=segment_in, by="maker").id
            )
        trigger: dict[str, Any] = {
            "event": spec.event,
            "condition": spec.condition,
            "repeat_after_days": spec.repeat_after_days,
        }
        if spec.window is not None:
            trigger |= {"window_start": spec.window[0], "window_end": spec.window[1]}
        campaign_in = CampaignCreate.model_validate(
            {
                "name": spec.name,
                "kind": spec.kind,
                "segment_ids": segment_ids,
                "offer_ids": [by_code[spec.offer]],
                "channels": [c for c in spec.channels if outbound or c != "outbound"] or ["sms"],
                "priority": spec.priority,
                "control_share": 0.1,
                "start_date": today,
                "end_date": today + timedelta(days=30),
                "trigger": trigger,
            }
        )
        campaign = campaigns.create(session, campaign_in=campaign_in, by=maker)
        campaigns.move(session, campaign, to=Status.SUBMITTED, by=maker)
        campaigns.move(session, campaign, to=Status.APPROVED, by=checker, comment="bench")
        campaigns.move(session, campaign, to=Status.RUNNING, by=maker)


# --- the events ---------------------------------------------------------------------------

ParamMaker = Callable[[random.Random, date], dict[str, Any]]
PARAMS: dict[str, ParamMaker] = {
    "balance_low": lambda r, d: {"balance": round(r.uniform(-5, 30), 2), "threshold": 10.0},
    "recharge": lambda r, d: {
        "amount": float(r.choice([10, 20, 30, 50, 50, 100, 200])),
        "balance_after": round(r.uniform(0, 300), 2),
        "channel": r.choice(["app", "wechat", "hall", "card"]),
    },
    "data_quota_80": lambda r, d: (
        lambda quota: {
            "used_mb": round(quota * r.uniform(0.8, 0.95), 1),
            "quota_mb": quota,
            "package_name": r.choice(["5g-30gb", "day-pass", "campus-20gb"]),
        }
    )(float(r.choice([5120, 10240, 20480, 40960]))),
    "roaming_entry": lambda r, d: {
        "province": r.choice(["sichuan", "shaanxi", "qinghai", "beijing"]),
        "city": r.choice(["chengdu", "xian", "xining", "beijing"]),
        "cell_id": f"{r.randrange(16**6):06X}",
    },
    "contract_expiring": lambda r, d: (
        lambda left: {
            "contract_id": f"K{r.randrange(10**8)}",
            "expires_on": (d + timedelta(days=left)).isoformat(),
            "days_left": left,
        }
    )(r.randint(0, 90)),
    "birthday": lambda r, d: (
        lambda age: {"birth_date": date(d.year - age, d.month, 1).isoformat(), "age": age}
    )(r.randint(18, 80)),
    "web_login": lambda r, d: {
        "channel_name": r.choice(["web", "app"]),
        "pages": r.sample(["home", "bill", "plans", "packs", "points"], 2),
    },
    "call_10086": lambda r, d: {
        "duration_seconds": r.randint(10, 900),
        "reason": r.choice(["bill", "data", "network", "plan"]),
        "transferred_to_agent": r.random() < 0.3,
    },
}


def make_events(tag: str, n: int, subscribers: int, seed: int, today: date) -> list[dict[str, Any]]:
    """Payloads without ``at`` (set when published), ids unique in the run."""
    rng = random.Random(seed)
    types = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    return [
        {
            "id": f"{tag}-{i}",
            "type": kind,
            "msisdn": msisdn_of(rng.randrange(subscribers)),
            "params": PARAMS[kind](rng, today),
        }
        for i, kind in enumerate(types)
    ]


def check_sample(events: Sequence[dict[str, Any]], count: int = 2_000) -> int:
    library = load_library()
    at = datetime.now(UTC).isoformat()
    for event in events[:count]:
        validate_event(library, event | {"at": at})  # raises on any problem
    return min(count, len(events))


def publish_burst(bus: RedisStreamsBus, events: list[dict[str, Any]], batch: int) -> float:
    """As fast as possible, pipelined; returns the wall moment of the first publish."""
    first = time.time()
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        at = datetime.now(UTC).isoformat()
        for event in chunk:
            event["at"] = at
        bus.publish(chunk)
    return first


def publish_paced(bus: RedisStreamsBus, events: list[dict[str, Any]], rate: float) -> float:
    """At ``rate`` events/s: every millisecond or so, what is due, stamped as it is sent."""
    first = time.time()
    started = time.perf_counter()
    sent = 0
    while sent < len(events):
        due = min(len(events), int((time.perf_counter() - started) * rate) + 1)
        if due <= sent:
            time.sleep(0.0005)
            continue
        chunk = events[sent:due]
        at = datetime.now(UTC).isoformat()
        for event in chunk:
            event["at"] = at
        bus.publish(chunk)
        sent = due
    return first


def drained(bus: RedisStreamsBus, timeout_s: float, alive: Callable[[], None]) -> float:
    """Wait until the group has taken and acknowledged everything; returns the wait."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if bus.lag() == 0 and bus.pending() == 0:
            return time.perf_counter() - started
        alive()
        time.sleep(0.05)
    raise TimeoutError(f"the consumers did not drain the streams in {timeout_s:.0f} s")


# --- the processes ------------------------------------------------------------------------


def raw_consumer(
    url: str, prefix: str, partitions: int, name: str, mine: list[int], stop: Any, out: Any
) -> None:
    """The baseline: XREADGROUP and XACK, nothing else; (ack moment, ids) a batch."""
    bus = RedisStreamsBus(url, prefix=prefix, partitions=partitions)
    log: list[tuple[float, list[str]]] = []
    while True:
        deliveries = bus.consume(name, mine, count=CONSUME_COUNT, block_ms=200)
        if deliveries:
            bus.ack(deliveries)
            log.append((time.time(), [d.payload["id"] for d in deliveries]))
        elif stop.is_set():
            break
    out.put(log)


def listener(conninfo: str, channel: str, ready: Any, stop: Any, out: Any) -> None:
    """The commit probe: when each batch's notification arrives (sent at its commit)."""
    import psycopg

    got: list[tuple[float, str]] = []
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'LISTEN "{channel}"')
        ready.set()
        while not stop.is_set():
            for note in connection.notifies(timeout=0.2):
                got.append((time.time(), note.payload))
    out.put(got)


PROBE = """
CREATE FUNCTION bench_committed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{channel}', extract(epoch FROM NEW.processed_at)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER bench_committed AFTER INSERT OR UPDATE OF processed_at ON event_inbox
  FOR EACH ROW WHEN (NEW.processed_at IS NOT NULL) EXECUTE FUNCTION bench_committed();
"""


def split(partitions: int, workers: int) -> list[list[int]]:
    """Partitions dealt round-robin (as ``steward run`` deals them to its threads)."""
    workers = max(1, min(workers, partitions))
    return [list(range(n, partitions, workers)) for n in range(workers)]


@dataclass
class Workers:
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def check(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker exited ({process.returncode}):\n{tail}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def start_workers(
    workers: Workers, env: dict[str, str], folder: Path, deal: list[list[int]]
) -> None:
    for n, mine in enumerate(deal):
        log = folder / f"worker-{n}.log"
        args = [sys.executable, "-m", "steward.cli", "events", "work", "--name", f"w{n}"]
        args += ["--partitions", ",".join(map(str, mine))]
        workers.processes.append(
            subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        )
        workers.logs.append(log)


def warm_up(bus: RedisStreamsBus, subscribers: int, tag: str) -> list[dict[str, Any]]:
    """One balance_low event a partition, so every worker has decided once."""
    found: dict[int, str] = {}
    i = 0
    while len(found) < bus.partitions and i < subscribers:
        found.setdefault(partition_of(msisdn_of(i), bus.partitions), msisdn_of(i))
        i += 1
    at = datetime.now(UTC).isoformat()
    events = [
        {"id": f"{tag}-{p}", "type": "balance_low", "msisdn": m, "at": at}
        | {"params": {"balance": 50.0}}
        for p, m in sorted(found.items())
    ]
    bus.publish(events)
    return events


# --- figures ------------------------------------------------------------------------------


STARTED = time.perf_counter()


def note(what: str) -> None:
    """Progress on stderr (stdout is the result)."""
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {what}", file=sys.stderr, flush=True)


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    if not ms:
        return {}
    values = np.asarray(ms)
    q = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(q[0]), 1),
        "p95": round(float(q[1]), 1),
        "p99": round(float(q[2]), 1),
        "max": round(float(values.max()), 1),
    }


def epoch(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


Sender = Callable[[RedisStreamsBus, list[dict[str, Any]]], float]


@dataclass
class Phase:
    events: list[dict[str, Any]]
    first: float  # wall moment of the first publish
    published_s: float  # how long publishing took


def raw_figures(phase: Phase, log: list[tuple[float, list[str]]]) -> dict[str, Any]:
    at = {e["id"]: epoch(e["at"]) for e in phase.events}
    latency, last = [], 0.0
    for acked, ids in log:
        for i in ids:
            if i in at:
                latency.append((acked - at[i]) * 1000)
                last = max(last, acked)
    return {
        "done": len(latency),
        "events_s": round(len(latency) / (last - phase.first)) if latency else 0,
        "latency_ms": percentiles(latency),
    }


def steward_figures(
    phase: Phase,
    rows: dict[str, tuple[float, str]],
    commits: dict[str, float],
    partitions: int,
    deal: list[list[int]],
) -> dict[str, Any]:
    """From the inbox rows (id -> (at, processed_at as text)) and the probe's commits."""
    owner = {p: n for n, mine in enumerate(deal) for p in mine}
    latency, queue, last, missing = [], [], 0.0, 0
    batches: dict[str, tuple[int, int]] = {}  # processed_at -> (worker, events)
    for event in phase.events:
        if event["id"] not in rows:
            missing += 1
            continue
        at_s, stamped = rows[event["id"]]
        committed = commits.get(stamped)
        queue.append((float(stamped) - at_s) * 1000)
        if committed is None:
            missing += 1
            continue
        latency.append((committed - at_s) * 1000)
        last = max(last, committed)
        worker = owner[partition_of(event["msisdn"], partitions)]
        batches[stamped] = (worker, batches.get(stamped, (worker, 0))[1] + 1)
    busy = Counter[int]()
    done = Counter[int]()
    spans = []
    for stamped, (worker, n) in batches.items():
        span = commits[stamped] - float(stamped)
        busy[worker] += span
        done[worker] += n
        spans.append(span * 1000)
    per_event = [busy[w] / done[w] * 1000 for w in sorted(done)]
    return {
        "done": len(phase.events) - missing,
        "events_s": round(len(latency) / (last - phase.first)) if latency else 0,
        "latency_ms": percentiles(latency),
        "queue_ms": percentiles(queue),
        "batches": len(batches),
        "mean_batch": round(len(latency) / max(len(batches), 1), 1),
        "decide_commit_ms_per_batch": percentiles(spans),
        "worker_ms_per_event": [round(x, 3) for x in per_event],
        "no_commit_seen": missing,
    }


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--rate", type=float, default=2_000.0)
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--ledger-past", type=float, default=0.25, help="share of the base")
    parser.add_argument("--ledger-today", type=float, default=0.05, help="share of the base")
    parser.add_argument("--batch", type=int, default=1_000, help="events a publish pipeline")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--with-outbound",
        action="store_true",
        help="give three campaigns the outbound channel too (see the module's note)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:12]
    schema, prefix = f"bench_{run_id}", f"bench:{run_id}"
    folder = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    admin = db.make_engine(args.postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.postgres}?options=-csearch_path%3D{schema}"
    engine = db.make_engine(url)
    ours = RedisStreamsBus(args.redis, prefix=prefix, partitions=args.partitions)
    raw = RedisStreamsBus(args.redis, prefix=f"{prefix}:raw", partitions=args.partitions)
    spawn = mp.get_context("spawn")
    workers = Workers()
    children: list[Any] = []  # the listener and the baseline's consumers
    try:
        result = run(args, schema, url, engine, folder, ours, raw, spawn, workers, children)
    finally:
        workers.stop()
        for child in children:
            child.join(5)
            if child.is_alive():
                child.terminate()
        ours.drop()
        raw.drop()
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    print_result(result, as_json=args.json)


def run(
    args: argparse.Namespace,
    schema: str,
    url: str,
    engine: Engine,
    folder: Path,
    ours: RedisStreamsBus,
    raw: RedisStreamsBus,
    spawn: Any,
    workers: Workers,
    children: list[Any],
) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    deal = split(args.partitions, args.workers)
    started = time.perf_counter()
    db.migrate(engine)
    seeded = build_world(
        engine,
        folder,
        args.subscribers,
        args.seed,
        today,
        outbound=args.with_outbound,
        past=args.ledger_past,
        planned=args.ledger_today,
    )
    note("world built")
    channel = f"bench_{schema}"
    with engine.begin() as connection:
        connection.exec_driver_sql(PROBE.format(channel=channel))
    saturation = make_events("s", args.events, args.subscribers, args.seed + 1, today)
    checked = check_sample(saturation)
    setup_s = time.perf_counter() - started

    def baseline(tag: str, events: list[dict[str, Any]], send: Sender) -> dict[str, Any]:
        """The bare consumers on streams of their own, over copies of ``events``."""
        copies = [dict(e, id=f"{tag}-{e['id']}") for e in events]
        stop, results = spawn.Event(), spawn.Queue()
        consumers = [
            spawn.Process(
                target=raw_consumer,
                args=(args.redis, raw.prefix, args.partitions, f"{tag}{n}", mine, stop, results),
            )
            for n, mine in enumerate(deal)
        ]
        children.extend(consumers)
        for consumer in consumers:
            consumer.start()

        def alive() -> None:
            if any(c.exitcode is not None for c in consumers):
                raise RuntimeError("a baseline consumer died")

        warm_up(raw, args.subscribers, f"{tag}-warm")
        drained(raw, 60, alive)
        first = send(raw, copies)
        phase = Phase(copies, first, time.time() - first)
        drained(raw, 120, alive)
        stop.set()  # the consumers end their current read, then report
        logs = [entry for _ in consumers for entry in results.get(timeout=30)]
        for consumer in consumers:
            consumer.join(10)
        return raw_figures(phase, logs)

    def burst(bus: RedisStreamsBus, events: list[dict[str, Any]]) -> float:
        return publish_burst(bus, events, args.batch)

    raw_saturation = baseline("raws", saturation, burst)
    note("baseline at saturation done")

    # Steward
    env = os.environ | {
        "STEWARD_HOME": str(folder),
        "STEWARD_LAKE_PATH": str(folder / "lake"),
        "STEWARD_DATABASE_URL": url,
        "STEWARD_BUS_URL": args.redis,
        "STEWARD_BUS_PARTITIONS": str(args.partitions),
        "STEWARD_BUS_STREAM": ours.prefix,
    }
    ready, notes, stop_listening = spawn.Event(), spawn.Queue(), spawn.Event()
    conninfo = args.postgres.replace("postgresql+psycopg://", "postgresql://")
    probe = spawn.Process(target=listener, args=(conninfo, channel, ready, stop_listening, notes))
    children.append(probe)
    probe.start()
    if not ready.wait(30):
        raise RuntimeError("the commit probe did not start listening")
    boot = time.perf_counter()
    start_workers(workers, env, folder, deal)
    warm_up(ours, args.subscribers, "warm")
    drained(ours, 180, workers.check)
    boot_s = time.perf_counter() - boot
    note("Steward workers ready")

    first = publish_burst(ours, saturation, args.batch)
    sat_phase = Phase(saturation, first, time.time() - first)
    drained(ours, 3600, workers.check)
    provisional = len(saturation) / (time.time() - sat_phase.first)
    note(f"Steward at saturation done: about {provisional:.0f} events/s")

    # a fixed rate below saturation, for as long as asked
    rate = args.rate if provisional >= 1.25 * args.rate else max(1, round(provisional / 2))
    count = max(1, round(rate * args.rate_seconds))
    paced = make_events("r", count, args.subscribers, args.seed + 2, today)
    checked += check_sample(paced)

    def steady(bus: RedisStreamsBus, events: list[dict[str, Any]]) -> float:
        return publish_paced(bus, events, rate)

    first = steady(ours, paced)
    paced_phase = Phase(paced, first, time.time() - first)
    drained(ours, 3600, workers.check)
    note(f"Steward at {rate:g} events/s done")
    raw_rate = baseline("rawr", paced, steady)  # the Steward workers idle meanwhile
    note(f"baseline at {rate:g} events/s done")

    time.sleep(0.5)  # the last notifications
    stop_listening.set()
    commits = {payload: moment for moment, payload in notes.get(timeout=30)}

    with engine.connect() as connection:
        rows = {
            r[0]: (float(r[1]), r[2])
            for r in connection.execute(
                text(
                    "SELECT event_id, extract(epoch FROM at), "
                    "extract(epoch FROM processed_at)::text FROM event_inbox "
                    "WHERE status = 'processed'"
                )
            )
        }
        outcomes = dict(
            connection.execute(
                text(
                    "SELECT outcome, count(*) FROM event_decision "
                    "WHERE event_id NOT LIKE 'warm-%' GROUP BY outcome ORDER BY 2 DESC"
                )
            ).all()
        )
        contacts: dict[str, dict[str, int]] = {}
        for source, state, n in connection.execute(
            text(
                "SELECT split_part(source, ' ', 1), state, count(*) FROM contact_event "
                "WHERE source <> 'bench past' GROUP BY 1, 2 ORDER BY 3 DESC"
            )
        ):
            contacts.setdefault(source, {})[state] = n  # event: campaigns'; service: notices
    sat = steward_figures(sat_phase, rows, commits, args.partitions, deal)
    at_rate = steward_figures(paced_phase, rows, commits, args.partitions, deal)
    decided = sum(outcomes.values())
    everything = len(saturation) + len(paced)
    return {
        "subscribers": args.subscribers,
        "campaigns": len(CAMPAIGNS),
        "events": len(saturation),
        "workers": args.workers,
        "partitions": args.partitions,
        "ledger_rows_before": seeded,
        "setup_s (untimed)": round(setup_s, 1),
        "workers_ready_s (untimed)": round(boot_s, 1),
        "events_checked_by_validate_event": checked,
        "saturation_publish_events_s": round(len(saturation) / sat_phase.published_s),
        "steward_events_s": sat["events_s"],
        "raw_events_s": raw_saturation["events_s"],
        "ratio_steward_to_raw": round(sat["events_s"] / max(raw_saturation["events_s"], 1), 4),
        "target_events_s": TARGET_EVENTS_S,
        "ratio_steward_to_target": round(sat["events_s"] / TARGET_EVENTS_S, 3),
        "steward_latency_ms_at_saturation": sat["latency_ms"],
        "raw_latency_ms_at_saturation": raw_saturation["latency_ms"],
        "steward_queue_ms_at_saturation": sat["queue_ms"],
        "batches_at_saturation": f"{sat['batches']} (mean {sat['mean_batch']} events)",
        "decide_commit_ms_per_batch_at_saturation": sat["decide_commit_ms_per_batch"],
        "worker_ms_per_event_at_saturation": sat["worker_ms_per_event"],
        "fixed_rate_events_s": rate,
        "fixed_rate_events": len(paced),
        "fixed_rate_note": (
            "as asked"
            if rate == args.rate
            else f"--rate {args.rate:g} is above 0.8 x the saturation throughput "
            f"({provisional:.0f}/s): run at half of it"
        ),
        "steward_latency_ms_at_rate": at_rate["latency_ms"],
        "raw_latency_ms_at_rate": raw_rate["latency_ms"],
        "ratio_p99_steward_to_raw_at_rate": round(
            at_rate["latency_ms"].get("p99", 0) / max(raw_rate["latency_ms"].get("p99", 1), 1e-9),
            1,
        ),
        "target_p99_ms": TARGET_P99_MS,
        "ratio_p99_to_target_at_rate": round(
            at_rate["latency_ms"].get("p99", 0) / TARGET_P99_MS, 2
        ),
        "steward_queue_ms_at_rate": at_rate["queue_ms"],
        "decide_commit_ms_per_batch_at_rate": at_rate["decide_commit_ms_per_batch"],
        "batches_at_rate": f"{at_rate['batches']} (mean {at_rate['mean_batch']} events)",
        "processed": f"{sat['done'] + at_rate['done']}/{everything}",
        "no_commit_seen": sat["no_commit_seen"] + at_rate["no_commit_seen"],
        "decisions": decided,
        "no_listener": everything - decided,
        "outcomes": outcomes,
        "contacts_written": contacts,
        "probe": "a row trigger on event_inbox notifies each batch's commit (in the worker's "
        "transaction: one pg_notify a row, one delivered a batch)",
    }


if __name__ == "__main__":
    main()
