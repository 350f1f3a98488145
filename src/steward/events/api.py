"""REST routes of events: ingestion, the library, decisions explained, the watch list."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from steward.auth.models import Role, User
from steward.events import metrics, service, watch
from steward.events.library import EventLibrary, load_library
from steward.events.models import EventDecision
from steward.web.deps import EVERYONE, DbSession, RequireRole

router = APIRouter(prefix="/events", tags=["events"])
watch_router = APIRouter(prefix="/watch-list", tags=["events"])
# Event producers are integration accounts kept by the data administrators.
Producer = Annotated[User, Depends(RequireRole(Role.DATA_ADMIN, Role.SYSTEM_ADMIN))]
Reader = Annotated[User, Depends(RequireRole(*EVERYONE))]
# Decisions and the watch list name subscribers: the roles that work with customers.
Handler = Annotated[
    User,
    Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.AGENT, Role.SYSTEM_ADMIN)),
]


@cache
def library() -> EventLibrary:
    return load_library()


@router.post("", status_code=202)
def post_events(
    session: DbSession,
    user: Producer,
    payload: Annotated[dict[str, Any] | list[Any], Body()],
) -> dict[str, Any]:
    """Accept one event or a batch (at most 1 000). A bad event refuses the whole batch with
    every problem named by index and field; a retried event id is counted, not stored twice.
    202 means the events are stored: none is lost after it."""
    raws = payload if isinstance(payload, list) else [payload]
    try:
        accepted = service.accept(session, library(), raws)
    except service.BatchError as exc:
        metrics.EVENTS_REJECTED.labels("edge").inc(len(raws))
        raise HTTPException(422, {"message": str(exc), "problems": exc.problems}) from exc
    for raw in raws:  # every one passed the check: a mapping with a known type
        metrics.EVENTS_IN.labels(str(raw["type"])).inc()
    return {"accepted": accepted.accepted, "duplicates": accepted.duplicates}


@router.get("/types")
def event_types(user: Reader) -> list[dict[str, Any]]:
    """The event library: every type, its parameters and its service actions."""
    return [e.model_dump(mode="json") for e in library().events]


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    msisdn: str
    event_type: str
    event_at: datetime
    decided_at: datetime
    outcome: str
    campaign_id: int | None
    offer_id: int | None
    channel: str | None
    contact_key: str | None
    explanation: dict[str, Any]


@router.get("/decisions/{msisdn}")
def decisions(msisdn: str, session: DbSession, user: Handler) -> list[DecisionRead]:
    """The subscriber's latest online decisions, each with why (newest first, at most 50)."""
    rows = session.scalars(
        select(EventDecision)
        .where(EventDecision.msisdn == msisdn)
        .order_by(EventDecision.id.desc())
        .limit(50)
    )
    return [DecisionRead.model_validate(r) for r in rows]


class WatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    msisdn: str
    reason: str
    district: str
    event_id: str
    figure: float | None
    opened_at: datetime
    status: str
    handler: str | None
    note: str | None
    reviewed_at: datetime | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: watch.Review
    note: str = Field(default="", max_length=2000)


@watch_router.get("")
def watch_list(
    session: DbSession, user: Handler, status: watch.Review | None = None
) -> list[WatchRead]:
    """The high-usage watch list of the user's district, newest first."""
    found = watch.entries(session, scope=user.district, status=status)
    return [WatchRead.model_validate(e) for e in found]


@watch_router.post("/{entry_id}/review")
def review_entry(entry_id: int, review: ReviewIn, session: DbSession, user: Handler) -> WatchRead:
    """Take an entry on (reviewing) or close it (cleared / acted, with a note)."""
    try:
        entry = watch.review(session, entry_id, to=review.status, note=review.note, by=user)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except watch.WatchError as exc:
        raise HTTPException(422, str(exc)) from exc
    return WatchRead.model_validate(entry)
