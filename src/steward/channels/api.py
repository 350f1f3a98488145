"""REST routes of outbound calls: an agent's work orders and their results, the teams, and
the work lists a supervisor builds for a team with a strategy (R-CHAN-7)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from steward.auth.models import Role, User
from steward.campaigns.batch import RunError
from steward.channels import outbound, strategies
from steward.channels.strategies import Strategy
from steward.channels.workorders import CallResult, OutboundTeam, WorkOrder, WorkOrderStatus
from steward.db import utcnow
from steward.web.deps import Catalogue, DbSession, LakeDep, OrderCentreDep, PolicyDep, RequireRole

router = APIRouter(tags=["outbound"])
Agent = Annotated[User, Depends(RequireRole(Role.AGENT))]
Recorder = Annotated[User, Depends(RequireRole(Role.AGENT, Role.SYSTEM_ADMIN))]
TeamReader = Annotated[
    User,
    Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.DATA_ADMIN, Role.SYSTEM_ADMIN)),
]
TeamMaker = Annotated[User, Depends(RequireRole(Role.DATA_ADMIN, Role.SYSTEM_ADMIN))]
# as the desk's builder: the roles that manage the teams build their work lists
ListBuilder = TeamMaker
# the service's names of what it refuses, as the body of ``WorkListCreate`` names them
WORK_LIST_FIELDS = {"days": "within_days", "tenure_months": "min_tenure_months"}


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    district: str = Field(min_length=1, max_length=96)
    daily_capacity: int = Field(ge=0, le=1_000_000)


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    district: str
    daily_capacity: int


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: CallResult
    reason: str | None = Field(default=None, max_length=200)
    callback_at: AwareDatetime | None = None


class WorkOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_key: str
    msisdn: str
    campaign_id: int | None
    offer_id: int | None
    team_id: int
    day: date
    due_at: datetime
    assigned_to: str | None
    status: WorkOrderStatus
    result: CallResult | None
    reason: str | None
    callback_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    attempt: int


class WorkListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Strategy
    size: int = Field(ge=1, le=strategies.MAX_SIZE)
    within_days: int = Field(default=strategies.DEFAULT_DAYS, ge=1, le=366)
    min_tenure_months: int = Field(default=strategies.DEFAULT_TENURE, ge=1, le=240)
    agents: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )


class WorkListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    strategy: Strategy
    team: str
    capacity_left: int  # calls the team could still take today, before this list
    selected: int
    queued: int
    stopped_by_policy: int
    assigned: int
    unavailable: str | None  # why the strategy has no data to work on (the trial ones)
    order_ids: list[int]


@router.get("/work-orders/mine", response_model=list[WorkOrderRead])
def my_work_orders(session: DbSession, user: Agent) -> list[WorkOrder]:
    """The caller's open orders, soonest due first; the agent sees the full number."""
    return outbound.open_orders_of(session, user.username)


@router.post("/work-orders/next", response_model=WorkOrderRead | None)
def next_work_order(session: DbSession, user: Agent) -> WorkOrder | None:
    """Take the next due order of the caller's teams; null when nothing is due."""
    with _refusals():
        return outbound.next_for(session, user.username, utcnow())


@router.post("/work-orders/{work_order_id}/result", response_model=WorkOrderRead)
def record_result(
    work_order_id: int,
    result_in: ResultIn,
    session: DbSession,
    user: Recorder,
    centre: OrderCentreDep,
) -> WorkOrder:
    """Close an order with the call's result: accepted, rejected, considering, call_back
    (with callback_at) or failed (with a reason)."""
    with _refusals():
        return outbound.record_result(
            session,
            work_order_id,
            by=user,
            result=result_in.result,
            reason=result_in.reason,
            callback_at=result_in.callback_at,
            orders=centre,
        )


@router.get("/teams", response_model=list[TeamRead])
def list_teams(session: DbSession, user: TeamReader) -> list[OutboundTeam]:
    return outbound.teams(session)


@router.post("/teams", response_model=TeamRead, status_code=201)
def create_team(team_in: TeamCreate, session: DbSession, user: TeamMaker) -> OutboundTeam:
    with _refusals():
        return outbound.create_team(session, **team_in.model_dump())


@router.post("/teams/{team_id}/work-lists", response_model=WorkListRead, status_code=201)
def build_work_list(
    team_id: int,
    work_list_in: WorkListCreate,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    policy: PolicyDep,
    user: ListBuilder,
) -> strategies.WorkListReport:
    """Build a work list for a team of the caller's district with a strategy: the contacts
    it chooses are queued as the team's orders (the contact policy checked at hand-off), and
    put on ``agents``' lists in turn when some are named. A refusal (422) names its field;
    nothing is kept then. The trial strategies return nothing and say why (``unavailable``)."""
    context = strategies.Context(session, lake, catalogue, policy, date.today(), utcnow())
    options = strategies.Options(
        days=work_list_in.within_days, tenure_months=work_list_in.min_tenure_months
    )
    try:
        return strategies.build_work_list(
            context,
            team_id=team_id,
            strategy=work_list_in.strategy,
            size=work_list_in.size,
            by=user,
            options=options,
            agents=work_list_in.agents,
        )
    except (strategies.StrategyError, outbound.OutboundError) as exc:
        field = WORK_LIST_FIELDS.get(exc.field, exc.field)
        raise HTTPException(422, {"message": str(exc), "field": field}) from exc
    except RunError as exc:
        raise HTTPException(422, {"message": str(exc), "field": "strategy"}) from exc


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as HTTP answers: unknown 404, another's order 403, else 422."""
    try:
        yield
    except outbound.UnknownWorkOrderError as exc:
        raise HTTPException(404, str(exc)) from exc
    except outbound.NotYourOrderError as exc:
        raise HTTPException(403, str(exc)) from exc
    except outbound.OutboundError as exc:
        raise HTTPException(422, {"message": str(exc)}) from exc
