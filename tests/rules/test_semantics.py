"""Where Python and SQL differ, the evaluator follows DuckDB: checked exhaustively here."""

from __future__ import annotations

import itertools
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from steward.rules import RuleEvaluationError, TagType, matches, parse_rule, to_python, to_sql
from steward.rules.semantics import sql_lower, sql_upper
from tests.rules.engines import profiles_table, run_duckdb, run_duckdb_many, run_python

CATALOGUE = {"s": TagType.CATEGORY, "n": TagType.INT, "m": TagType.INT, "d": TagType.DATE}


def test_lower_and_upper_match_duckdb_for_every_character(
    duck: duckdb.DuckDBPyConnection,
) -> None:
    characters = [chr(c) for c in range(1, 0x20000) if not 0xD800 <= c <= 0xDFFF]
    duck.register("chars", pa.table({"c": characters}))
    rows = duck.execute("SELECT c, lower(c), upper(c) FROM chars").fetchall()
    duck.unregister("chars")
    wrong = [(c, lo, up) for c, lo, up in rows if (sql_lower(c), sql_upper(c)) != (lo, up)]
    assert wrong == []
    # Whole strings map character by character: no final-sigma rule, one 'i' for 'İ'.
    assert sql_lower("ΑΣ İ") == "ασ i"
    assert sql_upper("straße ﬁ") == "STRAẞE ﬁ"


PIECES = ["a", "é", "%", "_", "!%", "!_", "!!", "A"]
VALUES = ["", "a", "A", "é", "É", "ab", "aa", "a%", "a_", "%", "_", "!", "a!", "é_", "\n"]


@pytest.mark.parametrize("operator", ["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"])
def test_like_matches_duckdb_on_every_short_pattern(
    duck: duckdb.DuckDBPyConnection, operator: str
) -> None:
    patterns = {"".join(p) for size in range(4) for p in itertools.product(PIECES, repeat=size)}
    profiles = [{"s": v} for v in [*VALUES, None]]
    table = profiles_table({"s": TagType.CATEGORY}, profiles)
    rules = [
        parse_rule(f"s {operator} '{pattern}'{escape}", {"s": "category"})
        for pattern in sorted(patterns)
        for escape in ("", " ESCAPE '!'")
        if escape or "!" not in pattern
    ]
    for start in range(0, len(rules), 200):
        batch = rules[start : start + 200]
        for rule, expected in zip(batch, run_duckdb_many(duck, batch, table), strict=True):
            assert run_python(rule, profiles) == expected, rule.text


def test_integer_overflow_raises_like_the_engines(duck: duckdb.DuckDBPyConnection) -> None:
    rule = parse_rule("n * m > 0", CATALOGUE)
    profile = {"n": 2**62, "m": 4}
    with pytest.raises(RuleEvaluationError, match="overflow"):
        to_python(rule)(profile)
    with pytest.raises(duckdb.OutOfRangeException):
        run_duckdb(duck, rule, profiles_table(CATALOGUE, [profile]))
    assert matches(parse_rule("abs(n) > 0", CATALOGUE), {"n": 2**63 - 1})
    with pytest.raises(RuleEvaluationError):
        matches(parse_rule("- n > 0", CATALOGUE), {"n": -(2**63)})


def test_literal_arithmetic_is_64_bit_in_sql_too(duck: duckdb.DuckDBPyConnection) -> None:
    rule = parse_rule("2000000000 * 2000000000 = n", CATALOGUE)
    profile = {"n": 4 * 10**18}
    assert run_duckdb(duck, rule, profiles_table(CATALOGUE, [profile])) == [True]
    assert run_python(rule, [profile]) == [True]


def test_days_beyond_32_bits_or_the_calendar_raise(duck: duckdb.DuckDBPyConnection) -> None:
    rule = parse_rule("d + n > DATE '2000-01-01'", CATALOGUE)
    profile = {"d": date(2024, 1, 1), "n": 2**40}
    with pytest.raises(RuleEvaluationError, match="32-bit"):
        to_python(rule)(profile)
    with pytest.raises(duckdb.Error):
        run_duckdb(duck, rule, profiles_table(CATALOGUE, [profile]))
    with pytest.raises(RuleEvaluationError, match="date range"):
        to_python(rule)({"d": date(9999, 12, 1), "n": 100})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n / m IS NULL", True),  # division by zero is NULL, in SQL through NULLIF
        ("n / 2 = 3.5", True),  # integers divide exactly, as DuckDB's '/' does
        ("-7 / 2 = -3.5", True),
        ("n / m > 0 OR n / m IS NULL", True),
    ],
)
def test_division(duck: duckdb.DuckDBPyConnection, text: str, expected: bool) -> None:
    rule = parse_rule(text, CATALOGUE)
    profile = {"n": 7, "m": 0}
    assert run_python(rule, [profile]) == [expected]
    assert run_duckdb(duck, rule, profiles_table(CATALOGUE, [profile])) == [expected]


def test_current_date_is_today_unless_as_of_is_given(duck: duckdb.DuckDBPyConnection) -> None:
    rule = parse_rule("d = current_date", CATALOGUE)
    today = duck.execute("SELECT current_date").fetchall()[0][0]
    assert to_sql(rule) == '"d" = CURRENT_DATE'
    assert matches(rule, {"d": today})
    assert matches(rule, {"d": date(2024, 1, 2)}, as_of=date(2024, 1, 2))
    assert to_sql(rule, as_of=date(2024, 1, 2)) == "\"d\" = CAST('2024-01-02' AS DATE)"
