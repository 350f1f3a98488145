"""What a trigger's condition may read: the event's parameters, the tags events keep fresh,
and every tag of the catalogue (R-EVT-1, R-TAG-2).

An event's parameter ``amount`` is ``event_amount`` in a condition, so it can never shadow a
tag of the same name: ``event_amount >= 50 AND vip_level IN ('gold', 'diamond')``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from steward.events.library import Event, EventLibrary, ParamType
from steward.rules import Rule, RuleError, TagType, parse_rule
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types
from steward.wording import N_, Refusal

EVENT_PREFIX = "event_"

# Tags the events themselves keep up to date between two snapshots (R-TAG-2).
ONLINE_TAGS: dict[str, TagType] = {
    "last_event": TagType.CATEGORY,  # the type of the subscriber's latest event
    "roaming_now": TagType.BOOL,  # inside a roaming entry, before its exit
    "data_used_pct": TagType.FLOAT,  # share of the data quota used, from the quota events
    "cell_id": TagType.CATEGORY,  # the latest cell an event placed the subscriber in
}

_PARAM_TYPES = {
    ParamType.INT: TagType.INT,
    ParamType.FLOAT: TagType.FLOAT,
    ParamType.TEXT: TagType.CATEGORY,
    ParamType.BOOL: TagType.BOOL,
    ParamType.DATE: TagType.DATE,
}


class TriggerError(Refusal):
    """A trigger that cannot work; the message names the field and why."""


def condition_types(
    library: EventLibrary, catalogue: TagCatalogue, event_type: str
) -> dict[str, str]:
    """Every name a condition on ``event_type`` may read, with its type."""
    spec = library.get(event_type)
    if spec is None:
        known = ", ".join(e.name for e in library.events)
        raise TriggerError(
            N_("trigger.event: no event type %(event)r (known: %(known)s)"),
            field="trigger.event",
            event=event_type,
            known=known,
        )
    params = {
        EVENT_PREFIX + name: _PARAM_TYPES[p.type].value
        for name, p in spec.params.items()
        if p.type in _PARAM_TYPES  # lists and timestamps are not comparable in a rule
    }
    online = {name: kind.value for name, kind in ONLINE_TAGS.items()}
    return rule_types(catalogue) | online | params


def check_condition(
    library: EventLibrary, catalogue: TagCatalogue, event_type: str, condition: str
) -> Rule | None:
    """The parsed condition (None when empty: every event of the type matches)."""
    types = condition_types(library, catalogue, event_type)
    if not condition.strip():
        return None
    try:
        return parse_rule(condition, types)
    except RuleError as exc:
        raise TriggerError(
            N_("trigger.condition: %(problem)s"), field="trigger.condition", problem=str(exc)
        ) from None


def event_values(event: Event) -> dict[str, Any]:
    """The event's parameters under the names a condition reads them by."""
    return {EVENT_PREFIX + k: v for k, v in event.params.items() if not isinstance(v, list)}


def online_updates(event: Event) -> dict[str, Any]:
    """The tags this event changes, with their new values (R-TAG-2)."""
    params = event.params
    found: dict[str, Any] = {"last_event": event.type}
    if event.type == "recharge":
        found["balance"] = params["balance_after"]
    elif event.type == "balance_low":
        found["balance"] = params["balance"]
    elif event.type in ("roaming_entry", "international_roaming"):
        found["roaming_now"] = True
    elif event.type == "roaming_exit":
        found["roaming_now"] = False
    elif event.type in ("data_quota_80", "data_quota_100"):
        found["data_used_pct"] = _share(params["used_mb"], params["quota_mb"])
    if isinstance(params.get("cell_id"), str):
        found["cell_id"] = params["cell_id"]
    return found


FRESHENED = frozenset({"balance", *ONLINE_TAGS})  # every tag ``online_updates`` may set


def rederived(catalogue: TagCatalogue) -> dict[str, Rule]:
    """The catalogue's true/false derived tags that read a tag events change (``low_balance``
    reads ``balance``): the online profile works them out again from the fresh values."""
    types = rule_types(catalogue) | {n: k.value for n, k in ONLINE_TAGS.items()}
    found: dict[str, Rule] = {}
    for tag in catalogue.tags:
        if tag.source != "derived" or tag.type is not TagType.BOOL:
            continue
        try:
            rule = parse_rule(tag.expression, types)
        except RuleError:
            continue  # an expression outside the rule language is left to the snapshot
        if rule.tags & FRESHENED:
            found[tag.name] = rule
    return found


def _share(used: Any, quota: Any) -> float | None:
    return None if not quota else round(100.0 * float(used) / float(quota), 2)


def newer(at: datetime, seen: Mapping[str, datetime], tag: str) -> bool:
    """Whether an event at ``at`` may set ``tag``: a late event never undoes a newer one."""
    last = seen.get(tag)
    return last is None or at >= last
