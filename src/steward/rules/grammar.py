"""From rule text to a SQLGlot tree, refusing everything outside the rule language.

SQLGlot parses far more than our language (statements, subqueries, casts, JSON paths...), so
the text passes two gates before the type checker sees it: a token gate, which knows the exact
position of every word and refuses anything not on a short list (statements, ``;``, comments,
parameters, unknown functions), and SQLGlot's own parser, whose errors we reword.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token

from steward.rules.types import RuleError
from steward.wording import N_

MAX_LENGTH = 100_000
MAX_PAREN_DEPTH = 24

#: Function name -> (least, most) number of arguments; ``None`` means no upper bound.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "coalesce": (1, None),
    "least": (1, None),
    "greatest": (1, None),
    "lower": (1, 1),
    "upper": (1, 1),
    "length": (1, 1),
    "date_diff": (3, 3),
    "current_date": (0, 0),
}

_ALLOWED = frozenset(
    {
        "VAR", "IDENTIFIER", "NUMBER", "STRING", "L_PAREN", "R_PAREN", "COMMA",
        "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "PLUS", "DASH", "STAR", "SLASH",
        "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE",
        "LIKE", "ILIKE", "ESCAPE", "DATE", "CURRENT_DATE",
    }
)  # fmt: skip

_COMMENTS = N_("comments are not allowed in a rule")
_FOREIGN = N_("'%(word)s' is not part of the rule language")
_STATEMENT = N_("subqueries and statements are not allowed; a rule is one condition over tags")
_REFUSED: dict[str, str] = {
    "SEMICOLON": N_("a rule is one condition; ';' cannot end it or start another statement"),
    "DOT": N_("qualified names are not allowed: write the tag alone (brand, not t.brand)"),
    "PLACEHOLDER": N_("parameters are not allowed; write the value itself"),
    "PARAMETER": N_("parameters are not allowed; write the value itself"),
    "COLON": N_("parameters are not allowed; write the value itself"),
    "DCOLON": N_("casts are not allowed; write DATE 'YYYY-MM-DD' for a date"),
    "MOD": N_("the % operator is not supported"),
    "DIV": N_("integer division (//) is not supported; / divides exactly"),
    "DSTAR": N_("powers are not supported"),
    "CARET": N_("powers are not supported"),
    "DPIPE": N_("text concatenation (||) is not supported"),
    "INTERVAL": N_(
        "intervals are not supported; add days with date + n or use date_diff('day', a, b)"
    ),
    "DISTINCT": N_("IS DISTINCT FROM is not supported; combine = with IS NULL"),
    "COLLATE": N_("COLLATE is not supported; text compares by code point"),
    **dict.fromkeys(
        ["CASE", "WHEN", "THEN", "ELSE", "END"],
        N_("CASE is not supported; combine conditions with AND, OR and NOT"),
    ),
    **dict.fromkeys(["OVER", "WINDOW", "FILTER", "PARTITION_BY"], N_("windows are not allowed")),
    **dict.fromkeys(
        ["L_BRACKET", "R_BRACKET", "L_BRACE", "R_BRACE"],
        N_("lists and structs are not supported; IN takes a list in parentheses"),
    ),
    **dict.fromkeys(
        ["BYTE_STRING", "NATIONAL_STRING", "HEREDOC_STRING", "RAW_STRING", "HEX_STRING",
         "BIT_STRING", "UNICODE_STRING"],
        N_("only plain single-quoted text is allowed"),
    ),
    **dict.fromkeys(
        ["SELECT", "FROM", "WHERE", "WITH", "UNION", "EXCEPT", "INTERSECT", "INSERT",
         "UPDATE", "DELETE", "DROP", "CREATE", "ALTER", "TRUNCATE", "EXISTS", "TABLE",
         "VALUES", "INTO", "SET", "EXECUTE", "COMMAND", "PRAGMA", "ATTACH", "DETACH",
         "COPY", "USE", "GRANT", "REVOKE", "ALL", "ANY", "SOME", "ORDER_BY", "GROUP_BY",
         "LIMIT", "OFFSET", "HAVING", "JOIN", "MERGE", "DESCRIBE", "SHOW"],
        _STATEMENT,
    ),
}  # fmt: skip

# The tokenizer reads some dialects' symbols as our keywords ('!' as NOT, '~~' as LIKE);
# only the plain spellings are part of the language.
_SPELLINGS = {
    "EQ": {"=", "=="}, "NEQ": {"<>", "!="}, "LT": {"<"}, "LTE": {"<="}, "GT": {">"},
    "GTE": {">="}, "PLUS": {"+"}, "DASH": {"-"}, "STAR": {"*"}, "SLASH": {"/"},
    "L_PAREN": {"("}, "R_PAREN": {")"}, "COMMA": {","},
}  # fmt: skip
_NAMES = frozenset({"VAR", "IDENTIFIER", "NUMBER", "STRING"})
# Typographic quotes pasted from a word processor look like quotes but tokenize as names.
_SMART_QUOTES = re.compile("[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033`\u00b4]")
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>")
# Tokens after which a ``*`` is a multiplication rather than "all columns".
_VALUE_END = frozenset(
    {"VAR", "IDENTIFIER", "NUMBER", "STRING", "R_PAREN", "NULL", "TRUE", "FALSE", "CURRENT_DATE"}
)


@dataclass(frozen=True)
class Source:
    """The rule text and its tokens: where every error points."""

    text: str
    tokens: list[Token]

    def error(
        self,
        position: int,
        template: str,
        suggestions: list[str] | None = None,
        /,
        **params: object,
    ) -> RuleError:
        """The refusal of the rule at ``position``: an English wording and its values."""
        return RuleError(
            template, text=self.text, position=position, suggestions=suggestions, **params
        )


@dataclass(frozen=True)
class Parsed:
    source: Source
    tree: exp.Expr


def parse(text: str, names: Collection[str]) -> Parsed:
    """Tokenize, gate and parse ``text``; ``names`` (the catalogue's) only improve hints."""
    source = Source(text, [])
    if len(text) > MAX_LENGTH:
        raise source.error(
            MAX_LENGTH, N_("a rule may be at most %(limit)s characters long"), limit=MAX_LENGTH
        )
    if "\x00" in text:
        raise source.error(text.index("\x00"), N_("the NUL character is not allowed"))
    dialect = Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(text)
    except TokenError:
        raise _unterminated(source) from None
    source = Source(text, tokens)
    if not tokens:
        raise source.error(0, N_("the rule is empty"))
    _gate(source, names)
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except ParseError as exc:
        raise _reworded(source, exc) from None
    except RecursionError:
        raise source.error(0, N_("the rule is nested too deeply")) from None
    return Parsed(source, tree)


def _gate(source: Source, names: Collection[str]) -> None:
    """Refuse, at its exact position, every token outside the language."""
    _refuse_comments(source)
    tokens = source.tokens
    depth = 0
    opened: list[int] = []
    for index, token in enumerate(tokens):
        kind = token.token_type.name
        nxt = tokens[index + 1].token_type.name if index + 1 < len(tokens) else ""
        if kind == "DOT" and nxt == "NUMBER":
            raise source.error(token.start, N_("write a number with a leading digit, as in 0.5"))
        if kind not in _ALLOWED:
            word = token.text.lower()
            if word in names:
                raise source.error(
                    token.start,
                    N_("'%(word)s' is a SQL keyword; write the tag in double quotes: \"%(word)s\""),
                    word=word,
                )
            if kind in _REFUSED:
                raise source.error(token.start, _REFUSED[kind])
            raise source.error(token.start, _FOREIGN, word=token.text)
        if token.text.upper() not in _SPELLINGS.get(kind, {kind}) and kind not in _NAMES:
            raise source.error(token.start, _FOREIGN, word=token.text)
        quote = _SMART_QUOTES.search(token.text) if kind == "VAR" else None
        if quote is not None:
            raise source.error(
                token.start + quote.start(),
                N_("use straight single quotes for text, as in 'gotone'"),
            )
        if kind in ("VAR", "CURRENT_DATE") and nxt == "L_PAREN":
            _check_call(source, index)
        if kind == "DATE" and nxt != "STRING":
            if "date" in names:
                raise source.error(token.start, N_('write the tag named date in quotes: "date"'))
            raise source.error(
                token.start, N_("DATE must be followed by a date: DATE '2024-05-31'")
            )
        if kind == "STAR" and (index == 0 or tokens[index - 1].token_type.name not in _VALUE_END):
            raise source.error(token.start, N_("'*' can only multiply two values"))
        if kind == "IN" and nxt != "L_PAREN":
            raise source.error(
                token.start, N_("IN takes a list in parentheses, as in IN ('a', 'b')")
            )
        if kind == "L_PAREN":
            depth += 1
            opened.append(token.start)
            if depth > MAX_PAREN_DEPTH:
                raise source.error(token.start, N_("the rule is nested too deeply"))
        elif kind == "R_PAREN":
            if not opened:
                raise source.error(token.start, N_("this ')' has no matching '('"))
            depth -= 1
            opened.pop()
    if opened:
        raise source.error(opened[-1], N_("this '(' is never closed"))


def _check_call(source: Source, index: int) -> None:
    """A function must be on the whitelist and get the right number of arguments."""
    token = source.tokens[index]
    name = token.text.lower()
    if name not in FUNCTIONS:
        raise source.error(
            token.start,
            N_("unknown function '%(name)s'; allowed: %(allowed)s"),
            difflib.get_close_matches(name, FUNCTIONS, n=3, cutoff=0.6),
            name=token.text,
            allowed=", ".join(sorted(FUNCTIONS)),
        )
    depth, count, empty = 0, 1, True
    for following in source.tokens[index + 2 :]:
        kind = following.token_type.name
        if kind == "R_PAREN" and depth == 0:
            break
        empty = False
        depth += {"L_PAREN": 1, "R_PAREN": -1}.get(kind, 0)
        count += kind == "COMMA" and depth == 0
    count = 0 if empty else count
    least, most = FUNCTIONS[name]
    if count < least or (most is not None and count > most):
        wording = _ARGUMENTS[(least == most, least == 1)]
        raise source.error(token.start, wording, name=name, least=least, count=count)


# (exactly so many, one) -> the wording of a call given the wrong number of arguments
_ARGUMENTS = {
    (True, True): N_("%(name)s takes 1 argument, but was given %(count)s"),
    (True, False): N_("%(name)s takes %(least)s arguments, but was given %(count)s"),
    (False, True): N_("%(name)s takes at least 1 argument, but was given %(count)s"),
    (False, False): N_("%(name)s takes at least %(least)s arguments, but was given %(count)s"),
}


def _refuse_comments(source: Source) -> None:
    # The tokenizer keeps comments aside, so look for one in the gaps between tokens.
    if not any(token.comments for token in source.tokens):
        return
    previous_end = 0
    for token in [*source.tokens, None]:
        gap_end = token.start if token is not None else len(source.text)
        gap = source.text[previous_end:gap_end]
        found = [i for i in (gap.find("--"), gap.find("/*")) if i >= 0]
        if found:
            raise source.error(previous_end + min(found), _COMMENTS)
        if token is not None:
            previous_end = token.end + 1
    raise source.error(0, _COMMENTS)


def _unterminated(source: Source) -> RuleError:
    """Find the quote or comment the tokenizer could not close."""
    text, i = source.text, 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            close = text.find(char, i + 1)
            while close != -1 and text[close + 1 : close + 2] == char:
                close = text.find(char, close + 2)  # a doubled quote stands for itself
            if close == -1 and char == "'":
                return source.error(i, N_("this text is never closed; add a '"))
            if close == -1:
                return source.error(i, N_('this quoted name is never closed; add a "'))
            i = close + 1
        elif text.startswith("/*", i):
            return source.error(i, _COMMENTS)
        else:
            i += 1
    return source.error(0, N_("the rule cannot be read"))


def _reworded(source: Source, exc: ParseError) -> RuleError:
    """SQLGlot's messages name its classes; say what is missing in the planner's words."""
    detail = exc.errors[0] if exc.errors else {}
    description = str(detail.get("description", exc))
    highlight = str(detail.get("highlight", "") or "")
    line, col = int(detail.get("line", 1) or 1), int(detail.get("col", 1) or 1)
    line_start = sum(len(part) + 1 for part in source.text.split("\n")[: line - 1])
    position = max(0, line_start + col - len(highlight))
    missing = _MISSING.match(description)
    params: dict[str, object] = {}
    if missing:
        part, node = missing.groups()
        if node == "Between":
            message = N_("incomplete BETWEEN: write x BETWEEN low AND high")
        elif node == "Not":
            message = N_("NOT needs a condition after it")
        elif part == "this" and node in ("And", "Or"):
            message, params = N_("%(word)s needs a condition on each side"), {"word": node.upper()}
            word = [t.start for t in source.tokens if t.token_type.name == node.upper()]
            position = word[0] if word else position
        elif part == "this":
            message = N_("a value is missing here")
        else:
            message, params = N_("a value is missing after '%(word)s'"), {"word": highlight}
    elif description.startswith("No expression was parsed"):
        message, position = N_("a condition is missing"), 0
    elif description.startswith("Expecting )"):
        message = N_("a ')' is missing here")
    elif "Unexpected token" in description or "Invalid expression" in description:
        message, params = N_("unexpected '%(word)s'"), {"word": highlight}
    else:
        message = description  # SQLGlot's own words: no wording of ours, left as they are
    return source.error(position, message, **params)
