"""REST routes of the inbound decision (issue 5 §4): the door for the web portal, the app, the
hall clerk's screen and the 10086 agent's screen — what to offer a subscriber now, and what
became of it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.campaigns.batch import RunError
from steward.channels.orders import OrderStatus
from steward.events import metrics
from steward.offers.models import Channel
from steward.realtime import inbound
from steward.realtime.service import Refreshing
from steward.web.deps import DbSession, OrderCentreDep, RequireRole

router = APIRouter(prefix="/decide", tags=["decide"])

# Reading: the people facing a customer — the 10086 agent (inbound and outbound screens) and
# the hall clerk — the system administrator, whose service accounts the web portal and the app
# call with, and the planner, to preview what a subscriber is offered. Analysts and
# approvers have no business looking up one customer's offers.
Reader = Annotated[
    User, Depends(RequireRole(Role.AGENT, Role.CLERK, Role.PLANNER, Role.SYSTEM_ADMIN))
]
# Reporting what a channel did is for the channels alone: a planner's preview shows nothing.
Reporter = Annotated[User, Depends(RequireRole(Role.AGENT, Role.CLERK, Role.SYSTEM_ADMIN))]
Msisdn = Annotated[str, Path(pattern=r"^[0-9]{5,20}$")]


class DecideChannel(StrEnum):
    """The channels this door serves, each one of the catalogue's ``Channel`` values."""

    WEB = Channel.WEB.value
    APP = Channel.APP.value
    HALL = Channel.HALL.value
    INBOUND = Channel.INBOUND.value
    OUTBOUND = Channel.OUTBOUND.value

    @property
    def channel(self) -> Channel:
        return Channel(self.value)


class TextRead(BaseModel):
    kind: str
    zh: str
    en: str


class OfferedRead(BaseModel):
    rank: int
    campaign_id: int
    campaign_name: str
    offer_id: int
    code: str
    name_zh: str
    name_en: str
    category: str
    score: float
    strong: bool
    outcome: str
    text: TextRead
    reasons: list[str]


class ExcludedRead(BaseModel):
    campaign_id: int
    campaign_name: str
    offer_id: int
    code: str
    outcome: str


class DecisionRead(BaseModel):
    msisdn: str
    channel: str
    day: date
    snapshot: date
    offers: list[OfferedRead]
    excluded: list[ExcludedRead]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: int
    offer_id: int
    channel: DecideChannel
    outcome: inbound.Outcome
    note: str | None = Field(default=None, max_length=2000)


class OrderRead(BaseModel):
    order_key: str
    status: OrderStatus
    reference: str | None
    reason: str | None


class FeedbackRead(BaseModel):
    contact_key: str
    states: list[str]
    appended: int
    order: OrderRead | None


@router.get("/{msisdn}", response_model=DecisionRead)
def decide(
    request: Request,
    msisdn: Msisdn,
    channel: DecideChannel,
    session: DbSession,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    day: date | None = None,
) -> inbound.Decision:
    """The offers for this subscriber on this channel now, best first, each with its text
    and reasons; and the candidates excluded, each with its rule."""
    started = time.perf_counter()
    try:
        with _refusals():
            listing = shared_listing(request, session, day or date.today())
            return inbound.offers_for(
                session,
                listing,
                msisdn=msisdn,
                channel=channel.channel,
                limit=limit,
                district=user.district,
            )
    finally:
        metrics.DECIDE_REQUESTS.labels(channel.value).observe(time.perf_counter() - started)


@router.post("/{msisdn}/feedback", response_model=FeedbackRead)
def feedback(
    request: Request,
    msisdn: Msisdn,
    feedback_in: FeedbackIn,
    session: DbSession,
    user: Reporter,
    centre: OrderCentreDep,
    day: date | None = None,
) -> inbound.FeedbackResult:
    """What the channel did with an offer: shown, accepted (which orders it) or rejected;
    repeating a report changes nothing."""
    with _refusals():
        the_day = day or date.today()
        return inbound.record_feedback(
            session,
            shared_listing(request, session, the_day),
            msisdn=msisdn,
            campaign_id=feedback_in.campaign_id,
            offer_id=feedback_in.offer_id,
            channel=feedback_in.channel.channel,
            outcome=feedback_in.outcome,
            day=the_day,
            by=user.username,
            district=user.district,
            orders=centre,
            note=feedback_in.note,
        )


LISTING_CHECK_S = 5.0  # a campaign paused or a new snapshot shows within this


def shared_listing(request: Request, session: Session, day: date) -> inbound.Listing:
    """The app's compiled listing of ``day`` (built under the lake's lock when it changed).
    Under ``steward run`` it shares the event workers' online profile."""
    state = request.app.state
    if getattr(state, "listings", None) is None:

        def build(build_session: Session, build_day: date) -> inbound.Listing:
            shared = getattr(state, "shared_profile", None)
            with state.lake_lock:
                return inbound.build_listing(
                    build_session,
                    state.lake,
                    state.catalogue,
                    state.policy,
                    build_day,
                    profile=shared() if shared is not None else None,
                )

        state.listings = Refreshing(build, every_s=LISTING_CHECK_S)
    listings: Refreshing[inbound.Listing] = state.listings
    return listings.get(session, day, state.lake)


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as HTTP answers: unknown 404, a conflict 409, else 422."""
    try:
        yield
    except inbound.UnknownSubscriberError as exc:
        raise HTTPException(404, str(exc)) from exc
    except inbound.FeedbackConflictError as exc:
        raise HTTPException(409, {"message": str(exc)}) from exc
    except (inbound.DecideError, RunError) as exc:
        raise HTTPException(422, {"message": str(exc)}) from exc
