"""Inbound decision API over HTTP: requests/s and latency at a fixed concurrency, against a bare
endpoint of the same framework served the same way in the same run.

    uv run python benchmarks/bench_inbound.py [--subscribers 20000] [--home PATH]
        [--numbers 2000] [--concurrency 32] [--seconds 15] [--warmup 2] [--workers 1,2]
        [--short-seconds 5] [--profile 150] [--json]

Builds a demo home (``steward demo --no-serve``; ``--home`` reuses one already built, or
builds it there), picks ``--numbers`` subscribers of the latest profile snapshot, and serves,
each with uvicorn in its own process (1, then 2 worker processes; h11 on asyncio, no access
log): the real app (``create_app``), where ``demo.agent1`` gets a token through
``POST /auth/token``; and a bare FastAPI app whose one ``GET /bare/{msisdn}`` (a sync route,
as ``/decide`` is) returns a small JSON. A load generator in this process (raw asyncio
streams, HTTP/1.1 keep-alive) keeps ``--concurrency`` connections busy for ``--seconds``
after a ``--warmup``, rotating through the numbers and the channels web, app, hall, inbound
and outbound (the demo's batch campaigns reach SMS and outbound only, so outbound is the one
channel of the five with candidates to judge), and times every request.

The client and the servers share the machine's cores: the client's own ceiling is measured
first against a raw asyncio server that answers a canned response, and every run reports the
CPU the client and the server used (share of one core) and the load average, so the reader
can tell who the limit was. Stock ``uvicorn --workers N`` leaves Nagle on (see ``serve``):
the bare app is measured that way too for ``--short-seconds``, and the N-worker runs use a
listening socket that keeps TCP_NODELAY. Last, ``--profile`` requests of each channel group
go through the route's path in process (token lookup, ``inbound.offers_for``, the response
model) under cProfile: where a request's time goes, in µs per request; and the snapshot row
read as the route reads it against the alternatives. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import importlib
import itertools
import json
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import print_result  # noqa: E402

CHANNELS = ("web", "app", "hall", "inbound", "outbound")
AGENT = "demo.agent1"
TARGET_RPS, TARGET_P99_MS = 3000, 20.0
HOME_VARIABLE = "BENCH_INBOUND_HOME"
MSISDN = r"^[0-9]{5,20}$"  # the pattern /decide checks
SHORT_HELP = (
    "seconds of the short runs: the client's ceiling, and the bare app on stock uvicorn "
    "--workers N (Nagle left on; 0: skip that one)"
)
# Where a request's time goes in the in-process profile: (label, function as module:qualname).
STAGES = (
    ("token lookup", "steward.auth.service:user_for_token"),
    ("offers_for", "steward.realtime.inbound:offers_for"),
    ("offers_for/subscriber (online profile)", "steward.realtime.inbound:Listing.subscriber"),
    ("offers_for/_judge", "steward.realtime.inbound:_judge"),
    ("offers_for/_judge/ledger_facts", "steward.policy.arbitration:ledger_facts"),
    ("offers_for/_judge/Referee.with_facts", "steward.policy.online:Referee.with_facts"),
    ("offers_for/_judge/Referee.candidates", "steward.policy.online:Referee.candidates"),
    ("offers_for/_offered (texts, reasons)", "steward.realtime.inbound:_offered"),
    ("response model + JSON", "__main__:_serialise"),
    ("all DuckDB queries", "steward.lake.engine:DuckDBEngine.query"),
    ("all SQLAlchemy Session.execute", "sqlalchemy.orm:Session.execute"),
    ("all SQLAlchemy Session.get", "sqlalchemy.orm:Session.get"),
    ("all rules.parse_rule", "steward.rules.service:parse_rule"),
)


# --- the servers (run in their own processes: ``--serve``) -----------------------------------


def steward_app() -> Any:
    """The real app over the benchmark's home (uvicorn factory)."""
    from steward.settings import Settings
    from steward.web.app import create_app

    return create_app(Settings(home=Path(os.environ[HOME_VARIABLE])))


class Bare(BaseModel):
    msisdn: str
    channel: str
    offers: list[int]


def bare_app() -> FastAPI:
    """The framework's ceiling: one trivial route, validated and answered the same way."""
    app = FastAPI()

    @app.get("/bare/{msisdn}", response_model=Bare)
    def bare(msisdn: Annotated[str, PathParam(pattern=MSISDN)], channel: str) -> dict[str, Any]:
        return {"msisdn": msisdn, "channel": channel, "offers": []}

    return app


class _Canned(asyncio.Protocol):
    """The client's ceiling: a canned 200 for every request head, no framework at all."""

    ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

    def connection_made(self, transport: Any) -> None:
        self.transport, self.pending = transport, b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        heads = self.pending.count(b"\r\n\r\n")
        if heads:
            self.pending = self.pending.rsplit(b"\r\n\r\n", 1)[1]
            self.transport.write(self.ANSWER * heads)


def serve(kind: str, port: int, workers: int, *, stock: bool = False) -> None:
    if kind == "raw":

        async def forever() -> None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(_Canned, "127.0.0.1", port, backlog=1024)
            print("Application startup complete.", file=sys.stderr, flush=True)
            await server.serve_forever()

        asyncio.run(forever())
        return
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        f"bench_inbound:{kind}_app",
        factory=True,
        host="127.0.0.1",  # bench_inbound imports from HERE, on sys.path (top of this file)
        port=port,
        workers=workers,
        access_log=False,
        log_level="info",
        backlog=1024,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    sock = config.bind_socket()
    if not stock:
        # uvicorn binds the workers' socket with proto 0, so asyncio leaves Nagle on for its
        # connections and keep-alive answers wait for the client's delayed ACK (~40 ms;
        # Kludex/uvicorn#3149). Read back from the kernel, proto is TCP and TCP_NODELAY holds.
        sock = socket.socket(fileno=sock.detach())
    Multiprocess(config, sockets=[sock]).run()


@dataclasses.dataclass
class Server:
    kind: str
    workers: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_s(self) -> float:
        return _tree_cpu(self.process.pid)


@contextmanager
def running_server(
    kind: str, workers: int, home: Path, logs: Path, *, stock: bool = False
) -> Iterator[Server]:
    port = _free_port()
    log = logs / f"{kind}-w{workers}{'-stock' if stock else ''}.log"
    env = os.environ | {HOME_VARIABLE: str(home), "STEWARD_HOME": str(home)}
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", kind]
    command += ["--port", str(port), "--workers", str(workers)] + (["--stock"] if stock else [])
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=logs, stdout=out, stderr=out)
    server = Server(kind, workers, port, process, log)
    try:
        _wait_ready(server, workers if kind != "raw" else 1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, workers: int, timeout: float = 120.0) -> None:
    """Every worker has logged its startup (uvicorn prints one line per worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} server exited: {server.log.read_text()[-2000:]}")
        if server.log.read_text(errors="replace").count("startup complete") >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} server not ready after {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, of in parents.items():
            if of == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


# --- the load generator (this process) ----------------------------------------------------


@dataclasses.dataclass
class Load:
    latencies: list[float]  # seconds, each answered request
    labels: list[int]  # index of the request's label (channel) for each latency
    errors: int
    with_offers: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    else:
        raise ConnectionError("a response without content-length")
    return status, await reader.readexactly(length)


async def _load(
    port: int,
    requests: list[tuple[int, bytes]],
    *,
    concurrency: int,
    seconds: float,
    record: bool,
) -> tuple[list[float], list[int], int, int]:
    latencies: list[float] = []
    labels: list[int] = []
    counters = {"errors": 0, "offers": 0}
    turn = itertools.count()
    deadline = time.perf_counter() + seconds
    clock = time.perf_counter

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while clock() < deadline:
                label, request = requests[next(turn) % len(requests)]
                started = clock()
                try:
                    status, body = await _exchange(reader, writer, request)
                except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                    counters["errors"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if not record:
                    continue
                if status != 200:
                    counters["errors"] += 1
                    continue
                latencies.append(clock() - started)
                labels.append(label)
                if b'"offers":[{' in body:
                    counters["offers"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies, labels, counters["errors"], counters["offers"]


def run_load(
    server: Server,
    pairs: list[tuple[str, int]],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    token: str | None = None,
) -> Load:
    requests = requests_for(server.kind, server.port, pairs, token)
    if warmup > 0:
        asyncio.run(
            _load(server.port, requests, concurrency=concurrency, seconds=warmup, record=False)
        )
    server_before, client_before = server.cpu_s(), time.process_time()
    started = time.perf_counter()
    latencies, labels, errors, offers = asyncio.run(
        _load(server.port, requests, concurrency=concurrency, seconds=seconds, record=True)
    )
    wall = time.perf_counter() - started
    return Load(
        latencies=latencies,
        labels=labels,
        errors=errors,
        with_offers=offers,
        wall_s=wall,
        client_cpu_s=time.process_time() - client_before,
        server_cpu_s=server.cpu_s() - server_before,
    )


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(load: Load) -> dict[str, Any]:
    ordered = sorted(load.latencies)
    answered = len(ordered)
    found: dict[str, Any] = {
        "rps": round(answered / load.wall_s),
        "requests": answered,
        "errors": load.errors,
    }
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        found[f"{name}_ms"] = round(_quantile(ordered, q) * 1000, 2)
    found["max_ms"] = round(ordered[-1] * 1000, 1) if ordered else None
    found["client_cpu_pct"] = round(100 * load.client_cpu_s / load.wall_s)
    found["server_cpu_pct"] = round(100 * load.server_cpu_s / load.wall_s)
    if answered:
        found["server_cpu_us_per_req"] = round(1e6 * load.server_cpu_s / answered)
    return found


def ratios(figures: dict[str, Any], rps: float, p99_ms: float) -> str:
    return f"rps {figures['rps'] / rps:.3f}, p99 {figures['p99_ms'] / p99_ms:.1f}x"


def by_channel(load: Load) -> dict[str, Any]:
    grouped: dict[str, list[float]] = {c: [] for c in CHANNELS}
    for latency, label in zip(load.latencies, load.labels, strict=True):
        grouped[CHANNELS[label]].append(latency)
    return {
        c: f"p50 {_quantile(sorted(v), 0.5) * 1000:.1f} ms, "
        f"p99 {_quantile(sorted(v), 0.99) * 1000:.1f} ms"
        for c, v in grouped.items()
    }


def _get(path: str, port: int, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n".encode()


def requests_for(
    kind: str, port: int, pairs: list[tuple[str, int]], token: str | None
) -> list[tuple[int, bytes]]:
    route = {"steward": "/decide", "bare": "/bare", "raw": "/raw"}[kind]
    return [(c, _get(f"{route}/{m}?channel={CHANNELS[c]}", port, token)) for m, c in pairs]


def login(port: int, password: str) -> str:
    form = urllib.parse.urlencode({"username": AGENT, "password": password}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/auth/token", data=form)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.loads(answer.read())["access_token"])


# --- setup: the demo home and its subscribers ---------------------------------------------


def build_home(home: Path, subscribers: int) -> float:
    """Run the demo into ``home`` unless it holds a built one; seconds it took."""
    if (home / "steward.db").exists() and (home / "lake" / "profile_snapshot").exists():
        return 0.0
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "steward.cli", "demo", "--no-serve"]
    command += ["--subscribers", str(subscribers), "--json"]
    env = os.environ | {"STEWARD_HOME": str(home)}
    done = subprocess.run(command, env=env, cwd=home, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"steward demo failed: {done.stderr.decode()[-3000:]}")
    return time.perf_counter() - started


def pick_numbers(home: Path, n: int, seed: int) -> tuple[list[str], int]:
    """``n`` numbers of the latest profile snapshot (read through the app's lake), and the
    snapshot's size."""
    from steward import db
    from steward.lake.engine import DuckDBEngine
    from steward.lake.service import Lake
    from steward.settings import Settings
    from steward.tags import service as tags

    settings = Settings(home=home)
    sessions = db.session_factory(db.make_engine(settings.database_url))
    engine = DuckDBEngine(memory_limit="1GB")
    try:
        with sessions() as session:
            latest = tags.latest_snapshot(session, Lake(settings.lake, engine), date.today())
        if latest is None:
            raise RuntimeError(f"no profile snapshot in {home}")
        numbers = sorted(
            r["msisdn"] for r in engine.query(f"SELECT msisdn FROM {latest[1]}").to_pylist()
        )
    finally:
        engine.close()
    return random.Random(seed).sample(numbers, min(n, len(numbers))), len(numbers)


# --- the in-process profile -----------------------------------------------------------------


def _serialise(decision: Any) -> bytes:
    """What FastAPI does with the route's answer: the response model, then JSON."""
    from steward.realtime.api import DecisionRead

    return DecisionRead.model_validate(dataclasses.asdict(decision)).model_dump_json().encode()


def profile(home: Path, token: str, pairs: list[tuple[str, int]], n: int) -> dict[str, Any]:
    """The route's path, in process and in this thread: the token lookup, ``offers_for`` and
    the response model, as the route runs them. µs per request unprofiled (by channel), then
    by stage under cProfile (whose own overhead inflates those), for ``n`` requests of the
    four channels no demo campaign reaches and ``n`` of outbound; then the snapshot row."""
    from steward.auth import service as auth
    from steward.offers.models import Channel
    from steward.realtime import inbound
    from steward.settings import Settings
    from steward.web.app import create_app

    state = create_app(Settings(home=home)).state
    today = date.today()
    with state.sessions() as session, session.begin():
        listing = inbound.build_listing(
            session, state.lake, state.catalogue, state.policy, today
        )  # what the route holds between requests

    def one(msisdn: str, channel: int) -> bytes:
        with state.sessions() as session, session.begin():
            user = auth.user_for_token(session, token)
            assert user is not None
            decision = inbound.offers_for(
                session,
                listing,
                msisdn=msisdn,
                channel=Channel(CHANNELS[channel]),
                district=user.district,
            )
            return _serialise(decision)

    for msisdn, channel in pairs[-50:]:  # warm: hot tables, caches, imports
        one(msisdn, channel)
    groups = {  # the demo's batch campaigns reach outbound, none of the other four
        "web|app|hall|inbound": [p for p in pairs if CHANNELS[p[1]] != "outbound"][:n],
        "outbound": [p for p in pairs if CHANNELS[p[1]] == "outbound"][:n],
    }
    spent: dict[str, list[float]] = {c: [] for c in CHANNELS}
    stats: dict[str, Any] = {}
    for group, sample in groups.items():
        for msisdn, channel in sample:
            started = time.perf_counter()
            one(msisdn, channel)
            spent[CHANNELS[channel]].append(time.perf_counter() - started)
        profiler = cProfile.Profile()
        profiler.enable()
        for msisdn, channel in sample:
            one(msisdn, channel)
        profiler.disable()
        stats[group] = (pstats.Stats(profiler).stats, len(sample))  # type: ignore[attr-defined]
    found: dict[str, Any] = {
        "profile_requests": {g: len(sample) for g, sample in groups.items()},
        "profile_us_per_req_by_channel": {
            c: round(1e6 * sum(v) / len(v)) for c, v in spent.items()
        },
    }
    for label, target in STAGES:
        code = _code(target)
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        cells = []
        for group, (raw, count) in stats.items():
            hit = raw.get(key)  # (primitive calls, calls, own time, cumulative, callers)
            if hit is not None:
                cells.append(f"{group} {1e6 * hit[3] / count:,.0f} ({hit[1] / count:.2g} calls)")
        if cells:
            found[f"profile {label}"] = "µs/req: " + "; ".join(cells)
    for group, (raw, count) in stats.items():
        own = sorted(raw.items(), key=lambda item: -item[1][2])[:6]
        found[f"profile own time, {group}"] = {
            f"{Path(path).name}:{line} {name}" if line else name: round(1e6 * hit[2] / count)
            for (path, line, name), hit in own
        }
    found |= _snapshot_row(state, [m for m, _ in pairs[:n]])
    state.lake.engine.close()
    return found


def _snapshot_row(state: Any, numbers: list[str]) -> dict[str, str]:
    """One subscriber's snapshot row, µs a lookup: as the route reads it, and alternatives."""
    from steward.realtime.profile import OnlineProfile
    from steward.tags import service as tags

    found: dict[str, str] = {}
    with state.sessions() as session:
        latest = tags.latest_snapshot(session, state.lake, date.today())
    assert latest is not None
    snapshot, per = latest[1], 1e6 / len(numbers)
    hot = state.lake.hot(snapshot, keep_text=("msisdn",))
    for label, sql in (
        ("parquet, every column (as the route)", f"SELECT * FROM {snapshot} WHERE msisdn = ?"),
        ("parquet, msisdn column only", f"SELECT msisdn FROM {snapshot} WHERE msisdn = ?"),
        ("app's in-memory table (lake.hot)", f"SELECT * FROM {hot} WHERE msisdn = ?"),
    ):
        started = time.perf_counter()
        for msisdn in numbers:
            state.lake.engine.query(sql, [msisdn]).to_pylist()
        found[f"snapshot row: {label}"] = f"{per * (time.perf_counter() - started):,.0f} µs"
    online = OnlineProfile(state.lake.engine.query(f"SELECT * FROM {snapshot}"), latest[0])
    started = time.perf_counter()
    for msisdn in numbers:
        dict(online.view(msisdn) or {})
    found["snapshot row: OnlineProfile view, every column"] = (
        f"{per * (time.perf_counter() - started):,.0f} µs"
    )
    return found


def _code(target: str) -> Any:
    module, _, qualname = target.partition(":")
    found: Any = sys.modules[module] if module == "__main__" else importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found.__code__


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--home", type=Path, default=None, help="reuse (or build) this home")
    parser.add_argument("--numbers", type=int, default=2000, help="subscribers to rotate")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument("--profile", type=int, default=150, help="requests a group; 0: none")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--short-seconds", type=float, default=5.0, help=SHORT_HELP)
    parser.add_argument("--serve", choices=("steward", "bare", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stock", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, int(args.workers), stock=args.stock)
        return

    from steward.simulation.demo import PASSWORD

    before = os.getloadavg()[0]  # other work on the machine shows here
    scratch = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    try:
        home = args.home.resolve() if args.home else scratch / "home"
        logs = scratch / "logs"
        logs.mkdir()
        built = build_home(home, args.subscribers)
        numbers, snapshot_rows = pick_numbers(home, args.numbers, args.seed)
        pairs = [(m, c) for m in numbers for c in range(len(CHANNELS))]
        random.Random(args.seed).shuffle(pairs)
        result: dict[str, Any] = {
            "subscribers": snapshot_rows,
            "demo_build_s": round(built, 1) if built else "reused",
            "numbers_rotated": len(numbers),
            "channels_rotated": ",".join(CHANNELS),
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "cores": os.cpu_count(),
            "note": f"client (1 process, asyncio) and servers share {os.cpu_count()} cores; "
            "uvicorn h11/asyncio, no access log; cpu_pct is of one core",
            "target": f">= {TARGET_RPS} req/s, p99 < {TARGET_P99_MS:g} ms",
        }
        load = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
        short = load | {"seconds": args.short_seconds or args.seconds}
        with running_server("raw", 1, home, logs) as raw:
            result["client_ceiling (raw asyncio server)"] = summary(run_load(raw, pairs, **short))
        token = ""
        for workers in (int(w) for w in args.workers.split(",")):
            if workers > 1 and args.short_seconds > 0:
                with running_server("bare", workers, home, logs, stock=True) as bare:
                    result[f"bare_w{workers}_stock_uvicorn"] = summary(
                        run_load(bare, pairs, **short)
                    )
            with running_server("bare", workers, home, logs) as bare:
                result[f"bare_w{workers}"] = base = summary(run_load(bare, pairs, **load))
            with running_server("steward", workers, home, logs) as ours:
                token = token or login(ours.port, PASSWORD)
                measured = run_load(ours, pairs, token=token, **load)
            answered = max(len(measured.latencies), 1)
            result[f"steward_w{workers}"] = figures = summary(measured) | {
                "with_offers_pct": round(100 * measured.with_offers / answered)
            }
            result[f"steward_w{workers}_by_channel"] = by_channel(measured)
            result[f"steward_over_bare_w{workers}"] = ratios(figures, base["rps"], base["p99_ms"])
            result[f"steward_over_target_w{workers}"] = ratios(figures, TARGET_RPS, TARGET_P99_MS)
        result["load_average_1m"] = f"{before:.2f} before, {os.getloadavg()[0]:.2f} after"
        if args.profile:
            result |= profile(home, token, pairs, args.profile)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
