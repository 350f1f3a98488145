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

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.campaigns.batch import RunError
from steward.channels import outbound
from steward.channels.models import BillingOrder
from steward.channels.workorders import CallResult, WorkOrder, WorkOrderStatus
from steward.db import utcnow
from steward.offers.models import Channel, Offer
from steward.realtime import inbound
from steward.realtime.api import shared_listing
from steward.realtime.decide import is_member
from steward.tags.schemas import TagCatalogue
from steward.web.deps import DbSession, OrderCentreDep
from steward.web.render import N_, language_of, page, render, screen

router = APIRouter(include_in_schema=False)

DESK = screen("/desk", N_("Outbound desk"), Role.AGENT)
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
    user, instead = page(request, session, DESK)
    if instead is not None:
        return instead
    assert user is not None  # page() answers for a visitor
    return _desk(request, session, user)


@router.post("/desk/next", response_class=HTMLResponse)
def take_next(request: Request, session: DbSession) -> Response:
    """Take the next due order of the agent's teams onto the list (as ``/work-orders/next``)."""
    user, instead = page(request, session, DESK)
    if instead is not None:
        return instead
    assert user is not None  # page() answers for a visitor
    try:
        taken = outbound.next_for(session, user.username, utcnow())
    except outbound.OutboundError as exc:
        return _desk(request, session, user, message=str(exc))
    note = None if taken is not None else N_("Nothing is due for your teams now.")
    return _desk(request, session, user, message=note, opened=taken)


@router.get("/desk/orders/{work_order_id}", response_class=HTMLResponse)
def open_order(request: Request, session: DbSession, work_order_id: int) -> Response:
    """The call's panel: the customer summary, suitability, the script, the product notes
    and the result buttons."""
    user, instead = page(request, session, DESK)
    if instead is not None:
        return instead
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
    user, instead = page(request, session, DESK)
    if instead is not None:
        return instead
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
        return _call_panel(request, session, user, order, error=str(exc), status=422)
    return _outcome(request, session, user, closed)


def _desk(
    request: Request,
    session: Session,
    user: User,
    *,
    message: str | None = None,
    opened: WorkOrder | None = None,
) -> Response:
    return _fragment(
        request,
        "channels/desk.html",
        user,
        orders=outbound.open_orders_of(session, user.username),
        offers=_offer_names(session),
        message=message,
        opened=opened,
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
    error: str | None = None,
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
    )


def _customer(
    request: Request, session: Session, user: User, order: WorkOrder, offer: Offer | None
) -> tuple[list[tuple[str, Any]], Suitability | None, str | None]:
    """The summary and the offer's suitability from the inbound decision's listing (the
    profile held in memory); a subscriber outside the caller's district is unknown."""
    try:
        listing = shared_listing(request, session, date.today())
        view = listing.subscriber(order.msisdn, user.district)
    except (inbound.UnknownSubscriberError, inbound.DecideError, RunError) as exc:
        return [], None, str(exc)
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
        raise ValueError("a call-back needs a date and time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _offer_names(session: Session) -> dict[int, Offer]:
    return {o.id: o for o in session.scalars(select(Offer))}


# --- the counter: inbound agent (10086) and hall clerk ----------------------------------------


@router.get("/counter", response_class=HTMLResponse)
def counter(request: Request, session: DbSession, msisdn: str = "", channel: str = "") -> Response:
    """Type a number: the offers that suit now on this channel (the inbound decision)."""
    user, instead = page(request, session, COUNTER)
    if instead is not None:
        return instead
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
    user, instead = page(request, session, COUNTER)
    if instead is not None:
        return instead
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
        return _fragment(request, "channels/_message.html", user, message=str(exc), status=422)
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
        return {"message": str(exc)}
    summary = _summary(request.app.state.catalogue, view, _language_zh(request))
    return {"decision": decision, "summary": summary[:8]}


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
