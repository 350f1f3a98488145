"""Accept events at the edge: every one checked, a batch taken whole or not at all.

A batch with a bad event is refused whole, with every problem of every event named by its
index and field, so the producer fixes its feed in one round and nothing half-taken needs
untangling. An event id seen before is a retry: counted, not stored again — unless it comes
back with other content, which is a conflict the producer must hear about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.events.library import Event, EventError, EventLibrary, validate_event
from steward.events.models import EventInbox

MAX_BATCH = 1_000


class BatchError(ValueError):
    """A batch refused whole; ``problems`` name the event (by index) and field of each."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the batch; nothing was accepted")


@dataclass
class Accepted:
    accepted: int = 0
    duplicates: int = 0
    event_ids: list[str] = field(default_factory=list)


def accept(session: Session, library: EventLibrary, raws: Sequence[Any]) -> Accepted:
    """Check every event, then store the new ones in the inbox (caller commits)."""
    if len(raws) > MAX_BATCH:
        raise BatchError([{"index": None, "field": "(batch)", "reason": f"at most {MAX_BATCH}"}])
    events, problems = _checked(library, raws)
    if problems:
        raise BatchError(problems)
    known = _known(session, [e.id for e in events])
    fresh = []
    for event in events:
        stored = known.get(event.id)
        if stored is None:
            fresh.append(inbox_row(event))
            known[event.id] = inbox_row(event)
        elif stored != inbox_row(event):
            problems.append(_conflict(events.index(event), event.id))
    if problems:
        raise BatchError(problems)
    if fresh:
        session.execute(insert(EventInbox), fresh)
    return Accepted(len(fresh), len(events) - len(fresh), [e.id for e in events])


def _checked(
    library: EventLibrary, raws: Sequence[Any]
) -> tuple[list[Event], list[dict[str, Any]]]:
    events: list[Event] = []
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(raws):
        try:
            events.append(validate_event(library, raw))
        except EventError as exc:
            problems += [{"index": index} | p for p in exc.problems]
    return events, problems


def _known(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = session.scalars(select(EventInbox).where(EventInbox.event_id.in_(ids)))
    return {r.event_id: _stored(r) for r in rows}


def inbox_row(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "msisdn": event.msisdn,
        "at": event.at,
        "params": {k: _json(v) for k, v in event.params.items()},
    }


def _stored(row: EventInbox) -> dict[str, Any]:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return {
        "event_id": row.event_id,
        "type": row.type,
        "msisdn": row.msisdn,
        "at": at,
        "params": row.params,
    }


def as_sent(row: EventInbox) -> dict[str, Any]:
    """The stored event in the form a producer sends it — what the bus carries."""
    stored = _stored(row)
    return {
        "id": stored["event_id"],
        "type": stored["type"],
        "msisdn": stored["msisdn"],
        "at": stored["at"].isoformat(),
        "params": stored["params"],
    }


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _conflict(index: int, event_id: str) -> dict[str, Any]:
    reason = f"event id {event_id!r} was accepted before with other content"
    return {"index": index, "field": "id", "reason": reason}


def pending(session: Session, *, limit: int = 1_000) -> list[Mapping[str, Any]]:
    """Accepted events not yet processed, oldest first: what a worker takes next."""
    query = (
        select(EventInbox)
        .where(EventInbox.status == "accepted")
        .order_by(EventInbox.id)
        .limit(limit)
    )
    return [_stored(r) | {"id": r.id} for r in session.scalars(query)]
