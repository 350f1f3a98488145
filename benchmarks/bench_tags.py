"""Tag refresh speed and memory, with the baselines measured in the same run.

    uv run python benchmarks/bench_tags.py --subscribers 1000000 --days 30 [--data DIR] [--json]

1. Generates the province (or reuses ``--data``) and registers its files in a scratch lake
   (no validation: this measures the tag compiler, not ingest).
2. Steward: ``tags.refresh`` of the whole catalogue as of the last day, in a child process so
   its peak memory is its own.
3. Ceiling: the voice and data usage tags written by hand as plain DuckDB SQL (one scan per
   table, windows as FILTER clauses), against Steward's compiled query for the same tags.
4. pandas: the same usage tags with pandas ``groupby`` on one day of records (pandas cannot
   hold 30 days of a million subscribers in memory), compared as rows per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from report import print_result
from steward import db
from steward.ingest.schemas import parse_file_name
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake, StagedPartition
from steward.tags import service
from steward.tags.schemas import TagCatalogue

START = date(2026, 11, 1)
USAGE_TAGS = [
    "voice_calls_30d",
    "voice_calls_7d",
    "voice_minutes_30d",
    "voice_minutes_7d",
    "voice_mo_minutes_30d",
    "voice_mt_minutes_30d",
    "voice_contacts_30d",
    "voice_days_active_30d",
    "voice_charge_30d",
    "data_mb_30d",
    "data_mb_7d",
    "data_sessions_30d",
    "data_days_active_30d",
    "data_charge_30d",
]


def register(data: Path, root: Path) -> str:
    """Publish every generated file into a fresh lake catalogue; return the database URL."""
    url = f"sqlite:///{(root / 'bench.db').as_posix()}"
    engine = db.make_engine(url)
    db.migrate(engine)
    lake = Lake(root / "lake", DuckDBEngine())
    staged = []
    for path in sorted(data.glob("*.parquet")):
        name = parse_file_name(path)
        target = lake.stage_path(name.interface.name, name.day, name.part_key, "bench")
        os.link(path, target)  # a hard link: the lake holds it, no copy
        digest = hashlib.sha256(path.name.encode()).hexdigest()
        staged.append(
            StagedPartition(name.interface.name, name.day, name.part_key, target, 0, digest)
        )
    with db.transaction(db.session_factory(engine)) as session:
        lake.publish(session, staged, "bench")
    engine.dispose()
    return url


def _refresh_child(url: str, root: str, as_of: str, names: list[str] | None, out: Any) -> None:
    engine = db.make_engine(url)
    lake = Lake(
        Path(root) / "lake", DuckDBEngine(memory_limit="16GB", temp_directory=Path(root) / "tmp")
    )
    catalogue = service.load_catalogue()
    if names is not None:
        catalogue = subset(catalogue, names)
    with db.transaction(db.session_factory(engine)) as session:
        report = service.refresh(session, lake, catalogue, date.fromisoformat(as_of))
    out.put(
        {
            "seconds": report.seconds,
            "subscribers": report.subscribers,
            "tags": report.tags,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
    )


def refresh_in_child(
    url: str, root: Path, as_of: date, names: list[str] | None = None
) -> dict[str, Any]:
    queue: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=_refresh_child, args=(url, str(root), as_of.isoformat(), names, queue)
    )
    child.start()
    result = queue.get()
    child.join()
    return result


def subset(catalogue: TagCatalogue, names: list[str]) -> TagCatalogue:
    keep = set(names) | {t.name for t in catalogue.tags if t.source == "profile"}
    return TagCatalogue(tags=[t for t in catalogue.tags if t.name in keep])


def hand_written(data: Path, as_of: date, days: int) -> float:
    """The usage tags as an analyst would write them in DuckDB: one scan a table."""
    duck = DuckDBEngine(memory_limit="16GB")

    def files(table: str, n: int) -> str:
        wanted = [data / f"{table}_{as_of - timedelta(days=i):%Y%m%d}.parquet" for i in range(n)]
        return duck.scan_parquet([p for p in wanted if p.exists()])

    week = f"DATE '{as_of - timedelta(days=6)}'"
    sql = f"""
    WITH v AS (
      SELECT msisdn, count(*) AS voice_calls_30d,
        count(*) FILTER (WHERE start_time >= {week}) AS voice_calls_7d,
        sum(duration_s) / 60.0 AS voice_minutes_30d,
        sum(duration_s) FILTER (WHERE start_time >= {week}) / 60.0 AS voice_minutes_7d,
        sum(duration_s) FILTER (WHERE direction = 'mo') / 60.0 AS voice_mo_minutes_30d,
        sum(duration_s) FILTER (WHERE direction = 'mt') / 60.0 AS voice_mt_minutes_30d,
        count(DISTINCT other_party) AS voice_contacts_30d,
        count(DISTINCT CAST(start_time AS DATE)) AS voice_days_active_30d,
        sum(charge) AS voice_charge_30d
      FROM {files("voice", min(days, 30))} GROUP BY msisdn),
    d AS (
      SELECT msisdn, sum(bytes_up + bytes_down) / 1048576.0 AS data_mb_30d,
        sum(bytes_up + bytes_down) FILTER (WHERE start_time >= {week}) / 1048576.0
          AS data_mb_7d,
        count(*) AS data_sessions_30d,
        count(DISTINCT CAST(start_time AS DATE)) AS data_days_active_30d,
        sum(charge) AS data_charge_30d
      FROM {files("data", min(days, 30))} GROUP BY msisdn)
    SELECT p.msisdn, v.* EXCLUDE (msisdn), d.* EXCLUDE (msisdn)
    FROM {duck.scan_parquet([data / f"profile_{START:%Y%m%d}.parquet"])} p
    LEFT JOIN v USING (msisdn) LEFT JOIN d USING (msisdn)
    """
    started = time.perf_counter()
    duck.execute(f"COPY ({sql}) TO '/dev/null' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    duck.close()
    return seconds


def pandas_day(data: Path, day: date) -> tuple[int, float]:
    """The same usage tags with pandas on one day's records: (rows, seconds)."""
    import pandas as pd

    started = time.perf_counter()
    voice = pd.read_parquet(data / f"voice_{day:%Y%m%d}.parquet")
    data_ = pd.read_parquet(data / f"data_{day:%Y%m%d}.parquet")
    voice["minutes"] = voice["duration_s"] / 60.0
    voice["mo"] = voice["minutes"].where(voice["direction"] == "mo", 0.0)
    voice["mt"] = voice["minutes"].where(voice["direction"] == "mt", 0.0)
    v = voice.groupby("msisdn").agg(
        voice_calls_30d=("minutes", "size"),
        voice_minutes_30d=("minutes", "sum"),
        voice_mo_minutes_30d=("mo", "sum"),
        voice_mt_minutes_30d=("mt", "sum"),
        voice_contacts_30d=("other_party", "nunique"),
        voice_charge_30d=("charge", "sum"),
    )
    data_["mb"] = (data_["bytes_up"] + data_["bytes_down"]) / 1048576.0
    d = data_.groupby("msisdn").agg(
        data_mb_30d=("mb", "sum"),
        data_sessions_30d=("mb", "size"),
        data_charge_30d=("charge", "sum"),
    )
    profile = pd.read_parquet(data / f"profile_{START:%Y%m%d}.parquet", columns=["msisdn"])
    profile.merge(v, on="msisdn", how="left").merge(d, on="msisdn", how="left")
    return len(voice) + len(data_), time.perf_counter() - started


def rows_in_window(data: Path, as_of: date, days: int) -> int:
    duck = DuckDBEngine()
    paths = [
        data / f"{t}_{as_of - timedelta(days=i):%Y%m%d}.parquet"
        for t in ("voice", "data")
        for i in range(min(days, 30))
    ]
    rows = (
        duck.query(
            f"SELECT count(*) AS n FROM {duck.scan_parquet([p for p in paths if p.exists()])}"
        )
        .column("n")[0]
        .as_py()
    )
    duck.close()
    return int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="reuse a generated delivery")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--no-pandas", action="store_true", help="skip pandas (too big)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-tags-"))
    data = args.data or scratch / "delivery"
    try:
        if args.data is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "steward.cli",
                    "generate",
                    "--subscribers",
                    str(args.subscribers),
                    "--days",
                    str(args.days),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(data),
                    "--json",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        as_of = START + timedelta(days=args.days - 1)
        url = register(data, scratch)
        full = refresh_in_child(url, scratch, as_of)
        print("full refresh:", json.dumps(full), file=sys.stderr, flush=True)
        ours_usage = refresh_in_child(url, scratch, as_of, USAGE_TAGS)
        print("usage tags:", json.dumps(ours_usage), file=sys.stderr, flush=True)
        hand_s = hand_written(data, as_of, args.days)
        print("hand-written usage tags:", round(hand_s, 2), file=sys.stderr, flush=True)
        usage_rows = rows_in_window(data, as_of, args.days)
        pandas_rows, pandas_s = (1, float("nan")) if args.no_pandas else pandas_day(data, as_of)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    records = usage_rows  # voice + data records in the 30-day window
    result = {
        "subscribers": args.subscribers,
        "days": args.days,
        "tags": full["tags"],
        "refresh_seconds": round(full["seconds"], 2),
        "records_in_window_voice_data": records,
        "refresh_records_per_s": round(records / full["seconds"]),
        "refresh_peak_rss_mib": full["peak_rss_mib"],
        "usage_tags_steward_seconds": round(ours_usage["seconds"], 2),
        "usage_tags_hand_sql_seconds": round(hand_s, 2),
        "ratio_steward_to_hand_sql": round(ours_usage["seconds"] / hand_s, 2),
        "usage_tags_steward_records_per_s": round(records / ours_usage["seconds"]),
    }
    if not args.no_pandas:
        result["pandas_records_per_s_one_day"] = round(pandas_rows / pandas_s)
        result["ratio_steward_to_pandas_speed"] = round(
            (records / ours_usage["seconds"]) / (pandas_rows / pandas_s), 1
        )
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
