"""Arbitration of a province's running campaigns with the full default policy.

    uv run python benchmarks/bench_arbitration.py --subscribers 1000000 [--campaigns 30]
        [--reference 100000] [--memory-limit 4GB] [--json]

Builds (DuckDB SQL, seconds) a profile snapshot of ``--subscribers`` with the tag columns
the policy and the campaigns read, ``--campaigns`` campaigns (a sixth care, the rest
marketing; segments of 5–30 % of the base; two or three offers each out of 20) and a ledger
past of about a quarter of the base contacted in the last 90 days. Then times the set-based
arbitration (`policy/batch.py`) and reports its peak memory (the process's maximum RSS), the
plan and its outcomes; and, on the first ``--reference`` subscribers, times the batch again
against the one-subscriber-at-a-time reference (`policy/online.py`) on the same inputs,
checks they agree, and prints the ratio.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from report import print_result
from steward.contacts.service import SCHEMA
from steward.lake.engine import DuckDBEngine
from steward.offers.models import Channel
from steward.policy import online
from steward.policy.arbitration import CampaignSpec, LedgerFacts, OfferSpec, Plan
from steward.policy.batch import Arbiter
from steward.policy.config import Policy, load_policy
from steward.tags.service import load_catalogue

DAY = date(2026, 6, 15)
CITIES = ["lanzhou", "tianshui", "baiyin", "dingxi", "longnan", "qingyang", "wuwei", "jiuquan"]
FLAGS = (
    "complaint_sensitive",
    "dnd_vip_diamond_gold",
    "dnd_vip_silver",
    "dnd_corporate_group",
    "dnd_staff",
    "dnd_government",
    "dnd_special_org",
    "dnd_unit_account",
    "dnd_foreigner",
    "dnd_blacklisted",
    "dnd_data_card",
    "dnd_suspended",
    "dnd_cancelled",
    "dnd_optout_sms",
    "dnd_optout_outbound",
    "dnd_optout_app",
)
SEGMENTS = (
    "arpu_3m > {x}",
    "city = '{city}' OR arpu_3m > {y}",
    "data_mb_30d > {d} AND age < 45",
    "brand = 'mzone' AND data_mb_30d > {d}",
    "age >= {a} AND brand <> 'easyown'",
)
ELIGIBILITY = ("TRUE", "status = 'active'", "arpu_3m >= 30", "data_mb_30d > 500", "age < 60")


def build_profiles(duck: DuckDBEngine, n: int, path: Path) -> None:
    cities = "[" + ", ".join(f"'{c}'" for c in CITIES) + "]"
    flags = ", ".join(
        f"random() < {0.04 if f == 'complaint_sensitive' else 0.005} AS {f}" for f in FLAGS
    )
    duck.execute(f"""
        COPY (
          SELECT '13' || lpad(CAST(i AS VARCHAR), 9, '0') AS msisdn,
            {cities}[1 + CAST(floor(random() * 8) AS INT)] AS city,
            CASE WHEN random() < 0.3 THEN 'gotone' WHEN random() < 0.5 THEN 'mzone'
                 ELSE 'easyown' END AS brand,
            CASE WHEN random() < 0.02 THEN 'gold' WHEN random() < 0.06 THEN 'silver'
                 ELSE 'none' END AS vip_level,
            18 + CAST(floor(random() * 60) AS BIGINT) AS age,
            round(10 + random() * 150, 2) AS arpu_3m,
            round(random() * 20000, 1) AS data_mb_30d,
            CASE WHEN random() < 0.97 THEN 'active' ELSE 'suspended' END AS status,
            {flags}
          FROM range({n}) t(i)
        ) TO '{path.as_posix()}' (FORMAT parquet)
    """)


def build_world(seed: int, campaigns: int) -> tuple[list[CampaignSpec], list[OfferSpec]]:
    rng = random.Random(seed)
    offers = [
        OfferSpec(
            id=i,
            category=rng.choice(["data", "voice", "family", "handset", "content"]),
            group=rng.choice([None, None, "data_pack", "handset"]),
            eligibility=rng.choice(ELIGIBILITY),
            value=rng.choice([5.0, 20.0, 50.0]),
            fit=tuple(rng.sample([Channel.SMS, Channel.OUTBOUND, Channel.APP], rng.randint(1, 3))),
        )
        for i in range(1, 21)
    ]
    found = []
    for c in range(1, campaigns + 1):
        found.append(
            CampaignSpec(
                id=c,
                kind="care" if c % 6 == 0 else "marketing",
                priority=rng.choice([30, 50, 70, 90]),
                expected_rate=rng.choice([0.01, 0.02, 0.05]),
                control_share=0.1,
                channels=tuple(rng.sample([Channel.SMS, Channel.OUTBOUND, Channel.APP], 2)),
                offers=tuple(rng.sample(range(1, 21), rng.randint(2, 3))),
                wave_start=DAY - timedelta(days=rng.choice([0, 7, 30])),
            )
        )
    return found, offers


def segment_rules(seed: int, campaigns: int) -> dict[int, str]:
    rng = random.Random(seed + 1)
    return {
        c: rng.choice(SEGMENTS).format(
            x=rng.choice([120, 140]),
            y=rng.choice([130, 150]),
            city=rng.choice(CITIES),
            d=rng.choice([12000, 16000]),
            a=rng.choice([55, 65]),
        )
        for c in range(1, campaigns + 1)
    }


def build_ledger(duck: DuckDBEngine, profiles: str, campaigns: int) -> LedgerFacts:
    """About a quarter of the base contacted once to three times in the last 90 days."""
    history = duck.query(f"""
        WITH picked AS (
          SELECT msisdn, 1 + CAST(floor(random() * 3) AS INT) AS times
          FROM {profiles} WHERE random() < 0.25
        ),
        rows AS (
          SELECT msisdn, generate_series AS k FROM picked, generate_series(1, times)
        )
        SELECT CAST(row_number() OVER () AS BIGINT) AS id, msisdn || '-' || k AS contact_key,
          CASE WHEN random() < 0.8 THEN 'reserved' ELSE 'answered' END AS state,
          TIMESTAMPTZ '2026-06-01 00:00:00+00' AS at,
          DATE '{DAY.isoformat()}' - CAST(floor(random() * 90) AS INT) AS day,
          msisdn, 1 + CAST(floor(random() * {campaigns}) AS BIGINT) AS campaign_id,
          'marketing' AS kind, 1 + CAST(floor(random() * 20) AS BIGINT) AS offer_id,
          'data' AS category, CAST(NULL AS VARCHAR) AS exclusion_group,
          ['sms', 'outbound', 'app'][1 + CAST(floor(random() * 3) AS INT)] AS channel,
          'target' AS arm, 'rejected' AS detail, 'bench' AS source
        FROM rows
    """).cast(SCHEMA)
    duck.register("bench_history", history)
    units = duck.query(
        "SELECT msisdn, channel, kind, day, campaign_id FROM bench_history WHERE state = 'reserved'"
    )
    return LedgerFacts(units=units, history=history)


def members_sql(rules: dict[int, str], profiles: str, catalogue: Any, where: str = "") -> str:
    from steward.rules import parse_rule, to_sql
    from steward.tags.service import rule_types

    types = rule_types(catalogue)
    parts = [
        f"SELECT {c} AS campaign_id, msisdn FROM {profiles} "
        f"WHERE ({to_sql(parse_rule(rule, types), dialect='duckdb')}){where}"
        for c, rule in rules.items()
    ]
    return " UNION ALL ".join(parts)


def scaled(policy: Policy, n: int) -> Policy:
    """Capacity that bites: SMS for 10 % of the base a day, outbound for 0.2 %."""
    capacity = {Channel.SMS: n // 10, Channel.OUTBOUND: max(n // 500, 1)}
    return policy.model_copy(update={"capacity": capacity})


def timed_batch(
    arbiter: Arbiter, members: str, profiles: str, facts: LedgerFacts
) -> tuple[Plan, float]:
    started = time.perf_counter()
    plan = arbiter.run(members=members, profile=profiles, facts=facts)
    return plan, time.perf_counter() - started


def reference_run(
    duck: DuckDBEngine, make_referee: Any, members: str, profiles: str, limit: str
) -> tuple[Plan, float]:
    """The reference on the sample; its clock starts when it starts reading the ledger."""
    rows = duck.query(f"SELECT * FROM {profiles} WHERE msisdn <= '{limit}'").to_pylist()
    by_msisdn = {r["msisdn"]: r for r in rows}
    joined: dict[str, list[int]] = {}
    for r in duck.query(f"SELECT campaign_id, msisdn FROM ({members})").to_pylist():
        joined.setdefault(r["msisdn"], []).append(int(r["campaign_id"]))
    started = time.perf_counter()
    plan, _ = online.arbitrate(make_referee(), joined, by_msisdn.get)
    return plan, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=30)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    catalogue = load_catalogue()
    policy = scaled(load_policy(catalogue), args.subscribers)
    with tempfile.TemporaryDirectory() as folder:
        duck = DuckDBEngine(memory_limit=args.memory_limit, temp_directory=Path(folder) / "t")
        path = Path(folder) / "profiles.parquet"
        started = time.perf_counter()
        build_profiles(duck, args.subscribers, path)
        profiles = duck.scan_parquet([path])
        campaigns, offers = build_world(args.seed, args.campaigns)
        rules = segment_rules(args.seed, args.campaigns)
        facts = build_ledger(duck, profiles, args.campaigns)
        built = time.perf_counter() - started
        members = members_sql(rules, profiles, catalogue)
        candidates = duck.query(f"SELECT count(*) AS n FROM ({members})").column("n")[0].as_py()
        arbiter = Arbiter(
            duck, day=DAY, policy=policy, catalogue=catalogue, campaigns=campaigns, offers=offers
        )
        plan, seconds = timed_batch(arbiter, members, profiles, facts)
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        result: dict[str, Any] = {
            "subscribers": args.subscribers,
            "campaigns": args.campaigns,
            "memberships": candidates,
            "ledger_rows": facts.history.num_rows,
            "build_s": round(built, 1),
            "arbitration_s": round(seconds, 1),
            "peak_rss_gib": round(peak_gib, 2),
            "planned": plan.planned(),
            "held_back": sum(n for (_, o), n in plan.outcomes.items() if o == "held_back"),
        }
        if args.reference:
            limit = f"13{args.reference - 1:09d}"
            sample = members_sql(rules, profiles, catalogue, f" AND msisdn <= '{limit}'")

            def make_referee() -> online.Referee:
                return online.Referee(
                    day=DAY,
                    policy=scaled(policy, args.reference),
                    catalogue=catalogue,
                    campaigns=campaigns,
                    offers=offers,
                    facts=facts,
                )

            small = Arbiter(
                duck,
                day=DAY,
                policy=scaled(policy, args.reference),
                catalogue=catalogue,
                campaigns=campaigns,
                offers=offers,
            )
            batch_plan, batch_s = timed_batch(small, sample, profiles, facts)
            reference_plan, reference_s = reference_run(duck, make_referee, sample, profiles, limit)
            result |= {
                "sample": args.reference,
                "sample_batch_s": round(batch_s, 2),
                "sample_reference_s": round(reference_s, 2),
                "reference_over_batch": round(reference_s / batch_s, 1),
                "same_plan": batch_plan.contacts.equals(reference_plan.contacts)
                and batch_plan.outcomes == reference_plan.outcomes,
            }
        duck.close()
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
