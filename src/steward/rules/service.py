"""The rule language's front door: parse and check a rule, and match one profile."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from steward.rules import grammar
from steward.rules.check import check
from steward.rules.to_python import to_python
from steward.rules.types import Expr, Rule, Tag, TagType, children


def parse_rule(text: str, catalogue: Mapping[str, TagType | str]) -> Rule:
    """Parse ``text`` and check it against ``catalogue`` (tag name -> type).

    Names are case-insensitive: the catalogue's and the rule's are lowered. Raises
    ``RuleError`` with the position and a message (and the nearest names for an unknown tag)
    for anything outside the language or badly typed.
    """
    tags = normalise_catalogue(catalogue)
    parsed = grammar.parse(text, tags)
    tree = check(parsed.tree, parsed.source, tags)
    return Rule(text=text, tree=tree, tags=frozenset(tags_read(tree)))


def matches(rule: Rule, profile: Mapping[str, Any], *, as_of: date | None = None) -> bool:
    """Whether ``profile`` satisfies ``rule``; unknown (NULL) does not, as in SQL's WHERE."""
    return to_python(rule, as_of=as_of)(profile) is True


def normalise_catalogue(catalogue: Mapping[str, TagType | str]) -> dict[str, TagType]:
    """The catalogue with lower-case names and ``TagType`` values; refuses ambiguous names."""
    tags: dict[str, TagType] = {}
    for name, kind in catalogue.items():
        key = name.lower()
        if key in tags:
            raise ValueError(f"the catalogue names the tag {key!r} twice (names ignore case)")
        tags[key] = TagType(kind)
    return tags


def tags_read(tree: Expr) -> set[str]:
    """The names of the tags ``tree`` reads."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            found.add(node.name)
        stack.extend(children(node))
    return found
