"""Every construct of the language, with the answer both engines give on one subscriber."""

from __future__ import annotations

import pickle
from datetime import date

import duckdb
import pytest

from steward.rules import Rule, TagType, matches, parse_rule, to_sql
from steward.rules.types import And, Compare, Const, Tag
from tests.rules.engines import run_both

CATALOGUE = {
    "brand": TagType.CATEGORY, "region": TagType.CATEGORY, "arpu_3m": TagType.FLOAT,
    "months": TagType.INT, "calls": TagType.INT, "vip": TagType.BOOL,
    "complaint_sensitive": TagType.BOOL, "signup": TagType.DATE, "last_recharge": TagType.DATE,
}  # fmt: skip
AS_OF = date(2026, 3, 15)
SUBSCRIBER = {
    "brand": "gotone", "region": "Lanzhou", "arpu_3m": 88.5, "months": 26, "calls": 0,
    "vip": True, "complaint_sensitive": False, "signup": date(2024, 1, 20),
    "last_recharge": date(2026, 3, 1),
}  # fmt: skip

CONSTRUCTS = [
    # comparisons, on every type
    "brand = 'gotone'", "brand <> 'mzone'", "brand != 'mzone'", "months > 24", "months >= 26",
    "months < 27", "months <= 26", "arpu_3m > 88.4", "arpu_3m = 88.5", "vip = TRUE",
    "complaint_sensitive <> TRUE", "signup < DATE '2024-02-01'", "signup = '2024-01-20'",
    "brand < 'h'", "region > 'J'", "months = 26.0", "months == 26",
    # connectives and parentheses
    "brand = 'gotone' AND months > 12", "brand = 'x' OR months > 12", "NOT complaint_sensitive",
    "vip AND NOT complaint_sensitive", "(brand = 'x' OR vip) AND (months > 1)",
    "NOT (brand = 'x' OR NOT vip)", "NOT NOT vip", "TRUE", "NOT FALSE",
    # IN, BETWEEN, IS, LIKE
    "brand IN ('gotone', 'mzone')", "brand NOT IN ('easyown')", "months IN (1, 26, 30)",
    "arpu_3m IN (88.5)", "signup IN (DATE '2024-01-20', '2025-01-01')", "vip IN (TRUE)",
    "arpu_3m BETWEEN 50 AND 120", "months NOT BETWEEN 1 AND 12",
    "signup BETWEEN '2024-01-01' AND DATE '2024-12-31'", "brand BETWEEN 'a' AND 'h'",
    "region IS NOT NULL", "calls IS NOT NULL", "vip IS TRUE", "complaint_sensitive IS FALSE",
    "complaint_sensitive IS NOT TRUE", "brand LIKE 'go%'", "brand LIKE '_otone'",
    "brand NOT LIKE '%zone'", "brand ILIKE 'GO%'", "brand NOT ILIKE 'M%'",
    "brand LIKE 'go!%%' ESCAPE '!' OR brand LIKE '%one'", "region LIKE 'L__zhou'",
    # arithmetic
    "arpu_3m * 2 > 170", "arpu_3m / months > 3", "months / 4 = 6.5", "months - 30 < 0",
    "- months < 0", "-months = -26", "arpu_3m + months > 114", "(months + 4) * 2 = 60",
    "months * 2 + 1 = 53", "calls / calls IS NULL", "1e2 > arpu_3m", "months * 1.5 = 39",
    # dates
    "signup + 30 < DATE '2024-03-01'", "last_recharge - 14 = '2026-02-15'",
    "last_recharge - signup > 700", "30 + signup > '2024-02-01'",
    "date_diff('day', last_recharge, current_date) <= 14", "current_date > signup",
    "date_diff('DAY', signup, last_recharge) = last_recharge - signup",
    # functions
    "abs(arpu_3m - 100) < 20", "abs(-months) = 26", "coalesce(calls, 0) = 0",
    "coalesce(arpu_3m, months, 0) > 80", "least(arpu_3m, 50) = 50", "greatest(months, 30) = 30",
    "least(signup, last_recharge) = signup", "greatest(brand, 'a', 'z') = 'z'",
    "lower(region) = 'lanzhou'", "upper(brand) = 'GOTONE'", "length(brand) = 6",
    "length(region) BETWEEN 1 AND 10", "current_date() > signup",
    # names: any case, quoted, across lines
    "BRAND = 'gotone' AND Months > 1", '"brand" = \'gotone\'', "brand = 'gotone'\n  AND vip",
    "brand = 'it''s' OR TRUE",
]  # fmt: skip


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_each_construct_holds_for_the_subscriber_in_both_engines(
    duck: duckdb.DuckDBPyConnection, text: str
) -> None:
    assert run_both(duck, text, CATALOGUE, SUBSCRIBER, as_of=AS_OF) == (True, True)


def test_a_rule_keeps_its_text_its_tree_and_the_tags_it_reads() -> None:
    rule = parse_rule("Brand = 'gotone' AND months > 12 AND brand <> 'x'", CATALOGUE)
    assert rule.text == "Brand = 'gotone' AND months > 12 AND brand <> 'x'"
    assert rule.tags == frozenset({"brand", "months"})
    assert isinstance(rule.tree, And)
    first = rule.tree.operands[0]
    assert first == Compare("=", Tag("brand", TagType.CATEGORY), Const("gotone", TagType.CATEGORY))
    assert rule == parse_rule(rule.text, CATALOGUE)
    assert str(rule) == rule.text


def test_and_chains_flatten_even_when_long() -> None:
    text = " AND ".join(f"months <> {i}" for i in range(2000))
    rule = parse_rule(text, CATALOGUE)
    assert isinstance(rule.tree, And)
    assert len(rule.tree.operands) == 2000
    assert matches(rule, {"months": 5000})
    assert not matches(rule, {"months": 1999})
    some = " AND ".join(f"months <> {i}" for i in range(1000, 1040))
    nested = " OR ".join(f"({some} AND months = {i})" for i in range(100))
    assert matches(parse_rule(nested, CATALOGUE), {"months": 99})


def test_catalogue_names_are_case_insensitive_and_types_may_be_strings() -> None:
    rule = parse_rule("ARPU > 1", {"Arpu": "float"})
    assert rule.tags == frozenset({"arpu"})
    assert to_sql(rule) == '"arpu" > 1'
    with pytest.raises(ValueError, match="twice"):
        parse_rule("a > 1", {"a": "int", "A": "int"})
    with pytest.raises(ValueError, match="not a valid TagType"):
        parse_rule("a > 1", {"a": "text"})


def test_a_tag_named_like_a_keyword_is_written_in_double_quotes() -> None:
    catalogue = {"date": TagType.DATE, "left": TagType.INT}
    rule = parse_rule('"date" > DATE \'2024-01-01\' AND "left" > 0', catalogue)
    assert matches(rule, {"date": date(2025, 1, 1), "left": 1})
    assert to_sql(rule) == '"date" > CAST(\'2024-01-01\' AS DATE) AND "left" > 0'


def test_sql_names_columns_with_quoted_identifiers_and_renders_every_literal() -> None:
    rule = parse_rule(
        "brand = 'it''s' AND arpu_3m > 0.1 AND signup > '2024-01-01' AND months > -5", CATALOGUE
    )
    assert to_sql(rule) == (
        "\"brand\" = 'it''s' AND \"arpu_3m\" > CAST(0.1e0 AS DOUBLE) AND "
        '"signup" > CAST(\'2024-01-01\' AS DATE) AND "months" > -5'
    )
    assert to_sql(rule, "postgres").count("DOUBLE PRECISION") == 1
    with pytest.raises(ValueError, match="no verified semantics"):
        to_sql(rule, "spark")


def test_rules_are_values_that_travel() -> None:
    rule = parse_rule("vip AND months > 1", CATALOGUE)
    assert isinstance(rule, Rule)
    assert hash(rule) == hash(parse_rule("vip AND months > 1", CATALOGUE))
    assert {rule, parse_rule("vip AND months > 1", CATALOGUE)} == {rule}
    assert matches(rule, {"vip": True, "months": 2})  # compiles and caches an evaluator
    copy = pickle.loads(pickle.dumps(rule))
    assert copy == rule
    assert matches(copy, {"vip": True, "months": 2})
