"""REST route of event ingestion: one event or a batch, checked, stored, then acknowledged."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException

from steward.auth.models import Role, User
from steward.events import service
from steward.events.library import EventLibrary, load_library
from steward.web.deps import DbSession, RequireRole

router = APIRouter(prefix="/events", tags=["events"])
# Event producers are integration accounts kept by the data administrators.
Producer = Annotated[User, Depends(RequireRole(Role.DATA_ADMIN, Role.SYSTEM_ADMIN))]


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
        raise HTTPException(422, {"message": str(exc), "problems": exc.problems}) from exc
    return {"accepted": accepted.accepted, "duplicates": accepted.duplicates}
