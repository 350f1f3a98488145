"""Data sources, their arrivals, the record of step runs and the alerts it raises."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import AuditEntry, Role, User
from steward.ops import service as ops
from steward.ops.models import DataSource, StepRun, StepStatus

DAY = date(2026, 11, 2)  # the business day: it loads the files dated 2026-11-01
CST = timezone(timedelta(hours=8))


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CST)


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


def add_source(
    session: Session,
    admin: User,
    folder: Path,
    *,
    name: str = "boss-voice",
    pattern: str = "voice_*.txt",
    interface: str = "voice",
    expected_by: time = time(5, 0),
) -> DataSource:
    return ops.register_source(
        session,
        name=name,
        folder=folder,
        pattern=pattern,
        interface=interface,
        expected_by=expected_by,
        by=admin,
    )


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("", encoding="utf-8")


def test_a_source_is_registered_with_its_folder_and_due_time_and_audited(
    session: Session, admin: User, tmp_path: Path
) -> None:
    add_source(session, admin, tmp_path / "voice")
    [source] = ops.sources(session)
    assert (source.name, source.interface, source.pattern) == ("boss-voice", "voice", "voice_*.txt")
    assert (source.folder, source.expected_by, source.active) == (
        str(tmp_path / "voice"),
        time(5, 0),
        True,
    )
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "data_source.create"))
    assert entry is not None
    assert (entry.actor, entry.entity_id) == ("data.admin", "boss-voice")


@pytest.mark.parametrize(
    ("name", "pattern", "interface", "problem"),
    [
        ("Boss Voice", "voice_*.txt", "voice", "source name"),
        ("boss-voice", "in/voice_*.txt", "voice", "a glob over the folder's file names"),
        ("boss-voice", " ", "voice", "a glob over the folder's file names"),
        ("boss-voice", "*.txt", "cdr", "interface 'cdr' is unknown"),
    ],
)
def test_a_source_needs_a_plain_name_pattern_and_a_known_interface(
    session: Session,
    admin: User,
    tmp_path: Path,
    name: str,
    pattern: str,
    interface: str,
    problem: str,
) -> None:
    with pytest.raises(ops.OpsError, match=problem):
        add_source(session, admin, tmp_path, name=name, pattern=pattern, interface=interface)


def test_two_sources_cannot_share_a_name(session: Session, admin: User, tmp_path: Path) -> None:
    add_source(session, admin, tmp_path / "a")
    with pytest.raises(ops.OpsError, match="exists already"):
        add_source(session, admin, tmp_path / "b")


def test_only_data_and_system_administrators_manage_sources_and_alerts(
    session: Session, admin: User, tmp_path: Path
) -> None:
    planner = auth.create_user(
        session,
        username="planner",
        password="a long password",
        role=Role.PLANNER,
        district="province",
        by="t",
    )
    with pytest.raises(ops.OpsError, match="may not manage"):
        add_source(session, planner, tmp_path)
    add_source(session, admin, tmp_path)
    with pytest.raises(ops.OpsError, match="may not manage"):
        ops.set_active(session, "boss-voice", active=False, by=planner)
    run = ops.start_step(session, day=DAY, step="tags")
    ops.fail_step(session, run.id, error="TagError: no profile")
    with pytest.raises(ops.OpsError, match="may not manage"):
        ops.acknowledge(session, run.id, by=planner)


def test_the_files_of_the_day_before_have_arrived(
    session: Session, admin: User, tmp_path: Path
) -> None:
    touch(tmp_path, "voice_20261101.txt", "voice_20261101_2.txt", "voice_20261031.txt")
    add_source(session, admin, tmp_path)
    [arrival] = ops.arrivals(session, day=DAY, now=at(6))
    assert arrival.status is ops.ArrivalStatus.ARRIVED
    assert arrival.data_day == date(2026, 11, 1)
    assert arrival.files == ("voice_20261101.txt", "voice_20261101_2.txt")


def test_a_source_waits_before_its_expected_time_and_is_late_after_it(
    session: Session, admin: User, tmp_path: Path
) -> None:
    touch(tmp_path, "voice_20261031.txt")  # yesterday's file does not count for today
    add_source(session, admin, tmp_path, expected_by=time(5, 0))
    assert ops.arrivals(session, day=DAY, now=at(4, 59))[0].status is ops.ArrivalStatus.WAITING
    late = ops.arrivals(session, day=DAY, now=at(5, 0))[0]
    assert late.status is ops.ArrivalStatus.LATE
    assert "no file dated 2026-11-01" in late.message
    touch(tmp_path, "voice_20261101.txt")
    assert ops.arrivals(session, day=DAY, now=at(5, 1))[0].status is ops.ArrivalStatus.ARRIVED


def test_a_day_that_ended_without_its_files_has_them_missing(
    session: Session, admin: User, tmp_path: Path
) -> None:
    touch(tmp_path, "voice_20261102.txt")
    add_source(session, admin, tmp_path)
    [arrival] = ops.arrivals(session, day=DAY, now=at(6, day=DAY + timedelta(days=1)))
    assert arrival.status is ops.ArrivalStatus.MISSING


def test_a_source_whose_folder_is_gone_is_missing(
    session: Session, admin: User, tmp_path: Path
) -> None:
    add_source(session, admin, tmp_path / "not-there")
    [arrival] = ops.arrivals(session, day=DAY, now=at(1))
    assert arrival.status is ops.ArrivalStatus.MISSING
    assert "does not exist" in arrival.message


def test_an_interface_source_counts_only_its_own_files_a_delivery_every_file(
    session: Session, admin: User, tmp_path: Path
) -> None:
    touch(
        tmp_path, "sms_20261101.txt", "profile_20261101.parquet", "notes.txt", ".voice_20261101.txt"
    )
    add_source(session, admin, tmp_path, pattern="*.txt")
    add_source(session, admin, tmp_path, name="crm", pattern="*", interface="delivery")
    by_name = {a.source: a for a in ops.arrivals(session, day=DAY, now=at(6))}
    assert by_name["boss-voice"].status is ops.ArrivalStatus.LATE
    assert by_name["crm"].files == ("profile_20261101.parquet", "sms_20261101.txt")


def test_a_disabled_source_is_not_expected(session: Session, admin: User, tmp_path: Path) -> None:
    add_source(session, admin, tmp_path)
    ops.set_active(session, "boss-voice", active=False, by=admin)
    assert ops.arrivals(session, day=DAY, now=at(6)) == []
    assert [s.name for s in ops.sources(session)] == ["boss-voice"]
    assert ops.sources(session, active_only=True) == []


def test_a_step_run_records_its_outcome_and_detail(session: Session) -> None:
    run = ops.start_step(session, day=DAY, step="tags")
    assert run.status == StepStatus.RUNNING
    assert run.detail["pid"] == os.getpid()
    done = ops.finish_step(session, run.id, detail={"as_of": date(2026, 11, 1), "tags": 3})
    assert (done.status, done.detail) == ("succeeded", {"as_of": "2026-11-01", "tags": 3})
    assert done.finished_at is not None
    assert ops.succeeded(session, day=DAY, step="tags") is done
    assert ops.succeeded(session, day=DAY + timedelta(days=1), step="tags") is None
    with pytest.raises(ops.OpsError, match="is not running"):
        ops.fail_step(session, run.id, error="too late")


def test_a_failed_step_is_an_alert_until_acknowledged(session: Session, admin: User) -> None:
    run = ops.start_step(session, day=DAY, step="ingest")
    ops.fail_step(session, run.id, error="StepError: voice_20261101.txt rejected")
    [alert] = ops.alerts(session, now=at(9))
    assert (alert.kind, alert.subject, alert.status, alert.step_run_id) == (
        ops.AlertKind.STEP,
        "ingest",
        "failed",
        run.id,
    )
    assert "rejected" in alert.message
    acknowledged = ops.acknowledge(session, run.id, by=admin)
    assert acknowledged.acknowledged_by == "data.admin"
    assert ops.alerts(session, now=at(9)) == []
    with pytest.raises(ops.OpsError, match=r"was acknowledged by data\.admin"):
        ops.acknowledge(session, run.id, by=admin)


def test_an_alert_carries_its_wording_apart_from_its_values(
    session: Session, admin: User, tmp_path: Path
) -> None:
    add_source(session, admin, tmp_path / "gone")
    session.add(StepRun(day=DAY, step="tags", status="failed", detail={}))
    session.flush()
    step, source = ops.alerts(session, now=at(9))
    assert (step.message, step.wording) == ("the step recorded no error", ops.NO_ERROR)
    assert source.wording is not None
    assert source.wording.template == "the folder %(folder)s does not exist"
    assert source.message == str(source.wording) == f"the folder {tmp_path / 'gone'} does not exist"


def test_a_later_success_of_the_same_step_and_day_repairs_the_alert(session: Session) -> None:
    failed = ops.start_step(session, day=DAY, step="tags")
    ops.fail_step(session, failed.id, error="TagError: no profile")
    other_day = ops.start_step(session, day=DAY - timedelta(days=1), step="tags")
    ops.fail_step(session, other_day.id, error="TagError: no profile")
    again = ops.start_step(session, day=DAY, step="tags")
    ops.finish_step(session, again.id, detail={})
    assert [a.step_run_id for a in ops.alerts(session, now=at(9))] == [other_day.id]


def test_only_a_failed_step_can_be_acknowledged(session: Session, admin: User) -> None:
    skipped = ops.skip_step(session, day=DAY, step="segments", reason="tags failed")
    assert skipped.detail == {"reason": "tags failed"}
    with pytest.raises(ops.OpsError, match="only a failed step is an alert"):
        ops.acknowledge(session, skipped.id, by=admin)
    with pytest.raises(ops.OpsError, match="no step run"):
        ops.acknowledge(session, 999_999, by=admin)


def test_a_late_source_is_an_alert_after_its_expected_time(
    session: Session, admin: User, tmp_path: Path
) -> None:
    add_source(session, admin, tmp_path, expected_by=time(5, 30))
    assert ops.alerts(session, now=at(5, 29)) == []
    [alert] = ops.alerts(session, now=at(5, 30))
    assert (alert.kind, alert.subject, alert.status) == (ops.AlertKind.SOURCE, "boss-voice", "late")
    touch(tmp_path, "voice_20261101.txt")
    assert ops.alerts(session, now=at(5, 31)) == []


def test_a_step_another_live_process_runs_is_busy(session: Session) -> None:
    session.add(
        StepRun(
            day=DAY,
            step="arbitrate",
            status="running",
            detail={"pid": os.getppid(), "host": socket.gethostname()},
        )
    )
    session.flush()
    with pytest.raises(ops.StepBusyError, match="is running in process"):
        ops.start_step(session, day=DAY, step="arbitrate")


def test_a_step_left_running_by_a_dead_process_is_closed_as_interrupted(session: Session) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    left = StepRun(
        day=DAY,
        step="arbitrate",
        status="running",
        detail={"pid": int(gone.stdout), "host": socket.gethostname()},
    )
    session.add(left)
    session.flush()
    run = ops.start_step(session, day=DAY, step="arbitrate")
    assert run.id != left.id
    assert left.status == "failed"
    assert "interrupted" in (left.error or "")


def test_the_database_refuses_two_running_attempts_of_one_step_and_day(session: Session) -> None:
    session.add(StepRun(day=DAY, step="tags", status="running", detail={}))
    session.flush()
    second = StepRun(day=DAY, step="tags", status="running", detail={})
    with pytest.raises(IntegrityError):
        add_in_savepoint(session, second)
    session.add(StepRun(day=DAY, step="tags", status="failed", detail={}))
    session.flush()


def add_in_savepoint(session: Session, run: StepRun) -> None:
    with session.begin_nested():
        session.add(run)
        session.flush()
