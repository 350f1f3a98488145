"""REST routes of campaigns and their approval flow."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import batch, service
from steward.campaigns.models import Campaign, CampaignWarning, Transition
from steward.campaigns.schemas import (
    CampaignCreate,
    CampaignRead,
    TransitionIn,
    TransitionRead,
    WarningRead,
)
from steward.web.deps import Catalogue, DbSession, LakeDep, PolicyDep, RequireRole

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Reader = Annotated[
    User, Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN))
]
Maker = Annotated[User, Depends(RequireRole(Role.PLANNER, Role.SYSTEM_ADMIN))]
Mover = Annotated[User, Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.SYSTEM_ADMIN))]


@router.get("", response_model=list[CampaignRead])
def list_campaigns(session: DbSession, user: Reader) -> list[Campaign]:
    return service.visible(session, user)


@router.post("", response_model=CampaignRead, status_code=201)
def create_campaign(campaign_in: CampaignCreate, session: DbSession, user: Maker) -> Campaign:
    return service.create(session, campaign_in=campaign_in, by=user)


Checker = Annotated[User, Depends(RequireRole(Role.APPROVER, Role.SYSTEM_ADMIN))]


@router.get("/warnings", response_model=list[WarningRead])
def list_warnings(session: DbSession, user: Checker) -> list[CampaignWarning]:
    """Overrides of the approval flow that no approver has acknowledged yet."""
    return service.warnings(session)


@router.post("/warnings/{warning_id}/ack", response_model=WarningRead)
def acknowledge_warning(warning_id: int, session: DbSession, user: Checker) -> CampaignWarning:
    return service.acknowledge_warning(session, warning_id, by=user)


@router.get("/{campaign_id}", response_model=CampaignRead)
def get_campaign(campaign_id: int, session: DbSession, user: Reader) -> Campaign:
    return _campaign(session, campaign_id, user)


@router.patch("/{campaign_id}", response_model=CampaignRead)
def edit_campaign(
    campaign_id: int, campaign_in: CampaignCreate, session: DbSession, user: Maker
) -> Campaign:
    """Edit a draft (its maker only); each submission keeps a version."""
    campaign = _campaign(session, campaign_id, user)
    return service.update(session, campaign, campaign_in=campaign_in, by=user)


@router.get("/{campaign_id}/changes")
def campaign_changes(campaign_id: int, session: DbSession, user: Reader) -> dict[str, Any]:
    """What changed between the last two submitted versions: the approver's first question."""
    return service.changes(session, _campaign(session, campaign_id, user))


@router.get("/{campaign_id}/history", response_model=list[TransitionRead])
def campaign_history(campaign_id: int, session: DbSession, user: Reader) -> list[Transition]:
    return service.history(session, _campaign(session, campaign_id, user))


@router.post("/{campaign_id}/copy", response_model=CampaignRead, status_code=201)
def copy_campaign(campaign_id: int, name: str, session: DbSession, user: Maker) -> Campaign:
    return service.copy(session, _campaign(session, campaign_id, user), name=name, by=user)


@router.post("/{campaign_id}/transitions", response_model=TransitionRead, status_code=201)
def move_campaign(
    campaign_id: int, step: TransitionIn, session: DbSession, user: Mover
) -> Transition:
    """Submit, approve, reject, start, pause, complete or terminate, with a comment."""
    campaign = _campaign(session, campaign_id, user)
    return service.move(session, campaign, to=step.to, by=user, comment=step.comment)


Explainer = Annotated[
    User,
    Depends(
        RequireRole(
            Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.AGENT, Role.CLERK, Role.SYSTEM_ADMIN
        )
    ),
]


@router.get("/{campaign_id}/why-not/{msisdn}")
def why_not(
    campaign_id: int,
    msisdn: str,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    policy: PolicyDep,
    user: Explainer,
    day: date | None = None,
) -> dict[str, Any]:
    """The rule that stops (or lets) a contact from this campaign to this subscriber."""
    campaign = _campaign(session, campaign_id, user)
    try:
        return batch.explain(
            session,
            lake,
            catalogue,
            policy,
            msisdn=msisdn,
            campaign_id=campaign.id,
            day=day or date.today(),
        )
    except batch.RunError as exc:
        raise HTTPException(422, str(exc)) from exc


def _campaign(session: DbSession, campaign_id: int, user: User) -> Campaign:
    campaign = service.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        raise HTTPException(404, f"no campaign {campaign_id}")
    return campaign
