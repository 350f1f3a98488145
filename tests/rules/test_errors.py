"""Everything outside the language is refused, at its character, with a useful message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.rules import RuleError, TagType, parse_rule, to_python, to_sql

CATALOGUE = {
    "brand": TagType.CATEGORY, "region": TagType.CATEGORY, "arpu_3m": TagType.FLOAT,
    "arpu_6m": TagType.FLOAT, "months": TagType.INT, "vip": TagType.BOOL,
    "signup": TagType.DATE, "order": TagType.INT, "date": TagType.DATE,
}  # fmt: skip


def refused(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(text, CATALOGUE)
    return caught.value


# (rule, column of the error, part of the message); columns count from 1.
REFUSED = [
    # structure and statements
    ("", 1, "empty"),
    ("brand = 'a'; DROP TABLE x", 12, "one condition"),
    ("SELECT 1", 1, "statements are not allowed"),
    ("arpu_3m IN (SELECT 1)", 13, "subqueries"),
    ("EXISTS (SELECT 1)", 1, "subqueries"),
    ("vip OR brand IN ('a') UNION SELECT 1", 23, "statements"),
    ("brand = 'a' -- and more", 13, "comments"),
    ("brand /* hidden */ = 'a'", 7, "comments"),
    ("brand = 'a", 9, "never closed"),
    ('"brand = 1', 1, "never closed"),
    ("(vip", 1, "never closed"),
    ("vip)", 4, "no matching"),
    ("months = 1 vip", 12, "unexpected 'vip'"),
    ("months > 1 AND", 12, "missing after 'AND'"),
    ("NOT", 1, "NOT needs a condition"),
    ("months BETWEEN 1", 16, "BETWEEN"),
    ("(" * 25 + "vip" + ")" * 25, 25, "nested too deeply"),
    (" + ".join(["months"] * 60) + " > 1", 1, "nested deeper than 48 levels"),
    # names
    ("t.brand = 'a'", 2, "qualified names"),
    ("*", 1, "'*'"),
    ("brand = \"gotone\"", 9, "single quotes"),
    ("brand = ‘gotone’", 9, "straight single quotes"),
    ("order > 1 AND date > '2024-01-01'", 15, 'write the tag named date in quotes: "date"'),
    # functions
    ("read_csv('/etc/passwd') IS NULL", 1, "unknown function 'read_csv'"),
    ("pg_sleep(10) IS NULL", 1, "unknown function 'pg_sleep'"),
    ("count(*) > 1", 1, "unknown function 'count'"),
    ("sum(months) OVER () > 1", 1, "unknown function 'sum'"),
    ("round(arpu_3m) > 1", 1, "unknown function 'round'"),
    ("abs(months, 2) > 1", 1, "abs takes 1 argument, but was given 2"),
    ("lower() = 'a'", 1, "lower takes 1 argument, but was given 0"),
    ("date_diff('month', signup, signup) > 1", 11, "counts days"),
    ("date_diff(day, signup, signup) > 1", 11, "counts days"),
    # operators and literals outside the language
    ("CASE WHEN vip THEN 1 END = 1", 1, "CASE is not supported"),
    ("months % 2 = 0", 8, "%"),
    ("brand || 'x' = 'ax'", 7, "concatenation"),
    ("months::DOUBLE > 1", 7, "casts"),
    ("CAST(months AS DOUBLE) > 1", 1, "unknown function 'CAST'"),
    ("signup > current_date - INTERVAL 3 DAY", 25, "intervals"),
    ("months IS DISTINCT FROM 1", 11, "DISTINCT"),
    ("months = ?", 10, "parameters"),
    ("months = $1", 10, "parameters"),
    ("months = :m", 10, "parameters"),
    ("brand = E'a'", 9, "plain single-quoted"),
    ("brand = $$a$$", 9, "plain single-quoted"),
    ("brand ~ 'a'", 7, "not part of the rule language"),
    ("brand SIMILAR TO 'a'", 7, "not part of the rule language"),
    ("brand COLLATE nocase = 'a'", 7, "COLLATE"),
    ("brand = ANY ('a')", 9, "not allowed"),
    ("brand = ['a']", 9, "lists"),
    ("months = (1, 2)", 10, "only allowed after IN"),
    ("months IN 1", 8, "IN takes a list"),
    ("months IN ()", 8, "at least one value"),
    ("months IN (arpu_3m)", 12, "literal values only"),
    ("months BETWEEN SYMMETRIC 1 AND 2", 16, "SYMMETRIC"),
    ("arpu_3m > .5", 11, "leading digit"),
    ("months > 99999999999999999999", 10, "out of range"),
    ("arpu_3m > 1e999", 11, "out of range"),
    ("signup > '2024-02-30'", 10, "not a date"),
    ("signup > DATE '24-1-1'", 15, "not a date"),
    ("brand LIKE region", 7, "pattern in single quotes"),
    ("brand LIKE 'a!' ESCAPE '!'", 12, "ends with its escape character"),
    ("brand LIKE 'a' ESCAPE 'x'", 23, "ESCAPE takes one of"),
    ("brand = 'a\x00'", 11, "NUL"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "column", "fragment"), REFUSED)
def test_refused_at_its_position(text: str, column: int, fragment: str) -> None:
    error = refused(text)
    assert fragment in error.message
    assert (error.line, error.column) == (1, column), error
    assert error.position == column - 1
    assert str(error) == f"line 1, column {column}: {error.message}"


TYPE_ERRORS = [
    ("brand > 5", 7, "cannot compare brand (text) with 5 (an integer); write text in single quotes, as in '5'"),  # noqa: E501
    ("arpu_3m = 'high'", 9, "cannot compare arpu_3m (a number) with 'high' (text)"),
    ("arpu_3m + 'x' > 1", 11, "'+' needs numbers, but 'x' (text) is not"),
    ("NOT arpu_3m", 5, "NOT needs a condition (true or false), but arpu_3m (a number) is not"),
    ("arpu_3m", 1, "a rule must be a condition (true or false), but arpu_3m (a number) is not"),
    ("months + 1", 1, "a rule must be a condition"),
    ("vip AND months", 9, "AND joins conditions (true or false), but months (an integer) is not"),
    ("vip > FALSE", 5, "compare only with = or <>"),
    ("vip BETWEEN FALSE AND TRUE", 5, "ordered values"),
    ("brand = NULL", 9, "IS NULL"),
    ("NULL <> months", 1, "IS NOT NULL"),
    ("NULL + NULL > 1", 6, "cannot tell the type of NULL"),
    ("coalesce(NULL, NULL) = 1", 1, "cannot tell the type of NULL"),
    ("signup > 5", 8, "cannot compare signup (a date) with 5"),
    ("signup + 1.5 > signup", 8, "a date takes + or - a whole number of days"),
    ("signup + signup > signup", 8, "a date takes + or -"),
    ("signup * 2 > signup", 8, "a date takes + or -"),
    ("lower(months) = 'a'", 7, "lower needs text, but months (an integer) is not"),
    ("length(signup) > 1", 8, "length needs text"),
    ("abs(brand) > 1", 5, "abs needs a number"),
    ("least(brand, months) = 'a'", 1, "least mixes brand (text) with months (an integer)"),
    ("brand IN ('a', 1)", 7, "IN mixes brand (text) with 1 (an integer)"),
    ("months BETWEEN 'a' AND 'z'", 8, "BETWEEN mixes"),
    ("months LIKE '1%'", 1, "LIKE matches text, but months (an integer) is not"),
    ("vip IS 1", 5, "IS takes NULL, TRUE or FALSE"),
    ("months IS TRUE", 1, "IS TRUE needs a condition"),
    ("date_diff('day', signup, 'x') > 1", 26, "'x' is not a date"),
    ("- brand = 'a'", 1, "'-' needs a number"),
    ("brand = 'a' AND\n  arpu_3m > 'x'", 0, "cannot compare arpu_3m"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "column", "message"), TYPE_ERRORS)
def test_type_errors_name_both_sides(text: str, column: int, message: str) -> None:
    error = refused(text)
    assert message in error.message
    if column:
        assert error.column == column, error


def test_errors_on_later_lines_count_lines_and_columns() -> None:
    error = refused("brand = 'a' AND\n  arpu_3m > 'x'")
    assert (error.line, error.column, error.position) == (2, 11, 26)
    assert error.pointer() == "  arpu_3m > 'x'\n          ^"


def test_unknown_tags_come_with_the_nearest_names() -> None:
    error = refused("arpu3m > 50 AND vip")
    assert error.message == "unknown tag 'arpu3m'; did you mean 'arpu_3m' or 'arpu_6m'?"
    assert error.suggestions == ["arpu_3m", "arpu_6m"]
    assert error.column == 1
    far = refused("vip AND zzz > 1")
    assert (far.suggestions, far.column) == ([], 9)
    assert refused("BRNAD = 'a'").suggestions == ["brand"]
    assert refused("datediff('day', signup, signup) > 1").suggestions == ["date_diff"]


def test_the_deepest_rules_allowed_still_compile() -> None:
    deepest = [
        "(" * 24 + "vip" + ")" * 24,
        "abs(" * 23 + " + ".join(["months"] * 24) + ")" * 23 + " > 0",
        " * ".join(["months"] * 46) + " > 0",
        "NOT " * 47 + "vip",
        "signup" + " + months" * 46 + " > DATE '2024-01-01'",
    ]
    for text in deepest:
        rule = parse_rule(text, CATALOGUE)
        to_python(rule)
        to_sql(rule, "postgres")


def test_a_rule_error_is_a_value_error() -> None:
    assert issubclass(RuleError, ValueError)
    error = refused("brnd = 'a'")
    assert error.text == "brnd = 'a'"


WORDS = [
    "brand", "months", "arpu_3m", "vip", "signup", '"brand"', "t.", "AND", "OR", "NOT", "IN",
    "BETWEEN", "IS", "NULL", "TRUE", "FALSE", "LIKE", "ILIKE", "ESCAPE", "DATE", "current_date",
    "SELECT", "FROM", "CASE", "WHEN", "(", ")", ",", "=", "<>", "<", ">=", "+", "-", "*", "/",
    "%", "||", "::", ";", "--", "/*", "'a'", "'2024-01-01'", "'", '"', "1", "2.5", "1e3", "-",
    "abs(", "coalesce(", "least(", "lower(", "length(", "date_diff(", "'day'", "count(", "?",
    "$1", "[", "]", "{", "}", "‘", "中", "\n", "\\", "e'", "$$", "@", "#", "~", "!", "..",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join) | st.text(max_size=30))
def test_any_text_is_a_rule_or_a_rule_error(text: str) -> None:
    try:
        rule = parse_rule(text, CATALOGUE)
    except RuleError as error:
        refused: RuleError | None = error
    else:
        refused = None
        assert rule.tags <= set(CATALOGUE)
    if refused is not None:
        assert 0 <= refused.position <= len(text)
        assert refused.message
