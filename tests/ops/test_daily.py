"""The day's pipeline end to end on a small synthetic province, and the scheduler's loop."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.campaigns import service as campaigns
from steward.campaigns.models import Status
from steward.channels import outbound
from steward.channels.sms import SimulatedSmsCentre
from steward.channels.workorders import WorkOrder
from steward.cli import app
from steward.contacts.models import ContactEvent
from steward.lake.service import Lake
from steward.offers import service as offers
from steward.ops import daily
from steward.ops import service as ops
from steward.ops.models import StepRun
from steward.policy.config import load_policy
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.settings import Settings
from steward.synth.service import generate
from steward.tags import service as tags_service
from tests.campaigns.test_service import campaign_in

DAY = date(2026, 11, 2)  # loads the synthetic delivery, dated 2026-11-01
CST = timezone(timedelta(hours=8))
MORNING = datetime(2026, 11, 2, 10, 0, tzinfo=CST)  # past every channel's quiet hours


@pytest.fixture
def admin(session: Session) -> User:
    return auth.create_user(
        session,
        username="data.admin",
        password="a long password",
        role=Role.DATA_ADMIN,
        district="province",
        by="t",
    )


@pytest.fixture
def drop(session: Session, admin: User, tmp_path: Path) -> Path:
    """A registered drop folder holding one day of a 300-subscriber province."""
    folder = tmp_path / "drop"
    generate(subscribers=300, days=1, seed=1, out=folder)
    ops.register_source(
        session,
        name="synthetic",
        folder=folder,
        pattern="*",
        interface="delivery",
        expected_by=time(5, 0),
        by=admin,
    )
    return folder


@pytest.fixture
def context(session: Session, lake: Lake, tmp_path: Path) -> daily.DailyContext:
    """Every step in a savepoint of the test's session: committed or rolled back alone."""

    @contextmanager
    def savepoint() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    catalogue = tags_service.load_catalogue()
    return daily.DailyContext(
        settings=Settings(home=tmp_path / "home"),
        transaction=savepoint,
        lake=lake,
        catalogue=catalogue,
        policy=load_policy(catalogue),
        sms=SimulatedSmsCentre(failure_share=0.0),
    )


def launch_campaign(session: Session, context: daily.DailyContext) -> int:
    """Offers, a segment of everyone and a running campaign over November (needs the
    product table and a snapshot in the lake: run ingest and tags first)."""
    imported = offers.import_file(
        session, context.lake, context.catalogue, path=offers.SAMPLES, by="t"
    )
    family = next(o for o in imported if o.code == "FAMSHARE")
    family.channel_fit = {"sms": 1, "outbound": 2}  # who opted out of SMS gets a call
    family.sms_zh = "家庭流量共享，每月{price}元，回复Y办理。"
    segment = segments.create(
        session, context.catalogue, by="t", segment_in=SegmentCreate(name="all", rule="TRUE")
    )
    people = {
        role: auth.create_user(
            session,
            username=role.value,
            password="a long password",
            role=role,
            district="province",
            by="t",
        )
        for role in (Role.PLANNER, Role.APPROVER)
    }
    dates = {"start_date": "2026-11-01", "end_date": "2026-11-30"}
    wave = [{"name": "w1", "start": "2026-11-01", "end": "2026-11-30"}]
    campaign = campaigns.create(
        session,
        campaign_in=campaign_in(segment.id, family.id, control_share=0.0, waves=wave, **dates),
        by=people[Role.PLANNER],
    )
    campaigns.move(session, campaign, to=Status.SUBMITTED, by=people[Role.PLANNER])
    campaigns.move(session, campaign, to=Status.APPROVED, by=people[Role.APPROVER], comment="ok")
    campaigns.move(session, campaign, to=Status.RUNNING, by=people[Role.PLANNER])
    outbound.create_team(session, name="province calls", district="province", daily_capacity=500)
    session.flush()
    return campaign.id


def break_a_file(drop: Path) -> Path:
    """A second voice file of the day whose every row is bad: the contract rejects it."""
    broken = drop / "voice_20261101_9.txt"
    broken.write_text("not|a|voice|record\n" * 3, encoding="utf-8")
    return broken


def statuses(runs: list[StepRun]) -> dict[str, str]:
    return {r.step: r.status for r in runs}


def test_one_day_runs_end_to_end_from_the_drop_folder_to_the_report(
    session: Session, context: daily.DailyContext, drop: Path
) -> None:
    first = daily.run_day_pipeline(context, DAY, MORNING, ["ingest", "tags"])
    assert statuses(first) == {"ingest": "succeeded", "tags": "succeeded"}
    ingest = first[0].detail
    assert len(ingest["loaded"]) == len(list(drop.iterdir()))
    assert ingest["arrivals"] == {"synthetic": "arrived"}
    assert first[1].detail["as_of"] == "2026-11-01"
    assert first[1].detail["subscribers"] == 300
    campaign_id = launch_campaign(session, context)

    runs = daily.run_day_pipeline(context, DAY, MORNING)

    assert statuses(runs) == dict.fromkeys([s.value for s in daily.Step], "succeeded")
    assert [r.id for r in runs[:2]] == [r.id for r in first]  # not run again
    by_step = {r.step: r.detail for r in runs}
    assert by_step["segments"]["campaigns"] == [campaign_id]
    assert by_step["segments"]["segments"][0]["members"] == 300
    reserved = by_step["arbitrate"]["reserved"]
    assert reserved > 0
    sms, calls = by_step["dispatch"]["sms"], by_step["dispatch"]["outbound"]
    assert sms["sent"] > 0
    assert sms["sent"] + sms["cancelled"] + calls["queued"] == reserved
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == calls["queued"]
    assert by_step["feedback"]["receipts"] == sms["sent"]
    report = Path(by_step["report"]["file"])
    assert report == context.settings.home / "reports" / "daily-2026-11-02.csv"
    with report.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    # (what was sent counts on the day of the clock, which a test does not set)
    assert sum(int(r["target_users"]) for r in rows) == reserved
    assert ops.alerts(session, now=MORNING) == []


def test_a_rejected_file_fails_ingest_skips_what_needs_it_and_raises_an_alert(
    session: Session, context: daily.DailyContext, drop: Path
) -> None:
    break_a_file(drop)

    runs = daily.run_day_pipeline(context, DAY, MORNING)

    assert statuses(runs) == {
        "ingest": "failed",
        "tags": "skipped",
        "segments": "skipped",
        "arbitrate": "skipped",
        "dispatch": "skipped",
        "feedback": "succeeded",
        "report": "succeeded",
    }
    failed = runs[0]
    assert failed.error is not None
    assert "voice_20261101_9.txt" in failed.error
    assert "nothing was published" in failed.error
    assert context.lake.latest_day(session, "profile", DAY) is None  # the load rolled back
    assert (
        runs[1].detail["reason"].startswith(f"needs ingest, which failed (step run {failed.id}): ")
    )
    assert runs[2].detail["reason"] == f"needs tags, which skipped (step run {runs[1].id})"
    [alert] = ops.alerts(session, now=MORNING)
    assert (alert.step_run_id, alert.subject) == (failed.id, "ingest")


def test_running_the_day_again_redoes_only_what_did_not_succeed(
    session: Session, context: daily.DailyContext, drop: Path
) -> None:
    broken = break_a_file(drop)
    first = {r.step: r for r in daily.run_day_pipeline(context, DAY, MORNING)}
    broken.unlink()

    again = {r.step: r for r in daily.run_day_pipeline(context, DAY, MORNING)}

    assert {s: r.status for s, r in again.items()} == dict.fromkeys(again, "succeeded")
    for step in ("feedback", "report"):
        assert again[step].id == first[step].id
    for step in ("ingest", "tags", "segments", "arbitrate", "dispatch"):
        assert again[step].id > first[step].id
    assert ops.alerts(session, now=MORNING) == []  # the success repaired the failure
    third = daily.run_day_pipeline(context, DAY, MORNING, ["ingest"], force=True)
    assert third[0].id > again["ingest"].id
    assert third[0].detail["loaded"] == []
    assert third[0].detail["already_loaded"] == len(list(drop.iterdir()))


def test_a_file_that_does_not_fit_its_source_fails_ingest_with_the_reason(
    session: Session, admin: User, context: daily.DailyContext, tmp_path: Path
) -> None:
    folder = tmp_path / "boss"
    folder.mkdir()
    (folder / "sms_20261101.txt").write_text("", encoding="utf-8")
    (folder / "voice-20261101.txt").write_text("", encoding="utf-8")
    ops.register_source(
        session,
        name="boss-voice",
        folder=folder,
        pattern="*.txt",
        interface="voice",
        expected_by=time(5, 0),
        by=admin,
    )
    [run] = daily.run_day_pipeline(context, DAY, MORNING, ["ingest"])
    assert run.status == "failed"
    assert run.error is not None
    assert "sms_20261101.txt is a sms file, the source delivers voice" in run.error
    assert "voice-20261101.txt: name must be" in run.error


def test_tags_failing_skips_segments_arbitrate_and_dispatch(
    session: Session, context: daily.DailyContext
) -> None:
    runs = daily.run_day_pipeline(context, DAY, MORNING)  # no source, no profile: no tags
    assert statuses(runs) == {
        "ingest": "succeeded",
        "tags": "failed",
        "segments": "skipped",
        "arbitrate": "skipped",
        "dispatch": "skipped",
        "feedback": "succeeded",
        "report": "succeeded",
    }
    assert "TagError: no profile snapshot" in (runs[1].error or "")
    assert "trace" in runs[1].detail


def test_a_step_run_alone_is_skipped_while_what_it_needs_failed_that_day(
    session: Session, context: daily.DailyContext
) -> None:
    daily.run_day_pipeline(context, DAY, MORNING, ["tags"])
    [run] = daily.run_day_pipeline(context, DAY, MORNING, ["segments"])
    assert run.status == "skipped"
    assert run.detail["reason"].startswith("needs tags, which failed")


def test_an_unknown_step_is_refused_with_the_known_ones(context: daily.DailyContext) -> None:
    with pytest.raises(ValueError, match=r"unknown step\(s\) tag \(steps: ingest, tags"):
        daily.run_day_pipeline(context, DAY, MORNING, ["tag"])


def test_once_runs_the_given_day_now(session: Session, context: daily.DailyContext) -> None:
    seen: list[tuple[date, list[str]]] = []
    daily.scheduler(
        context,
        at=time(6, 0),
        once=True,
        day=DAY,
        only=["report"],
        clock_now=lambda: MORNING + timedelta(days=5),
        on_run=lambda day, runs: seen.append((day, [r.step for r in runs])),
    )
    assert seen == [(DAY, ["report"])]
    assert (context.settings.home / "reports" / "daily-2026-11-02.csv").exists()


def test_the_loop_runs_the_day_at_its_time_and_sends_what_quiet_hours_held(
    session: Session, context: daily.DailyContext, drop: Path
) -> None:
    daily.run_day_pipeline(context, DAY, MORNING, ["ingest", "tags"])
    launch_campaign(session, context)
    clock = {"now": datetime(2026, 11, 2, 7, 0, tzinfo=CST)}  # SMS quiet until 08:00
    seen: list[dict[str, Any]] = []
    stop = threading.Event()

    def on_run(day: date, runs: list[StepRun]) -> None:
        seen.append({"day": day, "at": clock["now"], "runs": {r.step: r for r in runs}})
        if len(seen) == 1:
            clock["now"] = datetime(2026, 11, 2, 8, 0, tzinfo=CST)
        else:
            stop.set()

    daily.scheduler(
        context,
        at=time(6, 30),
        once=False,
        clock_now=lambda: clock["now"],
        stop=stop,
        on_run=on_run,
    )

    held = seen[0]["runs"]["dispatch"].detail["sms"]
    assert held["sent"] == 0
    assert held["waiting"] > 0
    resumed = seen[1]["runs"]
    assert list(resumed) == ["dispatch", "feedback"]
    assert resumed["dispatch"].detail["sms"]["sent"] == held["waiting"]
    sent = select(func.count()).where(ContactEvent.state == "sent", ContactEvent.channel == "sms")
    assert session.scalar(sent) == held["waiting"]


def test_sigterm_lets_the_loop_finish_its_step_and_return(
    session: Session, context: daily.DailyContext
) -> None:
    days: list[date] = []

    def on_run(day: date, runs: list[StepRun]) -> None:
        days.append(day)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    daily.scheduler(
        context,
        at=time(6, 0),
        once=False,
        clock_now=lambda: MORNING,
        on_run=on_run,
    )
    assert days == [DAY]
    assert signal.getsignal(signal.SIGTERM) == previous


def test_the_commands_register_a_source_run_a_day_and_acknowledge_its_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STEWARD_NEW_PASSWORD", "a long password")
    cli = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = cli.invoke(app, [*args, "--json"])
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    run("users", "create", "ops", "--role", "data_admin")
    folder = tmp_path / "boss"
    add = ["sources", "add", "boss-voice", "--folder", str(folder), "--pattern", "voice_*.txt"]
    run(*add, "--interface", "voice", "--expected-by", "00:00", "--user", "ops")
    assert [s["name"] for s in run("sources", "list")] == ["boss-voice"]
    [arrival] = run("sources", "check", code=1)
    assert arrival["status"] == "missing"  # its folder is not there

    day = run("run", "--once", "--day", "2026-11-02", "--only", "tags", code=1)
    [tags] = day["steps"]
    assert (tags["step"], tags["status"]) == ("tags", "failed")
    assert [(a["kind"], a["step_run_id"]) for a in run("alerts")] == [
        ("step", tags["id"]),
        ("source", None),
    ]
    assert run("alerts", "ack", str(tags["id"]), "--user", "ops")["acknowledged_by"] == "ops"
    assert [a["kind"] for a in run("alerts")] == ["source"]
