"""The vocabulary of the rule language: tag types, the checked tree, the rule and its errors.

The tree is our own small set of frozen nodes rather than SQLGlot's: every node is already
type-checked and carries its type, so the two compilers (SQL for batch, Python for online)
read one closed set of shapes and cannot drift apart on what a construct means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from steward.wording import N_, Refusal


class TagType(StrEnum):
    """The type of a tag in the catalogue, and of every value a rule computes."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    CATEGORY = "category"
    DATE = "date"


NUMERIC = frozenset({TagType.INT, TagType.FLOAT})

#: Words used in messages, so a planner reads "text", not "category" (translated where shown).
TYPE_WORDS: dict[TagType, str] = {
    TagType.BOOL: N_("true/false"),
    TagType.INT: N_("an integer"),
    TagType.FLOAT: N_("a number"),
    TagType.CATEGORY: N_("text"),
    TagType.DATE: N_("a date"),
}
#: The values of a message that are one of ``TYPE_WORDS``: words, translated with it.
TYPE_PARAMS = frozenset({"kind", "a_kind", "b_kind"})

Value: TypeAlias = bool | int | float | str | date | None
CompareOp: TypeAlias = Literal["=", "<>", "<", "<=", ">", ">="]
ArithOp: TypeAlias = Literal["+", "-", "*", "/"]
FunctionName: TypeAlias = Literal[
    "abs", "coalesce", "least", "greatest", "lower", "upper", "length", "date_diff"
]


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    type: TagType


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    type: TagType


@dataclass(frozen=True, slots=True)
class Today:
    """``current_date``: the ``as_of`` date given to the compiler, or the engine's today."""

    @property
    def type(self) -> TagType:
        return TagType.DATE


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    items: tuple[Const, ...]

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Is:
    """``x IS [NOT] NULL`` (``value`` None) or ``x IS [NOT] TRUE/FALSE``; never NULL itself."""

    operand: Expr
    value: bool | None
    negated: bool

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Like:
    """``x [NOT] LIKE/ILIKE 'pattern' [ESCAPE 'c']``; the pattern is always a literal."""

    operand: Expr
    pattern: str
    escape: str | None
    case_insensitive: bool
    negated: bool

    @property
    def type(self) -> TagType:
        return TagType.BOOL


@dataclass(frozen=True, slots=True)
class Arith:
    op: ArithOp
    left: Expr
    right: Expr
    type: TagType


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    type: TagType


@dataclass(frozen=True, slots=True)
class Call:
    """A whitelisted function; ``date_diff`` keeps only its two dates (the unit is 'day')."""

    name: FunctionName
    args: tuple[Expr, ...]
    type: TagType


Expr: TypeAlias = (
    Tag
    | Const
    | Today
    | Not
    | And
    | Or
    | Compare
    | Between
    | InList
    | Is
    | Like
    | Arith
    | Neg
    | Call
)


def children(tree: Expr) -> tuple[Expr, ...]:
    """The direct subtrees of ``tree``, in source order."""
    match tree:
        case Not(operand=operand) | Is(operand=operand) | Like(operand=operand):
            return (operand,)
        case Neg(operand=operand) | InList(operand=operand):
            return (operand,)
        case And(operands=operands) | Or(operands=operands):
            return operands
        case Compare(left=left, right=right) | Arith(left=left, right=right):
            return (left, right)
        case Between(operand=operand, low=low, high=high):
            return (operand, low, high)
        case Call(args=args):
            return args
    return ()


@dataclass(frozen=True)
class Rule:
    """A parsed, type-checked rule: the planner's text and the tree both compilers read.

    ``tags`` names every tag the rule reads, so a caller can select only those columns or
    load only those profile fields.
    """

    text: str
    tree: Expr
    tags: frozenset[str]
    # Compiled Python evaluators by ``as_of``, filled by ``to_python``: compile once per rule.
    _evaluators: dict[date | None, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __str__(self) -> str:
        return self.text

    def __getstate__(self) -> dict[str, Any]:
        # Compiled evaluators are closures: a copy (another process) compiles its own.
        return {"text": self.text, "tree": self.tree, "tags": self.tags}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in [*state.items(), ("_evaluators", {})]:
            object.__setattr__(self, name, value)


class RuleError(Refusal):
    """A rule that cannot be accepted, with where and why.

    ``template`` is the English wording of why (a ``Refusal``: ``params`` its values, the
    type words among them translated too, see ``worded``), ``message`` that sentence in
    English. ``position`` is the 0-based character offset into the text; ``line`` and
    ``column`` are 1-based, for people. ``suggestions`` lists the nearest valid names when a
    name is unknown. ``str()`` is the English message after its line and column.
    """

    def __init__(
        self,
        template: str,
        /,
        *,
        text: str,
        position: int,
        suggestions: list[str] | None = None,
        **params: object,
    ) -> None:
        super().__init__(template, field="rule", **params)
        self.message = str(self.args[0])
        self.text = text
        self.position = max(0, min(position, len(text)))
        before = text[: self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        self.suggestions = list(suggestions or [])
        self.args = (f"line {self.line}, column {self.column}: {self.message}",)

    def worded(self, gettext: Callable[[str], str]) -> str:
        """The message in a reader's language (``gettext`` its catalogue's): the wording,
        and the type words among its values, translated; the caret stays ``pointer()``'s."""
        params = {k: gettext(v) if k in TYPE_PARAMS and isinstance(v, str) else v
                  for k, v in self.params.items()}  # fmt: skip
        wording = gettext(self.template)
        return wording % params if params else wording

    def pointer(self) -> str:
        """The offending line of the rule with a caret under the position."""
        line_text = self.text.split("\n")[self.line - 1] if self.text else ""
        return f"{line_text}\n{' ' * (self.column - 1)}^"


class RuleEvaluationError(ArithmeticError):
    """A value left its type's range while evaluating (integer or date overflow).

    The SQL engines stop the whole query with an error in the same cases, so the online path
    raises rather than guess a value.
    """
