"""Benchmark the synthetic province generator against raw Parquet writing speed.

    uv run python benchmarks/bench_generate.py --subscribers 1000000 --days 1 [--json]

The generator runs in a child process, so its peak resident memory is the child's own
(``ru_maxrss`` of the waited-for child). The baseline writes the same number of rows of random
int64 columns with pyarrow (same compression, one row group per million rows): the ratio says
how close generation comes to bare encode-and-write speed. The province day (R-DATA-3: 18 M
subscribers) is projected linearly from the measured seconds per subscriber-day.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROVINCE_SUBSCRIBERS = 18_000_000
BASELINE_COLUMNS = 8  # about the width of a voice or data record
BASELINE_ROW_GROUP = 1_000_000


def _generate_in_child(
    subscribers: int, days: int, seed: int, out: str, results: mp.Queue[dict[str, Any]]
) -> None:
    from steward.synth import generate

    summary = generate(subscribers=subscribers, days=days, seed=seed, out=Path(out))
    results.put(summary.to_dict())


def run_generator(subscribers: int, days: int, seed: int, out: Path) -> tuple[dict[str, Any], int]:
    """Generate in a fresh process; return its summary and its peak RSS in bytes."""
    context = mp.get_context("spawn")
    results: mp.Queue[dict[str, Any]] = context.Queue()
    child = context.Process(
        target=_generate_in_child, args=(subscribers, days, seed, str(out), results)
    )
    child.start()
    summary = results.get()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"generator failed with exit code {child.exitcode}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return summary, peak_kib * 1024


def run_baseline(rows: int, folder: Path) -> float:
    """Seconds to write ``rows`` rows of random int64 columns to Parquet."""
    from steward.synth.writer import PARQUET_COMPRESSION

    generator = np.random.default_rng(0)
    group = pa.table(
        {
            f"c{i}": generator.integers(0, 2**62, BASELINE_ROW_GROUP, dtype=np.int64)
            for i in range(BASELINE_COLUMNS)
        }
    )
    began = time.perf_counter()
    with pq.ParquetWriter(
        folder / "baseline.parquet", group.schema, compression=PARQUET_COMPRESSION
    ) as writer:
        left = rows
        while left > 0:
            size = min(left, BASELINE_ROW_GROUP)
            writer.write_table(group.slice(0, size), row_group_size=size)
            left -= size
    return time.perf_counter() - began


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    summary, peak = run_generator(args.subscribers, args.days, args.seed, folder / "delivery")
    rows = int(summary["total_rows"])
    seconds = float(summary["seconds"])
    result: dict[str, Any] = {
        "subscribers": args.subscribers,
        "days": args.days,
        "total_rows": rows,
        "rows_by_interface": summary["rows"],
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "peak_rss_bytes": peak,
        "peak_rss_gib": round(peak / 2**30, 3),
        "output_bytes": sum(p.stat().st_size for p in (folder / "delivery").iterdir()),
        "province_day_projected_seconds": round(
            seconds / (args.subscribers * args.days) * PROVINCE_SUBSCRIBERS, 1
        ),
    }
    shutil.rmtree(folder / "delivery")
    shutil.rmtree(folder / "delivery.truth")
    if not args.no_baseline:
        base_seconds = run_baseline(rows, folder)
        result["baseline_rows_per_second"] = round(rows / base_seconds)
        result["baseline_seconds"] = round(base_seconds, 3)
        result["ratio_to_baseline"] = round(base_seconds / seconds, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pyarrow baseline")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-generate-", dir=args.out))
    try:
        result = measure(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"subscribers x days       {args.subscribers:,} x {args.days}")
    print(f"total rows               {result['total_rows']:,}")
    print(f"seconds                  {result['seconds']:.2f}")
    print(f"rows/s                   {result['rows_per_second']:,}")
    print(f"peak RSS (generator)     {result['peak_rss_gib']:.2f} GiB")
    print(f"output                   {result['output_bytes'] / 2**20:,.0f} MiB")
    print(f"province day (18 M x 1)  {result['province_day_projected_seconds']:,.0f} s projected")
    if "ratio_to_baseline" in result:
        print(f"baseline int64 rows/s    {result['baseline_rows_per_second']:,}")
        print(f"ratio to baseline        {result['ratio_to_baseline']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
