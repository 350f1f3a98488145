"""The high-usage watch list (R-EVT-4): who is on it, and who reviewed them.

Entries are opened by the event workers (high real-time charges, a high monthly bill,
international roaming, the data quota used up); a person in the subscriber's district reviews
each: ``reviewing`` while looked into, then ``cleared`` (nothing to do) or ``acted`` (the
customer was contacted, a limit set, ...). Every review is audited.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.auth.service import audit, within
from steward.db import utcnow
from steward.events.models import WatchEntry
from steward.wording import N_, Refusal


class Review(StrEnum):
    OPEN = "open"
    REVIEWING = "reviewing"
    CLEARED = "cleared"
    ACTED = "acted"


CLOSED = frozenset({Review.CLEARED, Review.ACTED})


class WatchError(Refusal):
    """A review the list cannot take; the message says why."""


class NoSuchEntryError(WatchError, LookupError):
    """No entry of that id in the reviewer's district (the API answers 404)."""


# Per closed status, as the sentence reads it (English keeps the status's code).
CLOSED_ALREADY = {
    Review.CLEARED: N_("entry %(entry)s is cleared already"),
    Review.ACTED: N_("entry %(entry)s is acted already"),
}
NOTE_NEEDED = {
    Review.CLEARED: N_("say what was found or done to mark it cleared (a note is required)"),
    Review.ACTED: N_("say what was found or done to mark it acted (a note is required)"),
}


def entries(
    session: Session, *, scope: str, status: Review | None = None, limit: int = 500
) -> list[WatchEntry]:
    """The entries inside ``scope`` (a user's district), newest first."""
    query = select(WatchEntry).order_by(WatchEntry.id.desc())
    if status is not None:
        query = query.where(WatchEntry.status == status.value)
    found = [e for e in session.scalars(query.limit(limit * 4)) if within(e.district, scope)]
    return found[:limit]


def review(session: Session, entry_id: int, *, to: Review, note: str, by: User) -> WatchEntry:
    """Move an entry on; closing it needs a note saying what was found or done."""
    entry = session.get(WatchEntry, entry_id)
    if entry is None or not within(entry.district, by.district):
        raise NoSuchEntryError(N_("no watch-list entry %(entry)s in your district"), entry=entry_id)
    current = Review(entry.status)
    if current in CLOSED:
        raise WatchError(CLOSED_ALREADY[current], entry=entry_id)
    if to is Review.OPEN:
        raise WatchError(N_("an entry cannot go back to open"), field="status")
    if to in CLOSED and not note.strip():
        raise WatchError(NOTE_NEEDED[to], field="note")
    entry.status = to.value
    entry.handler = by.username
    entry.note = note or entry.note
    entry.reviewed_at = utcnow()
    session.flush()
    audit(
        session,
        actor=by.username,
        action=f"watch.{to.value}",
        entity="watch_entry",
        entity_id=str(entry.id),
        comment=note,
    )
    return entry
