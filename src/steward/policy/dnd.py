"""Do-not-disturb, batch and online alike, and always explained (R-POL-2, "why not").

The categories that apply to a contact are the policy's ``always`` ones, its ``default`` ones
the planner did not include, and the opt-out of the contact's channel. Both paths compile the
same rules with the rule language and test them in the policy's order: the first category
that holds is the reason a subscriber is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from steward.lake.engine import AnalyticsEngine
from steward.offers.models import Channel
from steward.policy.config import DndCategory, Exclusion, Policy
from steward.rules import parse_rule, to_python, to_sql
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types
from steward.wording import N_, Refusal

OPT_OUT = "optout_channel"
# The channels a subscriber can opt out of, and the tag that says so.
OPT_OUT_TAGS = {
    Channel.SMS: "dnd_optout_sms",
    Channel.OUTBOUND: "dnd_optout_outbound",
    Channel.APP: "dnd_optout_app",
}


class DndError(Refusal):
    """A request naming a category the policy does not have, or including an always one."""


@dataclass(frozen=True)
class Check:
    reason: str  # "dnd.<category>"
    rule: str


def checks(
    policy: Policy, *, include: Iterable[str] = (), channel: Channel | None = None
) -> list[Check]:
    """The DND rules a contact must pass, in the policy's order."""
    included = set(include)
    by_name = {d.name: d for d in policy.dnd}
    unknown = included - set(by_name)
    if unknown:
        raise DndError(N_("no do-not-disturb categor(y/ies) %(names)s"), names=sorted(unknown))
    forced = sorted(n for n in included if by_name[n].exclusion is Exclusion.ALWAYS)
    if forced:
        raise DndError(N_("always excluded, cannot be included: %(names)s"), names=forced)
    found = []
    for category in policy.dnd:
        if category.name in included:
            continue
        rule = _rule(category, channel)
        if rule is not None:
            found.append(Check(f"dnd.{category.name}", rule))
    return found


def _rule(category: DndCategory, channel: Channel | None) -> str | None:
    if not category.per_channel:
        return category.rule
    tag = OPT_OUT_TAGS.get(channel) if channel is not None else None
    return tag


def exclusion_sql(catalogue: TagCatalogue, found: list[Check], dialect: str = "duckdb") -> str:
    """A SQL expression: the first reason that excludes a row, or NULL if none does."""
    if not found:
        return "CAST(NULL AS VARCHAR)"
    types = rule_types(catalogue)
    whens = " ".join(
        f"WHEN {to_sql(parse_rule(c.rule, types), dialect=dialect)} THEN '{c.reason}'"
        for c in found
    )
    return f"CASE {whens} END"


def why_not(
    catalogue: TagCatalogue, found: list[Check]
) -> Callable[[Mapping[str, Any]], str | None]:
    """The online twin of ``exclusion_sql``: one subscriber's profile → reason or None."""
    types = rule_types(catalogue)
    compiled = [(c.reason, to_python(parse_rule(c.rule, types))) for c in found]

    def reason(profile: Mapping[str, Any]) -> str | None:
        for name, holds in compiled:
            if holds(profile) is True:  # unknown (NULL) does not exclude, as in SQL's WHEN
                return name
        return None

    return reason


def exclusion_counts(
    engine: AnalyticsEngine, rows: str, catalogue: TagCatalogue, found: list[Check]
) -> dict[str, int]:
    """How many of ``rows`` (snapshot rows) each reason excludes, and how many remain."""
    reason = exclusion_sql(catalogue, found, engine.dialect)
    counted = engine.query(
        f"SELECT coalesce({reason}, 'contactable') AS reason, count(*) AS n FROM ({rows}) "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).to_pylist()
    return {str(r["reason"]): int(r["n"]) for r in counted}
