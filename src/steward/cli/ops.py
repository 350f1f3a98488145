"""Commands for daily operation: the scheduled day, its data sources, its alerts (R-OPS-2)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer

from steward import db
from steward.cli.common import (
    USER,
    Context,
    JsonFlag,
    acting,
    app,
    context_of,
    emit,
    err,
    fail,
    parse_day,
    print_rows,
    tag_catalogue,
)
from steward.ops import daily
from steward.ops import service as ops
from steward.ops.models import DataSource, StepRun, StepStatus

sources_app = typer.Typer(no_args_is_help=True, help="Data sources: drop folders and their files.")
app.add_typer(sources_app, name="sources")
alerts_app = typer.Typer(
    invoke_without_command=True, help="Failed steps and late sources (ack to clear a step)."
)
app.add_typer(alerts_app, name="alerts")

STEP_NAMES = ", ".join(s.value for s in daily.Step)


def clock_time(text: str) -> time:
    """An HH:MM option; a bad value names itself."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a time of day (HH:MM)") from None


def step_run_dict(run: StepRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "day": run.day.isoformat(),
        "step": run.step,
        "status": run.status,
        "started_at": _utc(run.started_at),
        "finished_at": _utc(run.finished_at),
        "detail": run.detail,
        "error": run.error,
        "acknowledged_by": run.acknowledged_by,
    }


def _utc(moment: datetime | None) -> str | None:
    """Stored moments are UTC; SQLite hands them back without their offset."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def daily_context(context: Context) -> daily.DailyContext:
    """The pipeline's context: the catalogue and policy are read once, at start."""
    from steward.policy.config import PolicyError, load_policy

    catalogue = tag_catalogue()
    try:
        policy = load_policy(catalogue)
    except PolicyError as exc:
        raise fail(str(exc)) from exc
    sessions = context.sessions
    return daily.DailyContext(
        settings=context.settings,
        transaction=lambda: db.transaction(sessions),
        lake=context.lake(),
        catalogue=catalogue,
        policy=policy,
    )


@app.command("run")
def run(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Where the API listens.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The API's port.")] = 8000,
    once: Annotated[bool, typer.Option("--once", help="Run one day now, then exit.")] = False,
    day: Annotated[
        str | None, typer.Option(help="The business day for --once (default: today).")
    ] = None,
    at: Annotated[str, typer.Option(help="The daily time of the loop, HH:MM.")] = "06:00",
    only: Annotated[
        list[str] | None, typer.Option(help=f"Run only this step (repeatable): {STEP_NAMES}.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run steps that already succeeded again.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run Steward: the API, the event workers, the channel workers and the daily loop.

    The day's loop (ingest, tags, segments, arbitrate, dispatch, feedback, report) runs every
    day at --at; events are decided as they come; due contacts go to their channels every
    30 s. SIGTERM or Ctrl-C stops it all (the current step and batch finish).
    With --once: only the day's loop, for this day, now; exits 1 when a step failed.
    """
    if day is not None and not once:
        raise fail("--day needs --once: the loop runs each day as it comes")
    if (only or force) and not once:
        raise fail("--only and --force need --once")
    try:
        daily.steps_named(only)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    context = daily_context(context_of(ctx))
    if not once:
        _serve_all(ctx, context, host=host, port=port, at=clock_time(at))
        return
    outcome: list[StepRun] = []

    def on_run(run_day: date, runs: list[StepRun]) -> None:
        outcome[:] = runs
        document = {"day": run_day.isoformat(), "steps": [step_run_dict(r) for r in runs]}
        emit(as_json, document, lambda: print_day(document))
        sys.stdout.flush()

    the_day = parse_day(day) if day is not None else None
    daily.scheduler(
        context, at=clock_time(at), once=True, day=the_day, only=only, force=force, on_run=on_run
    )
    if any(r.status != StepStatus.SUCCEEDED.value for r in outcome):
        raise typer.Exit(1)


def _serve_all(
    ctx: typer.Context, context: daily.DailyContext, *, host: str, port: int, at: time
) -> None:
    import uvicorn

    from steward.ops import live
    from steward.web.app import create_app

    server_class = _server_class()
    live.configure_logging()
    settings = context.settings
    running = live.start(context, context_of(ctx).lake, at=at)
    bus = settings.bus_url or "the in-process queue"
    err.print(
        f"steward run: API on http://{host}:{port} (metrics at /metrics), "
        f"{settings.event_workers} event worker(s) on {bus}, the day's loop at {at:%H:%M}; "
        "Ctrl-C or SIGTERM stops"
    )
    served = create_app(settings)
    served.state.shared_profile = running.decider.current_profile  # fresh tags for /decide
    server = server_class(uvicorn.Config(served, host=host, port=port, log_config=None))

    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True  # the API drains its requests, then the threads stop
        running.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.run()
    finally:
        running.join()


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, leaving the process's signals to `steward run`: SIGTERM stops
        the API and the workers together, and the process then exits cleanly."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server


def print_day(document: dict[str, Any]) -> None:
    print_rows(
        f"day {document['day']}",
        ("run", "step", "status", "started", "what happened"),
        (
            [
                r["id"],
                r["step"],
                r["status"],
                (r["started_at"] or "")[:19],
                _summary(r),
            ]
            for r in document["steps"]
        ),
    )


def _summary(run: dict[str, Any]) -> str:
    """One line for people: the error, or the step's numbers (lists by their length)."""
    if run["error"]:
        return str(run["error"])[:200]
    parts = [_part(k, v) for k, v in run["detail"].items() if k != "trace"]
    return ", ".join(p for p in parts if p)[:200]


def _part(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} {len(value)}"
    if isinstance(value, dict):
        inner = [_part(f"{key}.{k}", v) for k, v in value.items() if not isinstance(v, dict)]
        return ", ".join(p for p in inner if p)
    return "" if value is None else f"{key} {value}"


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source's name, e.g. boss-voice.")],
    folder: Annotated[Path, typer.Option(help="The drop folder the files arrive in.")],
    pattern: Annotated[str, typer.Option(help="Glob of its file names, e.g. 'voice_*.txt'.")],
    interface: Annotated[
        str, typer.Option(help="The interface of its files, or 'delivery' for all of them.")
    ],
    expected_by: Annotated[
        str, typer.Option(help="HH:MM by which the files of the day before are due.")
    ],
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Register a drop folder whose files the daily ingest step loads."""
    context = context_of(ctx)
    due = clock_time(expected_by)
    try:
        with db.transaction(context.sessions) as session:
            source = ops.register_source(
                session,
                name=name,
                folder=folder,
                pattern=pattern,
                interface=interface,
                expected_by=due,
                by=acting(session, user),
            )
            document = source_dict(source)
    except ops.OpsError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_sources([document]))


def source_dict(source: DataSource) -> dict[str, Any]:
    return {
        "name": source.name,
        "folder": source.folder,
        "pattern": source.pattern,
        "interface": source.interface,
        "expected_by": source.expected_by.strftime("%H:%M"),
        "active": source.active,
    }


def print_sources(rows: list[dict[str, Any]]) -> None:
    columns = ("name", "interface", "folder", "pattern", "expected_by", "active")
    print_rows(f"{len(rows)} data sources", columns, ([r[c] for c in columns] for r in rows))


@sources_app.command("list")
def sources_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The registered data sources."""
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = [source_dict(s) for s in ops.sources(session)]
    emit(as_json, rows, lambda: print_sources(rows))


@sources_app.command("enable")
def sources_enable(
    ctx: typer.Context, name: str, user: USER = "cli", as_json: JsonFlag = False
) -> None:
    """Load and expect a source's files again."""
    _set_active(ctx, name, True, user, as_json)


@sources_app.command("disable")
def sources_disable(
    ctx: typer.Context, name: str, user: USER = "cli", as_json: JsonFlag = False
) -> None:
    """Stop loading and expecting a source's files (it stays registered)."""
    _set_active(ctx, name, False, user, as_json)


def _set_active(ctx: typer.Context, name: str, active: bool, user: str, as_json: bool) -> None:
    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            source = ops.set_active(session, name, active=active, by=acting(session, user))
            document = source_dict(source)
    except ops.OpsError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_sources([document]))


@sources_app.command("check")
def sources_check(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="The business day (default: today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Have the files of the day before arrived? Exits 1 when a source is late or missing."""
    context = context_of(ctx)
    now = daily.local_now()
    with db.transaction(context.sessions) as session:
        found = ops.arrivals(session, day=parse_day(day) if day else now.date(), now=now)
    rows = [a.to_dict() for a in found]
    emit(
        as_json,
        rows,
        lambda: print_rows(
            f"{len(rows)} sources",
            ("source", "data day", "status", "files", "message"),
            (
                [r["source"], r["data_day"], r["status"], len(r["files"]), r["message"]]
                for r in rows
            ),
        ),
    )
    bad = (ops.ArrivalStatus.LATE.value, ops.ArrivalStatus.MISSING.value)
    if any(r["status"] in bad for r in rows):
        raise typer.Exit(1)


@alerts_app.callback()
def alerts(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Failed steps nobody acknowledged (and no re-run repaired), late or missing sources."""
    if ctx.invoked_subcommand is not None:
        return
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = [a.to_dict() for a in ops.alerts(session, now=daily.local_now())]
    emit(
        as_json,
        rows,
        lambda: print_rows(
            f"{len(rows)} alerts",
            ("kind", "step run", "day", "what", "status", "message"),
            (
                [
                    r["kind"],
                    r["step_run_id"] or "",
                    r["day"],
                    r["subject"],
                    r["status"],
                    r["message"][:160],
                ]
                for r in rows
            ),
        ),
    )


@alerts_app.command("ack")
def alerts_ack(
    ctx: typer.Context,
    step_run_id: Annotated[int, typer.Argument(help="The failed step run's id.")],
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Acknowledge a failed step: it leaves the alert list, with your name on record."""
    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            run = ops.acknowledge(session, step_run_id, by=acting(session, user))
            document = step_run_dict(run)
    except ops.OpsError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_day({"day": document["day"], "steps": [document]}))
