"""One semantics, two speeds: the Python evaluator and DuckDB agree on every rule and row.

Hypothesis draws well-typed rules over every construct of the language and profiles full of
NULLs; each rule runs once in DuckDB over all its profiles and once per profile in Python.
"""

from __future__ import annotations

from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.rules import RuleEvaluationError, parse_rule
from tests.rules.engines import profiles_table, run_duckdb, run_python
from tests.rules.strategies import ALPHABET, AS_OF, CATALOGUE, Grammar

GRAMMAR = Grammar(ALPHABET)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=GRAMMAR.rules(), profiles=st.lists(GRAMMAR.profiles(), min_size=1, max_size=16))
def test_python_and_duckdb_agree_on_every_row(
    duck: duckdb.DuckDBPyConnection, text: str, profiles: list[dict[str, Any]]
) -> None:
    rule = parse_rule(text, CATALOGUE)
    try:
        expected = run_duckdb(duck, rule, profiles_table(CATALOGUE, profiles), as_of=AS_OF)
    except duckdb.Error as exc:  # the engine refused the data (overflow): so must Python
        refused = str(exc)
    else:
        actual = run_python(rule, profiles, as_of=AS_OF)
        for profile, want, got in zip(profiles, expected, actual, strict=True):
            assert got is want, f"{text}\nprofile {profile}\nDuckDB {want!r}, Python {got!r}"
        return
    failures = 0
    for profile in profiles:
        try:
            run_python(rule, [profile], as_of=AS_OF)
        except RuleEvaluationError:
            failures += 1
    assert failures, f"DuckDB raised {refused} but Python evaluated every profile"
