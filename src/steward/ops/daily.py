"""The day's pipeline, and the scheduler that runs it every day inside ``steward run``.

A business day runs seven named steps in order: ``ingest`` the new files of the registered
drop folders, refresh the ``tags`` as of the day before, snapshot the ``segments`` running
campaigns use, ``arbitrate`` the day's waves, ``dispatch`` SMS and outbound work orders,
collect ``feedback`` (receipts, replies) and write the ``report``. Each step runs in its own
transaction, and its outcome (with what it did, or its error) is a ``step_run`` row in the
same commit as its work, so "succeeded" always means "done". A failed step becomes an alert;
the steps that need it are recorded as skipped, with the reason, and the others still run.
Running the day again runs only what has not succeeded yet.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time as clock
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.campaigns import batch
from steward.channels.orders import OrderCentre, SimulatedOrderCentre
from steward.channels.outbound import queue_due_contacts
from steward.channels.service import collect_receipts, process_replies, send_due_sms
from steward.channels.sms import SimulatedSmsCentre, SmsCentre
from steward.evaluation import service as evaluation
from steward.ingest import service as ingest_service
from steward.ingest.models import IngestFile, IngestLoad
from steward.ingest.report import FileStatus, LoadReport, LoadStatus
from steward.ingest.schemas import INTERFACES, FileName, FileNameError, parse_file_name
from steward.lake.service import Lake
from steward.mining import service as models
from steward.offers.models import Channel
from steward.ops import service
from steward.ops.models import DELIVERY, DataSource, StepRun, StepStatus
from steward.policy import handoff
from steward.policy.config import Policy
from steward.segments import service as segments
from steward.settings import Settings
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue

log = logging.getLogger(__name__)

# Opens one unit of work and commits it when the block ends (``db.transaction`` bound to a
# session factory); a test hands a savepoint of its own session instead.
Transaction = Callable[[], AbstractContextManager[Session]]
LONGEST_NAP_S = 300.0  # the scheduler looks at the clock at least this often


class Step(StrEnum):
    INGEST = "ingest"
    TAGS = "tags"
    SEGMENTS = "segments"
    ARBITRATE = "arbitrate"
    DISPATCH = "dispatch"
    FEEDBACK = "feedback"
    REPORT = "report"


class StepError(RuntimeError):
    """A step that cannot do its work; the message is what the operator must fix."""


@dataclass(frozen=True, kw_only=True)
class DailyContext:
    """What the day's steps work with, built once for a process (``steward run``).

    ``sms`` and ``orders`` are the channel adapters; the simulated ones until a real
    gateway adapter is configured.
    """

    settings: Settings
    transaction: Transaction
    lake: Lake
    catalogue: TagCatalogue
    policy: Policy
    sms: SmsCentre = field(default_factory=SimulatedSmsCentre)
    orders: OrderCentre = field(default_factory=SimulatedOrderCentre)

    def at(self, session: Session, day: date, now: datetime) -> StepContext:
        shared = {f.name: getattr(self, f.name) for f in fields(DailyContext)}
        return StepContext(**shared, session=session, day=day, now=now)


@dataclass(frozen=True, kw_only=True)
class StepContext(DailyContext):
    """One step's view: the open transaction's session, the business day, the local time."""

    session: Session
    day: date
    now: datetime

    @property
    def data_day(self) -> date:
        return service.data_day(self.day)


# --- ingest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    path: Path
    name: FileName
    source: str


def ingest(ctx: StepContext) -> dict[str, Any]:
    """Load the files of the active sources that were not loaded before, one load per file
    in contract order (what others refer to first). A rejected file fails the step, and the
    step's transaction publishes nothing of the day."""
    options = ingest_service.IngestOptions(
        quarantine_root=ctx.settings.quarantine_path,
        max_bad_share=ctx.settings.ingest_max_bad_share,
        vacuum_grace_s=ctx.settings.lake_vacuum_grace_s,
    )
    candidates = _candidates(service.sources(ctx.session, active_only=True))
    new = _not_loaded_before(ctx.session, candidates)
    _check_distinct_parts(new)
    loaded = []
    for candidate in new:
        load = ingest_service.ingest(ctx.session, ctx.lake, candidate.path, options)
        if load.status is not LoadStatus.PUBLISHED:
            raise StepError(f"{candidate.source}: {_rejection(load)}")
        loaded += [_loaded(candidate.source, f) for f in load.to_dict()["files"]]
    arrived = service.arrivals(ctx.session, day=ctx.day, now=ctx.now)
    return {
        "loaded": loaded,
        "already_loaded": len(candidates) - len(new),
        "arrivals": {a.source: a.status.value for a in arrived},
    }


def _candidates(sources: Sequence[DataSource]) -> list[_Candidate]:
    """Every matching file of every source, named by the contract, or the step fails."""
    found: list[_Candidate] = []
    problems: list[str] = []
    for source in sources:
        for path in service.source_files(source):
            try:
                name = parse_file_name(path)
            except FileNameError as exc:
                problems.append(f"{source.name}: {exc}")
                continue
            if source.interface not in (DELIVERY, name.interface.name):
                problems.append(
                    f"{source.name}: {path.name} is a {name.interface.name} file, "
                    f"the source delivers {source.interface}"
                )
                continue
            found.append(_Candidate(path, name, source.name))
    if problems:
        raise StepError("files that do not fit the interface contract: " + "; ".join(problems))
    order = list(INTERFACES)
    return sorted(
        found,
        key=lambda c: (order.index(c.name.interface.name), c.name.day, c.name.part, c.path.name),
    )


def _not_loaded_before(session: Session, candidates: list[_Candidate]) -> list[_Candidate]:
    """Candidates whose content is not published yet.

    A file of a name already published is not read again while it is older than that load;
    a newer one is hashed and loaded only if its content differs (a redelivery).
    """
    if not candidates:
        return []
    query = (
        select(IngestFile.file_name, IngestFile.content_sha256, IngestLoad.finished_at)
        .join(IngestLoad, IngestLoad.load_id == IngestFile.load_id)
        .where(
            IngestFile.file_name.in_(sorted({c.path.name for c in candidates})),
            IngestFile.status.in_([FileStatus.LOADED.value, FileStatus.UNCHANGED.value]),
            IngestLoad.status == LoadStatus.PUBLISHED.value,
        )
    )
    published: dict[str, list[tuple[str, datetime | None]]] = {}
    for file_name, digest, finished_at in session.execute(query):
        published.setdefault(file_name, []).append((digest, finished_at))
    return [c for c in candidates if not _published(c.path, published.get(c.path.name, []))]


def _published(path: Path, loads: list[tuple[str, datetime | None]]) -> bool:
    if not loads:
        return False
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if any(at is not None and modified < _aware(at) for _, at in loads):
        return True
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return digest in {d for d, _ in loads}


def _aware(moment: datetime) -> datetime:
    """SQLite returns stored UTC moments without their offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _check_distinct_parts(candidates: list[_Candidate]) -> None:
    seen: dict[tuple[str, date, str], str] = {}
    for c in candidates:
        slot = (c.name.interface.name, c.name.day, c.name.part_key)
        if slot in seen:
            raise StepError(f"{c.path} and {seen[slot]} fill the same partition part")
        seen[slot] = str(c.path)


def _rejection(report: LoadReport) -> str:
    bad = [f for f in report.files if f.status is FileStatus.REJECTED]
    reasons = "; ".join(
        f"{f.file}: {f.message}"
        + (f" (quarantine {f.quarantine_file})" if f.quarantine_file else "")
        for f in bad
    )
    return f"{report.message}: {reasons}" if reasons else report.message


def _loaded(source: str, file: dict[str, Any]) -> dict[str, Any]:
    keep = ("file", "interface", "day", "status", "rows_loaded", "rows_quarantined")
    return {"source": source} | {k: file[k] for k in keep}


# --- the loop's other steps ---------------------------------------------------------------


def refresh_tags(ctx: StepContext) -> dict[str, Any]:
    """Score the published models, then recompute the profile snapshot as of the data day
    (the day before): scores are tags, so they land in the same snapshot."""
    scored = models.score_published(ctx.session, ctx.lake, as_of=ctx.data_day)
    report = tags.refresh(ctx.session, ctx.lake, ctx.catalogue, ctx.data_day).to_dict()
    return report | ({"models": scored.to_dict()} if scored else {})


def snapshot_segments(ctx: StepContext) -> dict[str, Any]:
    """Write the members of every segment a campaign running today uses, as of the data
    day, so the day's audience is on record."""
    running = batch.running(ctx.session, ctx.day)
    written = []
    for segment_id in sorted({s for c in running for s in c.segment_ids}):
        segment = segments.get(ctx.session, segment_id)
        if segment is None:
            raise StepError(f"segment {segment_id} of a running campaign does not exist")
        written.append(
            segments.snapshot_members(
                ctx.session, ctx.lake, ctx.catalogue, segment, as_of=ctx.data_day
            )
        )
    return {"campaigns": [c.id for c in running], "segments": written}


def arbitrate(ctx: StepContext) -> dict[str, Any]:
    """Run the day's waves of every running campaign through the contact policy."""
    report = batch.run_day(ctx.session, ctx.lake, ctx.catalogue, ctx.policy, day=ctx.day)
    return report.to_dict()


def dispatch(ctx: StepContext) -> dict[str, Any]:
    """Hand the day's SMS to the SMS centre (quiet hours hold them) and queue the outbound
    contacts as work orders of the team of each subscriber's district."""
    quiet = ctx.policy.quiet_hours.get(Channel.SMS)
    recheck = _recheck(ctx)
    sent = send_due_sms(
        ctx.session, ctx.sms, day=ctx.day, now=ctx.now, quiet=quiet, recheck=recheck
    )
    queued = queue_due_contacts(
        ctx.session, day=ctx.day, now=ctx.now, districts=_district_lookup(ctx), recheck=recheck
    )
    return {"sms": asdict(sent), "outbound": asdict(queued)}


def _recheck(ctx: StepContext) -> Callable[[list[dict[str, Any]]], dict[str, str]]:
    """The policy's second look at the contacts about to be handed over (R-POL-4)."""

    def recheck(contacts: list[dict[str, Any]]) -> dict[str, str]:
        return handoff.recheck(
            ctx.session, ctx.lake, ctx.catalogue, ctx.policy, day=ctx.day, contacts=contacts
        )

    return recheck


def _district_lookup(ctx: StepContext) -> Callable[[Sequence[str]], dict[str, str]]:
    """Subscribers' districts ("city/county") from the newest profile snapshot."""

    def lookup(msisdns: Sequence[str]) -> dict[str, str]:
        latest = tags.latest_snapshot(ctx.session, ctx.lake, ctx.day)
        if latest is None or not msisdns:
            return {}
        engine = ctx.lake.engine
        engine.register("ops_numbers", pa.table({"msisdn": pa.array(list(msisdns), pa.string())}))
        rows = engine.query(
            "SELECT s.msisdn, CAST(s.city AS VARCHAR) AS city, "
            f"CAST(s.county AS VARCHAR) AS county FROM {latest[1]} s "
            "SEMI JOIN ops_numbers n USING (msisdn)"
        ).to_pylist()
        return {
            str(r["msisdn"]): str(r["city"]) + (f"/{r['county']}" if r["county"] else "")
            for r in rows
            if r["city"]
        }

    return lookup


def feedback(ctx: StepContext) -> dict[str, Any]:
    """Apply the SMS centre's delivery receipts and turn replies into answers and orders."""
    receipts = collect_receipts(ctx.session, ctx.sms)
    replies = process_replies(ctx.session, ctx.sms, ctx.orders)
    return {"receipts": receipts, "replies": {k.value: n for k, n in replies.counts.items()}}


def report(ctx: StepContext) -> dict[str, Any]:
    """Write the daily execution report up to the day as ``<home>/reports/daily-<day>.csv``."""
    table = evaluation.daily_report(ctx.session, ctx.lake, until=ctx.day)
    target = report_path(ctx.settings, ctx.day)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    pacsv.write_csv(table, partial)
    partial.replace(target)  # a reader never sees half a report
    return {"file": str(target), "rows": table.num_rows}


def report_path(settings: Settings, day: date) -> Path:
    return settings.home / "reports" / f"daily-{day.isoformat()}.csv"


# --- the pipeline -------------------------------------------------------------------------

StepFunction = Callable[[StepContext], dict[str, Any]]


@dataclass(frozen=True)
class StepDefinition:
    name: Step
    run: StepFunction
    needs: tuple[Step, ...] = ()  # a failed or skipped need skips this step


STEPS: tuple[StepDefinition, ...] = (
    StepDefinition(Step.INGEST, ingest),
    StepDefinition(Step.TAGS, refresh_tags, (Step.INGEST,)),
    StepDefinition(Step.SEGMENTS, snapshot_segments, (Step.TAGS,)),
    StepDefinition(Step.ARBITRATE, arbitrate, (Step.TAGS, Step.SEGMENTS)),
    StepDefinition(Step.DISPATCH, dispatch, (Step.ARBITRATE,)),
    StepDefinition(Step.FEEDBACK, feedback),
    StepDefinition(Step.REPORT, report),
)


def steps_named(only: Sequence[str] | None) -> list[StepDefinition]:
    """The steps to run, in pipeline order; an unknown name raises ``ValueError``."""
    if only is None:
        return list(STEPS)
    unknown = sorted(set(only) - {s.name.value for s in STEPS})
    if unknown:
        known = ", ".join(s.name.value for s in STEPS)
        raise ValueError(f"unknown step(s) {', '.join(unknown)} (steps: {known})")
    return [s for s in STEPS if s.name.value in only]


def run_day_pipeline(
    context: DailyContext,
    day: date,
    now: datetime,
    only: Sequence[str] | None = None,
    *,
    force: bool = False,
    stop: threading.Event | None = None,
) -> list[StepRun]:
    """Run the steps of business day ``day`` (all, or ``only`` those) and record each.

    A step that already succeeded for the day is not run again unless ``force``; its earlier
    record is returned in its place. When ``stop`` is set the current step finishes and no
    further one starts (nothing is recorded for those: the next run does them).
    """
    outcomes: dict[Step, StepRun] = {}
    for step in steps_named(only):
        if stop is not None and stop.is_set():
            log.info("stopping before %s of %s", step.name, day)
            break
        outcomes[step.name] = _run_step(context, step, day, now, force=force, outcomes=outcomes)
    return list(outcomes.values())


def _run_step(
    context: DailyContext,
    step: StepDefinition,
    day: date,
    now: datetime,
    *,
    force: bool,
    outcomes: dict[Step, StepRun],
) -> StepRun:
    with context.transaction() as session:
        earlier = None if force else service.succeeded(session, day=day, step=step.name)
        if earlier is not None:
            return earlier
        reason = _blocked(session, step, day, outcomes)
        if reason is not None:
            return service.skip_step(session, day=day, step=step.name, reason=reason)
        try:
            run_id = service.start_step(session, day=day, step=step.name).id
        except service.StepBusyError as exc:
            return service.skip_step(session, day=day, step=step.name, reason=str(exc))
    return _attempt(context, step, run_id, day, now)


def _blocked(
    session: Session, step: StepDefinition, day: date, outcomes: dict[Step, StepRun]
) -> str | None:
    """Why ``step`` may not run: a need that failed or was skipped in this run, or whose
    latest attempt of the day did and that never succeeded that day."""
    for need in step.needs:
        run = outcomes.get(need)
        if run is None and service.succeeded(session, day=day, step=need) is None:
            run = service.latest_run(session, day=day, step=need)
        if run is None or run.status == StepStatus.SUCCEEDED.value:
            continue
        why = f": {_short(run.error or '', 160)}" if run.status == StepStatus.FAILED.value else ""
        return f"needs {need}, which {run.status} (step run {run.id}){why}"
    return None


def _attempt(
    context: DailyContext, step: StepDefinition, run_id: int, day: date, now: datetime
) -> StepRun:
    started = clock.perf_counter()
    try:
        with context.transaction() as session:
            detail = step.run(context.at(session, day, now))
            detail = detail | {"seconds": round(clock.perf_counter() - started, 3)}
            return service.finish_step(session, run_id, detail=detail)
    except Exception as exc:
        log.warning("%s of %s failed: %s", step.name, day, exc)
        trace = "".join(traceback.format_exception(exc))[-4000:]
        with context.transaction() as session:
            return service.fail_step(
                session, run_id, error=f"{type(exc).__name__}: {exc}", detail={"trace": trace}
            )
    except BaseException:  # interrupted (Ctrl-C, exit): leave no step "running"
        with context.transaction() as session:
            service.fail_step(session, run_id, error="interrupted before the step finished")
        raise


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the scheduler ------------------------------------------------------------------------

Clock = Callable[[], datetime]
OnRun = Callable[[date, list[StepRun]], None]


def local_now() -> datetime:
    """The local time, with its offset: quiet hours and expected times are local."""
    return datetime.now().astimezone()


def scheduler(
    context: DailyContext,
    *,
    at: time,
    once: bool,
    day: date | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
    clock_now: Clock = local_now,
    stop: threading.Event | None = None,
    on_run: OnRun | None = None,
) -> None:
    """The loop inside ``steward run``: every day at ``at`` run that day's pipeline.

    ``once`` runs the pipeline of ``day`` (default: today) at once and returns, which is
    what an operator's own cron calls. Otherwise the loop also runs today's pipeline at
    start-up when ``at`` has passed (a restart does not lose a day; what succeeded is not
    redone), and when quiet hours held the day's SMS it dispatches them when they end.
    SIGTERM sets ``stop``: the current step finishes, then the loop returns.
    """
    stop = stop if stop is not None else threading.Event()
    report_run = on_run if on_run is not None else (lambda _day, _runs: None)
    with _stop_on_sigterm(stop):
        if once:
            now = clock_now()
            the_day = day or now.date()
            report_run(
                the_day, run_day_pipeline(context, the_day, now, only, force=force, stop=stop)
            )
            return
        _loop(context, at=at, clock_now=clock_now, stop=stop, on_run=report_run)


def _loop(
    context: DailyContext, *, at: time, clock_now: Clock, stop: threading.Event, on_run: OnRun
) -> None:
    last_day: date | None = None
    resume: tuple[datetime, date] | None = None  # SMS held by quiet hours: when, which day
    while not stop.is_set():
        now = clock_now()
        if resume is not None and now >= resume[0]:
            held = [Step.DISPATCH.value, Step.FEEDBACK.value]
            runs = run_day_pipeline(context, resume[1], now, held, force=True, stop=stop)
            on_run(resume[1], runs)
            resume = _resume_at(runs, resume[1])
        elif last_day != now.date() and now.time() >= at:
            last_day = now.date()
            runs = run_day_pipeline(context, last_day, now, stop=stop)
            on_run(last_day, runs)
            resume = _resume_at(runs, last_day)
        wake = _next_wake(clock_now(), at, resume)
        log.info("next look at the clock: %s", wake)
        stop.wait(min(max((wake - clock_now()).total_seconds(), 0.0), LONGEST_NAP_S))


def _next_wake(now: datetime, at: time, resume: tuple[datetime, date] | None) -> datetime:
    daily = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    if daily <= now:
        daily += timedelta(days=1)
    return min(daily, resume[0]) if resume is not None else daily


def _resume_at(runs: list[StepRun], day: date) -> tuple[datetime, date] | None:
    """When the SMS held back by quiet hours may go, if the dispatch step held some."""
    for run in runs:
        if run.step != Step.DISPATCH.value or run.status != StepStatus.SUCCEEDED.value:
            continue
        sms = run.detail.get("sms") or {}
        if sms.get("waiting") and sms.get("resume_at"):
            return datetime.fromisoformat(str(sms["resume_at"])), day
    return None


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM sets ``stop`` while the block runs (signals reach only the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
