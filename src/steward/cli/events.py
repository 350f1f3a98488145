"""Commands for real time: replay a day's events, run a worker, see where events stand."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from steward import db
from steward.cli.common import JsonFlag, app, context_of, emit, err, fail, parse_day, print_mapping

events_app = typer.Typer(no_args_is_help=True, help="Events: replay, workers, status.")
app.add_typer(events_app, name="events")
BATCH = 1_000


@events_app.command("replay")
def replay(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option(help="The lake's day to replay (default: its latest).")
    ] = None,
    keep_time: Annotated[
        bool, typer.Option("--keep-time", help="Keep the events' own moments (default: now).")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many events.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a day of the lake (the synthetic province's, or any loaded day) as events.

    Recharges, low balances, first roaming sessions, birthdays and contracts near their end
    go through the same edge check as POST /events into the event inbox, a thousand at a
    time; a running `steward run` decides them. Replaying a day twice adds nothing.
    """
    from steward.events import service
    from steward.events.library import load_library
    from steward.realtime.replay import day_events

    context = context_of(ctx)
    lake = context.lake()
    library = load_library()
    by_type: Counter[str] = Counter()
    accepted = duplicates = 0
    with db.transaction(context.sessions) as session:
        the_day = _replay_day(session, lake, day)
        events = list(day_events(session, lake, the_day, keep_time=keep_time, limit=limit))
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        try:
            with db.transaction(context.sessions) as session:
                taken = service.accept(session, library, chunk)
        except service.BatchError as exc:
            first = "; ".join(
                f"#{p['index']} {p['field']}: {p['reason']}" for p in exc.problems[:3]
            )
            raise fail(f"events {start}..{start + len(chunk) - 1}: {exc} ({first})") from exc
        accepted += taken.accepted
        duplicates += taken.duplicates
        by_type.update(e["type"] for e in chunk)
    document = {
        "day": the_day.isoformat(),
        "events": len(events),
        "accepted": accepted,
        "duplicates": duplicates,
        "by_type": dict(sorted(by_type.items())),
    }
    emit(as_json, document, lambda: print_mapping("events", document))


def _replay_day(session: Any, lake: Any, day: str | None) -> date:
    if day is not None:
        return parse_day(day)
    latest = lake.latest_day(session, "recharge", date.max)
    if latest is None:
        raise fail("the lake holds no recharges to replay: run steward demo or load a day")
    return latest  # type: ignore[no-any-return]


@events_app.command("work")
def work(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="This worker's name in the consumer group.")] = "w1",
    partitions: Annotated[
        str | None, typer.Option(help="Partitions to take, e.g. 0,1,2 (default: all).")
    ] = None,
    reclaim_after_ms: Annotated[
        int, typer.Option(min=100, help="Take over entries another worker left this long.")
    ] = 10_000,
) -> None:
    """Decide events from the bus (STEWARD_BUS_URL=redis://…) until SIGTERM.

    Several workers share the partitions; a worker that dies leaves its entries pending, and
    another reclaims them. Each batch is committed before it is acknowledged.
    """
    from steward.cli.ops import daily_context
    from steward.events.bus import open_bus
    from steward.ops.live import decider_for
    from steward.realtime.worker import work as work_loop

    context = context_of(ctx)
    settings = context.settings
    if not settings.bus_url:
        raise fail("steward events work needs a broker: set STEWARD_BUS_URL=redis://…")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    bus = open_bus(settings.bus_url, settings.bus_partitions, settings.bus_stream)
    taken = _partitions(partitions, bus.partitions)
    daily = daily_context(context)
    decider = decider_for(daily, context.lake())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    err.print(f"worker {name}: partitions {taken} of {settings.bus_url}")
    work_loop(
        bus,
        decider,
        consumer=name,
        partitions=taken,
        stop=stop,
        reclaim_idle_ms=reclaim_after_ms,
    )


def _partitions(text: str | None, total: int) -> list[int]:
    if text is None:
        return list(range(total))
    try:
        chosen = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise fail(f"--partitions {text!r}: expected numbers like 0,1,2") from None
    outside = [p for p in chosen if not 0 <= p < total]
    if outside or not chosen:
        raise fail(f"--partitions {text!r}: each must lie in 0..{total - 1}")
    return chosen


@events_app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Events by state, online decisions by outcome, open watch-list entries."""
    from steward.events.models import EventDecision, EventInbox, WatchEntry

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        inbox = dict(
            session.execute(
                select(EventInbox.status, func.count()).group_by(EventInbox.status)
            ).all()
        )
        outcomes = dict(
            session.execute(
                select(EventDecision.outcome, func.count()).group_by(EventDecision.outcome)
            ).all()
        )
        watching = session.scalar(
            select(func.count()).select_from(WatchEntry).where(WatchEntry.status == "open")
        )
    document = {
        "inbox": {str(k): int(v) for k, v in sorted(inbox.items())},
        "decisions": {str(k): int(v) for k, v in sorted(outcomes.items())},
        "watch_list_open": int(watching or 0),
    }
    emit(as_json, document, lambda: print_mapping("events", document))
