"""The online evaluator's speed against a hand-written Python condition, in the same run.

    uv run python benchmarks/bench_rules.py [--calls 500000] [--json]

A 5-condition rule compiled by the rule language (three-valued logic, NULL-safe) against the
same condition written by hand as a plain Python expression (two-valued, no NULL handling):
the ratio is what SQL semantics cost on the online path.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from report import print_result
from steward.rules import TagType, parse_rule, to_python

RULE = (
    "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 120 AND NOT complaint_sensitive "
    "AND city IN ('lanzhou', 'tianshui', 'baiyin') AND activation_date < DATE '2025-01-01'"
)
CATALOGUE = {
    "brand": TagType.CATEGORY, "arpu_3m": TagType.FLOAT, "complaint_sensitive": TagType.BOOL,
    "city": TagType.CATEGORY, "activation_date": TagType.DATE,
}  # fmt: skip
PROFILE: dict[str, Any] = {
    "brand": "gotone", "arpu_3m": 88.0, "complaint_sensitive": False, "city": "lanzhou",
    "activation_date": date(2024, 3, 1),
}  # fmt: skip
CUTOFF = date(2025, 1, 1)


def by_hand(p: dict[str, Any]) -> bool:
    return bool(
        p["brand"] == "gotone"
        and 50 <= p["arpu_3m"] <= 120
        and not p["complaint_sensitive"]
        and p["city"] in ("lanzhou", "tianshui", "baiyin")
        and p["activation_date"] < CUTOFF
    )


def calls_per_second(evaluate: Callable[[dict[str, Any]], object], calls: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            evaluate(PROFILE)
        best = min(best, time.perf_counter() - started)
    return calls / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    compiled = to_python(parse_rule(RULE, CATALOGUE))
    assert compiled(PROFILE) is True
    assert by_hand(PROFILE)
    ours, hand = calls_per_second(compiled, args.calls), calls_per_second(by_hand, args.calls)
    result = {
        "rule": RULE,
        "steward_calls_per_s": round(ours),
        "hand_python_calls_per_s": round(hand),
        "ratio_hand_to_steward": round(hand / ours, 2),
    }
    print_result(result, as_json=args.json)


if __name__ == "__main__":
    main()
