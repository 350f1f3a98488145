"""The online path compiles a rule once (its speed is measured by benchmarks/bench_rules.py)."""

from __future__ import annotations

from datetime import date

from steward.rules import TagType, parse_rule, to_python

RULE = (
    "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 120 AND NOT complaint_sensitive "
    "AND city IN ('lanzhou', 'tianshui', 'baiyin') AND signup < DATE '2025-01-01'"
)
CATALOGUE = {
    "brand": TagType.CATEGORY, "arpu_3m": TagType.FLOAT, "complaint_sensitive": TagType.BOOL,
    "city": TagType.CATEGORY, "signup": TagType.DATE,
    **{f"tag_{i}": TagType.INT for i in range(40)},
}  # fmt: skip


def test_compiling_is_cached_per_rule_and_as_of() -> None:
    rule = parse_rule(RULE, CATALOGUE)
    assert to_python(rule) is to_python(rule)
    assert to_python(rule, as_of=date(2025, 1, 1)) is not to_python(rule)
