"""Segment trial count of a 5-condition rule over a province of profiles, against PostgreSQL.

    uv run python benchmarks/bench_segments.py --rows 18000000 [--repeat 15] [--json]

Builds a profile snapshot of ``--rows`` subscribers with the catalogue's column names and
realistic distributions (DuckDB SQL, seconds), then times Steward's trial count (total, by
city / brand / VIP level, masked sample) three ways, p50 over ``--repeat`` runs:
- steward/parquet: straight from the snapshot file (what a one-shot CLI call does);
- steward/memory: the API's path, the snapshot held in engine memory;
- postgres: the same rule, compiled by the rule language to PostgreSQL, on the same rows in a
  PostgreSQL table (the operational store's engine), parallel scan as configured.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg

from report import print_result
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from steward.segments import service
from steward.tags.service import load_catalogue

RULE = (
    "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 120 AND NOT complaint_sensitive "
    "AND tenure_months >= 12 AND city IN ('lanzhou', 'tianshui', 'baiyin')"
)
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "msisdn VARCHAR, city VARCHAR, brand VARCHAR, vip_level VARCHAR, arpu_3m DOUBLE, "
    "complaint_sensitive BOOLEAN, tenure_months BIGINT, data_mb_30d DOUBLE, age BIGINT"
)


def build_snapshot(duck: DuckDBEngine, rows: int, path: Path) -> None:
    cities = (
        "['lanzhou','lanzhou','lanzhou','tianshui','tianshui','baiyin','dingxi',"
        "'longnan','qingyang','pingliang','wuwei','zhangye','jiuquan','linxia','gannan',"
        "'jinchang','jiayuguan']"
    )
    duck.execute(f"""
        COPY (
          SELECT '13' || lpad(CAST(i AS VARCHAR), 9, '0') AS msisdn,
            {cities}[1 + CAST(floor(random() * 17) AS INT)] AS city,
            CASE WHEN random() < 0.3 THEN 'gotone' WHEN random() < 0.5 THEN 'mzone'
                 ELSE 'easyown' END AS brand,
            CASE WHEN random() < 0.01 THEN 'diamond' WHEN random() < 0.03 THEN 'gold'
                 WHEN random() < 0.08 THEN 'silver' ELSE 'none' END AS vip_level,
            round(exp(4.2 + 0.6 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())), 2)
              AS arpu_3m,
            random() < 0.01 AS complaint_sensitive,
            CAST(floor(random() * 240) AS BIGINT) AS tenure_months,
            round(random() * 20000, 1) AS data_mb_30d,
            CAST(15 + floor(random() * 60) AS BIGINT) AS age
          FROM range({rows}) t(i)
        ) TO '{path.as_posix()}' (FORMAT parquet)
    """)


def p50(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def load_postgres(duck: DuckDBEngine, path: Path) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as pg:
        pg.execute("DROP TABLE IF EXISTS bench_snapshot")
        pg.execute(
            "CREATE TABLE bench_snapshot (msisdn text, city text, brand text, vip_level text, "
            "arpu_3m double precision, complaint_sensitive boolean, tenure_months bigint, "
            "data_mb_30d double precision, age bigint)"
        )
        csv = path.with_suffix(".tsv")
        duck.execute(
            f"COPY (SELECT * FROM {duck.scan_parquet([path])}) TO '{csv.as_posix()}' "
            "(HEADER false, DELIMITER '\t')"
        )
        with pg.cursor().copy("COPY bench_snapshot FROM STDIN") as copy, csv.open("rb") as f:
            while block := f.read(8 * 1024 * 1024):
                copy.write(block)
        pg.execute("VACUUM ANALYZE bench_snapshot")


def postgres_count(condition: str) -> Callable[[], object]:
    sql = (
        "SELECT city, brand, vip_level, GROUPING(city, brand, vip_level) AS g, count(*) "
        f"FROM bench_snapshot WHERE {condition} "
        "GROUP BY GROUPING SETS ((), (city), (brand), (vip_level))"
    )
    sample = f"SELECT msisdn FROM bench_snapshot WHERE {condition} LIMIT 5"

    def run() -> object:
        with psycopg.connect(POSTGRES) as pg:
            rows = pg.execute(sql).fetchall()
            pg.execute(sample).fetchall()
            return next(r[4] for r in rows if r[3] == 7)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=18_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-segments-"))
    catalogue = load_catalogue()
    try:
        duck = DuckDBEngine(memory_limit="12GB", temp_directory=scratch / "tmp")
        snapshot = scratch / "snapshot.parquet"
        build_snapshot(duck, args.rows, snapshot)
        relation = duck.scan_parquet([snapshot])
        cold = Lake(scratch / "lake", duck)
        hot = Lake(scratch / "lake", duck, cache_tables=True)
        condition = service.condition_sql(RULE, catalogue, "duckdb")

        def steward(lake: Lake) -> Callable[[], object]:
            rows = f"SELECT * FROM {lake.hot(relation, keep_text=('msisdn',))} WHERE {condition}"
            return lambda: service.count_rows(lake, snapshot_day, rows).total

        snapshot_day = date(2026, 11, 30)
        parquet_s, total = p50(steward(cold), args.repeat)
        hot.hot(relation, keep_text=("msisdn",))  # load once, as the API does at its first count
        memory_s, total_hot = p50(steward(hot), args.repeat)
        load_postgres(duck, snapshot)
        pg_condition = service.condition_sql(RULE, catalogue, "postgres")
        postgres_s, total_pg = p50(postgres_count(pg_condition), max(3, args.repeat // 3))
        assert total == total_hot == total_pg, (total, total_hot, total_pg)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "rows": args.rows,
        "rule": RULE,
        "matching": total,
        "steward_parquet_p50_ms": round(parquet_s * 1000, 1),
        "steward_memory_p50_ms": round(memory_s * 1000, 1),
        "postgres_p50_ms": round(postgres_s * 1000, 1),
        "ratio_postgres_to_steward_memory": round(postgres_s / memory_s, 1),
        "ratio_postgres_to_steward_parquet": round(postgres_s / parquet_s, 1),
    }
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
