"""Arbitration with the published propensity model against arbitration by campaign priority
alone: the orders each plan would bring, same campaigns, caps, capacity and subscribers.

    uv run python benchmarks/bench_propensity.py [--subscribers 20000] [--home PATH] [--json]

Builds a demo home (``steward demo --no-serve``, which publishes a churn and a propensity
model; ``--home`` reuses one) and plans the next day twice, writing nothing: once as the
platform would (each subscriber's propensity for an offer's category sets the expected
response), once with the propensity tags emptied (every candidate scored by the campaign's
fixed expected rate). The care contacts of each plan are counted too: a calibrated
propensity can outscore a care campaign's fixed rate, and the ratio should not hide that.
Each plan's orders are counted by the simulated customers' own chances
(the hidden truth the demo's simulation answers from, ``simulation.responses``) — an
expectation, not a draw. The ratio is the figure. Nothing is asserted.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inbound import build_home
from steward import db
from steward.campaigns import batch
from steward.lake.engine import make_engine
from steward.lake.service import Lake
from steward.offers.models import Channel
from steward.policy.config import load_policy
from steward.settings import Settings
from steward.simulation.demo import TEAM_CAPACITY
from steward.simulation.responses import expected_accepts
from steward.tags import service as tags
from steward.tags.sources import PROPENSITY_CATEGORIES


def without_propensity(snapshot: str) -> str:
    emptied = ", ".join(f"CAST(NULL AS DOUBLE) AS propensity_{c}" for c in PROPENSITY_CATEGORIES)
    return f"(SELECT * REPLACE ({emptied}) FROM {snapshot})"


def measure(home: Path) -> dict[str, Any]:
    settings = Settings(home=home)
    engine = make_engine("duckdb", memory_limit="4GB", temp_directory=home / "tmp")
    lake = Lake(settings.lake, engine)
    sessions = db.session_factory(db.make_engine(settings.database_url))
    truth = next((home / "deliveries").glob("*.truth")) / "subscribers.parquet"
    catalogue = tags.load_catalogue()
    policy = load_policy(catalogue)
    capacity = dict(policy.capacity) | {Channel.OUTBOUND: TEAM_CAPACITY}
    policy = policy.model_copy(update={"capacity": capacity})
    day = date.today() + timedelta(days=1)
    found: dict[str, Any] = {"day": day.isoformat()}
    with sessions() as session:
        for name, profile in (("propensity", None), ("priority_only", without_propensity)):
            started = time.perf_counter()
            planned = batch.plan_day(session, lake, catalogue, policy, day=day, profile=profile)
            assert planned.plan is not None, "no campaign runs tomorrow"
            contacts = planned.plan.contacts
            kinds = {c.id: c.kind for c in planned.campaigns}
            found[name] = {
                "planned": contacts.num_rows,
                "care": sum(kinds[c] == "care" for c in contacts.column("campaign_id").to_pylist()),
                "target": sum(a == "target" for a in contacts.column("arm").to_pylist()),
                "expected_orders": round(
                    expected_accepts(session, lake, plan=contacts, truth=truth), 2
                ),
                "seconds": round(time.perf_counter() - started, 2),
            }
        session.rollback()
    base = found["priority_only"]["expected_orders"]
    found["ratio"] = round(found["propensity"]["expected_orders"] / base, 3) if base else None
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench_propensity_"))
    built = build_home(home, args.subscribers)
    result = {"subscribers": args.subscribers, "home_seconds": round(built, 1)} | measure(home)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key in ("propensity", "priority_only"):
        row = result[key]
        print(
            f"{key:>14}: {row['planned']:>6} planned ({row['target']} target, "
            f"{row['care']} care), "
            f"expected orders {row['expected_orders']:.1f}  [{row['seconds']} s]"
        )
    print(f"         ratio: {result['ratio']} (propensity / priority alone)")


if __name__ == "__main__":
    main()
