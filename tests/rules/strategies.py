"""Random well-typed rules and random profiles (with NULLs) over a small catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

from hypothesis import strategies as st

from steward.rules import TagType

BOOL, INT, FLOAT, TEXT, DATE = (
    TagType.BOOL,
    TagType.INT,
    TagType.FLOAT,
    TagType.CATEGORY,
    TagType.DATE,
)

CATALOGUE: dict[str, TagType] = {
    "flag": BOOL, "vip": BOOL, "n": INT, "m": INT, "x": FLOAT, "y": FLOAT,
    "brand": TEXT, "region": TEXT, "signup": DATE, "seen": DATE,
}  # fmt: skip
AS_OF = date(2026, 3, 15)

#: Text that exercises case mapping, LIKE's wildcards and escapes, quotes and backslashes.
ALPHABET = ["a", "A", "b", "é", "É", "ß", "中", "'", "%", "_", "!", " ", "\\", "İ", "ς", "Σ"]
#: PostgreSQL's case mapping follows the server's locale; keep its text to what all agree on.
PLAIN_ALPHABET = ["a", "A", "b", "é", "É", "中", "'", "%", "_", "!", " ", "\\"]


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def tags(kind: TagType) -> list[str]:
    return [name for name, k in CATALOGUE.items() if k is kind]


class Grammar:
    """Rule texts drawn from every construct of the language, typed by construction.

    Integer products nest at most twice, so |values| <= 1000 never overflow 64 bits; the
    overflow cases have tests of their own.
    """

    def __init__(self, alphabet: Sequence[str], *, smallest_float: float = 0.0) -> None:
        # Short words from one small set, so patterns, lists and values often meet.
        words = ["", "a", "A", "ab", "aB", "ba", "a_b", "a%b", "é", "É", *alphabet]
        self.texts = st.sampled_from([w for w in words if set(w) <= set(alphabet)]) | st.text(
            alphabet=alphabet, max_size=3
        )
        self.alphabet = alphabet
        self.ints = st.integers(-1000, 1000)
        self.floats = st.floats(-1000, 1000, allow_nan=False).filter(
            lambda x: x == 0 or abs(x) >= smallest_float
        ) | st.sampled_from([0.0, -0.0, 0.1])
        self.dates = st.dates(date(2020, 1, 1), date(2030, 12, 31))

    def values(self, kind: TagType) -> st.SearchStrategy[Any]:
        strategies: dict[TagType, st.SearchStrategy[Any]] = {
            BOOL: st.booleans(), INT: self.ints, FLOAT: self.floats, TEXT: self.texts,
            DATE: self.dates,
        }  # fmt: skip
        return strategies[kind]

    def profiles(self) -> st.SearchStrategy[dict[str, Any]]:
        fields = {name: st.none() | self.values(kind) for name, kind in CATALOGUE.items()}
        return st.fixed_dictionaries(fields)

    def literal(self, kind: TagType) -> st.SearchStrategy[str]:
        if kind is BOOL:
            return st.sampled_from(["TRUE", "FALSE"])
        if kind is TEXT:
            return self.texts.map(quote)
        if kind is DATE:
            return self.dates.map(lambda d: f"DATE '{d.isoformat()}'")
        return self.values(kind).map(repr)

    def item(self, kind: TagType) -> st.SearchStrategy[str]:
        """A literal where a list or a comparison gives the type: NULL, or text for a date."""
        items = self.literal(kind) | st.just("NULL")
        if kind is DATE:
            items |= self.dates.map(lambda d: quote(d.isoformat()))
        return items

    def pattern(self) -> st.SearchStrategy[str]:
        words = st.sampled_from(["a", "A", "b", "ab", "é", "'"]) | st.sampled_from(self.alphabet)
        plain = words.filter(lambda w: "!" not in w)
        bare = st.lists(plain | st.sampled_from(["%", "_", "%%"]), max_size=4)
        escaped = st.lists(plain | st.sampled_from(["%", "_", "!%", "!_", "!!"]), max_size=4)
        return bare.map(lambda p: quote("".join(p))) | escaped.map(
            lambda p: quote("".join(p)) + " ESCAPE '!'"
        )

    @cache  # noqa: B019 - one grammar per test module, kept for its life
    def expr(self, kind: TagType, depth: int) -> st.SearchStrategy[str]:
        leaves = [st.sampled_from(tags(kind)), self.literal(kind)]
        if kind is DATE:
            leaves.append(st.just("current_date"))
        if depth <= 0:
            return st.one_of(leaves)
        return st.one_of(*leaves, *self.composites(kind, depth))

    def composites(self, kind: TagType, depth: int) -> list[st.SearchStrategy[str]]:
        def sub(k: TagType) -> st.SearchStrategy[str]:
            return self.expr(k, depth - 1)

        def fmt(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
            return st.tuples(*parts).map(lambda values: template.format(*values))

        def nullable(k: TagType) -> st.SearchStrategy[str]:
            return sub(k) | self.item(k)

        numeric = sub(INT) | sub(FLOAT)
        ordered = st.sampled_from([INT, FLOAT, TEXT, DATE])
        if kind is BOOL:
            ops = st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="])
            negate = st.sampled_from(["", "NOT "])
            return [
                fmt("(NOT {})", sub(BOOL)),
                st.lists(sub(BOOL), min_size=2, max_size=4).map(
                    lambda p: "(" + " AND ".join(p) + ")"
                ),
                st.lists(sub(BOOL), min_size=2, max_size=4).map(
                    lambda p: "(" + " OR ".join(p) + ")"
                ),
                fmt("({} {} {})", numeric, ops, numeric),
                ordered.flatmap(lambda k: fmt("({} {} {})", sub(k), ops, sub(k))),
                fmt("({} {} {})", sub(BOOL), st.sampled_from(["=", "<>"]), sub(BOOL)),
                fmt("({} >= {})", sub(DATE), self.dates.map(lambda d: quote(d.isoformat()))),
                ordered.flatmap(
                    lambda k: fmt(
                        "({} {}BETWEEN {} AND {})", sub(k), negate, nullable(k), nullable(k)
                    )
                ),
                st.sampled_from([BOOL, INT, FLOAT, TEXT, DATE]).flatmap(
                    lambda k: fmt(
                        "({} {}IN ({}))",
                        sub(k),
                        negate,
                        st.lists(self.item(k), min_size=1, max_size=4).map(", ".join),
                    )
                ),
                st.sampled_from([BOOL, INT, FLOAT, TEXT, DATE]).flatmap(
                    lambda k: fmt("({} IS {}NULL)", sub(k), negate)
                ),
                fmt("({} IS {}{})", sub(BOOL), negate, st.sampled_from(["TRUE", "FALSE"])),
                fmt(
                    "({} {}{} {})",
                    sub(TEXT),
                    negate,
                    st.sampled_from(["LIKE", "ILIKE"]),
                    self.pattern(),
                ),
                fmt("coalesce({}, {})", sub(BOOL), nullable(BOOL)),
            ]
        if kind is TEXT:
            return [
                fmt("lower({})", sub(TEXT)),
                fmt("upper({})", sub(TEXT)),
                fmt("coalesce({}, {})", sub(TEXT), nullable(TEXT)),
                fmt(
                    "{}({}, {})", st.sampled_from(["least", "greatest"]), sub(TEXT), nullable(TEXT)
                ),
            ]
        if kind is DATE:
            days = st.sampled_from(tags(INT)) | self.ints.map(repr)
            return [
                fmt("coalesce({}, {})", sub(DATE), nullable(DATE)),
                fmt(
                    "{}({}, {})", st.sampled_from(["least", "greatest"]), sub(DATE), nullable(DATE)
                ),
                fmt("({} {} {})", sub(DATE), st.sampled_from(["+", "-"]), days),
                fmt("({} + {})", days, sub(DATE)),
                fmt("({} + NULL)", sub(DATE)),
            ]
        same = sub(kind)
        arith = ["+", "-", "*"] if kind is FLOAT or depth <= 2 else ["+", "-"]
        parts = [
            fmt("({} {} {})", same, st.sampled_from(arith), same),
            fmt("({} {} NULL)", same, st.sampled_from(["+", "-"])),
            fmt("(- {})", same),
            fmt("abs({})", same),
            fmt("coalesce({}, {})", same, nullable(kind)),
            fmt("{}({}, {})", st.sampled_from(["least", "greatest"]), same, nullable(kind)),
        ]
        if kind is INT:
            parts += [
                fmt("length({})", sub(TEXT)),
                fmt("date_diff('day', {}, {})", sub(DATE), sub(DATE)),
                fmt("({} - {})", sub(DATE), sub(DATE)),
            ]
        else:
            parts += [
                fmt("({} / {})", numeric, numeric),
                fmt("({} {} {})", same, st.sampled_from(["+", "-", "*"]), sub(INT)),
                fmt("coalesce({}, {})", same, sub(INT)),
            ]
        return parts

    def rules(self, depth: int = 4) -> st.SearchStrategy[str]:
        """One condition, or up to four joined by AND / OR as planners write them."""
        joiner = st.sampled_from([" AND ", " OR "])
        parts = st.lists(self.expr(BOOL, depth), min_size=2, max_size=4)
        return self.expr(BOOL, depth) | st.tuples(joiner, parts).map(lambda jp: jp[0].join(jp[1]))
