"""From a SQLGlot tree to our checked tree: every name known, every type right.

The checker walks the tree in source order, so a leaf without position of its own (NULL,
TRUE, CURRENT_DATE) is the next token of its kind; every error can then point at a character.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

from sqlglot import exp

from steward.rules.context import NULL_TYPE, Context, Node
from steward.rules.grammar import Source
from steward.rules.types import (
    NUMERIC,
    And,
    Arith,
    ArithOp,
    Between,
    Call,
    Compare,
    CompareOp,
    Const,
    Expr,
    FunctionName,
    InList,
    Is,
    Like,
    Neg,
    Not,
    Or,
    Tag,
    TagType,
    Today,
)
from steward.wording import N_

MAX_DEPTH = 48
INT64_MAX = 2**63 - 1

_COMPARE: dict[type[exp.Expr], CompareOp] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=",
}  # fmt: skip
_ARITH: dict[type[exp.Expr], ArithOp] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/",
}  # fmt: skip
_INTEGER = re.compile(r"[0-9]+")
_ESCAPE_CHARS = frozenset("!#$&/@\\^|~")
# An unknown tag: (suggestions, double-quoted) -> wording
_UNKNOWN = {
    (0, False): N_("unknown tag '%(name)s'"),
    (1, False): N_("unknown tag '%(name)s'; did you mean '%(first)s'?"),
    (2, False): N_("unknown tag '%(name)s'; did you mean '%(first)s' or '%(second)s'?"),
    (3, False): N_(
        "unknown tag '%(name)s'; did you mean '%(first)s' or '%(second)s' or '%(third)s'?"
    ),
    (0, True): N_(
        "unknown tag '%(name)s' (double quotes name a tag; write text in single quotes: 'value')"
    ),
    (1, True): N_(
        "unknown tag '%(name)s'; did you mean '%(first)s'? "
        "(double quotes name a tag; write text in single quotes: 'value')"
    ),
    (2, True): N_(
        "unknown tag '%(name)s'; did you mean '%(first)s' or '%(second)s'? "
        "(double quotes name a tag; write text in single quotes: 'value')"
    ),
    (3, True): N_(
        "unknown tag '%(name)s'; did you mean '%(first)s' or '%(second)s' or '%(third)s'? "
        "(double quotes name a tag; write text in single quotes: 'value')"
    ),
}
_COMPARE_MIX = (
    N_("cannot compare %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s)"),
    N_(
        "cannot compare %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s); "
        "write text in single quotes, as in '%(number)s'"
    ),
)
_BETWEEN_MIX = (
    N_("BETWEEN mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s)"),
    N_(
        "BETWEEN mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s); "
        "write text in single quotes, as in '%(number)s'"
    ),
)
_IN_MIX = (
    N_("IN mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s)"),
    N_(
        "IN mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s); "
        "write text in single quotes, as in '%(number)s'"
    ),
)
_FUNCTION_MIX = (
    N_("%(name)s mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s)"),
    N_(
        "%(name)s mixes %(a)s (%(a_kind)s) with %(b)s (%(b_kind)s); "
        "write text in single quotes, as in '%(number)s'"
    ),
)


def check(tree: exp.Expr, source: Source, catalogue: Mapping[str, TagType]) -> Expr:
    """Check ``tree`` against ``catalogue`` (lower-case names) and return the typed tree."""
    checker = _Checker(source, catalogue)
    root = checker.convert(tree)
    return checker.typed(
        root,
        TagType.BOOL,
        N_("a rule must be a condition (true or false), but %(what)s (%(kind)s) is not"),
    )


class _Checker(Context):
    """One method per SQLGlot node the language allows; anything else is refused."""

    def convert(self, node: exp.Expr) -> Node:
        if isinstance(node, exp.Paren):
            inner = self.convert(node.this)
            _, start = self.token_before(inner.start)
            _, end = self.token_after(inner.end)
            return Node(inner.expr, start, end)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(
                    self.cursor,
                    N_("the rule is nested deeper than %(limit)s levels"),
                    limit=MAX_DEPTH,
                )
            handler = _HANDLERS.get(type(node))
            if handler is None:
                return self.unsupported(node)
            return handler(self, node)
        finally:
            self.depth -= 1

    def unsupported(self, node: exp.Expr) -> Node:
        if isinstance(node, exp.Alias):
            start, _ = self.leaf(node.args["alias"], ("VAR", "IDENTIFIER"))
            word = self.tokens[self.starts[start]].text if start in self.starts else ""
            raise self.error(
                start, N_("unexpected '%(word)s': is an operator, AND or OR missing?"), word=word
            )
        if isinstance(node, exp.Tuple):
            _, opening = self.token_before(self.first_inside(node))
            raise self.error(opening, N_("a list in parentheses is only allowed after IN"))
        raise self.error(self.first_inside(node), N_("this is not part of the rule language"))

    def column(self, node: exp.Expr) -> Node:
        assert isinstance(node, exp.Column)
        identifier = node.args["this"]
        start, end = self.leaf(identifier, ("VAR", "IDENTIFIER"))
        if node.args.get("table") is not None or not isinstance(identifier, exp.Identifier):
            raise self.error(start, N_("qualified names are not allowed: write the tag alone"))
        name = str(identifier.this).lower()
        tag_type = self.catalogue.get(name)
        if tag_type is None:
            raise self.unknown(name, start, quoted=bool(identifier.args.get("quoted")))
        return Node(Tag(name, tag_type), start, end)

    def unknown(self, name: str, position: int, *, quoted: bool) -> Exception:
        close = difflib.get_close_matches(name, list(self.catalogue), n=3, cutoff=0.6)
        names = dict(zip(("first", "second", "third"), close, strict=False))
        return self.error(position, _UNKNOWN[(len(names), quoted)], close, name=name, **names)

    def literal(self, node: exp.Expr) -> Node:
        assert isinstance(node, exp.Literal)
        start, end = self.leaf(node, ("NUMBER", "STRING"))
        text = str(node.this)
        if node.is_string:
            return Node(Const(text, TagType.CATEGORY), start, end)
        if _INTEGER.fullmatch(text):
            if int(text) > INT64_MAX:
                raise self.error(
                    start,
                    N_("the integer %(number)s is out of range (at most %(limit)s)"),
                    number=text,
                    limit=INT64_MAX,
                )
            return Node(Const(int(text), TagType.INT), start, end)
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise self.error(start, N_("the number %(number)s is out of range"), number=text)
        return Node(Const(value, TagType.FLOAT), start, end)

    def null(self, node: exp.Expr) -> Node:
        start, end = self.leaf(node, ("NULL",))
        return Node(None, start, end)

    def boolean(self, node: exp.Expr) -> Node:
        start, end = self.leaf(node, ("TRUE", "FALSE"))
        return Node(Const(bool(node.this), TagType.BOOL), start, end)

    def today(self, node: exp.Expr) -> Node:
        start, end = self.leaf(node, ("CURRENT_DATE",))
        return Node(Today(), start, end)

    def date_literal(self, node: exp.Expr) -> Node:
        assert isinstance(node, exp.Cast)
        value = node.this
        target = node.args.get("to")
        if not (
            isinstance(value, exp.Literal)
            and value.is_string
            and isinstance(target, exp.DataType)
            and target.this == exp.DataType.Type.DATE
        ):
            raise self.error(self.cursor, N_("casts are not allowed; write DATE 'YYYY-MM-DD'"))
        start, end = self.leaf(value, ("STRING",))
        _, keyword = self.token_before(start)
        return Node(Const(self.date_value(str(value.this), start), TagType.DATE), keyword, end)

    def connective(self, node: exp.Expr) -> Node:
        kind = type(node)
        parts: list[exp.Expr] = []
        stack = [node]
        while stack:  # flatten a AND b AND c without recursing once per operand
            current = stack.pop()
            if type(current) is kind:
                stack.extend([current.expression, current.this])
            else:
                parts.append(current)
        word = "AND" if kind is exp.And else "OR"
        nodes = [self.convert(part) for part in parts]
        operands: list[Expr] = []
        for n in nodes:
            expr = self.typed(
                n,
                TagType.BOOL,
                N_("%(word)s joins conditions (true or false), but %(what)s (%(kind)s) is not"),
                word=word,
            )
            if isinstance(expr, And | Or) and (kind is exp.And) == isinstance(expr, And):
                operands.extend(expr.operands)  # (a AND b) AND c is a AND b AND c
            else:
                operands.append(expr)
        tree: Expr = And(tuple(operands)) if kind is exp.And else Or(tuple(operands))
        return Node(tree, nodes[0].start, nodes[-1].end)

    def negation(self, node: exp.Expr) -> Node:
        if isinstance(node.this, exp.Is):
            return self.is_(node.this, negated=True)
        inner = self.convert(node.this)
        kind, before = self.token_before(inner.start)
        start = before if kind == "NOT" else inner.start
        operand = self.typed(
            inner,
            TagType.BOOL,
            N_("NOT needs a condition (true or false), but %(what)s (%(kind)s) is not"),
        )
        return Node(Not(operand), start, inner.end)

    def is_(self, node: exp.Expr, *, negated: bool = False) -> Node:
        inner = self.convert(node.this)
        if not isinstance(node.expression, exp.Null | exp.Boolean):
            raise self.error(self.operator_at(inner), N_("IS takes NULL, TRUE or FALSE"))
        _, end = self.leaf(node.expression, ("NULL", "TRUE", "FALSE"))
        negated = negated != bool(node.args.get("negate"))
        if isinstance(node.expression, exp.Null):
            operand = inner.expr if inner.expr is not None else Const(None, TagType.BOOL)
            return Node(Is(operand, None, negated), inner.start, end)
        value = bool(node.expression.this)
        operand = self.typed(
            inner,
            TagType.BOOL,
            N_("IS %(value)s needs a condition, but %(what)s (%(kind)s) is not"),
            value=str(value).upper(),
        )
        return Node(Is(operand, value, negated), inner.start, end)

    def comparison(self, node: exp.Expr) -> Node:
        op = _COMPARE[type(node)]
        left = self.convert(node.this)
        at = self.operator_at(left)
        right = self.convert(node.expression)
        for side in (left, right):
            if side.expr is None:
                raise self.error(
                    side.start,
                    N_(
                        "'%(op)s NULL' is never true; test for a missing value with IS NULL "
                        "or IS NOT NULL"
                    ),
                    op=op,
                )
        wanted = self.common_type([left, right], at, _COMPARE_MIX)
        if wanted is TagType.BOOL and op not in ("=", "<>"):
            raise self.error(
                at, N_("true/false values compare only with = or <>, not %(op)s"), op=op
            )
        pair = [self.typed(side, wanted, "") for side in (left, right)]
        return Node(Compare(op, pair[0], pair[1]), left.start, right.end)

    def between(self, node: exp.Expr) -> Node:
        if node.args.get("symmetric"):
            word = next(t for t in self.tokens if t.text.upper() == "SYMMETRIC")
            raise self.error(word.start, N_("BETWEEN SYMMETRIC is not supported"))
        nodes = [self.convert(node.this), self.convert(node.args["low"])]
        nodes.append(self.convert(node.args["high"]))
        at = self.operator_at(nodes[0])
        wanted = self.common_type(nodes, at, _BETWEEN_MIX)
        if wanted is TagType.BOOL:
            raise self.error(at, N_("BETWEEN needs ordered values, not true/false"))
        operand, low, high = (self.typed(n, wanted, "") for n in nodes)
        return Node(Between(operand, low, high), nodes[0].start, nodes[-1].end)

    def in_list(self, node: exp.Expr) -> Node:
        operand = self.convert(node.this)
        at = self.operator_at(operand)
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise self.error(at, N_("IN takes a list of values in parentheses"))
        items = [self.convert(item) for item in node.expressions]
        if not items:
            raise self.error(at, N_("IN needs at least one value in its list"))
        for item in items:
            if item.expr is not None and not isinstance(item.expr, Const):
                raise self.error(
                    item.start, N_("IN takes literal values only, as in IN ('a', 'b')")
                )
        wanted = self.common_type([operand, *items], at, _IN_MIX)
        values = [self.typed(item, wanted, "") for item in items]
        consts = tuple(value for value in values if isinstance(value, Const))
        _, end = self.token_after(items[-1].end)
        tree = InList(self.typed(operand, wanted, ""), consts)
        return Node(tree, operand.start, end)

    def like(self, node: exp.Expr) -> Node:
        escape_node = None
        if isinstance(node, exp.Escape):
            node, escape_node = node.this, node.expression
        if not isinstance(node, exp.Like | exp.ILike):
            return self.unsupported(node)
        word = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
        operand = self.convert(node.this)
        pattern_node = node.expression
        if not (isinstance(pattern_node, exp.Literal) and pattern_node.is_string):
            raise self.error(
                self.operator_at(operand),
                N_("%(word)s takes a pattern in single quotes"),
                word=word,
            )
        pattern_start, end = self.leaf(pattern_node, ("STRING",))
        escape = None
        if escape_node is not None:
            escape_start, end = self.leaf(escape_node, ("STRING",))
            escape = str(escape_node.this) if isinstance(escape_node, exp.Literal) else "?"
            if escape == "":
                escape = None
            elif escape not in _ESCAPE_CHARS:
                raise self.error(
                    escape_start,
                    N_("ESCAPE takes one of %(chars)s"),
                    chars=" ".join(sorted(_ESCAPE_CHARS)),
                )
        pattern = str(pattern_node.this)
        if escape and _ends_with_escape(pattern, escape):
            raise self.error(
                pattern_start,
                N_("the pattern ends with its escape character %(escape)s"),
                escape=escape,
            )
        text = self.typed(
            operand,
            TagType.CATEGORY,
            N_("%(word)s matches text, but %(what)s (%(kind)s) is not"),
            word=word,
        )
        negated = bool(node.args.get("negate"))
        tree = Like(text, pattern, escape, isinstance(node, exp.ILike), negated)
        return Node(tree, operand.start, end)

    def arithmetic(self, node: exp.Expr) -> Node:
        op = _ARITH[type(node)]
        left = self.convert(node.this)
        at = self.operator_at(left)
        right = self.convert(node.expression)
        lt = left.expr.type if left.expr is not None else None
        rt = right.expr.type if right.expr is not None else None
        if lt is None and rt is None:
            raise self.error(at, NULL_TYPE)
        if TagType.DATE in (lt, rt):
            shape = _DATE_ARITHMETIC.get((op, lt, rt))
            if shape is None:
                raise self.error(
                    at,
                    N_(
                        "cannot compute %(a)s (%(a_kind)s) %(op)s %(b)s (%(b_kind)s): a date "
                        "takes + or - a whole number of days, or - another date"
                    ),
                    op=op,
                    **self.describe(left, "a"),
                    **self.describe(right, "b"),
                )
            lt, rt, result = shape
        else:
            for side in (left, right):
                if side.expr is not None and side.expr.type not in NUMERIC:
                    raise self.error(
                        side.start,
                        N_("'%(op)s' needs numbers, but %(what)s (%(kind)s) is not"),
                        op=op,
                        **self.describe(side),
                    )
            lt, rt = lt or rt, rt or lt
            widen = TagType.FLOAT in (lt, rt) or op == "/"
            result = TagType.FLOAT if widen else TagType.INT
        assert lt is not None
        assert rt is not None
        tree = Arith(op, self.typed(left, lt, ""), self.typed(right, rt, ""), result)
        return Node(tree, left.start, right.end)

    def negative(self, node: exp.Expr) -> Node:
        inner = self.convert(node.this)
        kind, before = self.token_before(inner.start)
        start = before if kind == "DASH" else inner.start
        if inner.expr is None:
            return Node(None, start, inner.end)
        if inner.expr.type not in NUMERIC:
            raise self.error(
                start,
                N_("'-' needs a number, but %(what)s (%(kind)s) is not"),
                **self.describe(inner),
            )
        if isinstance(inner.expr, Const) and isinstance(inner.expr.value, int | float):
            # Fold -5 into the literal -5, so "- 5" and "-5" mean one thing everywhere.
            return Node(Const(-inner.expr.value, inner.expr.type), start, inner.end)
        return Node(Neg(inner.expr, inner.expr.type), start, inner.end)

    def function(self, node: exp.Expr) -> Node:
        start, _ = self.leaf(node, ("VAR",))
        name = _FUNCTION_CLASSES[type(node)]
        if name == "date_diff":
            return self.date_diff(node, start)
        args = [node.this, *node.expressions] if name in _VARIADIC else [node.this]
        nodes = [self.convert(arg) for arg in args]
        _, end = self.token_after(nodes[-1].end)
        if name in ("lower", "upper", "length"):
            text = self.typed(
                nodes[0],
                TagType.CATEGORY,
                N_("%(name)s needs text, but %(what)s (%(kind)s) is not"),
                name=name,
            )
            result = TagType.INT if name == "length" else TagType.CATEGORY
            return Node(Call(name, (text,), result), start, end)
        if name == "abs":
            arg = nodes[0].expr or Const(None, TagType.INT)
            if arg.type not in NUMERIC:
                raise self.error(
                    nodes[0].start,
                    N_("abs needs a number, but %(what)s (%(kind)s) is not"),
                    **self.describe(nodes[0]),
                )
            return Node(Call(name, (arg,), arg.type), start, end)
        wanted = self.common_type(nodes, start, _FUNCTION_MIX, name=name)
        if wanted is TagType.BOOL and name != "coalesce":
            raise self.error(start, N_("%(name)s needs ordered values, not true/false"), name=name)
        typed_args = tuple(self.typed(n, wanted, "") for n in nodes)
        return Node(Call(name, typed_args, wanted), start, end)

    def date_diff(self, node: exp.Expr, start: int) -> Node:
        index = self.starts[start] + 2  # name, '(', then the unit
        unit = self.tokens[index]
        if unit.token_type.name != "STRING" or unit.text.lower() != "day":
            raise self.error(unit.start, N_("date_diff counts days: date_diff('day', start, end)"))
        self.cursor = unit.end + 1
        first = self.convert(node.expression)
        last = self.convert(node.this)
        wording = N_("date_diff needs dates, but %(what)s (%(kind)s) is not")
        dates = tuple(self.typed(n, TagType.DATE, wording) for n in (first, last))
        _, end = self.token_after(last.end)
        return Node(Call("date_diff", dates, TagType.INT), start, end)


def _ends_with_escape(pattern: str, escape: str) -> bool:
    index = 0
    while index < len(pattern):
        if pattern[index] == escape:
            if index + 1 == len(pattern):
                return True
            index += 1
        index += 1
    return False


_FUNCTION_CLASSES: dict[type[exp.Expr], FunctionName] = {
    exp.Abs: "abs", exp.Coalesce: "coalesce", exp.Least: "least", exp.Greatest: "greatest",
    exp.Lower: "lower", exp.Upper: "upper", exp.Length: "length", exp.DateDiff: "date_diff",
}  # fmt: skip
_D, _I = TagType.DATE, TagType.INT
_Shape = tuple[TagType, TagType, TagType]
#: (operator, left type, right type) -> (left type, right type, result) for date arithmetic;
#: a NULL side (None) takes the type that makes the operation valid.
_DATE_ARITHMETIC: dict[tuple[str, TagType | None, TagType | None], _Shape] = {
    ("+", _D, _I): (_D, _I, _D), ("+", _D, None): (_D, _I, _D),
    ("+", _I, _D): (_I, _D, _D), ("+", None, _D): (_I, _D, _D),
    ("-", _D, _I): (_D, _I, _D), ("-", _D, None): (_D, _I, _D),
    ("-", _D, _D): (_D, _D, _I), ("-", None, _D): (_D, _D, _I),
}  # fmt: skip
_VARIADIC = frozenset({"coalesce", "least", "greatest"})

_HANDLERS: dict[type[exp.Expr], Callable[[_Checker, exp.Expr], Node]] = {
    exp.Column: _Checker.column,
    exp.Literal: _Checker.literal,
    exp.Null: _Checker.null,
    exp.Boolean: _Checker.boolean,
    exp.CurrentDate: _Checker.today,
    exp.Cast: _Checker.date_literal,
    exp.And: _Checker.connective,
    exp.Or: _Checker.connective,
    exp.Not: _Checker.negation,
    exp.Is: _Checker.is_,
    exp.Between: _Checker.between,
    exp.In: _Checker.in_list,
    exp.Like: _Checker.like,
    exp.ILike: _Checker.like,
    exp.Escape: _Checker.like,
    exp.Neg: _Checker.negative,
    **dict.fromkeys(_COMPARE, _Checker.comparison),
    **dict.fromkeys(_ARITH, _Checker.arithmetic),
    **dict.fromkeys(_FUNCTION_CLASSES, _Checker.function),
}
