"""The front line's screens (issue 6, screens 11 and 12): the outbound agent's desk and the
inbound agent's or hall clerk's counter — server-rendered, htmx swapping fragments, on the
same services and with the same roles and districts as the routes of ``channels.api`` and
``realtime.api``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import AuditEntry, Role, User
from steward.auth.service import within
from steward.campaigns.batch import RunError
from steward.channels import crosschannel, outbound, questionnaire, strategies
from steward.channels.models import BillingOrder
from steward.channels.workorders import CallResult, WorkOrder, WorkOrderStatus
from steward.db import utcnow
from steward.offers.models import Channel, Offer
from steward.realtime import inbound
from steward.realtime.api import shared_listing
from steward.realtime.decide import is_member
from steward.tags.schemas import TagCatalogue
from steward.web.deps import DbSession, OrderCentreDep
from steward.web.render import N_, Refusal, language_of, page, render, screen

router = APIRouter(include_in_schema=False)

DESK = screen("/desk", N_("Outbound desk"), Role.AGENT, Role.DATA_ADMIN)
# who builds work lists with a strategy: as ``channels.api``, the roles that manage the teams
BUILDERS = frozenset({Role.DATA_ADMIN, Role.SYSTEM_ADMIN})
CALLERS = frozenset({Role.AGENT, Role.SYSTEM_ADMIN})
STRATEGY_NAMES = {
    strategies.Strategy.TRIAL_USERS: N_("Pick trial users"),
    strategies.Strategy.TRIAL_CALLBACK: N_("Trial-period callback"),
    strategies.Strategy.DIRECT: N_("Direct recommendation"),
    strategies.Strategy.ANNUAL_RENEWAL: N_("Annual renewal"),
    strategies.Strategy.MONTHLY_TO_ANNUAL: N_("Monthly to annual"),
}
# what the agent stresses on the call, by strategy
STRATEGY_EMPHASIS = {
    strategies.Strategy.TRIAL_USERS: N_("Ask how the trial went and offer to keep the product."),
    strategies.Strategy.TRIAL_CALLBACK: N_("The trial ends soon: remind, then offer to continue."),
    strategies.Strategy.DIRECT: N_("Recommend the campaign's offer as its script says."),
    strategies.Strategy.ANNUAL_RENEWAL: N_(
        "The commitment ends soon: thank the customer and offer to renew for a year."
    ),
    strategies.Strategy.MONTHLY_TO_ANNUAL: N_(
        "A long-time monthly payer: offer the annual version of the product they keep."
    ),
}
# as ``realtime.api``: the agent and the clerk read and report; the planner previews only
COUNTER = screen("/counter", N_("Counter"), Role.AGENT, Role.CLERK, Role.PLANNER)
REPORTERS = frozenset({Role.AGENT, Role.CLERK, Role.SYSTEM_ADMIN})

MSISDN = re.compile(r"^[0-9]{5,20}$")  # the decision route's pattern
LOCAL = ZoneInfo("Asia/Shanghai")  # a call-back time typed on the desk is the province's
# The customer summary: what the front line needs, de-identified (an age band, no name,
# gender or birth date — R-DATA-5); labels come from the tag catalogue.
SUMMARY_TAGS = (
    "brand",
    "vip_level",
    "city",
    "county",
    "age_band",
    "tenure_months",
    "plan_id",
    "monthly_fee",
    "arpu_3m",
    "data_mb_30d",
    "balance",
    "handset_model",
    "is_5g_handset",
    "contract_days_left",
    "has_data_pack",
    "churn_30d",
    "complaint_sensitive",
    "preferred_channel",
)
RESULT_NAMES = {
    CallResult.ACCEPTED: N_("Accepted"),
    CallResult.REJECTED: N_("Customer refused"),
    CallResult.CONSIDERING: N_("Considering"),
    CallResult.CALL_BACK: N_("Call back"),
    CallResult.FAILED: N_("Not reached"),
}
ORDER_STATUS_NAMES = {"accepted": N_("Ordered"), "rejected": N_("Order refused by billing")}


@dataclass(frozen=True)
class Suitability:
    member: bool | None  # of the work order's campaign; None when it is not running today
    eligible: bool | None  # the offer's eligibility rule on the profile; None when unknown
    rule: str


# --- the outbound desk ----------------------------------------------------------------------


@router.get("/desk", response_class=HTMLResponse)
def desk(request: Request, session: DbSession) -> Response:
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    return _desk(request, session, user)


@router.post("/desk/next", response_class=HTMLResponse)
def take_next(request: Request, session: DbSession) -> Response:
    """Take the next due order of the agent's teams onto the list (as ``/work-orders/next``)."""
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    try:
        taken = outbound.next_for(session, user.username, utcnow())
    except outbound.OutboundError as exc:
        return _desk(request, session, user, message=exc)
    note = None if taken is not None else N_("Nothing is due for your teams now.")
    return _desk(request, session, user, message=note, opened=taken)


@router.get("/desk/orders/{work_order_id}", response_class=HTMLResponse)
def open_order(request: Request, session: DbSession, work_order_id: int) -> Response:
    """The call's panel: the customer summary, suitability, the script, the product notes
    and the result buttons."""
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    order, refusal = _order_of(session, work_order_id, user)
    if order is None:
        return _fragment(request, "channels/_message.html", user, message=refusal, status=404)
    return _call_panel(request, session, user, order)


@router.post("/desk/orders/{work_order_id}/result", response_class=HTMLResponse)
def record_result(
    request: Request,
    session: DbSession,
    centre: OrderCentreDep,
    work_order_id: int,
    result: Annotated[CallResult, Form()],
    reason: Annotated[str, Form(max_length=outbound.REASON_LENGTH)] = "",
    callback_at: Annotated[str, Form()] = "",
) -> Response:
    """Close the call with its result (``outbound.record_result``); "accepted" orders the
    offer in the same click. A repeated "accepted" (a double click) shows the first result."""
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    order, refusal = _order_of(session, work_order_id, user)
    if order is None:
        return _fragment(request, "channels/_message.html", user, message=refusal, status=404)
    if order.status == WorkOrderStatus.CLOSED.value and order.result == result.value:
        return _outcome(request, session, user, order)  # the same click again: nothing new
    try:
        when = _local_moment(callback_at) if result is CallResult.CALL_BACK else None
        closed = outbound.record_result(
            session,
            order.id,
            by=user,
            result=result,
            reason=reason or None,
            callback_at=when,
            orders=centre,
        )
    except (outbound.OutboundError, ValueError) as exc:
        return _call_panel(request, session, user, order, error=exc, status=422)
    return _outcome(request, session, user, closed)


def _desk(
    request: Request,
    session: Session,
    user: User,
    *,
    message: str | Exception | None = None,
    opened: WorkOrder | None = None,
    built: dict[str, Any] | None = None,
) -> Response:
    return _fragment(
        request,
        "channels/desk.html",
        user,
        orders=outbound.open_orders_of(session, user.username),
        offers=_offer_names(session),
        message=message,
        opened=opened,
        **_work_lists(session, user, built),
    )


def _order_of(session: Session, work_order_id: int, user: User) -> tuple[WorkOrder | None, str]:
    """The order if the user may work it: theirs, or any for the system administrator."""
    order = session.get(WorkOrder, work_order_id)
    if order is None:
        return None, N_("No such work order.")
    if user.role != Role.SYSTEM_ADMIN.value and order.assigned_to != user.username:
        return None, N_("This work order is not on your list.")
    return order, ""


def _call_panel(
    request: Request,
    session: Session,
    user: User,
    order: WorkOrder,
    *,
    error: Exception | None = None,
    status: int = 200,
) -> Response:
    offer = session.get(Offer, order.offer_id) if order.offer_id is not None else None
    summary, suitability, problem = _customer(request, session, user, order, offer)
    script = inbound.channel_text(offer, Channel.OUTBOUND, order.msisdn) if offer else None
    return _fragment(
        request,
        "channels/_call.html",
        user,
        status=status,
        order=order,
        offer=offer,
        summary=summary,
        suitability=suitability,
        problem=problem,
        script=script,
        error=error,
        results=RESULT_NAMES,
        strategy=strategies.strategy_of(session, [order.contact_key]).get(order.contact_key),
        strategy_names=STRATEGY_NAMES,
        strategy_emphasis=STRATEGY_EMPHASIS,
    )


def _customer(
    request: Request, session: Session, user: User, order: WorkOrder, offer: Offer | None
) -> tuple[list[tuple[str, Any]], Suitability | None, str | Exception | None]:
    """The summary and the offer's suitability from the inbound decision's listing (the
    profile held in memory); a subscriber outside the caller's district is unknown."""
    try:
        listing = shared_listing(request, session, date.today())
        view = listing.subscriber(order.msisdn, user.district)
    except inbound.UnknownSubscriberError:
        return [], None, UNKNOWN
    except (inbound.DecideError, RunError) as exc:
        return [], None, exc
    summary = _summary(request.app.state.catalogue, view, _language_zh(request))
    if offer is None:
        return summary, None, None
    campaign = listing.campaigns.get(order.campaign_id or -1)
    member = None
    if campaign is not None:
        member = is_member(listing.members[campaign.id], int(order.msisdn))
    check = listing.referee(Channel.OUTBOUND).eligible.get(offer.id)
    eligible = None if check is None else check(view) is True
    return summary, Suitability(member, eligible, offer.eligibility), None


def _summary(catalogue: TagCatalogue, view: Any, zh: bool) -> list[tuple[str, Any]]:
    rows = []
    for name in SUMMARY_TAGS:
        tag = catalogue.get(name)
        if tag is None:
            continue
        value = view.get(name)
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        rows.append((tag.label_zh if zh else tag.label_en, value))
    return rows


def _outcome(request: Request, session: Session, user: User, order: WorkOrder) -> Response:
    key = order.contact_key
    billing = session.scalar(select(BillingOrder).where(BillingOrder.order_key == key))
    return _fragment(
        request,
        "channels/_outcome.html",
        user,
        order=order,
        billing=billing,
        results=RESULT_NAMES,
        order_status=ORDER_STATUS_NAMES,
    )


def _local_moment(text: str) -> datetime:
    """A ``datetime-local`` field's value, read in the province's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Refusal(N_("a call-back needs a date and time"), field="callback_at") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _offer_names(session: Session) -> dict[int, Offer]:
    return {o.id: o for o in session.scalars(select(Offer))}


# --- the counter: inbound agent (10086) and hall clerk ----------------------------------------


@router.get("/counter", response_class=HTMLResponse)
def counter(request: Request, session: DbSession, msisdn: str = "", channel: str = "") -> Response:
    """Type a number: the offers that suit now on this channel (the inbound decision)."""
    user = page(request, session, COUNTER)
    assert user is not None  # page() answers for a visitor
    chosen = _counter_channel(user, channel)
    context: dict[str, Any] = {"msisdn": msisdn.strip(), "channel": chosen}
    if msisdn.strip():
        context |= _decision(request, session, user, msisdn.strip(), chosen)
    template = "channels/_offers.html" if _htmx(request) else "channels/counter.html"
    status = 422 if context.get("invalid") else 200
    return _fragment(
        request,
        template,
        user,
        status=status,
        may_order=Role(user.role) in REPORTERS,
        channels=(Channel.INBOUND, Channel.HALL),
        **context,
    )


@router.post("/counter/order", response_class=HTMLResponse)
def counter_order(
    request: Request,
    session: DbSession,
    centre: OrderCentreDep,
    msisdn: Annotated[str, Form()],
    campaign_id: Annotated[int, Form()],
    offer_id: Annotated[int, Form()],
    channel: Annotated[str, Form()],
) -> Response:
    """The customer says yes: feedback "accepted", which orders the offer; repeating it (a
    double click) orders nothing new and shows the same order."""
    user = page(request, session, COUNTER)
    assert user is not None  # page() answers for a visitor
    if Role(user.role) not in REPORTERS:
        message = N_("Your role may look at offers but not order them.")
        return _fragment(request, "channels/_message.html", user, message=message, status=403)
    if not MSISDN.match(msisdn):
        return _fragment(request, "channels/_message.html", user, message=BAD_NUMBER, status=422)
    today = date.today()
    try:
        done = inbound.record_feedback(
            session,
            shared_listing(request, session, today),
            msisdn=msisdn,
            campaign_id=campaign_id,
            offer_id=offer_id,
            channel=_counter_channel(user, channel),
            outcome=inbound.Outcome.ACCEPTED,
            day=today,
            by=user.username,
            district=user.district,
            orders=centre,
        )
    except inbound.UnknownSubscriberError:
        return _fragment(request, "channels/_message.html", user, message=UNKNOWN, status=404)
    except (inbound.DecideError, RunError) as exc:
        return _fragment(request, "channels/_message.html", user, message=exc, status=422)
    return _fragment(
        request,
        "channels/_ordered.html",
        user,
        done=done,
        offer_id=offer_id,
        order_status=ORDER_STATUS_NAMES,
    )


BAD_NUMBER = N_("Type a mobile number of 5 to 20 digits, digits only.")
UNKNOWN = N_("No subscriber with this number in your district.")


def _counter_channel(user: User, asked: str) -> Channel:
    """The clerk serves the hall, the agent the inbound line; others may pick either."""
    if user.role == Role.CLERK.value:
        return Channel.HALL
    if user.role == Role.AGENT.value:
        return Channel.INBOUND
    return Channel.INBOUND if asked == Channel.INBOUND.value else Channel.HALL


def _decision(
    request: Request, session: Session, user: User, msisdn: str, channel: Channel
) -> dict[str, Any]:
    if not MSISDN.match(msisdn):
        return {"invalid": True, "message": BAD_NUMBER}
    try:
        listing = shared_listing(request, session, date.today())
        decision = inbound.offers_for(
            session, listing, msisdn=msisdn, channel=channel, district=user.district
        )
        view = listing.subscriber(msisdn, user.district)
    except inbound.UnknownSubscriberError:
        return {"message": UNKNOWN}
    except (inbound.DecideError, RunError) as exc:
        return {"message": exc}
    summary = _summary(request.app.state.catalogue, view, _language_zh(request))
    return {"decision": decision, "summary": summary[:8]}


# --- work lists built with a strategy (R-CHAN-7) --------------------------------------------


@router.post("/desk/work-lists", response_class=HTMLResponse)
def build_work_list(
    request: Request,
    session: DbSession,
    team_id: Annotated[str, Form()] = "",
    strategy: Annotated[str, Form()] = "",
    size: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "30",
    tenure: Annotated[str, Form()] = "12",
    agents: Annotated[str, Form()] = "",
) -> Response:
    """A supervisor builds a team's work list with a strategy (``strategies``); the orders
    are queued for the team, or put on the named agents' lists in turn."""
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    if Role(user.role) not in BUILDERS:
        refused = _desk(request, session, user, message=N_("Your role may not build work lists."))
        refused.status_code = 403
        return refused
    form = {"team_id": team_id, "strategy": strategy, "size": size, "days": days}
    form |= {"tenure": tenure, "agents": agents}
    state = request.app.state
    try:
        ask = _work_list_request(form)
        context = strategies.Context(
            session, state.lake, state.catalogue, state.policy, date.today(), utcnow()
        )
        with state.lake_lock, session.begin_nested():  # a refusal leaves nothing behind
            report = strategies.build_work_list(context, by=user, **ask)
    except (strategies.StrategyError, outbound.OutboundError, RunError) as exc:
        built = {"error": exc, "form": form}
        response = _desk(request, session, user, built=built)
        response.status_code = 422
        return response
    return _desk(request, session, user, built={"report": report, "form": form})


# a number the form needs, not typed as one
WHOLE_NUMBER = {
    "team_id": N_("team: a whole number"),
    "size": N_("size: a whole number"),
    "days": N_("days: a whole number"),
    "tenure": N_("tenure: a whole number"),
}


def _work_list_request(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as ``build_work_list`` arguments; a bad one names its field."""
    try:
        chosen = strategies.Strategy(form["strategy"])
    except ValueError:
        raise strategies.StrategyError(
            N_("strategy: choose one of the five strategies"), field="strategy"
        ) from None
    numbers = {}
    for name in ("team_id", "size", "days", "tenure"):
        text = form[name].strip()
        if not text.isdigit():
            raise strategies.StrategyError(WHOLE_NUMBER[name], field=name)
        numbers[name] = int(text)
    agents = [a.strip() for a in form["agents"].replace("，", ",").split(",") if a.strip()]
    return {
        "team_id": numbers["team_id"],
        "strategy": chosen,
        "size": numbers["size"],
        "options": strategies.Options(days=numbers["days"], tenure_months=numbers["tenure"]),
        "agents": agents,
    }


def _work_lists(session: Session, user: User, built: dict[str, Any] | None) -> dict[str, Any]:
    """What the desk shows around work lists: the builder's form, and each order's strategy."""
    orders = outbound.open_orders_of(session, user.username)
    return {
        "may_build": Role(user.role) in BUILDERS,
        "may_call": Role(user.role) in CALLERS,
        "teams": [t for t in outbound.teams(session) if within(t.district, user.district)],
        "strategy_names": STRATEGY_NAMES,
        "order_strategies": strategies.strategy_of(session, [o.contact_key for o in orders]),
        "unavailable": strategies.UNAVAILABLE,
        "built": built or {},
    }


# --- the counter's questionnaire (R-CHAN-6) -------------------------------------------------

NEED_NAMES = {
    questionnaire.Need.DATA: N_("Monthly data"),
    questionnaire.Need.CALLS: N_("Calls"),
    questionnaire.Need.TRAVEL: N_("Travel abroad"),
    questionnaire.Need.FAMILY: N_("Family members"),
    questionnaire.Need.HANDSET: N_("Handset age"),
}
LEVEL_NAMES = {
    questionnaire.Level.HIGH: N_("strong need"),
    questionnaire.Level.MEDIUM: N_("some need"),
    questionnaire.Level.NONE: N_("no need"),
}
ANSWER_NAMES = {
    "light": N_("under 5 GB"),
    "medium": N_("5 to 20 GB"),
    "heavy": N_("over 20 GB"),
    "few": N_("under 100 minutes"),
    "some": N_("100 to 500 minutes"),
    "many": N_("over 500 minutes"),
    "never": N_("never"),
    "sometimes": N_("once or twice a year"),
    "often": N_("often"),
    "new": N_("under a year"),
    "aging": N_("1 to 3 years"),
    "old": N_("over 3 years"),
}
QUESTION_CHOICES = {
    "data": tuple(questionnaire.DATA),
    "calls": tuple(questionnaire.CALLS),
    "travel": tuple(questionnaire.TRAVEL),
    "handset": tuple(questionnaire.HANDSET),
}


@router.get("/counter/questionnaire", response_class=HTMLResponse)
def counter_questionnaire(request: Request, session: DbSession, msisdn: str = "") -> Response:
    """The questionnaire mode: the needs, a needs table, and the offers that suit now on the
    counter's channel (the inbound decision's, as the normal mode) ranked by how they fit."""
    user = page(request, session, COUNTER)
    assert user is not None  # page() answers for a visitor
    form = {q: request.query_params.get(q, "") for q in questionnaire.QUESTIONS}
    context: dict[str, Any] = {"msisdn": msisdn.strip(), "form": form}
    if questionnaire.answered(form):  # the first visit shows the questions only
        context |= _questionnaire(request, session, user, msisdn.strip(), form)
    status = 422 if context.get("invalid") else 200
    return _fragment(
        request,
        "channels/questionnaire.html",
        user,
        status=status,
        may_order=Role(user.role) in REPORTERS,
        need_names=NEED_NAMES,
        level_names=LEVEL_NAMES,
        answer_names=ANSWER_NAMES,
        choices=QUESTION_CHOICES,
        **context,
    )


def _questionnaire(
    request: Request, session: Session, user: User, msisdn: str, form: dict[str, str]
) -> dict[str, Any]:
    if not MSISDN.match(msisdn):
        return {"invalid": True, "message": BAD_NUMBER}
    try:
        answers = questionnaire.parse(form)
    except questionnaire.QuestionnaireError as exc:
        return {"invalid": True, "message": QUESTION_ERRORS[exc.field]}
    channel = _counter_channel(user, "")
    try:
        listing = shared_listing(request, session, date.today())
        decision = inbound.offers_for(
            session, listing, msisdn=msisdn, channel=channel, district=user.district, limit=50
        )
    except inbound.UnknownSubscriberError:
        return {"message": UNKNOWN}
    except (inbound.DecideError, RunError) as exc:
        return {"message": exc}
    candidates = [
        questionnaire.Candidate(o.offer_id, offer.offer_type, offer.category, offer.price, o)
        for o in decision.offers
        if (offer := listing.offers.get(o.offer_id)) is not None
    ]
    return {
        "decision": decision,
        "needs": questionnaire.needs(answers),
        "matches": questionnaire.match(answers, candidates),
        "prices": {i: o.price for i, o in listing.offers.items()},
    }


QUESTION_ERRORS = {
    "data": N_("Monthly data: choose one of the answers."),
    "calls": N_("Calls: choose one of the answers."),
    "travel": N_("Travel abroad: choose one of the answers."),
    "handset": N_("Handset age: choose one of the answers."),
    "family": N_("Family members: a whole number from 0 to 9."),
    "budget": N_("Monthly budget: a whole number of CNY from 0 to 2000."),
}


# --- shared ---------------------------------------------------------------------------------


def _fragment(
    request: Request, name: str, user: User | None, *, status: int = 200, **context: Any
) -> Response:
    response = render(request, name, user, zh=_language_zh(request), **context)
    response.status_code = status
    return response


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _language_zh(request: Request) -> bool:
    return language_of(request) == "zh_CN"


# --- cross-channel rules (screen 13; R-CHAN-4, R-CHAN-5) and the shared history -------------

# Rules that hold for every campaign are the system administrator's to change (the campaign
# itself goes through approval, R-CAMP-4); planners and approvers read them to know what an
# outcome on one channel does to their campaigns on the others.
RULES = screen("/workbench/channel-rules", N_("Cross-channel rules"), Role.PLANNER, Role.APPROVER)
TOPIC_NAMES = {
    "plan_change": N_("Voice plan marketing"),
    "vas": N_("Voice value-added services"),
    "data_pack": N_("Data marketing"),
    "content": N_("Content services"),
    "family": N_("Family plans"),
    "roaming": N_("Roaming offers"),
    "handset": N_("Handset offers"),
    "broadband": N_("Broadband offers"),
    "care": N_("Care and reminders"),
    "retention": N_("Retention offers"),
}
OUTCOME_NAMES = {
    "accepted": N_("Accepted"),
    "ordered": N_("Ordered"),
    "rejected": N_("Customer refused"),
    "considering": N_("Considering"),
    "call_back": N_("Call back"),
    "not_reached": N_("Not reached"),
    "unsubscribed": N_("Opted out by reply"),
}
ACTION_NAMES = {
    "cancel": N_("Cancel on the other channels"),
    "keep": N_("Keep on the other channels"),
}
HISTORY_STATE_NAMES = {
    "planned": N_("Call-back planned"),
    "reserved": N_("Reserved, not yet made"),
    "held_back": N_("Held back (control group)"),
    "sent": N_("Handed to the channel"),
    "delivered": N_("Delivered to the customer"),
    "failed": N_("Channel could not reach"),
    "answered": N_("Customer answered"),
    "ordered": N_("Customer ordered"),
    "cancelled": N_("Withdrawn before it was made"),
}
RULES_ERRORS = {
    "reason": N_("Say why you change the rules, in 1 to 200 characters."),
    "rule": N_("Choose cancel or keep for every outcome; see the marked row."),
    "show": N_("A history setting the screen does not know was sent; reload the page."),
    "": N_("Only the system administrator may change the cross-channel rules."),
}


async def _posted(request: Request) -> list[tuple[str, str]]:
    """The form's fields as posted: the rule grid's names are not known to a signature."""
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


Posted = Annotated[list[tuple[str, str]], Depends(_posted)]


@router.get("/workbench/channel-rules", response_class=HTMLResponse)
def channel_rules(request: Request, session: DbSession) -> Response:
    user = page(request, session, RULES)
    assert user is not None  # page() answers for a visitor
    rules = crosschannel.current(session)
    shown = {(t.value, c.value) for t, c in rules.shown}
    actions = {
        (c.value, o.value): rules.action(c, o).value
        for c, outcomes in crosschannel.OUTCOMES.items()
        for o in outcomes
    }
    return _rules_page(request, session, user, shown=shown, actions=actions)


@router.post("/workbench/channel-rules", response_class=HTMLResponse)
def save_channel_rules(request: Request, session: DbSession, posted: Posted) -> Response:
    """Save both tables at once (``crosschannel.save``): all or nothing, audited."""
    user = page(request, session, RULES)
    assert user is not None  # page() answers for a visitor
    shown: set[tuple[str, str]] = set()
    actions: dict[tuple[str, str], str] = {}
    reason = ""
    for name, value in posted:
        kind, _, rest = name.partition(":")
        first, _, second = rest.partition(":")
        if kind == "show" and value:
            shown.add((first, second))
        elif kind == "rule":
            actions[(first, second)] = value
        elif name == "reason":
            reason = value
    try:
        changes = crosschannel.save(session, shown=shown, actions=actions, by=user, reason=reason)
    except crosschannel.RulesError as exc:
        kind = exc.field.partition(":")[0]
        return _rules_page(
            request,
            session,
            user,
            shown=shown,
            actions=actions,
            reason=reason,
            error=RULES_ERRORS.get(kind, RULES_ERRORS[""]),
            bad_field=exc.field,
            status=403 if not exc.field else 422,
        )
    changed = len(changes["visibility"]) + len(changes["outcomes"])
    note = N_("Rules saved.") if changed else N_("Nothing changed.")
    return _rules_page(request, session, user, shown=shown, actions=actions, saved=note)


def _rules_page(
    request: Request,
    session: Session,
    user: User,
    *,
    shown: set[tuple[str, str]],
    actions: dict[tuple[str, str], str],
    reason: str = "",
    error: str | None = None,
    bad_field: str = "",
    saved: str | None = None,
    status: int = 200,
) -> Response:
    recent = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "channels.crosschannel.rules")
        .order_by(AuditEntry.id.desc())
        .limit(5)
    )
    return _fragment(
        request,
        "channels/rules.html",
        user,
        status=status,
        may_edit=Role(user.role) in crosschannel.EDITORS,
        topics=TOPIC_NAMES,
        viewing=crosschannel.VIEWING_CHANNELS,
        outcomes=crosschannel.OUTCOMES,
        outcome_names=OUTCOME_NAMES,
        action_names=ACTION_NAMES,
        shown=shown,
        actions=actions,
        reason=reason,
        error=error,
        bad_field=bad_field,
        saved=saved,
        recent=list(recent),
    )


@router.get("/desk/orders/{work_order_id}/history", response_class=HTMLResponse)
def desk_history(request: Request, session: DbSession, work_order_id: int) -> Response:
    """The call's customer on the other channels, as the visibility rules let the desk see."""
    user = page(request, session, DESK)
    assert user is not None  # page() answers for a visitor
    order, refusal = _order_of(session, work_order_id, user)
    if order is None:
        return _fragment(request, "channels/_message.html", user, message=refusal, status=404)
    contacts = crosschannel.shared_history(session, order.msisdn, Channel.OUTBOUND)
    return _history(request, user, contacts)


@router.get("/counter/history", response_class=HTMLResponse)
def counter_history(
    request: Request, session: DbSession, msisdn: str = "", channel: str = ""
) -> Response:
    """The customer at the counter on the other channels; a number outside the user's
    district is as unknown as on the counter itself."""
    user = page(request, session, COUNTER)
    assert user is not None  # page() answers for a visitor
    if not MSISDN.match(msisdn):
        return _fragment(request, "channels/_message.html", user, message=BAD_NUMBER, status=422)
    try:
        shared_listing(request, session, date.today()).subscriber(msisdn, user.district)
    except inbound.UnknownSubscriberError:
        return _fragment(request, "channels/_message.html", user, message=UNKNOWN, status=404)
    except (inbound.DecideError, RunError) as exc:
        return _fragment(request, "channels/_message.html", user, message=exc, status=422)
    chosen = _counter_channel(user, channel)
    return _history(request, user, crosschannel.shared_history(session, msisdn, chosen))


def _history(request: Request, user: User, contacts: list[crosschannel.SharedContact]) -> Response:
    return _fragment(
        request,
        "channels/_history.html",
        user,
        contacts=contacts,
        topics=TOPIC_NAMES,
        states=HISTORY_STATE_NAMES,
        outcome_names=OUTCOME_NAMES,
    )
