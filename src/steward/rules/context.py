"""What every check needs: where a node sits in the text, and how operand types combine."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from steward.rules.grammar import Source
from steward.rules.types import NUMERIC, TYPE_WORDS, Const, Expr, TagType
from steward.wording import N_

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNTYPED = N_("%(what)s (%(kind)s) is not of the type expected here")
NULL_TYPE = N_("cannot tell the type of NULL here")


@dataclass(frozen=True, slots=True)
class Node:
    """A converted subtree and its span; ``expr`` None is a NULL whose type the context gives."""

    expr: Expr | None
    start: int
    end: int


class Context:
    """Positions and type rules for the checker.

    Leaves come in source order, so ``cursor`` (the offset after the last leaf converted)
    finds the token of a leaf SQLGlot kept no position for.
    """

    def __init__(self, source: Source, catalogue: Mapping[str, TagType]) -> None:
        self.source = source
        self.catalogue = catalogue
        self.tokens = source.tokens
        self.starts = {token.start: i for i, token in enumerate(source.tokens)}
        self.ends = {token.end: i for i, token in enumerate(source.tokens)}
        self.cursor = 0  # offset after the last leaf converted: leaves come in source order
        self.depth = 0

    def error(
        self,
        position: int,
        template: str,
        suggestions: list[str] | None = None,
        /,
        **params: object,
    ) -> Exception:
        return self.source.error(position, template, suggestions, **params)

    def leaf(self, node: exp.Expr, kinds: tuple[str, ...]) -> tuple[int, int]:
        """The span of a leaf: its own position, or the next token of one of ``kinds``."""
        own = node.meta.get("start")
        if isinstance(own, int):
            start, end = own, int(node.meta.get("end", own))
        else:
            token = next(
                (t for t in self.tokens if t.start >= self.cursor and t.token_type.name in kinds),
                None,
            )
            start, end = (token.start, token.end) if token else (self.cursor, self.cursor)
        self.cursor = max(self.cursor, end + 1)
        return start, end

    def token_before(self, offset: int) -> tuple[str, int]:
        index = self.starts.get(offset, 0) - 1
        if index < 0:
            return "", offset
        return self.tokens[index].token_type.name, self.tokens[index].start

    def token_after(self, offset: int) -> tuple[str, int]:
        index = self.ends.get(offset, len(self.tokens)) + 1
        if index >= len(self.tokens):
            return "", offset
        return self.tokens[index].token_type.name, self.tokens[index].end

    def operator_at(self, left: Node) -> int:
        """The position of the operator after ``left``, past any closing parentheses."""
        index = self.ends.get(left.end, len(self.tokens)) + 1
        while index < len(self.tokens) and self.tokens[index].token_type.name == "R_PAREN":
            index += 1
        return self.tokens[index].start if index < len(self.tokens) else left.end

    def describe(self, node: Node, name: str = "what") -> dict[str, str]:
        """A message's values naming ``node``: its text (``name``) and the word of its type
        (``kind``, or ``<name>_kind``), as in "arpu_3m (a number)"."""
        snippet = " ".join(self.source.text[node.start : node.end + 1].split())
        snippet = snippet if len(snippet) <= 40 else snippet[:37] + "..."
        kind = TYPE_WORDS[node.expr.type] if node.expr is not None else "NULL"
        return {name: snippet, "kind" if name == "what" else f"{name}_kind": kind}

    # ---- typing helpers --------------------------------------------------------------

    def typed(self, node: Node, want: TagType, template: str = "", **params: object) -> Expr:
        """``node`` as a ``want`` value, a NULL taking that type; else refused with
        ``template`` (its values ``params``, and ``what`` and ``kind`` naming ``node``)."""
        if node.expr is None:
            return Const(None, want)
        node = self.as_date(node) if want is TagType.DATE else node
        assert node.expr is not None
        if node.expr.type is want or (want is TagType.FLOAT and node.expr.type is TagType.INT):
            return node.expr
        raise self.error(node.start, template or _UNTYPED, **params, **self.describe(node))

    def as_date(self, node: Node) -> Node:
        """A text literal read as a date where a date is expected (``d >= '2024-01-31'``)."""
        expr = node.expr
        if not (isinstance(expr, Const) and isinstance(expr.value, str)):
            return node
        value = self.date_value(expr.value, node.start)
        return Node(Const(value, TagType.DATE), node.start, node.end)

    def date_value(self, text: str, position: int) -> date:
        try:
            if _ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError:
            pass
        raise self.error(
            position, N_("'%(value)s' is not a date; write it as 'YYYY-MM-DD'"), value=text
        )

    def common_type(
        self, nodes: list[Node], position: int, wordings: tuple[str, str], **params: object
    ) -> TagType:
        """The one type ``nodes`` share (numbers widen to float; text literals follow dates).

        Else refused with the first of ``wordings`` (values ``params``, ``a`` and ``b`` the
        two that differ), or the second when text meets a number: it adds ``number``."""
        known = [n for n in nodes if n.expr is not None]
        if not known:
            raise self.error(position, NULL_TYPE)
        types = {n.expr.type for n in known if n.expr is not None}
        if types <= NUMERIC:
            return TagType.FLOAT if TagType.FLOAT in types else TagType.INT
        texts = [n.expr for n in known if n.expr is not None and n.expr.type is TagType.CATEGORY]
        if types == {TagType.DATE, TagType.CATEGORY} and all(isinstance(e, Const) for e in texts):
            return TagType.DATE
        if len(types) == 1:
            return types.pop()
        first = known[0]
        other = next(n for n in known if family(n) != family(first))
        params |= self.describe(first, "a") | self.describe(other, "b")
        numbers = [
            n.expr.value
            for n in (first, other)
            if isinstance(n.expr, Const) and family(n) is TagType.FLOAT
        ]
        if TagType.CATEGORY in (family(first), family(other)) and numbers:
            raise self.error(position, wordings[1], **params, number=numbers[0])
        raise self.error(position, wordings[0], **params)

    def first_inside(self, node: exp.Expr) -> int:
        """The earliest position SQLGlot recorded within ``node``."""
        starts = [n.meta["start"] for n in node.walk() if isinstance(n.meta.get("start"), int)]
        return min(starts, default=self.cursor)


def family(node: Node) -> TagType | None:
    if node.expr is None:
        return None
    return TagType.FLOAT if node.expr.type in NUMERIC else node.expr.type
