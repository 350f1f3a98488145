"""REST routes of the offer catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from steward.auth.models import Role, User
from steward.offers import service
from steward.offers.models import Offer
from steward.offers.schemas import OfferCreate, OfferRead
from steward.web.deps import Catalogue, DbSession, LakeDep, RequireRole

router = APIRouter(prefix="/offers", tags=["offers"])
readers = RequireRole(*Role)
makers = RequireRole(Role.PLANNER, Role.SYSTEM_ADMIN)


@router.get("", response_model=list[OfferRead])
def list_offers(session: DbSession, _: Annotated[User, Depends(readers)]) -> list[Offer]:
    return service.list_all(session)


@router.get("/{offer_id}", response_model=OfferRead)
def get_offer(offer_id: int, session: DbSession, _: Annotated[User, Depends(readers)]) -> Offer:
    offer = service.get(session, offer_id)
    if offer is None:
        raise HTTPException(404, f"no offer {offer_id}")
    return offer


@router.post("", response_model=OfferRead, status_code=201)
def create_offer(
    offer_in: OfferCreate,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    user: Annotated[User, Depends(makers)],
) -> Offer:
    """Add an offer; its billing product must be in the published product catalogue."""
    return service.create(session, lake, catalogue, offer_in=offer_in, by=user.username)
