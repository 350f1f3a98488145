"""How well the segment models (R-MINE-5) recover the synthetic province's hidden truth.

    uv run python benchmarks/quality_households.py [--subscribers 20000] [--days 7] [--json]

1. Generates a province (Parquet) into a scratch folder, or reuses ``--data`` (the delivery
   folder; its truth is ``<data>.truth``).
2. Runs ``call_graph`` + ``households``, ``multi_sim`` and ``lifestyle`` on the delivered
   files only.
3. Scores them against the truth file, which the models never read: households pairwise
   (every pair of numbers put in one household is a prediction; the truth's pairs are the
   pairs sharing a ``household_id``; also against the truth of the lines that made calls,
   since a data card or a cancelled line cannot show in a call graph), students and
   migrants per subscriber, and the upgrade potential by its rank correlation with the
   hidden handset affinity. The province has no multi-SIM owners (numbers share a customer
   id only in family bundles), so every flagged multi-SIM pair is a false positive.
   Figures are quality, not speed; the seconds are printed for orientation.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from report import print_result
from steward.lake.engine import DuckDBEngine
from steward.mining.households import call_graph, households, multi_sim
from steward.mining.lifestyle import campus_plan_ids, lifestyle
from steward.synth.service import TRUTH_FILE, generate

START = date(2026, 11, 1)


def files(engine: DuckDBEngine, data: Path, interface: str) -> str:
    return engine.scan_parquet(sorted(data.glob(f"{interface}_*.parquet")))


def pairwise(engine: DuckDBEngine, predicted: str, truth: str) -> dict[str, float]:
    """Precision and recall over pairs of numbers placed in the same household."""
    row = engine.query(
        f"""
        WITH p AS (SELECT x.msisdn AS a, y.msisdn AS b FROM {predicted} x JOIN {predicted} y
                   ON x.household_id = y.household_id AND x.msisdn < y.msisdn),
             t AS (SELECT x.msisdn AS a, y.msisdn AS b FROM {truth} x JOIN {truth} y
                   ON x.household_id = y.household_id AND x.msisdn < y.msisdn)
        SELECT (SELECT count(*) FROM p) AS predicted, (SELECT count(*) FROM t) AS actual,
               (SELECT count(*) FROM p JOIN t USING (a, b)) AS hits
        """
    ).to_pylist()[0]
    return _scores(row["hits"], row["predicted"], row["actual"])


def flagged(engine: DuckDBEngine, flag: str, truth_flag: str) -> dict[str, float]:
    row = engine.query(
        f"""SELECT count(*) FILTER (WHERE s.{flag} AND t.{truth_flag}) AS hits,
                   count(*) FILTER (WHERE s.{flag}) AS predicted,
                   count(*) FILTER (WHERE t.{truth_flag}) AS actual
            FROM segments s JOIN truth t USING (msisdn)"""
    ).to_pylist()[0]
    return _scores(row["hits"], row["predicted"], row["actual"])


def _scores(hits: int, predicted: int, actual: int) -> dict[str, float]:
    return {
        "precision": round(hits / predicted, 4) if predicted else 0.0,
        "recall": round(hits / actual, 4) if actual else 0.0,
        "predicted": predicted,
        "actual": actual,
    }


def measure(data: Path) -> dict[str, Any]:
    engine = DuckDBEngine()
    truth_path = data.resolve().with_name(data.resolve().name + ".truth") / TRUTH_FILE
    engine.register("truth", engine.query(f"SELECT * FROM {engine.scan_parquet([truth_path])}"))
    profile, voice = files(engine, data, "profile"), files(engine, data, "voice")
    began = time.perf_counter()
    edges = call_graph(engine, voice, files(engine, data, "sms"), subscribers=profile)
    found = households(edges)
    graph_seconds = time.perf_counter() - began
    engine.register("found", found)
    engine.register(
        "calling_truth",
        engine.query(
            f"SELECT * FROM truth SEMI JOIN (SELECT DISTINCT msisdn FROM {voice}) USING (msisdn)"
        ),
    )
    began = time.perf_counter()
    pairs = multi_sim(engine, profile, voice)
    sim_seconds = time.perf_counter() - began
    began = time.perf_counter()
    segments = lifestyle(
        engine,
        profile=profile,
        voice=voice,
        data=files(engine, data, "data"),
        as_of=START,
        campus_plans=campus_plan_ids(engine, files(engine, data, "product")),
        households="found",
    )
    life_seconds = time.perf_counter() - began
    engine.register("segments", segments)
    (upgrade,) = engine.query(
        """SELECT corr(x, y) AS rho FROM (
             SELECT rank() OVER (ORDER BY s.upgrade_potential) AS x,
                    rank() OVER (ORDER BY t.affinity_handset) AS y
             FROM segments s JOIN truth t USING (msisdn) WHERE s.upgrade_potential IS NOT NULL)"""
    )["rho"].to_pylist()
    return {
        "subscribers": engine.query("SELECT count(*) AS n FROM truth")["n"][0].as_py(),
        "edges": edges.num_rows,
        "households_found": len(set(found["household_id"].to_pylist())),
        "household_pairs": pairwise(engine, "found", "truth"),
        # Lines with no calls (data cards, suspended or cancelled) cannot show in a call graph.
        "household_pairs_of_calling_lines": pairwise(engine, "found", "calling_truth"),
        "students": flagged(engine, "is_student_likely", "is_student"),
        "migrants": flagged(engine, "is_migrant_likely", "is_migrant"),
        "upgrade_spearman_vs_handset_affinity": round(float(upgrade), 4),
        "multi_sim_candidate_pairs": pairs.num_rows,
        "multi_sim_flagged": sum(pairs["is_multi_sim"].to_pylist()),
        "seconds_graph_and_households": round(graph_seconds, 2),
        "seconds_multi_sim": round(sim_seconds, 2),
        "seconds_lifestyle": round(life_seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="an existing delivery folder (Parquet)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.data is not None:
        print_result(measure(args.data), as_json=args.json)
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="quality-households-"))
    try:
        began = time.perf_counter()
        out = scratch / "delivery"
        generate(subscribers=args.subscribers, days=args.days, seed=args.seed, out=out, start=START)
        result = {"seconds_generate": round(time.perf_counter() - began, 2), **measure(out)}
        print_result(result, as_json=args.json)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
