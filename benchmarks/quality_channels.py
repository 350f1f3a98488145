"""Channel preference (R-MINE-4) scored against the synthetic province's hidden truth.

    uv run python benchmarks/quality_channels.py [--subscribers 5000] [--days 90] [--seed 7]
        [--more-than 10] [--json]

Generates a small province into a temporary folder, runs ``preferred_channels`` on the
delivered contact, complaint, profile and bill files only, then compares with the truth's
``preferred_channel`` (which the platform never reads), separately for the frequent
contacters (observed) and the others (model; with and without a contact of their own).

Two answers are scored: ``preferred`` is R-MINE-4's first preference (the top channel without
a complaint), ``usual`` the channel used most (observed) or predicted to be (model). The
generator has no notion of avoiding a channel after a complaint — it raises complaints
through the preferred channel as readily as contacts — so the complaint veto moves many
subscribers away from their true channel: ``usual`` measures how well behaviour is read,
``preferred`` what the business rule costs against that truth.

Baselines: ``majority`` is the share of the group whose true channel is the group's commonest
(the best constant answer, chosen knowing the truth); ``own_top`` names each subscriber's
most-used channel from their own few contacts, or — with none — the commonest usual channel
of the frequent contacters (no truth used).

Channel names: the truth names channels with the generator's vocabulary, the contact file
with the interface's (``CHANNELS_CONTACT``). They are the same seven strings today, but the
mapping below is explicit, and a truth value it does not know stops the run rather than being
scored as a miss.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from report import print_result
from steward.lake.engine import DuckDBEngine
from steward.mining.channels import observed_preferences, preferred_channels
from steward.synth import generate

# Truth vocabulary -> contact-file vocabulary.
TRUTH_TO_CONTACT = {
    "hall": "hall",
    "web": "web",
    "app": "app",
    "call_centre": "call_centre",
    "ivr": "ivr",
    "wechat": "wechat",
    "self_service": "self_service",
}
RECHARGE_CHANNELS = ("hall", "web", "app", "wechat", "card", "bank", "agent")
GROUPS = {
    "observed": "source = 'observed'",
    "model": "source = 'model'",
    "model_with_contacts": "source = 'model' AND contacts > 0",
    "model_without_contacts": "source = 'model' AND contacts = 0",
    "all": "TRUE",
}


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    began = time.perf_counter()
    summary = generate(
        subscribers=args.subscribers, days=args.days, seed=args.seed, out=folder / "delivery"
    )
    generated = time.perf_counter() - began
    engine = DuckDBEngine(memory_limit="2GB")
    out = summary.out
    contacts = engine.scan_parquet(sorted(out.glob("contact_*.parquet")))
    complaints = engine.scan_parquet(sorted(out.glob("complaint_*.parquet")))
    profile = engine.scan_parquet(sorted(out.glob("profile_*.parquet")))
    usage = _usage(engine, out)
    began = time.perf_counter()
    predicted = preferred_channels(
        engine,
        contacts=contacts,
        complaints=complaints,
        profile=profile,
        usage=usage,
        as_of=summary.start + timedelta(days=args.days),
        more_than=args.more_than,
        seed=args.seed,
    )
    seconds = time.perf_counter() - began
    own = observed_preferences(engine, contacts=contacts, complaints=complaints, more_than=0)
    engine.register("predicted", predicted)
    engine.register("own", own.select(["msisdn", "usual_channel"]))
    engine.register(
        "truth_map",
        pa.table({"truth": list(TRUTH_TO_CONTACT), "channel": list(TRUTH_TO_CONTACT.values())}),
    )
    truth = engine.scan_parquet([summary.truth_out / "subscribers.parquet"])
    unknown = engine.query(
        f"""SELECT DISTINCT t.preferred_channel FROM {truth} t
            LEFT JOIN truth_map m ON m.truth = t.preferred_channel WHERE m.channel IS NULL"""
    )
    if unknown.num_rows:
        raise SystemExit(f"truth channels without a mapping: {unknown.column(0).to_pylist()}")
    engine.execute(
        f"""CREATE TABLE scored AS
            SELECT p.*, m.channel AS truth,
                   coalesce(o.usual_channel, (
                       SELECT mode(usual_channel) FROM predicted WHERE source = 'observed'
                   )) AS own_top
            FROM predicted p
            JOIN {truth} t ON t.msisdn = p.msisdn
            JOIN truth_map m ON m.truth = t.preferred_channel
            LEFT JOIN own o ON o.msisdn = p.msisdn"""
    )
    result: dict[str, Any] = {
        "subscribers": args.subscribers,
        "days": args.days,
        "more_than": args.more_than,
        "generate_seconds": round(generated, 1),
        "preference_seconds": round(seconds, 2),
    }
    for name, where in GROUPS.items():
        result.update(_scores(engine, name, where))
    engine.close()
    return result


def _usage(engine: DuckDBEngine, out: Path) -> str:
    """Spend, and where the subscriber tops up: payment channels overlap the contact
    channels (hall, web, app, wechat), and people pay where they like to deal with us."""
    bills = engine.scan_parquet(sorted(out.glob("bill_*.parquet")))
    recharges = engine.scan_parquet(sorted(out.glob("recharge_*.parquet")))
    paid = ", ".join(
        f"count(*) FILTER (WHERE channel = '{c}') AS recharge_{c}" for c in RECHARGE_CHANNELS
    )
    return f"""(
        SELECT b.msisdn, b.bill_total, {", ".join(f"r.recharge_{c}" for c in RECHARGE_CHANNELS)}
        FROM (SELECT msisdn, avg(total) AS bill_total FROM {bills} GROUP BY msisdn) b
        LEFT JOIN (SELECT msisdn, {paid} FROM {recharges} GROUP BY msisdn) r
            ON r.msisdn = b.msisdn
    )"""


def _scores(engine: DuckDBEngine, name: str, where: str) -> dict[str, Any]:
    row = engine.query(
        f"""SELECT count(*) AS n,
                   avg((preferred_channel = truth)::INT) AS preferred,
                   avg((usual_channel = truth)::INT) AS usual,
                   avg((own_top = truth)::INT) AS own_top,
                   (SELECT max(k) FROM (SELECT count(*) AS k FROM scored WHERE {where}
                                        GROUP BY truth)) / count(*) AS majority
            FROM scored WHERE {where}"""
    ).to_pylist()[0]
    shown = {"rows": row["n"]}
    for key in ("preferred", "usual", "own_top", "majority"):
        if name == "observed" and key == "own_top":
            continue  # the same as usual for them
        shown[key] = None if row[key] is None else round(row[key], 3)
    return {f"{name}.{key}": value for key, value in shown.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--more-than", type=int, default=10, help="frequent: more contacts")
    parser.add_argument("--out", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="quality-channels-", dir=args.out))
    try:
        result = run(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
