"""REST routes of evaluation: a campaign's funnel and lift, the daily report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign
from steward.channels.orders import accepted_orders
from steward.evaluation import service
from steward.web.deps import DbSession, LakeDep, RequireRole

router = APIRouter(tags=["evaluation"])
Reader = Annotated[
    User, Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN))
]


@router.get("/campaigns/{campaign_id}/funnel")
def campaign_funnel(
    campaign_id: int, session: DbSession, lake: LakeDep, user: Reader
) -> dict[str, Any]:
    """Targets → after policy (exclusions by rule) → planned → contacted → responded →
    ordered (R-EVAL-1)."""
    campaign = _campaign(session, campaign_id, user)
    (funnel,) = service.funnels(session, lake, [campaign.id])
    return funnel.to_dict()


@router.get("/campaigns/{campaign_id}/lift")
def campaign_lift(
    campaign_id: int, session: DbSession, lake: LakeDep, user: Reader
) -> dict[str, Any]:
    """Order rates of target and control, the absolute lift, its 95 % interval, p-value."""
    campaign = _campaign(session, campaign_id, user)
    within = int((campaign.success_rule or {}).get("within_days", 7))
    return service.control_vs_target(
        session, lake, campaign_id=campaign.id, orders=accepted_orders(session), within_days=within
    )


@router.get("/reports/daily")
def daily_report(
    session: DbSession, lake: LakeDep, user: Reader, until: date | None = None
) -> list[dict[str, Any]]:
    """R-EVAL-3 rows of the caller's district, by date, city, county, brand, campaign,
    channel."""
    rows = service.daily_report(session, lake, until=until or date.today()).to_pylist()
    return [r for r in rows if _inside(r, user.district)]


def _inside(row: dict[str, Any], district: str) -> bool:
    return within(f"{row['city']}/{row['county']}", district)


def _campaign(session: DbSession, campaign_id: int, user: User) -> Campaign:
    campaign = campaigns.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        raise HTTPException(404, f"no campaign {campaign_id}")
    return campaign
