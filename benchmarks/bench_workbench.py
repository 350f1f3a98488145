"""How long the workbench's screens take to answer on a demo city, each against the sign-in
page (a template and nothing else) measured in the same run.

    uv run python benchmarks/bench_workbench.py [--subscribers 20000] [--home PATH] [--json]

Builds a demo home (``steward demo --no-serve``; ``--home`` reuses one), then asks each
screen through the app in this process (FastAPI's test client: no network, the same
dependencies, the real database and lake) as the role that uses it, ``--repeat`` times,
and prints the median. The first answer of a screen that compiles state (the counter's
inbound listing) is reported apart: it is paid once a day or after a campaign's move.
The ratio to the sign-in page is the figure. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient
from sqlalchemy import select

from bench_inbound import build_home
from steward import db
from steward.campaigns.models import Campaign
from steward.contacts.models import ContactEvent
from steward.settings import Settings
from steward.simulation.demo import PASSWORD
from steward.web.app import create_app

EN = {"Accept-Language": "en"}


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    answer = client.post("/signin", data={"username": username, "password": PASSWORD})
    assert answer.status_code in (200, 303), answer.text[-500:]
    return client


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, float]:
    """(first answer, median of the next ``repeat``) in milliseconds; each must be 200."""
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        answer = client.get(path, headers=EN)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
    return times[0], statistics.median(times[1:])


def subjects(home: Path) -> tuple[str, int]:
    """A number the demo ordered for, and the first campaign."""
    sessions = db.session_factory(db.make_engine(Settings(home=home).database_url))
    with sessions() as session:
        number = session.scalar(
            select(ContactEvent.msisdn).where(ContactEvent.state == "ordered").limit(1)
        )
        campaign = session.scalar(select(Campaign.id).order_by(Campaign.id).limit(1))
    assert number is not None
    assert campaign is not None
    return number, campaign


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="steward-bench-workbench-"))
    built = build_home(home, args.subscribers)
    number, campaign = subjects(home)
    app = create_app(Settings(home=home))
    screens = [
        ("demo.planner", "/dashboard"),
        ("demo.planner", "/workbench/tags"),
        ("demo.planner", "/workbench/campaigns"),
        ("demo.planner", "/workbench/campaigns/new"),
        ("demo.analyst", f"/campaigns/{campaign}/monitor"),
        ("demo.approver", "/approvals"),
        ("demo.agent1", "/desk"),
        ("demo.agent1", f"/customer?msisdn={number}"),
        ("demo.clerk", f"/counter?msisdn={number}"),
        ("demo.admin", "/workbench/channel-rules"),
    ]
    _first, baseline = timed(TestClient(app), "/", args.repeat)
    rows = []
    for user, path in screens:
        first, median = timed(signed_in(app, user), path, args.repeat)
        rows.append(
            {"screen": path, "as": user, "first_ms": round(first, 1), "median_ms": round(median, 1)}
            | {"ratio_to_signin": round(median / baseline, 1)}
        )
    report = {
        "subscribers": args.subscribers,
        "demo_built_s": round(built, 1),
        "signin_median_ms": round(baseline, 2),
        "screens": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"sign-in page (baseline): {baseline:.2f} ms; demo of {args.subscribers} subscribers")
    for row in rows:
        print(
            f"{row['screen']:<40} {row['as']:<14} first {row['first_ms']:>8.1f} ms"
            f"  median {row['median_ms']:>8.1f} ms  ×{row['ratio_to_signin']}"
        )


if __name__ == "__main__":
    main()
