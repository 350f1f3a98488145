"""Worker processes on Redis Streams and PostgreSQL: killed, restarted, racing — and still
every accepted event decided exactly once in effect, no cap exceeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.campaigns import service as campaigns
from steward.campaigns.models import Status
from steward.campaigns.schemas import CampaignCreate
from steward.contacts.models import ContactEvent
from steward.events.bus import RedisStreamsBus
from steward.events.models import EventDecision, EventInbox
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from steward.offers import service as offers
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags_service
from tests.postgres import POSTGRES_URL, unavailable
from tests.redis_server import REDIS_URL, redis_bus
from tests.tags import factories as f

__all__ = ["redis_bus"]
SUBSCRIBERS = 150
EVENTS_EACH = 40
TODAY = datetime.now(UTC).date()


@dataclass
class Home:
    env: dict[str, str]
    engine: Engine
    folder: Path


@pytest.fixture
def home(tmp_path: Path, redis_bus: RedisStreamsBus) -> Iterator[Home]:
    """A PostgreSQL schema and a lake of their own, with three campaigns that listen to
    ``balance_low``, for worker processes to share."""
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        unavailable(exc)
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = db.make_engine(url)
    try:
        db.migrate(engine)
        _world(engine, tmp_path / "lake")
        env = os.environ | {
            "STEWARD_HOME": str(tmp_path),
            "STEWARD_DATABASE_URL": url,
            "STEWARD_BUS_URL": REDIS_URL,
            "STEWARD_BUS_PARTITIONS": str(redis_bus.partitions),
            "STEWARD_BUS_STREAM": redis_bus.prefix,
        }
        yield Home(env, engine, tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _world(engine: Engine, lake_path: Path) -> None:
    catalogue = tags_service.load_catalogue()
    duck = DuckDBEngine(memory_limit="1GB", temp_directory=lake_path.parent / "duck")
    lake = Lake(lake_path, duck)
    with db.transaction(db.session_factory(engine)) as session:
        f.publish(
            session, lake, "product", TODAY - timedelta(days=30), [asdict(p) for p in CATALOGUE]
        )
        rows = [
            f.profile(number(n), payment_type="prepaid", plan_id="PLAN_GT_58")
            for n in range(SUBSCRIBERS)
        ]
        f.publish(session, lake, "profile", TODAY - timedelta(days=2), rows)
        tags_service.refresh(session, lake, catalogue, TODAY - timedelta(days=1))
        offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="t")
        _launch_three(session)
    duck.close()


def _launch_three(session: Session) -> None:
    maker = auth.create_user(
        session,
        username="maker",
        password="a long password",
        role=Role.PLANNER,
        district="province",
        by="t",
    )
    checker = auth.create_user(
        session,
        username="checker",
        password="a long password",
        role=Role.APPROVER,
        district="province",
        by="t",
    )
    by_code = {o.code: o.id for o in offers.list_all(session)}
    for n, code in enumerate(("DP10G", "FAMSHARE", "RETAIN200")):
        campaign_in = CampaignCreate.model_validate(
            {
                "name": f"on low balance {n}",
                "kind": "marketing",
                "offer_ids": [by_code[code]],
                "channels": ["sms", "outbound"],
                "priority": 50 + n,
                "control_share": 0.0,
                "start_date": TODAY,
                "end_date": TODAY + timedelta(days=30),
                "trigger": {"event": "balance_low", "repeat_after_days": 1},
            }
        )
        campaign = campaigns.create(session, campaign_in=campaign_in, by=maker)
        campaigns.move(session, campaign, to=Status.SUBMITTED, by=maker)
        campaigns.move(session, campaign, to=Status.APPROVED, by=checker, comment="ok")
        campaigns.move(session, campaign, to=Status.RUNNING, by=maker)


def _user(session: Session, name: str, role: Role) -> Any:
    return auth.create_user(
        session, username=name, password="a long password", role=role, district="province", by="t"
    )


def number(n: int) -> str:
    return f"1390000{n:04d}"


def stream(count_each: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": f"low-{i}-{n}",
            "type": "balance_low",
            "msisdn": number(n),
            "at": (now - timedelta(seconds=count_each - i)).isoformat(),
            "params": {"balance": 3.0},
        }
        for i in range(count_each)
        for n in range(SUBSCRIBERS)
    ]


def worker(home: Home, name: str, partitions: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "steward.cli", "events", "work", "--name", name]
    args += ["--partitions", partitions, "--reclaim-after-ms", "500"]
    return subprocess.Popen(args, env=home.env, stderr=subprocess.DEVNULL)


def wait_processed(home: Home, expected: int, timeout_s: float = 90.0) -> int:
    deadline = time.monotonic() + timeout_s
    done = 0
    while time.monotonic() < deadline:
        with Session(home.engine) as session:
            done = (
                session.scalar(
                    select(func.count())
                    .select_from(EventInbox)
                    .where(EventInbox.status == "processed")
                )
                or 0
            )
        if done >= expected:
            return done
        time.sleep(0.3)
    return done


def contacts_by_subscriber(home: Home) -> dict[str, int]:
    with Session(home.engine) as session:
        rows = session.execute(
            select(ContactEvent.msisdn, func.count())
            .where(
                ContactEvent.state.in_(["reserved", "held_back"]),
                ContactEvent.kind != "service",
            )
            .group_by(ContactEvent.msisdn)
        ).all()
    return {r[0]: int(r[1]) for r in rows}


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_worker_killed_mid_stream_loses_nothing_and_repeats_nothing(
    home: Home, redis_bus: RedisStreamsBus
) -> None:
    first = worker(home, "a", "0,1")
    second = worker(home, "b", "2,3")
    events = stream(EVENTS_EACH)
    third = None
    try:
        redis_bus.publish(events)
        at_kill = wait_processed(home, len(events) // 20)  # the workers are deciding
        first.send_signal(signal.SIGKILL)
        first.wait()
        third = worker(home, "c", "0,1")  # takes over the dead worker's partitions
        processed = wait_processed(home, len(events))
    finally:
        stop(first, second, *([third] if third is not None else []))
    assert at_kill < len(events)  # killed mid-stream
    assert processed == len(events)
    with Session(home.engine) as session:
        decided = session.scalar(select(func.count()).select_from(EventDecision))
        notices = session.execute(
            select(func.count(), func.count(ContactEvent.contact_key.distinct())).where(
                ContactEvent.kind == "service"
            )
        ).one()
    assert decided == len(events)  # each event decided once: none lost, none twice
    assert tuple(notices) == (len(events), len(events))  # each event's reminder, once
    # one contact a subscriber a day across the three campaigns, however the work was split
    assert contacts_by_subscriber(home) == {number(n): 1 for n in range(SUBSCRIBERS)}


def test_two_workers_on_the_same_subscribers_never_exceed_a_cap(
    home: Home, redis_bus: RedisStreamsBus
) -> None:
    everything = ",".join(str(p) for p in range(redis_bus.partitions))
    racing = [worker(home, "x", everything), worker(home, "y", everything)]
    events = stream(EVENTS_EACH)
    try:
        time.sleep(3.0)
        redis_bus.publish(events)
        processed = wait_processed(home, len(events))
    finally:
        stop(*racing)
    assert processed == len(events)
    assert contacts_by_subscriber(home) == {number(n): 1 for n in range(SUBSCRIBERS)}
