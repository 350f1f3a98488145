"""Campaign screens of the workbench (issue 6): the planner's campaigns and the campaign
wizard (R-CAMP-1..6: targets → offers → channels and priority → waves or trigger → control
group → budget and success → schedule → review, then save as a draft and submit; a copy is
made and modified the same way), the approver's inbox — what changed since the last
submitted version, a comment, approve or reject — and a campaign's full history.

The same service calls and rules as ``campaigns/api.py``: a draft is ``service.create`` or
``service.update`` of a ``CampaignCreate``, a copy ``service.copy``, every step
``service.move`` (maker-checker enforced there), a campaign outside the user's district is
not found, and a refusal of the service is shown on the page as a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from steward.auth.models import Role, User
from steward.auth.service import district_rule, within
from steward.campaigns import schemas, service
from steward.campaigns.models import Campaign, CampaignKind, CampaignVersion, Status
from steward.campaigns.schemas import BudgetKind, CampaignCreate, SuccessRule
from steward.events.library import load_library
from steward.offers import service as offers
from steward.offers.models import Channel
from steward.offers.pages import CHANNEL_LABELS, fit_of, offer_name
from steward.policy.config import Exclusion, Policy
from steward.rules import RuleError
from steward.segments import service as segments
from steward.web import i18n
from steward.web.deps import Catalogue, DbSession, LakeDep, PolicyDep
from steward.web.render import (
    KIND_NAMES,
    N_,
    ROLE_NAMES,
    Refusal,
    Screen,
    language_of,
    page,
    refusal,
    render,
    screen,
    signed_in,
)

router = APIRouter(include_in_schema=False)

# The planner's list and wizard: the API's makers (``Maker`` in campaigns/api.py).
CAMPAIGNS = screen("/workbench/campaigns", N_("Campaigns"), Role.PLANNER)
WIZARD = Screen("/workbench/campaigns/new", N_("New campaign"), CAMPAIGNS.roles)
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
    user = page(request, session, APPROVALS)
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
    user = page(request, session, APPROVALS)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    to = DECISIONS.get(decision)
    comment = comment.strip()
    if to is None:
        unknown = Refusal(N_("unknown decision %(decision)r"), decision=decision)
        return _inbox(request, session, user, refused=worded(request, unknown))
    if len(comment) > MAX_COMMENT:
        long = Refusal(N_("a comment has at most %(limit)s characters"), limit=MAX_COMMENT)
        return _inbox(request, session, user, refused=worded(request, long))
    try:
        service.move(session, campaign, to=to, by=user, comment=comment)
    except service.CampaignError as exc:
        return _inbox(request, session, user, refused=worded(request, exc), refused_id=campaign.id)
    return RedirectResponse(f"/campaigns/{campaign.id}/view", status_code=303)


@router.get("/campaigns/{campaign_id}/view", response_class=HTMLResponse)
def record(request: Request, session: DbSession, campaign_id: int) -> Response:
    """A campaign's fields, every transition (who, in what role, when, why) and every
    submitted version with what it changed."""
    user = page(request, session, RECORD)
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
        status_code=200 if refused is None else 422,
    )
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


# The codes a refusal names among its values (a status, a role), named in the page's language.
CODE_NAMES: dict[str, dict[str, str]] = {
    "status": {s.value: name for s, name in STATUS_NAMES.items()},
    "to": {s.value: name for s, name in STATUS_NAMES.items()},
    "role": {r.value: name for r, name in ROLE_NAMES.items()},
}


def worded(request: Request, error: Exception) -> str:
    """A refusal as the page's reader reads it: its wording translated, and the codes among
    its values named (a status, a role); in English the API's sentence itself."""
    if not isinstance(error, Refusal) or language_of(request) == "en":
        return refusal(request, error)
    gettext = _gettext(request)
    if isinstance(error, RuleError):
        return error.worded(gettext)
    return _in_words(error, error.template, gettext)


def _in_words(error: Refusal, template: str, gettext: Callable[[str], str]) -> str:
    params = {
        k: gettext(CODE_NAMES[k][v]) if k in CODE_NAMES and v in CODE_NAMES[k] else v
        for k, v in error.params.items()
    }
    wording = gettext(template)
    return wording % params if params else wording


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


# -- the planner's campaigns and the wizard ------------------------------------------------

CHANNEL_SLOTS = 4  # the channels a campaign tries, in priority order: first, second...
BLANK_ROWS = 2  # empty wave and budget rows the wizard offers beyond the filled ones
STEPS = (
    ("targets", N_("Targets")),
    ("offers", N_("Offers")),
    ("channels", N_("Channels and priority")),
    ("waves", N_("Waves or trigger timing")),
    ("control", N_("Control group")),
    ("budget", N_("Budget and success")),
    ("schedule", N_("Schedule")),
    ("review", N_("Review the campaign")),
)
BUDGET_NAMES = {
    BudgetKind.ITEM: N_("Item"),
    BudgetKind.COMMISSION: N_("Commission"),
    BudgetKind.DISCOUNT: N_("Discount"),
    BudgetKind.GIFTED_CREDIT: N_("Gifted credit"),
}
SUCCESS_NAMES = {
    "order": N_("An order of the offer"),
    "reply": N_("A reply"),
    "visit": N_("A visit"),
}
# The do-not-disturb categories a planner may include (policy/defaults.yaml), in Chinese:
# the policy names them in English only.
DND_DESCRIPTIONS = (
    N_("Complained in the last 90 days"),
    N_("VIP diamond or gold"),
    N_("VIP silver"),
    N_("Corporate-group customer"),
    N_("Unit account"),
    N_("Foreigner"),
    N_("Data-card-only line"),
)
SUBFIELD_NAMES = {
    "name": N_("Name"),
    "start": N_("Starts"),
    "end": N_("Ends"),
    "kind": N_("Kind"),
    "item": N_("Item"),
    "amount": N_("Amount"),
    "event": N_("Event"),
    "within_days": N_("Days of the success window"),
    "condition": N_("Condition"),
    "delay_minutes": N_("Delay in minutes"),
    "window_start": N_("Window from"),
    "window_end": N_("Window to"),
    "respond_within_minutes": N_("Respond within minutes"),
    "repeat_after_days": N_("Repeat after days"),
}
# The wording of pydantic's error types: the form's language, not the library's.
WORDINGS = {
    "missing": N_("Required."),
    "string_too_short": N_("Required."),
    "too_short": N_("Pick at least one."),
    "too_long": N_("Too many: at most %(limit)s."),
    "string_too_long": N_("Too long: at most %(limit)s characters."),
    "enum": N_("Pick one of the choices."),
    "literal_error": N_("Pick one of the choices."),
    "int_parsing": N_("Give a whole number."),
    "int_from_float": N_("Give a whole number."),
    "float_parsing": N_("Give a number."),
    "date_parsing": N_("Give a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Give a date (YYYY-MM-DD)."),
    "time_parsing": N_("Give a time (HH:MM)."),
    "float_type": N_("Give a number."),
    "int_type": N_("Give a whole number."),
    "date_type": N_("Give a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("Give a date (YYYY-MM-DD)."),
    "time_type": N_("Give a time (HH:MM)."),
    "less_than_equal": N_("At most %(limit)s."),
    "greater_than_equal": N_("At least %(limit)s."),
    "less_than": N_("Less than %(limit)s."),
    "greater_than": N_("More than %(limit)s."),
    "string_pattern_mismatch": N_("Not in the expected form."),
}
# The shares the wizard takes in percent (CampaignCreate takes fractions): their range
# errors are worded in percent too.
PERCENT_FIELDS = ("control_share", "expected_rate")
PERCENT_WORDINGS = {
    "less_than_equal": N_("At most %(limit)s %%."),
    "greater_than_equal": N_("At least %(limit)s %%."),
    "less_than": N_("Less than %(limit)s %%."),
    "greater_than": N_("More than %(limit)s %%."),
}
# The wordings of CampaignCreate's and Trigger's own checks, and of the service's refusals,
# the form says otherwise than the API: the form's words for the same refusal.
CHECKS = {
    schemas.NO_TARGETS: N_("Pick a segment, or a trigger."),
    schemas.ENDS_BEFORE: N_("The end lies before the start."),
    schemas.CHANNEL_TWICE: N_("A channel is listed twice."),
    schemas.WAVE_OUTSIDE: N_("Wave %(name)r must lie within the campaign's dates."),
    schemas.WINDOW_HALF: N_("Give both ends of the window, or neither."),
    schemas.WINDOW_EMPTY: N_("The window is empty: it starts as it ends."),
    N_("a campaign named %(name)r exists already"): N_("A campaign with this name exists already."),
}
PLANNER_MOVES = {"submit": Status.SUBMITTED, "start": Status.RUNNING, "pause": Status.PAUSED}
ACTIONS = ("review", "draft", "submit")


@dataclass
class Problems:
    """What keeps a campaign from being saved: messages by field, in the page's language,
    and a refusal about no one field."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: str | None = None

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


@router.get("/workbench/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession) -> Response:
    user = page(request, session, CAMPAIGNS)
    return _list(request, session, user)


def _list(
    request: Request,
    session: Session,
    user: User,
    *,
    refused: str | None = None,
    refused_id: int | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "campaigns/list.html",
        user,
        campaigns=service.visible(session, user)[::-1],
        refused=refused,
        refused_id=refused_id,
        admin=Role(user.role) is Role.SYSTEM_ADMIN,
        **_names(),
    )
    if refused is not None:
        response.status_code = 422
    return response


@router.get("/workbench/campaigns/new", response_class=HTMLResponse)
def new_campaign(
    request: Request, session: DbSession, policy: PolicyDep, segment: int | None = None
) -> Response:
    """The wizard on a blank campaign (``segment``: a segment picked already)."""
    user = page(request, session, WIZARD)
    data = blank_campaign(date.today())
    if segment is not None:
        data["segment_ids"] = [segment]
    return _wizard(request, session, user, policy, data=data, campaign=None)


@router.post("/workbench/campaigns/new", response_class=HTMLResponse)
async def create_campaign(request: Request, session: DbSession, policy: PolicyDep) -> Response:
    user = page(request, session, WIZARD)
    form = await request.form()
    return _save(request, session, user, policy, form, campaign=None)


@router.get("/workbench/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
def edit_campaign(
    request: Request, session: DbSession, policy: PolicyDep, campaign_id: int, saved: str = ""
) -> Response:
    """The wizard on a campaign: a draft to modify, anything else to read."""
    user = page(request, session, WIZARD)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    data = service.editable(campaign)
    review = _review(
        session, user, CampaignCreate.model_validate(data), language_of(request), policy
    )
    return _wizard(
        request, session, user, policy, data=data, campaign=campaign, review=review, saved=saved
    )


@router.post("/workbench/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
async def update_campaign(
    request: Request, session: DbSession, policy: PolicyDep, campaign_id: int
) -> Response:
    user = page(request, session, WIZARD)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    form = await request.form()
    return _save(request, session, user, policy, form, campaign=campaign)


@router.post("/workbench/campaigns/{campaign_id}/copy", response_class=HTMLResponse)
def copy_campaign(
    request: Request, session: DbSession, campaign_id: int, name: Annotated[str, Form()] = ""
) -> Response:
    """A new draft with everything of the campaign but its name (``service.copy``); the
    wizard then opens on the copy to modify it."""
    user = page(request, session, WIZARD)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        refused = _gettext(request)(N_("Give the copy a name of 1 to 128 characters."))
        return _list(request, session, user, refused=refused, refused_id=campaign.id)
    try:
        with session.begin_nested():
            copied = service.copy(session, campaign, name=name, by=user)
    except (service.CampaignError, ValidationError) as exc:
        return _list(request, session, user, refused=_plain(request, exc), refused_id=campaign.id)
    return RedirectResponse(f"/workbench/campaigns/{copied.id}/edit?saved=copied", status_code=303)


@router.post("/workbench/campaigns/{campaign_id}/move", response_class=HTMLResponse)
def move_campaign(
    request: Request,
    session: DbSession,
    campaign_id: int,
    action: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Submit a draft, start an approved (or paused) campaign, pause a running one — as
    ``POST /campaigns/{id}/transitions`` does, the service's refusal shown as a message."""
    user = page(request, session, WIZARD)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    to = PLANNER_MOVES.get(action)
    if to is None:
        unknown = Refusal(N_("unknown action %(action)r"), action=action)
        return _list(request, session, user, refused=worded(request, unknown))
    try:
        service.move(session, campaign, to=to, by=user, comment=comment.strip()[:MAX_COMMENT])
    except service.CampaignError as exc:
        return _list(request, session, user, refused=worded(request, exc), refused_id=campaign.id)
    return RedirectResponse(f"/campaigns/{campaign.id}/view", status_code=303)


@router.get("/workbench/campaigns/segments/{segment_id}/count", response_class=HTMLResponse)
def segment_count(
    request: Request, session: DbSession, lake: LakeDep, catalogue: Catalogue, segment_id: int
) -> Response:
    """A segment's members in the user's district (a fragment the wizard asks for)."""
    user = signed_in(request, session)
    if user is None:
        return Response("", status_code=401)
    if Role(user.role) not in WIZARD.roles:
        return Response("", status_code=403)
    segment = segments.get(session, segment_id)
    if segment is None:
        return HTMLResponse("—", status_code=404)
    try:
        found = segments.count(
            session, lake, catalogue, segment, scope=district_rule(user.district)
        )
    except (segments.SegmentError, RuleError) as exc:
        return HTMLResponse(f'<span class="error">{escape(worded(request, exc))}</span>')
    return HTMLResponse(f'<span data-testid="members-{segment.id}">{found.total}</span>')


MAX_NAME = 128  # as CampaignCreate's


def blank_campaign(today: date) -> dict[str, Any]:
    """A new campaign's fields as the wizard first shows them: a month from today."""
    defaults = {k: f.get_default(call_default_factory=True) for k, f in FIELDS.items()}
    return defaults | {
        "name": "",
        "kind": CampaignKind.MARKETING.value,
        "offer_ids": [],
        "channels": [],
        "success_rule": SuccessRule().model_dump(),
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=29)).isoformat(),
        "district": None,
    }


FIELDS = CampaignCreate.model_fields


def campaign_data(form: FormData) -> dict[str, Any]:
    """The wizard's form as CampaignCreate's fields, the values as typed (CampaignCreate
    judges them). A number left empty takes the field's default; blank rows are dropped."""
    data: dict[str, Any] = {
        "name": _field(form, "name"),
        "kind": _field(form, "kind"),
        "segment_ids": _values(form, "segment_ids"),
        "offer_ids": _values(form, "offer_ids"),
        "channels": _values(form, "channels"),
        "waves": _rows(form, "wave", ("name", "start", "end")),
        "success_rule": _present(
            {"event": _field(form, "success_event"), "within_days": _field(form, "success_days")}
        ),
        "budget": _rows(form, "budget", ("kind", "item", "amount")),
        "start_date": _field(form, "start_date"),
        "end_date": _field(form, "end_date"),
        "district": _field(form, "district") or None,
        "dnd_include": _values(form, "dnd_include"),
        "exclude_campaigns": _values(form, "exclude_campaigns"),
        "trigger": _trigger(form),
    }
    if _field(form, "priority"):
        data["priority"] = _field(form, "priority")
    for name in PERCENT_FIELDS:  # typed in percent, taken as a fraction
        if _field(form, name):
            data[name] = _fraction(_field(form, name))
    return data


def _fraction(percent: str) -> float | str:
    """A share typed in percent as the fraction CampaignCreate takes; text that is not a
    number is kept for CampaignCreate to refuse."""
    try:
        value = Decimal(percent.replace("%", "").strip())
    except InvalidOperation:
        return percent
    return float(value / 100) if value.is_finite() else percent


def _percent(fraction: Any) -> str:
    """A fraction shown in percent (0.125 → 12.5); text that is not a number as it is."""
    try:
        value = Decimal(str(fraction)) * 100
    except InvalidOperation:
        return str(fraction)
    if not value.is_finite():
        return str(fraction)
    return format(value.normalize(), "f") if value else "0"


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _values(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _present(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def _rows(form: FormData, prefix: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The table rows of the form (``<prefix>_<column>`` lists), blank rows left out."""
    lists = [form.getlist(f"{prefix}_{c}") for c in columns]
    rows = []
    for cells in zip(*lists, strict=False):
        row = {
            c: v.strip() if isinstance(v, str) else "" for c, v in zip(columns, cells, strict=True)
        }
        # a budget row's kind is always picked: it alone does not make the row
        filled = {c: v for c, v in row.items() if v and not (prefix == "budget" and c == "kind")}
        if filled:
            rows.append(row)
    return rows


def _trigger(form: FormData) -> dict[str, Any] | None:
    """The trigger of a campaign that acts on an event; None when no event is picked."""
    event = _field(form, "trigger_event")
    if not event:
        return None
    trigger: dict[str, Any] = {"event": event, "condition": _field(form, "trigger_condition")}
    for name in ("delay_minutes", "respond_within_minutes", "repeat_after_days"):
        if _field(form, f"trigger_{name}"):
            trigger[name] = _field(form, f"trigger_{name}")
    for name in ("window_start", "window_end"):
        trigger[name] = _field(form, f"trigger_{name}") or None
    return trigger


def _save(
    request: Request,
    session: Session,
    user: User,
    policy: Policy,
    form: FormData,
    *,
    campaign: Campaign | None,
) -> Response:
    """Review, save as a draft, or save and submit the wizard's campaign. Nothing is saved
    when anything is wrong: the wizard comes back with each message by its field."""
    data = campaign_data(form)
    action = _field(form, "action")
    action = action if action in ACTIONS else "draft"
    gettext = _gettext(request)
    problems = Problems()
    try:
        campaign_in = CampaignCreate.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, gettext)
        return _wizard(
            request, session, user, policy, data=data, campaign=campaign, problems=problems
        )
    try:
        with session.begin_nested() as step:
            saved = (
                service.create(session, campaign_in=campaign_in, by=user)
                if campaign is None
                else service.update(session, campaign, campaign_in=campaign_in, by=user)
            )
            if action == "submit":
                service.move(
                    session, saved, to=Status.SUBMITTED, by=user, comment=_field(form, "comment")
                )
            if action == "review":
                step.rollback()  # checked as a save would be, kept nowhere
    except service.CampaignError as exc:
        problems = refusal_problems(request, exc)
        return _wizard(
            request, session, user, policy, data=data, campaign=campaign, problems=problems
        )
    if action == "review":
        review = _review(session, user, campaign_in, language_of(request), policy)
        return _wizard(request, session, user, policy, data=data, campaign=campaign, review=review)
    if action == "submit":
        return RedirectResponse(f"/campaigns/{saved.id}/view", status_code=303)
    return RedirectResponse(f"/workbench/campaigns/{saved.id}/edit?saved=draft", status_code=303)


def validation_problems(exc: ValidationError, gettext: Callable[[str], str]) -> Problems:
    """CampaignCreate's errors by field, each worded in the page's language where we
    have a wording (a row of a table and a part of the trigger named), else as pydantic
    says it."""
    problems = Problems()
    for error in exc.errors():
        loc = error["loc"]
        ctx = error.get("ctx") or {}
        own = ctx.get("error")
        if isinstance(own, Refusal):  # one of the models' own checks
            text = _in_words(own, CHECKS.get(own.template, own.template), gettext)
            if own.field in FIELD_NAMES:
                problems.add(own.field, text)
            else:
                problems.general = text
            continue
        message = error["msg"].removeprefix("Value error, ")
        name = str(loc[0]) if loc else ""
        text = _wording(error["type"], ctx, gettext, percent=name in PERCENT_FIELDS) or message
        where = list(loc[1:])
        if where and isinstance(where[0], int):
            part = (
                gettext(SUBFIELD_NAMES.get(str(where[1]), str(where[1]))) if len(where) > 1 else ""
            )
            text = (
                gettext(N_("Row %(row)s")) % {"row": where[0] + 1}
                + (f", {part}" if part else "")
                + ": "
                + text
            )
        elif where:
            text = gettext(SUBFIELD_NAMES.get(str(where[0]), str(where[0]))) + ": " + text
        if name in FIELD_NAMES:
            problems.add(name, text)
        else:
            problems.general = text
    return problems


def _wording(
    kind: str, ctx: dict[str, Any], gettext: Callable[[str], str], *, percent: bool = False
) -> str | None:
    """Pydantic's error type in our words, with its limit (in percent for a share)."""
    wording = (PERCENT_WORDINGS if percent else {}).get(kind) or WORDINGS.get(kind)
    if wording is None:
        return None
    limit = next(
        (ctx[k] for k in ("le", "ge", "lt", "gt", "max_length", "min_length") if k in ctx), ""
    )
    if percent and kind in PERCENT_WORDINGS:
        limit = _percent(limit)
    return gettext(wording) % {"limit": limit} if "%(limit)s" in wording else gettext(wording)


def refusal_problems(request: Request, exc: service.CampaignError) -> Problems:
    """The service's refusal, by the field it is about when it is about one."""
    problems = Problems()
    text = (
        _in_words(exc, CHECKS[exc.template], _gettext(request))
        if exc.template in CHECKS
        else worded(request, exc)
    )
    if exc.field in FIELD_NAMES:
        problems.add(exc.field, text)
    else:
        problems.general = text
    return problems


def _plain(request: Request, exc: Exception) -> str:
    """A refusal of a copy in one line, in the page's language."""
    if isinstance(exc, ValidationError):
        found = validation_problems(exc, _gettext(request))
        texts = [m for messages in found.fields.values() for m in messages]
        return "; ".join(texts + ([found.general] if found.general else []))
    return worded(request, exc)


def _gettext(request: Request) -> Callable[[str], str]:
    return i18n.translations(language_of(request)).gettext


def _wizard(
    request: Request,
    session: Session,
    user: User,
    policy: Policy,
    *,
    data: dict[str, Any],
    campaign: Campaign | None,
    problems: Problems | None = None,
    review: list[tuple[str, str]] | None = None,
    saved: str = "",
) -> HTMLResponse:
    language = language_of(request)
    others = [c for c in service.visible(session, user) if campaign is None or c.id != campaign.id]
    response = render(
        request,
        "campaigns/wizard.html",
        user,
        campaign=campaign,
        editable=campaign is None or campaign.status == Status.DRAFT.value,
        form=form_view(data),
        problems=problems or Problems(),
        review=review,
        saved=saved,
        steps=STEPS,
        segments=segments.list_all(session),
        offers=[
            (o, offer_name(o, language), fit_of(o))
            for o in offers.list_all(session, active_only=True)
        ],
        channels=[c.value for c in Channel],
        channel_labels=CHANNEL_LABELS,
        slots=range(CHANNEL_SLOTS),
        events=[
            (e.name, e.label_zh if language == "zh_CN" else e.label_en)
            for e in load_library().events
        ],
        dnd=[c for c in policy.dnd if c.exclusion is Exclusion.DEFAULT],
        others=others,
        kinds=[k.value for k in CampaignKind],
        budget_names=BUDGET_NAMES,
        success_names=SUCCESS_NAMES,
        **_names(),
        status_code=200 if problems is None else 422,
    )
    return response


def form_view(data: dict[str, Any]) -> dict[str, Any]:
    """A campaign's fields (as saved, or as typed) the way the form shows them: text in
    inputs, sets of picked ids, channel slots and table rows padded with blank ones."""
    trigger = data.get("trigger") or {}
    rule = data.get("success_rule") or {}
    channels = [str(c) for c in data.get("channels") or []]
    waves = [{k: _str(w.get(k)) for k in ("name", "start", "end")} for w in data.get("waves") or []]
    budget = [
        {k: _str(b.get(k)) for k in ("kind", "item", "amount")} for b in data.get("budget") or []
    ]
    return {
        "name": _str(data.get("name")),
        "kind": _str(data.get("kind")),
        "segment_ids": {str(i) for i in data.get("segment_ids") or []},
        "offer_ids": {str(i) for i in data.get("offer_ids") or []},
        "channels": channels + [""] * max(0, CHANNEL_SLOTS - len(channels)),
        "priority": _str(data.get("priority", FIELDS["priority"].default)),
        "waves": waves + [{"name": "", "start": "", "end": ""}] * BLANK_ROWS,
        "control_share": _percent(data.get("control_share", FIELDS["control_share"].default)),
        "budget": budget + [{"kind": "", "item": "", "amount": ""}] * BLANK_ROWS,
        "expected_rate": _percent(data.get("expected_rate", FIELDS["expected_rate"].default)),
        "success_event": _str(rule.get("event", "order")),
        "success_days": _str(rule.get("within_days", SuccessRule().within_days)),
        "start_date": _str(data.get("start_date")),
        "end_date": _str(data.get("end_date")),
        "district": _str(data.get("district")),
        "dnd_include": {str(c) for c in data.get("dnd_include") or []},
        "exclude_campaigns": {str(i) for i in data.get("exclude_campaigns") or []},
        "trigger": {k: _str(trigger.get(k)) for k in (*SUBFIELD_NAMES, "event")},
    }


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, str) and re.fullmatch(r"\d\d:\d\d:\d\d", value):
        return value[:5]  # a time as JSON keeps its seconds; the form's input has none
    return str(value)


def _review(
    session: Session, user: User, campaign_in: CampaignCreate, language: str, policy: Policy
) -> list[tuple[str, str]]:
    """The campaign on one page, each field in words (names, not ids), in the page's
    language: what the planner checks before submitting. A campaign to skip outside the
    user's district shows as its bare id (the save keeps it as such; its name is not theirs
    to read)."""
    gettext = i18n.translations(language).gettext
    names: dict[str, dict[Any, str]] = {
        "segments": {s.id: s.name for s in segments.list_all(session)},
        "offers": {o.id: offer_name(o, language) for o in offers.list_all(session)},
        "campaigns": {c.id: c.name for c in service.visible(session, user)},
        "dnd": {c.name: gettext(c.description) for c in policy.dnd},
    }

    def pick(table: str, ids: list[int] | list[str]) -> str:
        return ", ".join(names[table].get(i, str(i)) for i in ids) or "—"

    c = campaign_in
    rule = gettext(N_("%(what)s within %(days)s days")) % {
        "what": gettext(SUCCESS_NAMES[c.success_rule.event]),
        "days": c.success_rule.within_days,
    }
    budget = "; ".join(
        f"{gettext(BUDGET_NAMES[b.kind])} · {b.item} · {b.amount:,.2f}" for b in c.budget
    )
    total = gettext(N_("%(budget)s (total %(total)s)")) % {
        "budget": budget,
        "total": f"{sum(b.amount for b in c.budget):,.2f}",
    }
    rows = [
        ("name", c.name),
        ("kind", gettext(KIND_NAMES.get(c.kind.value, c.kind.value))),
        ("segment_ids", pick("segments", c.segment_ids)),
        ("trigger", _trigger_text(c, gettext)),
        ("offer_ids", pick("offers", c.offer_ids)),
        (
            "channels",
            " › ".join(gettext(CHANNEL_LABELS.get(ch.value, ch.value)) for ch in c.channels),
        ),
        ("priority", str(c.priority)),
        ("waves", "; ".join(f"{w.name}: {w.start} – {w.end}" for w in c.waves) or "—"),
        ("control_share", f"{c.control_share:.0%}"),
        ("budget", total if c.budget else "—"),
        ("expected_rate", f"{c.expected_rate:.1%}"),
        ("success_rule", rule),
        ("start_date", c.start_date.isoformat()),
        ("end_date", c.end_date.isoformat()),
        ("district", c.district or "—"),
        ("dnd_include", pick("dnd", c.dnd_include)),
        ("exclude_campaigns", pick("campaigns", c.exclude_campaigns)),
    ]
    return [(gettext(FIELD_NAMES[k]), v) for k, v in rows]


def _trigger_text(campaign_in: CampaignCreate, gettext: Callable[[str], str]) -> str:
    trigger = campaign_in.trigger
    if trigger is None:
        return gettext(N_("None: the day's batch"))
    parts = [trigger.event]
    if trigger.condition:
        parts.append(trigger.condition)
    parts.append(
        gettext(N_("%(minutes)s minutes after the event")) % {"minutes": trigger.delay_minutes}
    )
    if trigger.window_start is not None and trigger.window_end is not None:
        parts.append(f"{trigger.window_start:%H:%M}–{trigger.window_end:%H:%M}")
    return " · ".join(parts)
