"""Compile a rule to a SQL boolean expression (the batch path), built as a SQLGlot tree.

The tree is built from our checked nodes, never from the planner's text: names become quoted
identifiers and values become literals that SQLGlot renders, so nothing the planner typed
reaches the engine as SQL. Where engines differ from one another (or from the meaning we
promise), the SQL says what we mean explicitly: division is by ``NULLIF(d, 0)`` and in floating
point, float literals are ``CAST(... AS DOUBLE)`` (not DECIMAL), integer literals in constant
arithmetic are BIGINT, and the few per-dialect differences live in ``DIALECTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from steward.rules.types import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    Const,
    Expr,
    InList,
    Is,
    Like,
    Neg,
    Not,
    Or,
    Rule,
    Tag,
    TagType,
    Today,
    children,
)


@dataclass(frozen=True)
class SqlDialect:
    """What one engine needs spelled out to mean what the rule means."""

    #: LIKE has a default escape character (PostgreSQL: backslash), so say ESCAPE ''.
    like_default_escape: bool
    #: Collation that orders text by code point, as DuckDB and Python do.
    binary_collation: str | None
    #: Collation whose case mapping lower/upper/ILIKE use (the binary one maps ASCII only).
    case_collation: str | None
    #: length() and date - date give 32-bit integers; widen them to BIGINT.
    narrow_int_results: bool


DIALECTS: dict[str, SqlDialect] = {
    "duckdb": SqlDialect(
        like_default_escape=False,
        binary_collation=None,
        case_collation=None,
        narrow_int_results=False,
    ),
    "postgres": SqlDialect(
        like_default_escape=True,
        binary_collation="C",
        case_collation="default",
        narrow_int_results=True,
    ),
}

SQL_TYPES = {
    TagType.BOOL: "BOOLEAN",
    TagType.INT: "BIGINT",
    TagType.FLOAT: "DOUBLE",
    TagType.CATEGORY: "VARCHAR",
    TagType.DATE: "DATE",
}

_COMPARE: dict[str, type[exp.Binary]] = {
    "=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE,
}  # fmt: skip
_ARITH: dict[str, type[exp.Binary]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}
_FUNCTIONS: dict[str, type[exp.Func]] = {
    "abs": exp.Abs, "lower": exp.Lower, "upper": exp.Upper, "length": exp.Length,
    "coalesce": exp.Coalesce, "least": exp.Least, "greatest": exp.Greatest,
}  # fmt: skip

# Binding strength, loosest first; a child binding more loosely than its place allows gets
# parentheses. Every predicate shares one level and never nests bare inside another, which
# keeps the text unambiguous for DuckDB and PostgreSQL alike.
_OR, _AND, _NOT, _PREDICATE, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 9)


def to_sql(rule: Rule, dialect: str = "duckdb", *, as_of: date | None = None) -> str:
    """The rule as a SQL boolean expression over columns named as its tags.

    The columns are quoted identifiers with the tags' lower-case names; the caller's table
    must give them the types of ``SQL_TYPES``. ``current_date`` becomes ``as_of`` when given.
    ``dialect`` is one of ``DIALECTS`` ("duckdb", "postgres").
    """
    return to_expression(rule, dialect, as_of=as_of).sql(dialect=dialect)


def to_expression(rule: Rule, dialect: str = "duckdb", *, as_of: date | None = None) -> exp.Expr:
    """The SQLGlot tree of ``to_sql``, to place inside a larger query without re-parsing."""
    if dialect not in DIALECTS:
        known = ", ".join(sorted(DIALECTS))
        raise ValueError(f"no verified semantics for dialect {dialect!r}; use one of {known}")
    return _Builder(DIALECTS[dialect], as_of).build(rule.tree)[0]


def _orders_text(tree: Expr) -> bool:
    """Whether a text value comes out of a text least/greatest (and carries its collation)."""
    own = isinstance(tree, Call) and tree.name in ("least", "greatest")
    if own and tree.type is TagType.CATEGORY:
        return True
    return isinstance(tree, Call) and any(_orders_text(arg) for arg in children(tree))


def _small_int(tree: Expr) -> bool:
    """An integer built only from literals, which engines would type as 32-bit."""
    match tree:
        case Const(value=int() as value) if not isinstance(value, bool):
            return True
        case Arith(type=TagType.INT, left=left, right=right):
            return _small_int(left) and _small_int(right)
        case Call(name="abs" | "least" | "greatest" | "coalesce", type=TagType.INT, args=args):
            return all(_small_int(arg) for arg in args)
    return False


class _Builder:
    def __init__(self, dialect: SqlDialect, as_of: date | None) -> None:
        self.dialect = dialect
        self.as_of = as_of

    def at(self, tree: Expr, strength: int, *, widen: bool = False) -> exp.Expr:
        """``tree`` where an operand must bind at least as tightly as ``strength``."""
        node, level = self.build(tree)
        if widen and isinstance(tree, Const) and tree.value is not None:
            node, level = exp.cast(node, "BIGINT"), _ATOM  # 2e9 + 2e9 must not be 32-bit
        return exp.Paren(this=node) if level < strength else node

    def text(self, tree: Expr, strength: int, role: str = "plain") -> exp.Expr:
        """A text operand with the collation its place needs, where the engine has collations.

        An ordering (role "order") compares by code point whatever the database's locale. A
        text least/greatest therefore carries that explicit collation in its result, which
        must not reach a case mapping (role "case": the locale's own) nor meet another
        explicit collation as a sibling (role "plain": the binary one again).
        """
        node = self.at(tree, strength)
        if self.dialect.binary_collation is None or tree.type is not TagType.CATEGORY:
            return node
        if role == "order":
            collation = self.dialect.binary_collation
        elif not _orders_text(tree):
            return node
        elif role == "case":
            collation = self.dialect.case_collation or self.dialect.binary_collation
        else:
            collation = self.dialect.binary_collation
        node = exp.Collate(this=node, expression=exp.Identifier(this=collation, quoted=True))
        # PostgreSQL's grammar takes no COLLATE in a BETWEEN bound without parentheses.
        return node if role == "order" else exp.Paren(this=node)

    def build(self, tree: Expr) -> tuple[exp.Expr, int]:
        match tree:
            case Tag(name=name):
                return exp.column(name, quoted=True), _ATOM
            case Const():
                return self.literal(tree)
            case Today():
                if self.as_of is None:
                    return exp.CurrentDate(), _ATOM
                return self.literal(Const(self.as_of, TagType.DATE))
            case Not(operand=operand):
                return exp.Not(this=self.at(operand, _PREDICATE)), _NOT
            case And(operands=operands):
                return exp.and_(*(self.at(o, _NOT) for o in operands), wrap=False), _AND
            case Or(operands=operands):
                return exp.or_(*(self.at(o, _AND) for o in operands), wrap=False), _OR
            case Compare(op=op, left=left, right=right):
                role = "plain" if op in ("=", "<>") else "order"
                node = _COMPARE[op](
                    this=self.text(left, _SUM, role), expression=self.text(right, _SUM)
                )
                return node, _PREDICATE
            case Between(operand=operand, low=low, high=high):
                bounds = {"low": self.text(low, _SUM), "high": self.text(high, _SUM)}
                return exp.Between(this=self.text(operand, _SUM, "order"), **bounds), _PREDICATE
            case InList(operand=operand, items=items):
                values = [self.literal(item)[0] for item in items]
                return exp.In(this=self.text(operand, _SUM), expressions=values), _PREDICATE
            case Is(operand=operand, value=value, negated=negated):
                probe = exp.Null() if value is None else exp.Boolean(this=value)
                node = exp.Is(this=self.at(operand, _SUM), expression=probe)
                return (exp.Not(this=node), _NOT) if negated else (node, _PREDICATE)
            case Like():
                return self.like(tree)
            case Arith():
                return self.arith(tree)
            case Neg(operand=operand):
                return exp.Neg(this=self.at(operand, _ATOM, widen=True)), _UNARY
            case Call():
                return self.call(tree)
        raise AssertionError(f"unexpected node {tree!r}")

    def literal(self, const: Const) -> tuple[exp.Expr, int]:
        value = const.value
        if value is None:
            if const.type is TagType.BOOL:
                return exp.Null(), _ATOM
            return exp.cast(exp.Null(), SQL_TYPES[const.type]), _ATOM
        if isinstance(value, bool):
            return exp.Boolean(this=value), _ATOM
        if isinstance(value, int):
            return exp.Literal.number(value), _UNARY if value < 0 else _ATOM
        if isinstance(value, float):
            # An exponent makes DuckDB read a DOUBLE (not a DECIMAL) and PostgreSQL round
            # correctly; the cast makes PostgreSQL compute in double precision too.
            text = repr(value) if "e" in repr(value) else f"{value!r}e0"
            return exp.cast(exp.Literal.number(text), "DOUBLE"), _ATOM
        if isinstance(value, date):
            return exp.cast(exp.Literal.string(value.isoformat()), "DATE"), _ATOM
        return exp.Literal.string(value), _ATOM

    def like(self, tree: Like) -> tuple[exp.Expr, int]:
        kind = exp.ILike if tree.case_insensitive else exp.Like
        operand = self.text(tree.operand, _SUM, "case" if tree.case_insensitive else "plain")
        node: exp.Expr = kind(this=operand, expression=exp.Literal.string(tree.pattern))
        escape = tree.escape if tree.escape is not None else ""
        if escape or self.dialect.like_default_escape:
            node = exp.Escape(this=node, expression=exp.Literal.string(escape))
        return (exp.Not(this=node), _NOT) if tree.negated else (node, _PREDICATE)

    def arith(self, tree: Arith) -> tuple[exp.Expr, int]:
        types = (tree.left.type, tree.right.type)
        if types == (TagType.DATE, TagType.DATE):
            return self.days_between(tree.right, tree.left)
        if TagType.DATE in types:
            # Engines add INTEGER days to a date; a BIGINT must be cast (and fail if too big).
            left, right = (
                self.at(side, _PRODUCT) if side.type is TagType.DATE
                else exp.cast(self.at(side, _ATOM), "INTEGER")
                for side in (tree.left, tree.right)
            )  # fmt: skip
            return _ARITH[tree.op](this=left, expression=right), _SUM
        widen = tree.type is TagType.INT and _small_int(tree.left) and _small_int(tree.right)
        strength = _SUM if tree.op in "+-" else _PRODUCT
        left = self.at(tree.left, strength, widen=widen)
        right = self.at(tree.right, strength + 1, widen=widen)
        if tree.op != "/":
            return _ARITH[tree.op](this=left, expression=right), strength
        if types == (TagType.INT, TagType.INT):
            left = exp.cast(self.at(tree.left, _ATOM), "DOUBLE")  # 7 / 2 is 3.5 everywhere
        divisor = exp.Nullif(this=self.at(tree.right, _ATOM), expression=exp.Literal.number(0))
        return exp.Div(this=left, expression=divisor, typed=True, safe=False), _PRODUCT

    def call(self, tree: Call) -> tuple[exp.Expr, int]:
        if tree.name == "date_diff":
            return self.days_between(*tree.args)
        widen = tree.type is TagType.INT and all(_small_int(arg) for arg in tree.args)
        args = [self.at(arg, 0, widen=widen) for arg in tree.args]
        if tree.type is TagType.CATEGORY or tree.name == "length":
            role = {"least": "order", "greatest": "order", "lower": "case", "upper": "case"}
            first = role.get(tree.name, "plain")
            args = [
                self.text(arg, 0, first if i == 0 else "plain") for i, arg in enumerate(tree.args)
            ]
        function = _FUNCTIONS[tree.name]
        if tree.name == "coalesce":
            return function(this=args[0], expressions=args[1:]), _ATOM
        if tree.name in ("least", "greatest"):
            # ignore_nulls: SQLGlot's name for the engines' rule that NULL arguments are skipped.
            return function(this=args[0], expressions=args[1:], ignore_nulls=True), _ATOM
        node = function(this=args[0])
        if tree.name == "length" and self.dialect.narrow_int_results:
            return exp.cast(node, "BIGINT"), _ATOM
        return node, _ATOM

    def days_between(self, start: Expr, end: Expr) -> tuple[exp.Expr, int]:
        """``end - start`` in days, as BIGINT everywhere."""
        difference = exp.Sub(this=self.at(end, _SUM), expression=self.at(start, _PRODUCT))
        if self.dialect.narrow_int_results:
            return exp.cast(difference, "BIGINT"), _ATOM
        return exp.Paren(this=difference), _ATOM
