"""The vocabulary of the rule language: tag types, the checked tree, the rule and its errors.

The tree is our own small set of frozen nodes rather than SQLGlot's: every node is already
type-checked and carries its type, so the two compilers (SQL for batch, Python for online)
read one closed set of shapes and cannot drift apart on what a construct means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal, TypeAlias


class TagType(StrEnum):
    """The type of a tag in the catalogue, and of every value a rule computes."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    CATEGORY = "category"
    DATE = "date"


NUMERIC = frozenset({TagType.INT, TagType.FLOAT})

#: Words used in messages, so a planner reads "text", not "category".
TYPE_WORDS: dict[TagType, str] = {
    TagType.BOOL: "true/false",
    TagType.INT: "an integer",
    TagType.FLOAT: "a number",
    TagType.CATEGORY: "text",
    TagType.DATE: "a date",
}

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


class RuleError(ValueError):
    """A rule that cannot be accepted, with where and why.

    ``position`` is the 0-based character offset into the text; ``line`` and ``column`` are
    1-based, for people. ``suggestions`` lists the nearest valid names when a name is unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        position: int,
        suggestions: list[str] | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        before = text[: self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        self.suggestions = list(suggestions or [])
        super().__init__(f"line {self.line}, column {self.column}: {message}")

    def pointer(self) -> str:
        """The offending line of the rule with a caret under the position."""
        line_text = self.text.split("\n")[self.line - 1] if self.text else ""
        return f"{line_text}\n{' ' * (self.column - 1)}^"


class RuleEvaluationError(ArithmeticError):
    """A value left its type's range while evaluating (integer or date overflow).

    The SQL engines stop the whole query with an error in the same cases, so the online path
    raises rather than guess a value.
    """
