"""The customer's contact view (issue 6, screen 8; R-DATA-4): one subscriber's tags, every
contact on every channel, complaints, orders, and the online decisions with their reasons —
inside the user's district, the number masked for the roles that do not serve customers.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import batch as campaign_runs
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.channels.models import BillingOrder
from steward.contacts.models import ContactEvent
from steward.events.models import EventDecision
from steward.lake.service import Lake
from steward.offers.models import Offer
from steward.policy.config import Policy
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from steward.web.deps import Catalogue, DbSession, LakeDep, PolicyDep
from steward.web.render import N_, language_of, page, render, screen

router = APIRouter(include_in_schema=False)
CUSTOMER = screen(
    "/customer",
    N_("Customer view"),
    Role.AGENT,
    Role.CLERK,
    Role.PLANNER,
    Role.APPROVER,
    Role.ANALYST,
)
# Who serves customers sees the whole number; the others see it masked.
SEES_NUMBERS = frozenset({Role.AGENT, Role.CLERK, Role.SYSTEM_ADMIN})
NUMBER = re.compile(r"^1[3-9][0-9]{9}$")
# The tag groups the view shows (usage details stay in the tag library).
SHOWN_GROUPS = ("profile", "model", "bill", "service", "subscription", "handset", "derived")
LIMIT = 100
# A campaign that ended this many days ago still has a "why not" worth reading.
RECENT_DAYS = 30
LIVE = (Status.RUNNING.value, Status.PAUSED.value)
ENDED = (Status.COMPLETED.value, Status.TERMINATED.value)
# Outcomes of the why-not that say the subscriber is not in the campaign's population, and
# those of a campaign that does not run today, whose population was not looked at.
NOT_MEMBER = ("segment.not_member", "not.in_snapshot")
NOT_JUDGED = frozenset({"campaign.not_today", *(f"campaign.{s.value}" for s in Status)})


@router.get("/customer", response_class=HTMLResponse)
def customer(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    policy: PolicyDep,
    msisdn: str = "",
) -> Response:
    user = page(request, session, CUSTOMER)
    context: dict[str, Any] = {"msisdn": msisdn, "error": None, "found": None}
    if msisdn and not NUMBER.fullmatch(msisdn.strip()):
        context["error"] = "bad"
    elif msisdn:
        row = _profile(session, lake, msisdn.strip())
        if row is None or not within(f"{row.get('city')}/{row.get('county')}", user.district):
            context["error"] = "unknown"  # outside the district a number is as unknown
        else:
            number = msisdn.strip()
            shown = number if Role(user.role) in SEES_NUMBERS else f"{number[:3]}****{number[-4:]}"
            context["found"] = {
                "number": shown,
                "tags": [
                    (t, row.get(t.name))
                    for t in catalogue.tags
                    if t.group in SHOWN_GROUPS and row.get(t.name) is not None
                ],
                "contacts": _contacts(session, number),
                "complaints": _complaints(session, lake, number),
                "orders": list(
                    session.scalars(
                        select(BillingOrder)
                        .where(BillingOrder.msisdn == number)
                        .order_by(BillingOrder.id.desc())
                        .limit(LIMIT)
                    )
                ),
                "decisions": list(
                    session.scalars(
                        select(EventDecision)
                        .where(EventDecision.msisdn == number)
                        .order_by(EventDecision.id.desc())
                        .limit(LIMIT)
                    )
                ),
            }
            context["found"] |= _names(session, context["found"], language_of(request))
            place = f"{row.get('city')}/{row.get('county')}"
            context["why_not"], context["why_not_error"] = _why_not(
                session, lake, catalogue, policy, user, number, place
            )
    return render(request, "contacts/customer.html", user, **context)


def _why_not(
    session: Any,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    user: User,
    msisdn: str,
    place: str,
) -> tuple[list[dict[str, Any]], Exception | None]:
    """The batch "why not" of today for each running or recent campaign that may reach the
    subscriber, as the API's ``campaigns/{id}/why-not`` answers it — judged once for them
    all (``batch.explain_many``)."""
    today = date.today()
    reaching = _reaching(session, user, place, today)
    if not reaching:
        return [], None
    try:
        answers = campaign_runs.explain_many(
            session,
            lake,
            catalogue,
            policy,
            msisdn=msisdn,
            campaign_ids=[c.id for c in reaching],
            day=today,
        )
    except campaign_runs.RunError as exc:
        return [], exc  # no snapshot: the same for every campaign
    found: list[dict[str, Any]] = []
    for campaign in reaching:
        answer = answers[campaign.id]
        outcome = str(answer["outcome"])
        won_by = answer.get("won_by")
        winner = session.get(Campaign, won_by["campaign_id"]) if won_by else None
        found.append(
            {
                "campaign": campaign,
                "outcome": outcome,
                # None: the campaign does not run today, so membership was not judged
                "member": None if outcome in NOT_JUDGED else outcome not in NOT_MEMBER,
                "won_by": winner.name if winner is not None and winner.id != campaign.id else None,
            }
        )
    return found, None


def _reaching(session: Any, user: User, place: str, today: date) -> list[Campaign]:
    """The user's campaigns that may reach a subscriber of ``place``: batch ones (a
    triggered campaign's decisions are in the decisions table), running or paused, or
    ended within ``RECENT_DAYS``."""
    since = today - timedelta(days=RECENT_DAYS)
    return [
        c
        for c in campaigns.visible(session, user)
        if c.trigger is None
        and within(place, c.district)
        and (c.status in LIVE or (c.status in ENDED and c.end_date >= since))
    ]


def _profile(session: Any, lake: Lake, msisdn: str) -> dict[str, Any] | None:
    latest = tags.latest_snapshot(session, lake)
    if latest is None:
        return None
    rows = lake.engine.query(f"SELECT * FROM {latest[1]} WHERE msisdn = ?", [msisdn]).to_pylist()
    return rows[0] if rows else None


def _contacts(session: Any, msisdn: str) -> list[dict[str, Any]]:
    """Each contact once, at its latest state (newest first)."""
    latest: dict[str, ContactEvent] = {}
    query = select(ContactEvent).where(ContactEvent.msisdn == msisdn).order_by(ContactEvent.id)
    for event in session.scalars(query):
        latest[event.contact_key] = event
    ordered = sorted(latest.values(), key=lambda e: e.id, reverse=True)[:LIMIT]
    return [
        {
            "day": e.day,
            "channel": e.channel,
            "kind": e.kind,
            "campaign_id": e.campaign_id,
            "offer_id": e.offer_id,
            "state": e.state,
            "arm": e.arm,
        }
        for e in ordered
    ]


def _names(session: Any, found: dict[str, Any], language: str) -> dict[str, dict[int, str]]:
    """The names of the campaigns and offers the view's rows mention, in the page's
    language where the catalogue has both (ids mean nothing to an agent)."""
    campaign_ids = {c["campaign_id"] for c in found["contacts"]}
    campaign_ids |= {d.campaign_id for d in found["decisions"]}
    offer_ids = {c["offer_id"] for c in found["contacts"]} | {o.offer_id for o in found["orders"]}
    named_campaigns = select(Campaign.id, Campaign.name).where(Campaign.id.in_(campaign_ids))
    named_offers = select(Offer.id, Offer.name_zh, Offer.name_en).where(Offer.id.in_(offer_ids))
    return {
        "campaign_names": {i: name for i, name in session.execute(named_campaigns)},  # noqa: C416 - rows, not pairs
        "offer_names": {
            i: zh if language == "zh_CN" else en for i, zh, en in session.execute(named_offers)
        },
    }


def _complaints(session: Any, lake: Lake, msisdn: str) -> list[dict[str, Any]]:
    relation = lake.relation(session, "complaint")
    if relation is None:
        return []
    found: list[dict[str, Any]] = lake.engine.query(
        f"SELECT created_at, kind, category, channel, status FROM {relation} "
        "WHERE msisdn = ? ORDER BY created_at DESC LIMIT 100",
        [msisdn],
    ).to_pylist()
    return found
