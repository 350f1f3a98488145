"""Churn models on a synthetic province: training and scoring time against reading their
features alone, and the score's quality against the hidden truth.

    uv run python benchmarks/bench_models.py [--subscribers 1000000] [--seed 7] [--json]

Generates a province (one day, as delivered: profile, subscriptions, six months of bills),
publishes it to a fresh lake, then:

- trains the 30-day churn model as ``steward models train churn_30d`` does (two cohorts, an
  out-of-time report, the refit), against the baseline of the two cohort queries alone
  (what reading the features costs); the target is under 5 minutes at 1 M subscribers;
- scores every published model (churn 30 and 60 days, health) into ``model_scores``
  against the base query alone; projected to the province's 18 M (linear in lines; the
  target is under 3 minutes);
- scores the lines active on the first day against the truth: the AUC of the model's
  30-day probability for "leaves within 30 days", beside the AUC of the true hazard itself
  (the ceiling no model of the delivered files can pass).

Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tags import register
from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from steward.mining import churn
from steward.mining import service as models
from steward.mining.models import ModelKind
from steward.synth.service import TRUTH_FILE, generate

START = date(2026, 11, 1)
PROVINCE = 18_000_000


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def measure(root: Path, subscribers: int, seed: int) -> dict[str, Any]:
    data = root / "data"
    _, generated = timed(
        lambda: generate(subscribers=subscribers, days=1, seed=seed, out=data, start=START)
    )
    url = register(data, root)
    lake = Lake(root / "lake", DuckDBEngine(memory_limit="16GB", temp_directory=root / "tmp"))
    sessions = db.session_factory(db.make_engine(url))
    found: dict[str, Any] = {"subscribers": subscribers, "generate_s": round(generated, 1)}
    with db.transaction(sessions) as session:
        analyst, approver = (
            auth.create_user(
                session,
                username=n,
                password="a long password",
                role=r,
                district="province",
                by="bench",
            )
            for n, r in (("analyst", Role.ANALYST), ("approver", Role.APPROVER))
        )
        relations = churn.relations(session, lake)
        cutoff = START - timedelta(days=30)
        _, read = timed(
            lambda: [
                lake.engine.query(churn.cohort_sql(relations, d, 30)).num_rows
                for d in (cutoff - timedelta(days=30), cutoff)
            ]
        )
        version, trained = timed(
            lambda: models.train(session, lake, kind=ModelKind.CHURN_30D, by=analyst)
        )
        found["train"] = {
            "seconds": round(trained, 2),
            "features_only_s": round(read, 2),
            "ratio": round(trained / read, 2),
            "out_of_time_auc": version.metrics["auc"],
            "positives": version.metrics["positives"],
        }
        models.validate(session, lake, model_id=version.id, by=analyst, as_of=START)
        models.publish(session, model_id=version.id, by=approver, note="bench")
        day = START + timedelta(days=1)
        _, read = timed(lambda: lake.engine.query(churn.base_sql(session, lake, day)))
        scored, seconds = timed(lambda: models.score(session, lake, as_of=day))
        found["score"] = {
            "seconds": round(seconds, 2),
            "base_only_s": round(read, 2),
            "ratio": round(seconds / read, 2),
            "lines": scored.subscribers,
            "projected_province_s": round(seconds * PROVINCE / max(scored.subscribers, 1), 1),
        }
        found["quality"] = quality(lake, session, data.with_name(data.name + ".truth"))
    return found


def quality(lake: Lake, session: Any, truth: Path) -> dict[str, Any]:
    scores = lake.relation(session, models.SCORES_TABLE)
    rows = duckdb.sql(
        f"""SELECT s.churn_30d, t.churn_hazard_30d, t.churn_date IS NOT NULL AS leaves
            FROM {scores} s JOIN '{truth / TRUTH_FILE}' t USING (msisdn)
            WHERE t.churn_hazard_30d < 1"""
    ).fetchnumpy()
    leaves = np.asarray(rows["leaves"], dtype=bool)
    return {
        "lines": len(leaves),
        "leavers": int(leaves.sum()),
        "model_auc": round(float(roc_auc_score(leaves, rows["churn_30d"])), 4),
        "true_hazard_auc": round(float(roc_auc_score(leaves, rows["churn_hazard_30d"])), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_models_") as folder:
        result = measure(Path(folder), args.subscribers, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    t, s, q = result["train"], result["score"], result["quality"]
    print(f"subscribers {result['subscribers']:,} (generated in {result['generate_s']} s)")
    print(
        f"train churn_30d: {t['seconds']} s; reading its features alone {t['features_only_s']} s"
        f" (x{t['ratio']}); out-of-time AUC {t['out_of_time_auc']} on {t['positives']} leavers"
    )
    print(
        f"score all published: {s['seconds']} s for {s['lines']:,} lines; base query alone "
        f"{s['base_only_s']} s (x{s['ratio']}); projected to 18 M: {s['projected_province_s']} s"
    )
    print(
        f"against the truth ({q['lines']:,} active lines, {q['leavers']:,} leave in 30 days): "
        f"model AUC {q['model_auc']}, true hazard AUC {q['true_hazard_auc']}"
    )


if __name__ == "__main__":
    main()
