"""The event library and the watch list, as workbench screens (issue 6, screen 10; R-EVT-4).

The library shows every event type with its parameters and service actions, and the
triggered campaigns that listen; the watch list shows the district's high-usage entries
with their review status and handler, and takes a review as the API does (closing needs a
note, every review is audited).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from steward.auth.models import Role
from steward.campaigns.models import Campaign
from steward.events import watch
from steward.events.library import load_library
from steward.web.deps import DbSession
from steward.web.render import N_, Refusal, page, render, screen

router = APIRouter(include_in_schema=False)
LIBRARY = screen(
    "/events", N_("Event library"), Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.DATA_ADMIN
)
WATCH = screen("/watch", N_("Watch list"), Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.AGENT)
REVIEWS = (watch.Review.REVIEWING, watch.Review.CLEARED, watch.Review.ACTED)
STATUS_NAMES = {
    watch.Review.OPEN: N_("Open"),
    watch.Review.REVIEWING: N_("Reviewing"),
    watch.Review.CLEARED: N_("Cleared"),
    watch.Review.ACTED: N_("Acted on"),
}
# The event types that open an entry (steward.realtime.service.WATCHED), by name.
REASON_NAMES = {
    "high_realtime_charges": N_("High charges"),
    "monthly_bill_high": N_("High bill"),
    "international_roaming": N_("International roaming"),
    "data_quota_100": N_("Quota used up"),
}


@router.get("/events", response_class=HTMLResponse)
def event_library(request: Request, session: DbSession) -> Response:
    user = page(request, session, LIBRARY)
    triggered = [c for c in session.scalars(select(Campaign).order_by(Campaign.id)) if c.trigger]
    return render(
        request,
        "events/library.html",
        user,
        events=load_library().events,
        triggered=triggered,
    )


@router.get("/watch", response_class=HTMLResponse)
def watch_list(request: Request, session: DbSession, status: str = "") -> Response:
    user = page(request, session, WATCH)
    wanted = watch.Review(status) if status in set(watch.Review) else None
    entries = watch.entries(session, scope=user.district, status=wanted)
    return render(
        request,
        "events/watch.html",
        user,
        entries=entries,
        status=wanted.value if wanted else "",
        statuses=STATUS_NAMES,
        reasons=REASON_NAMES,
        reviews=REVIEWS,
        error=None,
    )


@router.post("/watch/{entry_id}", response_class=HTMLResponse)
def review(
    request: Request,
    session: DbSession,
    entry_id: int,
    to: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Review one entry; the answer is its row again (htmx swaps it in), with the refusal."""
    user = page(request, session, WATCH)
    error: Exception | None = None
    try:
        wanted = _review(to)
        entry = watch.review(session, entry_id, to=wanted, note=note, by=user)
    except (LookupError, ValueError) as exc:  # unknown entry, bad status, refused review
        error = exc
        found = [e for e in watch.entries(session, scope=user.district) if e.id == entry_id]
        if not found:
            return render(request, "events/refused.html", user, error=error)
        entry = found[0]
    return render(
        request,
        "events/watch_row.html",
        user,
        entry=entry,
        statuses=STATUS_NAMES,
        reasons=REASON_NAMES,
        reviews=REVIEWS,
        error=error,
    )


def _review(to: str) -> watch.Review:
    if to not in set(watch.Review):
        raise Refusal(N_("no review status %(status)r"), field="to", status=to)
    return watch.Review(to)
