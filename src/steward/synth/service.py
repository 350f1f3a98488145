"""Generate the synthetic province: the interface files an operator delivers, plus hidden truth.

The run loops over days and, within a pass, over fixed-size chunks of subscribers; every
chunk's draws are seeded by (seed, chunk, day, stream), so the output depends only on the
seed, never on order or timing. Writing happens on a background thread, one Parquet row group
per chunk, which bounds memory by the chunk size: only the balances are kept for every
subscriber.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from steward.ingest.schemas import BILL, INTERFACES, PRODUCT
from steward.synth import accounts, snapshot, usage
from steward.synth.catalogue import product_table
from steward.synth.numbers import MAX_SUBSCRIBERS, Stream, rng
from steward.synth.population import CHUNK_SIZE, Population, build
from steward.synth.province import Province
from steward.synth.writer import TEXT_ENCODINGS, InterfaceFile, Sink

DAILY = ("voice", "data", "sms", "recharge", "balance", "complaint", "contact")
TRUTH_FILE = "subscribers.parquet"

Progress = Callable[[int, int], None]


@dataclass
class GenerateSummary:
    """What a run wrote: rows per interface, file names, and how long it took."""

    subscribers: int
    days: int
    seed: int
    start: date
    out: Path
    truth_out: Path
    text_encoding: str | None
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            start=self.start.isoformat(),
            out=str(self.out),
            truth_out=str(self.truth_out),
            total_rows=self.total_rows,
            seconds=round(self.seconds, 3),
        )
        return data


HISTORY_MONTHS = 6


def bill_months(start: date, days: int) -> list[date]:
    """First days of the six months before the start (the history a first delivery carries)
    and of every month the window touches."""
    months: list[date] = []
    month = start.replace(day=1)
    for _ in range(HISTORY_MONTHS):
        month = (month - timedelta(days=1)).replace(day=1)
        months.insert(0, month)
    last = start + timedelta(days=max(days, 1) - 1)
    month = start.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _chunks(subscribers: int, chunk_size: int) -> Iterator[tuple[int, int, int]]:
    for chunk, lo in enumerate(range(0, subscribers, chunk_size)):
        yield chunk, lo, min(chunk_size, subscribers - lo)


def generate(
    *,
    subscribers: int,
    days: int,
    seed: int,
    out: Path,
    start: date = date(2026, 11, 1),
    truth_out: Path | None = None,
    text_encoding: str | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> GenerateSummary:
    """Write ``subscribers`` x ``days`` of operator interface files into ``out``.

    ``truth_out`` (default ``<out>.truth``) receives the hidden per-subscriber truth. With
    ``text_encoding`` ("utf-8" or "gbk") files are headerless ``|``-delimited text, as
    operators deliver them; otherwise Parquet. ``progress(done, total)`` is called after each
    chunk. ``chunk_size`` is part of the seed's meaning: change it and the data changes.
    """
    if not 1 <= subscribers <= MAX_SUBSCRIBERS:
        raise ValueError(f"subscribers must be between 1 and {MAX_SUBSCRIBERS}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if text_encoding is not None and text_encoding.lower() not in TEXT_ENCODINGS:
        raise ValueError(f"text encoding must be one of {TEXT_ENCODINGS}")
    if chunk_size < 1:
        raise ValueError("chunk size must be positive")
    encoding = text_encoding.lower() if text_encoding else None
    if truth_out is None:
        resolved = out.resolve()
        truth_out = resolved.with_name(resolved.name + ".truth")
    truth_dir = truth_out
    out.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    summary = GenerateSummary(subscribers, days, seed, start, out, truth_dir, encoding)
    run = _Run(summary, chunk_size, progress)
    try:
        run.product()
        for offset in range(days):
            run.day(usage.Day(offset, start + timedelta(days=offset)))
    except BaseException:
        run.sink.abandon()
        raise
    run.sink.close()
    summary.seconds = time.perf_counter() - began
    return summary


class _Run:
    """One generation: the day loop over chunks, files open for the pass, the balances."""

    def __init__(self, summary: GenerateSummary, chunk_size: int, progress: Progress | None):
        self.s = summary
        self.province = Province()
        self.chunks = list(_chunks(summary.subscribers, chunk_size))
        self.total_units = len(self.chunks) * summary.days
        self.done = 0
        self.progress = progress
        self.sink = Sink()
        self.balances = np.zeros(summary.subscribers, dtype=np.float64)
        self.months = bill_months(summary.start, summary.days)
        summary.rows.update(dict.fromkeys(INTERFACES, 0))

    def _open(self, name: str, day: date) -> InterfaceFile:
        f = InterfaceFile(self.s.out, INTERFACES[name], day, self.s.text_encoding)
        self.s.files.append(f.path.name)
        return f

    def _close(self, files: list[InterfaceFile]) -> None:
        def close() -> None:
            for f in files:
                f.close()
                self.s.rows[f.interface.name] += f.rows

        self.sink.submit(close)
        self.sink.drain()

    def product(self) -> None:
        f = self._open(PRODUCT.name, self.s.start)
        f.write(product_table())
        self._close([f])

    def day(self, day: usage.Day) -> None:
        """Every chunk's records of one day; on the first day also the as-of-start files."""
        first = day.offset == 0
        snap: dict[str, InterfaceFile] = {}
        if first:
            snap = {
                "profile": self._open("profile", day.date),
                "subscription": self._open("subscription", day.date),
            }
            snap.update(
                {f"bill{m}": self._open(BILL.name, month) for m, month in enumerate(self.months)}
            )
        files = {name: self._open(name, day.date) for name in DAILY}
        truth = _TruthFile(self.s.truth_out / TRUTH_FILE) if first else None
        for chunk, lo, n in self.chunks:
            pop = build(
                seed=self.s.seed,
                chunk=chunk,
                lo=lo,
                n=n,
                start=self.s.start,
                province=self.province,
            )
            msisdn = pc.cast(pa.array(pop.msisdn), pa.string())
            if first:
                self.balances[lo : lo + n] = pop.initial_balance
                self._snapshot(chunk, pop, msisdn, snap, truth)
            self._records(chunk, day, pop, msisdn, files, self.balances[lo : lo + n])
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total_units)
        self._close([*snap.values(), *files.values()])
        if truth is not None:
            truth.close()

    def _snapshot(
        self,
        chunk: int,
        pop: Population,
        msisdn: pa.Array,
        files: dict[str, InterfaceFile],
        truth: _TruthFile | None,
    ) -> None:
        seed, start = self.s.seed, self.s.start
        profile = snapshot.profile(pop, msisdn, self.province, seed)
        self.sink.submit(_writer(files["profile"], profile))
        self.sink.submit(_writer(files["subscription"], snapshot.subscriptions(pop, msisdn)))
        for m, month in enumerate(self.months):
            table = snapshot.bill(pop, msisdn, month, start, rng(seed, Stream.BILL, chunk, m))
            self.sink.submit(_writer(files[f"bill{m}"], table))
        if truth is not None:
            table = snapshot.truth(pop, msisdn, start)
            self.sink.submit(lambda: truth.write(table))

    def _records(
        self,
        chunk: int,
        day: usage.Day,
        pop: Population,
        msisdn: pa.Array,
        files: dict[str, InterfaceFile],
        balances: np.ndarray[Any, np.dtype[np.float64]],
    ) -> None:
        seed, offset = self.s.seed, day.offset

        def stream(which: Stream) -> np.random.Generator:
            return rng(seed, which, chunk, offset)

        state = usage.day_state(pop, day, self.province, stream(Stream.DAY))
        c = usage.Chunk(
            pop=pop,
            day=day,
            state=state,
            msisdn=msisdn,
            province=self.province,
            seed=seed,
            total=self.s.subscribers,
        )
        charges = np.zeros(pop.n)
        for name, make, which in (
            ("voice", usage.voice, Stream.VOICE),
            ("data", usage.data, Stream.DATA),
            ("sms", usage.sms, Stream.SMS),
        ):
            table, charged = make(c, stream(which))
            charges += charged
            self.sink.submit(_writer(files[name], table))
        recharge, added = accounts.recharge(c, balances, stream(Stream.RECHARGE))
        self.sink.submit(_writer(files["recharge"], recharge))
        balance = accounts.balance(c, balances, added, charges)
        self.sink.submit(_writer(files["balance"], balance))
        tickets, raised = accounts.complaints(c, stream(Stream.COMPLAINT))
        self.sink.submit(_writer(files["complaint"], tickets))
        contacts = accounts.contacts(c, raised, stream(Stream.CONTACT))
        self.sink.submit(_writer(files["contact"], contacts))


class _TruthFile:
    """The hidden truth, always Parquet: it is for evaluation, not for the platform."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _writer(f: InterfaceFile, table: pa.Table) -> Callable[[], None]:
    return lambda: f.write(table)
