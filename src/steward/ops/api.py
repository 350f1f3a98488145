"""REST routes of daily operation: the alerts the dashboard shows, and their acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from steward.auth.models import Role, User
from steward.db import utcnow
from steward.ops import service
from steward.web.deps import DbSession, RequireRole

router = APIRouter(prefix="/ops", tags=["operation"])
Watcher = Annotated[
    User, Depends(RequireRole(Role.DATA_ADMIN, Role.SYSTEM_ADMIN, Role.ANALYST, Role.PLANNER))
]
Operator = Annotated[User, Depends(RequireRole(Role.DATA_ADMIN, Role.SYSTEM_ADMIN))]


@router.get("/alerts")
def list_alerts(session: DbSession, user: Watcher) -> list[dict[str, Any]]:
    """Failed steps not yet acknowledged or repaired, and late or missing data sources."""
    return [a.to_dict() for a in service.alerts(session, now=utcnow())]


@router.post("/alerts/{step_run_id}/ack")
def acknowledge_alert(step_run_id: int, session: DbSession, user: Operator) -> dict[str, Any]:
    try:
        run = service.acknowledge(session, step_run_id, by=user)
    except service.OpsError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"step_run_id": run.id, "acknowledged_by": run.acknowledged_by}
