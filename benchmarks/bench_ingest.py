"""Ingest throughput against the engine's own floor, measured in the same run.

Generates a province (or reuses one), then times two things over the same files:
- baseline: DuckDB copying every file to Parquet with no checks (read + write, nothing else);
- steward: the full load (hash, every field check, duplicates, references, quarantine,
  staging, atomic publish).
It prints rows/s for both and the ratio, so a regression shows as a ratio, not a wall time.

    uv run python benchmarks/bench_ingest.py --subscribers 200000 --days 1 [--text] [--json]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from report import print_result
from steward import db
from steward.ingest.schemas import DATA_SUFFIXES
from steward.ingest.service import IngestOptions, ingest
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from steward.synth.service import generate


def baseline_copy(files: list[Path], scratch: Path) -> tuple[int, float]:
    """Read every file and write it back as Parquet, with no checks: the engine's floor."""
    engine = DuckDBEngine(memory_limit="8GB", temp_directory=scratch / "tmp")
    rows = 0
    started = time.perf_counter()
    for number, path in enumerate(files):
        if path.suffix == ".parquet":
            source = engine.scan_parquet([path])
        else:
            source = (
                f"read_csv('{path.as_posix()}', delim='|', header=false, all_varchar=true, "
                "quote='', escape='')"
            )
        target = scratch / f"copy-{number}.parquet"
        engine.execute(f"COPY (SELECT * FROM {source}) TO '{target.as_posix()}' (FORMAT parquet)")
        rows += engine.query(f"SELECT count(*) AS n FROM {source}").column("n")[0].as_py()
    seconds = time.perf_counter() - started
    engine.close()
    return rows, seconds


def steward_load(delivery: Path, scratch: Path) -> tuple[int, float]:
    engine = db.make_engine(f"sqlite:///{(scratch / 'steward.db').as_posix()}")
    db.migrate(engine)
    lake = Lake(scratch / "lake", DuckDBEngine(memory_limit="8GB", temp_directory=scratch / "t"))
    started = time.perf_counter()
    with db.transaction(db.session_factory(engine)) as session:
        report = ingest(session, lake, delivery, IngestOptions(quarantine_root=scratch / "q"))
    seconds = time.perf_counter() - started
    assert report.rows_quarantined == 0, report.to_dict()
    return report.rows_loaded, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--text",
        action="store_true",
        help="deliver |-delimited UTF-8 text (DuckDB alone cannot read GBK)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        delivery = scratch / "delivery"
        generate(
            subscribers=args.subscribers,
            days=args.days,
            seed=args.seed,
            out=delivery,
            start=date(2026, 11, 1),
            text_encoding="utf-8" if args.text else None,
        )
        files = sorted(p for p in delivery.iterdir() if p.suffix in DATA_SUFFIXES)
        (scratch / "base").mkdir()
        base_rows, base_s = baseline_copy(files, scratch / "base")
        (scratch / "load").mkdir()
        rows, seconds = steward_load(delivery, scratch / "load")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "subscribers": args.subscribers,
        "days": args.days,
        "format": "utf-8 text" if args.text else "parquet",
        "rows": rows,
        "baseline_rows": base_rows,
        "baseline_seconds": round(base_s, 2),
        "baseline_rows_per_s": round(base_rows / base_s),
        "steward_seconds": round(seconds, 2),
        "steward_rows_per_s": round(rows / seconds),
        "ratio_steward_to_baseline_time": round(seconds / base_s, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "projected_province_day_minutes": round(seconds / rows * 576e6 / 60, 1),
    }
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
