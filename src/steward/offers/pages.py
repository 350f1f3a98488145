"""The offer catalogue as a workbench screen (issue 6, screen 5; R-OFFER-1..4): every offer
with its name in the page's language, type, category, price, cost, commission, channel fit,
reply code and whether it is active, a filter and a search; and one offer's detail — its
eligibility rule, the scripts per channel and the SMS texts.

Open to those who plan, approve and analyse campaigns, read only: offers are made through
the API (``POST /offers``) or ``steward offers import``, where billing checks them. The
screens live under ``/workbench``: the API owns ``/offers`` and ``/offers/{id}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from steward.auth.models import Role
from steward.offers import service
from steward.offers.models import Channel, Offer, OfferType
from steward.web.deps import DbSession
from steward.web.render import CHANNEL_NAMES, N_, Screen, language_of, page, render, screen

OFFERS = screen("/workbench/offers", N_("Offers"), Role.PLANNER, Role.APPROVER, Role.ANALYST)
OFFER = Screen("/workbench/offers/{offer_id}", N_("Offer"), OFFERS.roles)
router = APIRouter(prefix="/workbench/offers", include_in_schema=False)

TYPE_NAMES = {
    OfferType.DATA_PACK: N_("Data pack"),
    OfferType.VAS: N_("Value-added service"),
    OfferType.CONTENT: N_("Content"),
    OfferType.PLAN_CHANGE: N_("Plan change"),
    OfferType.FAMILY: N_("Family"),
    OfferType.ROAMING: N_("Roaming"),
    OfferType.HANDSET: N_("Handset"),
    OfferType.BROADBAND: N_("Broadband"),
    OfferType.CARE: N_("Care action"),
}
# Every channel an offer may fit, named (the shell names the six its screens serve).
CHANNEL_LABELS = CHANNEL_NAMES | {
    Channel.WECHAT.value: N_("WeChat"),
    Channel.SELF_SERVICE.value: N_("Self-service terminal"),
    Channel.ACCOUNT_MANAGER.value: N_("Account manager"),
}
ACTIVE_CHOICES = ("active", "inactive", "all")


def offer_name(offer: Offer, language: str) -> str:
    """The offer's name in a page's language."""
    return offer.name_zh if language == "zh_CN" else offer.name_en


def matching(offers: list[Offer], *, query: str, offer_type: str, active: str) -> list[Offer]:
    """The offers of a type and activity whose code, names, category or reply code hold
    every word of ``query``."""
    words = query.lower().split()
    found = []
    for offer in offers:
        if offer_type and offer.offer_type != offer_type:
            continue
        if (active == "active" and not offer.active) or (active == "inactive" and offer.active):
            continue
        text = " ".join(
            (offer.code, offer.name_zh, offer.name_en, offer.category, offer.reply_code or "")
        ).lower()
        if all(word in text for word in words):
            found.append(offer)
    return sorted(found, key=lambda o: (not o.active, o.code))


def fit_of(offer: Offer) -> list[str]:
    """The channels an offer fits, best first (priority 1 is the best)."""
    return [c for c, p in sorted(offer.channel_fit.items(), key=lambda cp: (cp[1], cp[0])) if p > 0]


@router.get("", response_class=HTMLResponse)
def catalogue(
    request: Request,
    session: DbSession,
    q: str = "",
    kind: Annotated[str, Query(alias="type")] = "",
    active: str = "active",
) -> Response:
    user = page(request, session, OFFERS)
    language = language_of(request)
    offer_type = kind if kind in {t.value for t in OfferType} else ""
    shown_active = active if active in ACTIVE_CHOICES else "active"
    offers = service.list_all(session)
    found = matching(offers, query=q, offer_type=offer_type, active=shown_active)
    return render(
        request,
        "offers/catalogue.html",
        user,
        offers=[(o, offer_name(o, language), fit_of(o)) for o in found],
        total=len(offers),
        query=q,
        offer_type=offer_type,
        active=shown_active,
        type_names=TYPE_NAMES,
        channel_labels=CHANNEL_LABELS,
    )


@router.get("/{offer_id}", response_class=HTMLResponse)
def detail(request: Request, session: DbSession, offer_id: int) -> Response:
    user = page(request, session, OFFER)
    offer = service.get(session, offer_id)
    if offer is None:
        response = render(request, "offers/missing.html", user, offer_id=offer_id)
        response.status_code = 404
        return response
    language = language_of(request)
    return render(
        request,
        "offers/offer.html",
        user,
        offer=offer,
        title=offer_name(offer, language),
        fit=fit_of(offer),
        scripts=sorted(offer.scripts.items()),
        type_names=TYPE_NAMES,
        channel_labels=CHANNEL_LABELS,
    )
