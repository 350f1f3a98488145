"""SQL's three-valued logic, table by table, in Python and in DuckDB alike.

None is SQL's NULL (unknown): a comparison with it is unknown, AND is false if any side is
false, OR is true if any side is true, and only IS NULL / IS TRUE look through it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from steward.rules import TagType, matches, parse_rule
from tests.rules.engines import run_both

CATALOGUE = {
    "p": TagType.BOOL, "q": TagType.BOOL, "n": TagType.INT, "x": TagType.FLOAT,
    "s": TagType.CATEGORY, "d": TagType.DATE,
}  # fmt: skip
T, F, N = True, False, None
TRUTH = [T, F, N]


def both(duck: duckdb.DuckDBPyConnection, text: str, **profile: Any) -> Any:
    python, sql = run_both(duck, text, CATALOGUE, profile)
    assert python is sql, f"{text} with {profile}: Python {python!r}, DuckDB {sql!r}"
    return python


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


@pytest.mark.parametrize("p", TRUTH)
@pytest.mark.parametrize("q", TRUTH)
def test_and_or_not_follow_kleene_logic(
    duck: duckdb.DuckDBPyConnection, p: bool | None, q: bool | None
) -> None:
    assert both(duck, "p AND q", p=p, q=q) is kleene_and(p, q)
    assert both(duck, "p OR q", p=p, q=q) is kleene_or(p, q)
    assert both(duck, "NOT p", p=p) is (None if p is None else not p)
    assert both(duck, "p AND q AND TRUE AND p", p=p, q=q) is kleene_and(p, q)
    assert both(duck, "(NOT p) OR (NOT q) OR FALSE", p=p, q=q) is kleene_or(
        None if p is None else not p, None if q is None else not q
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n = 1", N), ("n <> 1", N), ("n < 1", N), ("n >= 1", N),
        ("s = 'a'", N), ("d > DATE '2024-01-01'", N), ("p = TRUE", N),
        ("n IS NULL", T), ("n IS NOT NULL", F), ("p IS TRUE", F), ("p IS NOT TRUE", T),
        ("p IS FALSE", F), ("p IS NOT FALSE", T),
        ("n + 1 IS NULL", T), ("n * 0 IS NULL", T), ("- n IS NULL", T), ("x / 2 IS NULL", T),
        ("abs(n) IS NULL", T), ("length(s) IS NULL", T), ("lower(s) IS NULL", T),
        ("d + 1 IS NULL", T), ("date_diff('day', d, DATE '2024-01-01') IS NULL", T),
        ("s LIKE '%'", N), ("s NOT LIKE 'a%'", N), ("s ILIKE 'a'", N),
        ("n IN (1, 2)", N), ("n NOT IN (1, 2)", N),
        ("n BETWEEN 1 AND 2", N), ("n NOT BETWEEN 1 AND 2", N),
        ("coalesce(n, 7) = 7", T), ("coalesce(n, NULL) IS NULL", T),
        ("least(n, 3) = 3", T), ("greatest(n, 3) = 3", T), ("least(n, NULL) IS NULL", T),
    ],
)  # fmt: skip
def test_a_null_tag(duck: duckdb.DuckDBPyConnection, text: str, expected: bool | None) -> None:
    assert both(duck, text, n=None, x=None, s=None, d=None, p=None) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n IN (1, NULL)", T), ("n IN (2, NULL)", N), ("n NOT IN (2, NULL)", N),
        ("n NOT IN (1, NULL)", F), ("n IN (NULL)", N), ("n NOT IN (2, 3)", T),
        ("n BETWEEN NULL AND 0", F), ("n BETWEEN NULL AND 5", N), ("n BETWEEN 0 AND NULL", N),
        ("n BETWEEN 2 AND NULL", F), ("n NOT BETWEEN NULL AND 0", T),
        ("n + NULL IS NULL", T), ("n / 0 IS NULL", T), ("x / 0 IS NULL", T),
        ("n / 0 > 1 OR TRUE", T), ("n / 0 > 1 AND FALSE", F), ("n / 0 > 1 OR FALSE", N),
        ("NULL IS NULL", T), ("NOT NULL IS NULL", F), ("(NOT NULL) IS NULL", T),
        ("NULL AND FALSE", F), ("NULL OR TRUE", T),
    ],
)  # fmt: skip
def test_null_literals(duck: duckdb.DuckDBPyConnection, text: str, expected: bool | None) -> None:
    assert both(duck, text, n=1, x=1.5, s="a") is expected


def test_unknown_does_not_match_like_sql_where() -> None:
    rule = parse_rule("n > 1", CATALOGUE)
    assert matches(rule, {"n": 2})
    assert not matches(rule, {"n": None})
    assert not matches(rule, {})  # a missing tag is NULL
    assert not matches(parse_rule("NOT (n > 1)", CATALOGUE), {"n": None})


def test_null_dates_and_text(duck: duckdb.DuckDBPyConnection) -> None:
    assert both(duck, "d = DATE '2024-01-01' OR s = 'a'", d=date(2024, 1, 1), s=None) is T
    assert both(duck, "d = DATE '2024-01-01' AND s = 'a'", d=date(2024, 1, 1), s=None) is N
