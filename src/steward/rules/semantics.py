"""SQL's meaning, in Python: the pieces the online evaluator calls where Python differs.

Each helper matches what DuckDB does for the same input (the differential test checks it):
integers are 64-bit and overflow is an error, dates move by whole days within 32 bits,
``lower``/``upper`` use Unicode's one-character (simple) case mappings, and LIKE's ``_`` is
one character, not one byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Any, NoReturn

from steward.rules.types import RuleEvaluationError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# The few characters whose one-character mapping Python's full mapping hides (str.lower of
# 'İ' is two characters); the engines use the one-character form.
_LOWER_EXTRA = {0x130: "i"}
_UPPER_EXTRA = {0xDF: "\u1e9e"}


def overflow(value: int) -> NoReturn:
    raise RuleEvaluationError(f"integer overflow: {value} does not fit in 64 bits")


def add_days(day: date, days: int) -> date:
    """``day + days`` as the engines compute ``date + CAST(days AS INTEGER)``."""
    if not INT32_MIN <= days <= INT32_MAX:
        raise RuleEvaluationError(f"{days} days does not fit in a 32-bit integer")
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise RuleEvaluationError(f"{day} + {days} days is out of the date range") from None


def sub_days(day: date, days: int) -> date:
    if not INT32_MIN <= days <= INT32_MAX:
        raise RuleEvaluationError(f"{days} days does not fit in a 32-bit integer")
    try:
        return day - timedelta(days=days)
    except OverflowError:
        raise RuleEvaluationError(f"{day} - {days} days is out of the date range") from None


def today() -> date:
    """``current_date`` when no ``as_of`` is given (a plain function: the evaluator's source
    runs without builtins, and ``date.today`` imports on its first call)."""
    return date.today()


def least(*values: Any) -> Any:
    """SQL ``least``: the smallest value that is not NULL; NULL only if all are."""
    present = [v for v in values if v is not None]
    return min(present) if present else None


def greatest(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def to_float(value: Any) -> float | None:
    return None if value is None else float(value)


@cache
def _case_tables() -> tuple[dict[int, str], dict[int, str]]:
    lower: dict[int, str] = {}
    upper: dict[int, str] = {}
    for code in range(0x20000):  # no cased character lies beyond the first two planes
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        low = char.lower()
        if len(low) == 1 and low != char:
            lower[code] = low
        up = char.upper()
        if len(up) != 1:
            up = char.title()  # the title form is the one-character upper form here
        if len(up) == 1 and up != char:
            upper[code] = up
    lower.update(_LOWER_EXTRA)
    upper.update(_UPPER_EXTRA)
    return lower, upper


def sql_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return text.translate(_case_tables()[0])


def sql_upper(text: str) -> str:
    if text.isascii():
        return text.upper()
    return text.translate(_case_tables()[1])


def like_parts(pattern: str, escape: str | None) -> list[str]:
    """Split a LIKE pattern into literal runs and the wildcards ``%`` and ``_``.

    Literal runs come back prefixed with ``=``; an escaped character is literal.
    """
    parts: list[str] = []
    literal: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape:
            literal.append(pattern[index + 1])
            index += 2
            continue
        if char in "%_":
            if literal:
                parts.append("=" + "".join(literal))
                literal = []
            if not (char == "%" and parts and parts[-1] == "%"):  # %% is %
                parts.append(char)
        else:
            literal.append(char)
        index += 1
    if literal:
        parts.append("=" + "".join(literal))
    return parts


def like_test(pattern: str, escape: str | None) -> tuple[str, Any]:
    """How to test a value against ``pattern``: the cheapest of equality, prefix, suffix,
    containment, anything, or a compiled regular expression (full match)."""
    parts = like_parts(pattern, escape)
    literals = [p[1:] for p in parts if p.startswith("=")]
    shape = "".join("L" if p.startswith("=") else p for p in parts)
    simple = {"": "equals", "L": "equals", "%": "any", "L%": "prefix", "%L": "suffix",
              "%L%": "contains"}  # fmt: skip
    if shape in simple:
        return simple[shape], literals[0] if literals else ""
    regex = "".join(".*" if p == "%" else "." if p == "_" else re.escape(p[1:]) for p in parts)
    matcher: Callable[[str], Any] = re.compile(regex, re.DOTALL).fullmatch
    return "regex", matcher
