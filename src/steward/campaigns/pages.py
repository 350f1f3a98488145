"""Campaign screens of the workbench (issue 6): the approver's inbox — what changed since the
last submitted version, a comment, approve or reject — and a campaign's full history.

The same service calls and rules as ``campaigns/api.py``: approving and rejecting are
``service.move`` (maker-checker enforced there), a campaign outside the user's district is
not found, and a refusal of the service is shown on the page as a message.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import service
from steward.campaigns.models import Campaign, CampaignVersion, Status
from steward.web.deps import DbSession
from steward.web.render import N_, Screen, page, render, screen

router = APIRouter(include_in_schema=False)

APPROVALS = screen("/approvals", N_("Approvals"), Role.APPROVER)
# A campaign's record, reached from the inbox and the monitor: the API's readers
# (``GET /campaigns/{id}`` is the API's, so the page is ``/campaigns/{id}/view``).
RECORD = Screen(
    "/campaigns/{campaign_id}/view",
    N_("Campaign record"),
    frozenset({Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN}),
)

STATUS_NAMES = {
    Status.DRAFT: N_("Draft"),
    Status.SUBMITTED: N_("Submitted"),
    Status.APPROVED: N_("Approved"),
    Status.RUNNING: N_("Running"),
    Status.PAUSED: N_("Paused"),
    Status.COMPLETED: N_("Completed"),
    Status.REJECTED: N_("Rejected"),
    Status.TERMINATED: N_("Terminated"),
}
FIELD_NAMES = {
    "name": N_("Name"),
    "kind": N_("Kind"),
    "segment_ids": N_("Segments"),
    "offer_ids": N_("Offers"),
    "channels": N_("Channels"),
    "waves": N_("Waves"),
    "control_share": N_("Control share"),
    "priority": N_("Priority"),
    "expected_rate": N_("Expected rate"),
    "success_rule": N_("Success rule"),
    "budget": N_("Budget"),
    "start_date": N_("Starts"),
    "end_date": N_("Ends"),
    "district": N_("District"),
    "dnd_include": N_("Do-not-disturb categories included"),
    "exclude_campaigns": N_("Contacts of campaigns skipped"),
    "trigger": N_("Trigger"),
}
DECISIONS = {"approve": Status.APPROVED, "reject": Status.REJECTED}
MAX_COMMENT = 2000  # as TransitionIn's


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request, session: DbSession) -> Response:
    user, instead = page(request, session, APPROVALS)
    if instead is not None:
        return instead
    assert user is not None
    return _inbox(request, session, user)


@router.post("/approvals/{campaign_id}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: DbSession,
    campaign_id: int,
    decision: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject a submitted campaign with a comment, as ``POST
    /campaigns/{id}/transitions`` does; the service's refusal comes back as a message."""
    user, instead = page(request, session, APPROVALS)
    if instead is not None:
        return instead
    assert user is not None
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    to = DECISIONS.get(decision)
    comment = comment.strip()
    if to is None:
        return _inbox(request, session, user, refused=f"unknown decision {decision!r}")
    if len(comment) > MAX_COMMENT:
        return _inbox(
            request, session, user, refused=f"a comment has at most {MAX_COMMENT} characters"
        )
    try:
        service.move(session, campaign, to=to, by=user, comment=comment)
    except service.CampaignError as exc:
        return _inbox(request, session, user, refused=str(exc), refused_id=campaign.id)
    return RedirectResponse(f"/campaigns/{campaign.id}/view", status_code=303)


@router.get("/campaigns/{campaign_id}/view", response_class=HTMLResponse)
def record(request: Request, session: DbSession, campaign_id: int) -> Response:
    """A campaign's fields, every transition (who, in what role, when, why) and every
    submitted version with what it changed."""
    user, instead = page(request, session, RECORD)
    if instead is not None:
        return instead
    assert user is not None
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    return render(
        request,
        "campaigns/record.html",
        user,
        campaign=campaign,
        fields=_shown(service.editable(campaign)),
        transitions=service.history(session, campaign),
        versions=_versions(session, campaign),
        checker=Role(user.role) in APPROVALS.roles,
        **_names(),
    )


def _inbox(
    request: Request,
    session: Session,
    user: User,
    *,
    refused: str | None = None,
    refused_id: int | None = None,
) -> HTMLResponse:
    waiting = [c for c in service.visible(session, user) if c.status == Status.SUBMITTED.value]
    items = [{"campaign": c, "changes": _changes(service.changes(session, c))} for c in waiting]
    response = render(
        request,
        "campaigns/approvals.html",
        user,
        items=items,
        warnings=[
            w
            for w in service.warnings(session)
            if (c := service.get(session, w.campaign_id)) and within(c.district, user.district)
        ],
        refused=refused,
        refused_id=refused_id,
        **_names(),
    )
    if refused is not None:
        response.status_code = 422
    return response


def _changes(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": found["version"],
        "previous": found["previous"],
        "changed": [
            {"field": k, "from": _text(v["from"]), "to": _text(v["to"])}
            for k, v in found["changed"].items()
        ],
    }


def _versions(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """Each submitted version, newest first, with the fields it changed from the one before."""
    versions = list(
        session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign.id)
            .order_by(CampaignVersion.version)
        )
    )
    shown: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    for version in versions:
        changed = sorted(
            k for k in set(before) | set(version.fields) if before.get(k) != version.fields.get(k)
        )
        shown.append({"version": version, "changed": changed})
        before = version.fields
    return shown[::-1]


def _shown(fields: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, _text(v)) for k, v in fields.items() if k in FIELD_NAMES]


def _text(value: Any) -> str:
    """A field's value as a reader sees it: text as is, anything else as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _names() -> dict[str, Any]:
    return {"status_names": STATUS_NAMES, "field_names": FIELD_NAMES}


def _visible(session: Session, campaign_id: int, user: User) -> Campaign | None:
    campaign = service.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        return None  # outside the district is not found, as in the API
    return campaign


def _missing(request: Request, user: User, campaign_id: int) -> HTMLResponse:
    response = render(request, "campaigns/missing.html", user, campaign_id=campaign_id)
    response.status_code = 404
    return response
