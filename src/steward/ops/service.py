"""Daily operation's records: data sources and their arrivals, step runs, alerts (R-OPS-2).

A business day ``D`` loads the files of the day before (the *data day*, ``D - 1``): a source
registered with ``expected_by`` 03:00 promises the files dated ``D - 1`` in its folder by
03:00 on ``D``. Lateness is judged from the file names (``voice_20261101.txt`` is dated
2026-11-01), so it needs no clock of the upstream system.

Every attempt of a step is a ``step_run`` row; the functions here write them and never
commit. A failed attempt nobody acknowledged and no later attempt of the same step and day
repaired is an alert, and so is a source that is late or missing now.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from steward.auth.models import Role, User
from steward.auth.service import audit
from steward.db import utcnow
from steward.ingest.schemas import INTERFACES, FileNameError, parse_file_name
from steward.ops.models import DELIVERY, DataSource, StepRun, StepStatus
from steward.wording import N_

NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
# Data sources and the day's alerts are the data administrator's (R-OPS-1), and the
# system administrator's.
OPERATORS = (Role.DATA_ADMIN.value, Role.SYSTEM_ADMIN.value)


class OpsError(ValueError):
    """A request about sources or step runs that cannot be honoured; the message says why."""


class StepBusyError(OpsError):
    """The step of that day is running in another live process."""


@dataclass(frozen=True)
class Wording:
    """What an arrival or an alert says to a person: an English template marked with ``N_``
    and its values apart, so the dashboard shows it in its reader's language; ``str()`` is
    the English sentence the API and the CLI show."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template


def register_source(
    session: Session,
    *,
    name: str,
    folder: Path,
    pattern: str,
    interface: str,
    expected_by: time,
    by: User,
) -> DataSource:
    """Register a drop folder; its files are loaded by the daily ``ingest`` step.

    ``interface`` is one interface of the file contract, whose files alone may match
    ``pattern``, or ``delivery`` for a folder of whole deliveries (every interface).
    """
    _require_operator(by)
    _check_source(name, pattern, interface)
    if session.scalar(select(DataSource.id).where(DataSource.name == name)) is not None:
        raise OpsError(f"a data source named {name!r} exists already")
    source = DataSource(
        name=name,
        folder=str(folder.expanduser().absolute()),
        pattern=pattern,
        interface=interface,
        expected_by=expected_by,
        active=True,
    )
    session.add(source)
    session.flush()
    audit(
        session,
        actor=by.username,
        action="data_source.create",
        entity="data_source",
        entity_id=name,
        detail={"folder": source.folder, "pattern": pattern, "interface": interface},
    )
    return source


def _require_operator(user: User) -> None:
    if user.role not in OPERATORS or not user.active:
        raise OpsError(f"{user.username} ({user.role}) may not manage daily operation")


def _check_source(name: str, pattern: str, interface: str) -> None:
    if not NAME.match(name):
        raise OpsError(f"source name {name!r}: 2-64 of a-z 0-9 _ . -, starting with a letter")
    if not pattern.strip() or "/" in pattern or "\\" in pattern:
        raise OpsError(f"pattern {pattern!r}: a glob over the folder's file names, like *.txt")
    if interface != DELIVERY and interface not in INTERFACES:
        known = ", ".join([*INTERFACES, DELIVERY])
        raise OpsError(f"interface {interface!r} is unknown (known: {known})")


def set_active(session: Session, name: str, *, active: bool, by: User) -> DataSource:
    """Switch a source on or off; an inactive source is neither loaded nor expected."""
    _require_operator(by)
    source = get_source(session, name)
    if source is None:
        raise OpsError(f"no data source named {name!r}")
    source.active = active
    session.flush()
    action = "data_source.enable" if active else "data_source.disable"
    audit(session, actor=by.username, action=action, entity="data_source", entity_id=name)
    return source


def get_source(session: Session, name: str) -> DataSource | None:
    return session.scalar(select(DataSource).where(DataSource.name == name))


def sources(session: Session, *, active_only: bool = False) -> list[DataSource]:
    query = select(DataSource).order_by(DataSource.name)
    if active_only:
        query = query.where(DataSource.active)
    return list(session.scalars(query))


def source_files(source: DataSource) -> list[Path]:
    """The files in the source's folder its pattern matches (hidden files never do)."""
    folder = Path(source.folder)
    if not folder.is_dir():
        return []
    found = (p for p in folder.glob(source.pattern) if p.is_file())
    return sorted(p for p in found if not p.name.startswith("."))


def data_day(day: date) -> date:
    """The day whose files business day ``day`` loads: the day before."""
    return day - timedelta(days=1)


class ArrivalStatus(StrEnum):
    ARRIVED = "arrived"  # files dated the data day are in the folder
    WAITING = "waiting"  # none yet, and they are not due yet
    LATE = "late"  # none, and the expected time of the day has passed
    MISSING = "missing"  # the day ended without them, or the folder is not there


@dataclass(frozen=True)
class Arrival:
    """Where one source stands for one business day."""

    source: str
    interface: str
    folder: str
    day: date
    data_day: date
    expected_at: datetime
    status: ArrivalStatus
    files: tuple[str, ...]
    wording: Wording

    @property
    def message(self) -> str:
        return str(self.wording)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "interface": self.interface,
            "folder": self.folder,
            "day": self.day.isoformat(),
            "data_day": self.data_day.isoformat(),
            "expected_at": self.expected_at.isoformat(),
            "status": self.status.value,
            "files": list(self.files),
            "message": self.message,
        }


def arrivals(session: Session, *, day: date, now: datetime) -> list[Arrival]:
    """Per active source: have the files of ``day``'s data day arrived, and are they late?

    ``now`` is the local time the expected times are read in (aware or naive, as the
    caller keeps its clock).
    """
    return [_arrival(s, day, now) for s in sources(session, active_only=True)]


def _arrival(source: DataSource, day: date, now: datetime) -> Arrival:
    wanted = data_day(day)
    expected_at = datetime.combine(day, source.expected_by, tzinfo=now.tzinfo)
    due = f"{expected_at:%Y-%m-%d %H:%M}"
    files = tuple(p.name for p in source_files(source) if _dated(p, source, wanted))
    if not Path(source.folder).is_dir():
        status = ArrivalStatus.MISSING
        said = Wording(N_("the folder %(folder)s does not exist"), {"folder": source.folder})
    elif files:
        status = ArrivalStatus.ARRIVED
        said = Wording(
            N_("%(count)s file(s) dated %(data_day)s"), {"count": len(files), "data_day": wanted}
        )
    elif now < expected_at:
        status = ArrivalStatus.WAITING
        said = Wording(
            N_("files dated %(data_day)s due by %(due)s"), {"data_day": wanted, "due": due}
        )
    elif now.date() > day:
        status = ArrivalStatus.MISSING
        said = Wording(
            N_("no file dated %(data_day)s came on %(day)s"), {"data_day": wanted, "day": day}
        )
    else:
        status = ArrivalStatus.LATE
        said = Wording(
            N_("no file dated %(data_day)s, due by %(due)s"), {"data_day": wanted, "due": due}
        )
    return Arrival(
        source.name,
        source.interface,
        source.folder,
        day,
        wanted,
        expected_at,
        status,
        files,
        said,
    )


def _dated(path: Path, source: DataSource, day: date) -> bool:
    try:
        name = parse_file_name(path)
    except FileNameError:
        return False
    kind_fits = source.interface in (DELIVERY, name.interface.name)
    return kind_fits and name.day == day


def runs(session: Session, *, day: date | None = None, limit: int = 200) -> list[StepRun]:
    """Step runs, newest first; of one business day when ``day`` is given."""
    query = select(StepRun).order_by(StepRun.id.desc()).limit(limit)
    if day is not None:
        query = query.where(StepRun.day == day)
    return list(session.scalars(query))


def latest_run(session: Session, *, day: date, step: str) -> StepRun | None:
    """The newest attempt of ``step`` for ``day``: what the day's state of the step is."""
    query = (
        select(StepRun)
        .where(StepRun.day == day, StepRun.step == step)
        .order_by(StepRun.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def succeeded(session: Session, *, day: date, step: str) -> StepRun | None:
    """The newest successful attempt of ``step`` for ``day``, if any."""
    query = (
        select(StepRun)
        .where(
            StepRun.day == day,
            StepRun.step == step,
            StepRun.status == StepStatus.SUCCEEDED.value,
        )
        .order_by(StepRun.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def start_step(session: Session, *, day: date, step: str) -> StepRun:
    """Record that this process starts ``step`` for ``day`` (the caller commits at once, so
    others see it).

    An earlier attempt left ``running`` by a process of this host that is gone is closed as
    failed (interrupted); one that a live process still runs raises ``StepBusyError``, and
    so does a concurrent start the database refuses.
    """
    running = select(StepRun).where(
        StepRun.day == day, StepRun.step == step, StepRun.status == StepStatus.RUNNING.value
    )
    for other in list(session.scalars(running)):
        _close_if_abandoned(session, other)
    run = StepRun(
        day=day,
        step=step,
        status=StepStatus.RUNNING.value,
        detail={"pid": os.getpid(), "host": socket.gethostname()},
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        raise StepBusyError(f"{step} of {day} was started by another process just now") from None
    return run


def _close_if_abandoned(session: Session, run: StepRun) -> None:
    pid, host = run.detail.get("pid"), run.detail.get("host")
    if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
        run.status = StepStatus.FAILED.value
        run.finished_at = utcnow()
        run.error = f"interrupted: process {pid} ended without finishing the step"
        session.flush()
        return
    raise StepBusyError(
        f"{run.step} of {run.day} is running in process {pid} on {host} since "
        f"{run.started_at:%Y-%m-%d %H:%M:%S} (step run {run.id})"
    )


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs. This process counts as gone: it
    runs one step at a time, so a ``running`` row of its own was left by a failed finish."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def finish_step(session: Session, run_id: int, *, detail: dict[str, Any]) -> StepRun:
    """Close a running attempt as succeeded, with what the step reports about its work."""
    run = _running(session, run_id)
    run.status = StepStatus.SUCCEEDED.value
    run.finished_at = utcnow()
    run.detail = _plain(detail)
    session.flush()
    return run


def fail_step(
    session: Session, run_id: int, *, error: str, detail: dict[str, Any] | None = None
) -> StepRun:
    """Close a running attempt as failed: an alert until acknowledged or repaired."""
    run = _running(session, run_id)
    run.status = StepStatus.FAILED.value
    run.finished_at = utcnow()
    run.error = error
    run.detail = _plain(detail or {})
    session.flush()
    return run


def _running(session: Session, run_id: int) -> StepRun:
    run = session.get(StepRun, run_id)
    if run is None or run.status != StepStatus.RUNNING.value:
        raise OpsError(f"step run {run_id} is not running")
    return run


def skip_step(session: Session, *, day: date, step: str, reason: str) -> StepRun:
    """Record that ``step`` of ``day`` was not run, and why (a failed step it needs)."""
    now = utcnow()
    run = StepRun(
        day=day,
        step=step,
        status=StepStatus.SKIPPED.value,
        started_at=now,
        finished_at=now,
        detail={"reason": reason},
    )
    session.add(run)
    session.flush()
    return run


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as JSON holds it: dates and paths become text."""
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str, ensure_ascii=False))
    return loaded


class AlertKind(StrEnum):
    STEP = "step"  # a failed step run: acknowledge it by its id
    SOURCE = "source"  # a late or missing source: it clears when the files arrive


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    day: date
    subject: str  # the step or the source
    status: str  # failed, late, missing
    message: str  # in English, as the API returns it
    step_run_id: int | None = None
    at: datetime | None = None
    # the message as a wording to translate; None when it is data (a step's error as the
    # step recorded it), shown as written
    wording: Wording | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "day": self.day.isoformat(),
            "subject": self.subject,
            "status": self.status,
            "message": self.message,
            "step_run_id": self.step_run_id,
            "at": self.at.isoformat() if self.at else None,
        }


NO_ERROR = Wording(N_("the step recorded no error"))  # a failed step that said nothing


def alerts(session: Session, *, now: datetime) -> list[Alert]:
    """What the dashboard must show: failed steps not acknowledged and not repaired by a
    later success of the same step and day, then the sources late or missing on ``now``'s
    day."""
    found = [
        Alert(
            AlertKind.STEP,
            run.day,
            run.step,
            run.status,
            run.error or str(NO_ERROR),
            run.id,
            run.finished_at,
            wording=None if run.error else NO_ERROR,
        )
        for run in _failed_steps(session)
    ]
    late = (ArrivalStatus.LATE, ArrivalStatus.MISSING)
    found += [
        Alert(
            AlertKind.SOURCE,
            a.day,
            a.source,
            a.status.value,
            a.message,
            at=a.expected_at,
            wording=a.wording,
        )
        for a in arrivals(session, day=now.date(), now=now)
        if a.status in late
    ]
    return found


def _failed_steps(session: Session) -> list[StepRun]:
    """Failed attempts nobody acknowledged and no later attempt repaired, oldest first."""
    later = aliased(StepRun)
    repaired = exists().where(
        later.day == StepRun.day,
        later.step == StepRun.step,
        later.status == StepStatus.SUCCEEDED.value,
        later.id > StepRun.id,
    )
    query = (
        select(StepRun)
        .where(
            StepRun.status == StepStatus.FAILED.value,
            StepRun.acknowledged_by.is_(None),
            ~repaired,
        )
        .order_by(StepRun.day, StepRun.id)
    )
    return list(session.scalars(query))


def acknowledge(session: Session, step_run_id: int, *, by: User) -> StepRun:
    """Take a failed step off the alert list, naming who saw to it (audited)."""
    _require_operator(by)
    run = session.get(StepRun, step_run_id)
    if run is None:
        raise OpsError(f"no step run {step_run_id}")
    if run.status != StepStatus.FAILED.value:
        raise OpsError(f"step run {step_run_id} {run.status}: only a failed step is an alert")
    if run.acknowledged_by is not None:
        raise OpsError(f"step run {step_run_id} was acknowledged by {run.acknowledged_by}")
    run.acknowledged_by = by.username
    run.acknowledged_at = utcnow()
    session.flush()
    audit(
        session,
        actor=by.username,
        action="step_run.acknowledge",
        entity="step_run",
        entity_id=str(run.id),
        detail={"day": run.day.isoformat(), "step": run.step},
    )
    return run
