"""Hostile rule text is refused, or it is data: it never becomes SQL or Python code.

Every value in a rule reaches SQL as a literal SQLGlot renders and Python as a closure
constant; the generated SQL and Python are checked here, and run against a canary table.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.rules import RuleError, TagType, matches, parse_rule, to_sql
from steward.rules.to_python import python_source
from tests.rules.engines import profiles_table, run_duckdb

CATALOGUE = {"brand": TagType.CATEGORY, "arpu": TagType.FLOAT, "n": TagType.INT}

REFUSED = [
    "1=1; DROP TABLE canary",
    "brand = 'a'; DROP TABLE canary",
    "brand = 'a' OR 1=1 --",
    "brand = 'a' /* ' OR 1=1 */",
    "brand = 'a' -- ' OR 1=1",
    "'; DROP TABLE canary; --",
    "'; DROP",
    "brand = 'a'\n; DROP TABLE canary",
    "brand = 'a\\' OR 1=1 --'",
    "brand = ‘gotone’ OR 1=1",
    "brand = “gotone”",
    "brand = ＇gotone＇",
    "arpu IN (SELECT arpu FROM canary)",
    "arpu IN (SELECT 1 UNION SELECT 2)",
    "EXISTS (SELECT * FROM canary)",
    "read_csv('/etc/passwd') IS NOT NULL",
    "brand = read_csv('/etc/passwd')",
    "pg_sleep(10) IS NULL",
    "brand = (SELECT current_user)",
    "brand = current_setting('is_superuser')",
    "brand = $$' OR 1=1$$",
    "brand = E'\\x27 OR 1=1'",
    "brand = U&'\\0027'",
    "brand = 'a' UNION ALL SELECT 1",
    "n = 1 LIMIT 1",
    "brand IN ('a') ) OR (1=1",
    "getvariable('x') IS NULL",
    "brand = 'a' COLLATE \"x\"",
    "brand = chr(39)",
]


@pytest.mark.parametrize("text", REFUSED)
def test_hostile_text_is_refused(text: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(text, CATALOGUE)


DATA = [
    "x' OR '1'='1",
    "'; DROP TABLE canary; --",
    "a' /* comment */ '",
    "\\'; DROP TABLE canary; --",
    "it''s",
    "$$",
    "%'--",
    "\\",
    "’ OR ‘1’=‘1",
    "\n; SELECT 1",
]


@pytest.mark.parametrize("value", DATA)
def test_quoted_sql_is_only_data(duck: duckdb.DuckDBPyConnection, value: str) -> None:
    duck.execute("CREATE OR REPLACE TABLE canary AS SELECT 1 AS a")
    text = "brand = '" + value.replace("'", "''") + "'"
    rule = parse_rule(text, CATALOGUE)
    profiles: list[dict[str, Any]] = [{"brand": value}, {"brand": "x"}, {"brand": None}]
    assert run_duckdb(duck, rule, profiles_table(CATALOGUE, profiles)) == [True, False, None]
    assert [matches(rule, p) for p in profiles] == [True, False, False]
    assert duck.execute("SELECT count(*) FROM canary").fetchall() == [(1,)]
    for dialect in ("duckdb", "postgres"):
        assert to_sql(rule, dialect) == '"brand" = ' + "'" + value.replace("'", "''") + "'"


@settings(max_examples=200, deadline=None)
@given(value=st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"])))
def test_any_text_literal_round_trips_through_sql_and_python(
    duck: duckdb.DuckDBPyConnection, value: str
) -> None:
    rule = parse_rule("brand = '" + value.replace("'", "''") + "'", CATALOGUE)
    profiles = [{"brand": value}, {"brand": value + "x"}]
    assert run_duckdb(duck, rule, profiles_table(CATALOGUE, profiles)) == [True, False]
    assert [matches(rule, p) for p in profiles] == [True, False]


_GENERATED_NAMES = {"_make", "_rule", "p", "g", "get", "u", "r", "startswith", "endswith", "days"}


def _python_names(source: str) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(t.type, t.string) for t in tokens if t.type in (tokenize.NAME, tokenize.STRING)]


@pytest.mark.parametrize(
    "text",
    [
        'brand = \'__import__("os").system("id")\'',
        "brand LIKE '%\"); import os; (\"%' OR brand ILIKE 'a_'",
        "brand IN ('a', 'b') AND arpu / n > 1e3 AND lower(brand) <> 'x' OR n * 2 > -5",
        "coalesce(brand, 'z') >= 'k' AND length(brand) BETWEEN 1 AND 9 AND abs(n) IS NOT NULL",
    ],
)
def test_generated_python_holds_only_our_own_names(text: str) -> None:
    source, constants = python_source(parse_rule(text, CATALOGUE))
    for kind, word in _python_names(source):
        assert kind == tokenize.NAME, f"a string literal in generated code: {word}"
        generated = word[0] in "vkt" and word[1:].isdigit()
        assert generated or keyword.iskeyword(word) or word in _GENERATED_NAMES, word
    assert any(isinstance(c, str) for c in constants)


def test_tag_names_are_quoted_identifiers_everywhere(duck: duckdb.DuckDBPyConnection) -> None:
    catalogue: dict[str, Any] = {'we"ird; DROP TABLE canary; --': "int"}
    rule = parse_rule('"we""ird; DROP TABLE canary; --" > 1', catalogue)
    assert to_sql(rule) == '"we""ird; drop table canary; --" > 1'
    duck.execute("CREATE OR REPLACE TABLE canary AS SELECT 1 AS a")
    table = profiles_table({'we"ird; drop table canary; --': TagType.INT}, [{}])
    assert run_duckdb(duck, rule, table) == [None]
    assert duck.execute("SELECT count(*) FROM canary").fetchall() == [(1,)]
