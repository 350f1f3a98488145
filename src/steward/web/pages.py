"""The workbench's shell (issue 6): sign-in, a home per role, the language switch, and the
dashboard — server-rendered HTML from the same app, with the API's rules of role and
district. The browser holds the same bearer token the API issues, in an HTTP-only cookie.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.service import within
from steward.campaigns import batch as campaign_runs
from steward.contacts.models import ContactEvent
from steward.events.models import EventInbox
from steward.ops import service as ops
from steward.ops import watch
from steward.ops.daily import Step
from steward.ops.models import StepStatus
from steward.web import i18n
from steward.web.deps import DbSession, PolicyDep
from steward.web.render import DASHBOARD, N_, SESSION_COOKIE, page, render, signed_in

router = APIRouter(include_in_schema=False)
# The dashboard's alerts of daily operation: the step or the source, and what is wrong.
STEP_NAMES = {
    Step.INGEST: N_("Loading files"),
    Step.TAGS: N_("Refreshing tags"),
    Step.SEGMENTS: N_("Snapshotting segments"),
    Step.ARBITRATE: N_("Arbitrating waves"),
    Step.DISPATCH: N_("Dispatching contacts"),
    Step.FEEDBACK: N_("Collecting feedback"),
    Step.REPORT: N_("Writing reports"),
}
ALERT_STATUS_NAMES = {
    StepStatus.FAILED: N_("Step failed"),
    ops.ArrivalStatus.LATE: N_("Files late"),
    ops.ArrivalStatus.MISSING: N_("Files missing"),
}


@router.get("/", response_class=HTMLResponse)
def sign_in_page(request: Request, session: DbSession) -> Response:
    if signed_in(request, session) is not None:
        return RedirectResponse("/home", status_code=303)
    return render(request, "signin.html", None, failed=False)


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    user = auth.authenticate(session, username, password)
    if user is None:
        return render(request, "signin.html", None, failed=True, username=username)
    response = RedirectResponse("/home", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, auth.issue_token(session, user), httponly=True, samesite="lax"
    )
    return response


@router.post("/signout")
def sign_out() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/language/{code}")
def switch_language(code: str, back: str = "/") -> Response:
    """Set the page language; ``back`` must be a path of this site (no open redirect)."""
    target = back if back.startswith("/") and not urlsplit(back).netloc else "/"
    response = RedirectResponse(target, status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/home", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    user = signed_in(request, session)
    if user is None:
        return RedirectResponse("/", status_code=303)
    return render(request, "home.html", user)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession, policy: PolicyDep) -> Response:
    user = page(request, session, DASHBOARD)
    now = datetime.now(UTC)
    day = _business_day(session) or now.date()
    # the running campaigns of the user's district, batch and triggered, are judged by
    # their rate as of the business day: the day they run on, and the day the ledger's
    # outcomes have reached (a late run must not settle contacts whose outcome is not in)
    watched = [
        c
        for c in (
            *campaign_runs.running(session, day),
            *campaign_runs.running(session, day, triggered=True),
        )
        if within(c.district, user.district)
    ]
    return render(
        request,
        "dashboard.html",
        user,
        day=day,
        execution=_execution(session, day),
        campaigns=campaign_runs.running(session, day),
        alerts=ops.alerts(session, now=now),
        step_names=STEP_NAMES,
        alert_status_names=ALERT_STATUS_NAMES,
        rate_alerts=watch.rate_alerts(session, watched, today=day),
        rate_rule={
            "minimum": watch.MINIMUM,
            "confidence": round(watch.CONFIDENCE * 100),
            "tolerance": round(watch.TOLERANCE * 100),
        },
        capacity_alerts=watch.capacity_alerts(session, policy, day=day),
        lag=_event_lag(session, now),
    )


def _business_day(session: Session) -> date | None:
    day: date | None = session.scalar(select(func.max(ContactEvent.day)))
    return day


def _execution(session: Session, day: date) -> list[dict[str, Any]]:
    """Per channel: contacts planned, contacted (sent or later), answered and ordered."""
    reached = ("sent", "delivered", "answered", "ordered")
    rows = session.execute(
        select(
            ContactEvent.channel,
            func.count(func.distinct(ContactEvent.contact_key)).filter(
                ContactEvent.state.in_(("reserved", "planned"))
            ),
            func.count(func.distinct(ContactEvent.contact_key)).filter(
                ContactEvent.state.in_(reached)
            ),
            func.count(func.distinct(ContactEvent.contact_key)).filter(
                ContactEvent.state.in_(("answered", "ordered"))
            ),
            func.count(func.distinct(ContactEvent.contact_key)).filter(
                ContactEvent.state == "ordered"
            ),
        )
        .where(ContactEvent.day == day, ContactEvent.arm == "target")
        .group_by(ContactEvent.channel)
        .order_by(ContactEvent.channel)
    ).all()
    keys = ("channel", "targets", "contacted", "responded", "ordered")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _event_lag(session: Session, now: datetime) -> dict[str, Any]:
    """Events accepted and not yet decided, and how long the oldest has waited."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(EventInbox.received_at)).where(
            EventInbox.processed_at.is_(None)
        )
    ).one()
    seconds = None
    if oldest is not None:
        moment = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        seconds = max(0, int((now - moment).total_seconds()))
    return {"waiting": int(waiting or 0), "oldest_seconds": seconds}
