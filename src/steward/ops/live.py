"""Everything ``steward run`` keeps running beside the API: the event relay and workers, the
channel workers and the daily scheduler — threads of one process, stopped together.

Each thread that reads the lake gets its own lake connection (an engine connection serves one
thread at a time). On the embedded defaults the bus is the in-process queue; with
``STEWARD_BUS_URL=redis://…`` it is Redis Streams, and more worker processes can join with
``steward events work``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time

from steward.events.bus import Bus, open_bus
from steward.events.library import load_library
from steward.lake.service import Lake
from steward.ops import daily
from steward.realtime.worker import Decider, NoSnapshotError, relay_loop, work

log = logging.getLogger("steward.run")
CHANNEL_TICK_S = 30.0  # how often due SMS and outbound contacts are handed over


@dataclass
class Live:
    """The running threads and the switch that stops them."""

    bus: Bus
    decider: Decider
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def join(self, timeout: float = 10.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)


def decider_for(context: daily.DailyContext, lake: Lake) -> Decider:
    return Decider(
        transaction=context.transaction,
        lake=lake,
        catalogue=context.catalogue,
        policy=context.policy,
        library=load_library(),
        quarantine=context.settings.quarantine_path,
    )


def start(
    context: daily.DailyContext,
    open_lake: Callable[[], Lake],
    *,
    scheduler: bool = True,
    at: time | None = None,
) -> Live:
    """Start the relay, the event workers, the channel worker and (optionally) the daily
    scheduler; returns at once."""
    settings = context.settings
    bus = open_bus(settings.bus_url, settings.bus_partitions, settings.bus_stream)
    live = Live(bus=bus, decider=decider_for(context, open_lake()))
    _spawn(live, "relay", lambda: relay_loop(context.transaction, bus, stop=live.stop))
    for n, partitions in enumerate(split(bus.partitions, settings.event_workers)):
        _spawn(live, f"worker-{n}", _worker(live, f"worker-{n}", partitions))
    channels = replace(context, lake=open_lake())
    _spawn(live, "channels", lambda: _channel_loop(channels, live.stop))
    if scheduler:
        daily_context = replace(context, lake=open_lake())
        when = at or time(6, 0)
        _spawn(
            live,
            "daily",
            lambda: daily.scheduler(daily_context, at=when, once=False, stop=live.stop),
        )
    return live


def split(partitions: int, workers: int) -> list[list[int]]:
    """Partitions dealt round-robin to ``workers`` (no worker without one)."""
    workers = max(1, min(workers, partitions))
    return [list(range(n, partitions, workers)) for n in range(workers)]


def _spawn(live: Live, name: str, target: Callable[[], None]) -> None:
    def guarded() -> None:
        while not live.stop.is_set():
            try:
                target()
                return
            except NoSnapshotError as exc:
                log.warning("%s waits: %s", name, exc)
            except Exception:  # a thread must not die silently; it retries after a pause
                log.exception("%s failed; retrying", name)
            live.stop.wait(5.0)

    thread = threading.Thread(target=guarded, name=f"steward-{name}", daemon=True)
    thread.start()
    live.threads.append(thread)


def _worker(live: Live, name: str, partitions: Sequence[int]) -> Callable[[], None]:
    def loop() -> None:
        work(live.bus, live.decider, consumer=name, partitions=partitions, stop=live.stop)

    return loop


def _channel_loop(context: daily.DailyContext, stop: threading.Event) -> None:
    """Hand over the contacts that fell due (the online path's among them) and take the
    channels' receipts and replies, every ``CHANNEL_TICK_S``."""
    while not stop.is_set():
        channel_tick(context, daily.local_now())
        stop.wait(CHANNEL_TICK_S)


def channel_tick(context: daily.DailyContext, now: datetime) -> dict[str, object]:
    with context.transaction() as session:
        ctx = context.at(session, now.date(), now)
        return {"dispatch": daily.dispatch(ctx), "feedback": daily.feedback(ctx)}


class JsonLines(logging.Formatter):
    """One JSON object a log line: what log collectors read without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "at": datetime.fromtimestamp(record.created).astimezone().isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Structured logs on standard error for the whole process (ours and uvicorn's)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
