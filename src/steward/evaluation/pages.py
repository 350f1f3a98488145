"""The campaign monitor of the workbench (issue 6): the funnel with its exclusions by rule,
the daily report charted by date, city, county, brand and channel, and control against
target with the lift and its interval.

The same service calls and rules as ``evaluation/api.py``: the API's readers, a campaign
outside the user's district is not found, and the daily report keeps the rows of the
user's district. A manual evaluation report (R-EVAL-4) cannot be uploaded: the evaluation
service keeps none, so the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign
from steward.campaigns.pages import STATUS_NAMES
from steward.channels.orders import accepted_orders
from steward.evaluation import service
from steward.lake.service import Lake
from steward.web.deps import DbSession, LakeDep
from steward.web.render import N_, Screen, page, render, screen

router = APIRouter(include_in_schema=False)

MONITOR = screen("/monitor", N_("Campaign monitor"), Role.PLANNER, Role.APPROVER, Role.ANALYST)
CAMPAIGN_MONITOR = Screen("/campaigns/{campaign_id}/monitor", MONITOR.title, MONITOR.roles)

FUNNEL_STEPS = (
    ("targets", N_("Targets")),
    ("after_policy", N_("After policy")),
    ("planned", N_("Planned")),
    ("contacted", N_("Contacted")),
    ("responded", N_("Responded")),
    ("ordered", N_("Ordered")),
)
# the daily report's breakdowns: a dimension of its rows, and the chart's title
BREAKDOWNS = (
    ("day", N_("By date")),
    ("city", N_("By city")),
    ("county", N_("By county")),
    ("brand", N_("By brand")),
    ("channel", N_("By channel")),
)


@router.get("/monitor", response_class=HTMLResponse)
def monitor(request: Request, session: DbSession, lake: LakeDep) -> Response:
    """Every campaign of the user's district with its funnel in one line."""
    user, instead = page(request, session, MONITOR)
    if instead is not None:
        return instead
    assert user is not None
    shown = campaigns.visible(session, user)
    funnels = service.funnels(session, lake, [c.id for c in shown]) if shown else []
    return render(
        request,
        "evaluation/monitor.html",
        user,
        rows=list(zip(shown, funnels, strict=True)),
        steps=FUNNEL_STEPS,
        status_names=STATUS_NAMES,
    )


@router.get("/campaigns/{campaign_id}/monitor", response_class=HTMLResponse)
def campaign_monitor(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    campaign_id: int,
    until: date | None = None,
) -> Response:
    """One campaign: funnel, exclusions by rule, daily report charts, control vs target."""
    user, instead = page(request, session, CAMPAIGN_MONITOR)
    if instead is not None:
        return instead
    assert user is not None
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        response = render(request, "campaigns/missing.html", user, campaign_id=campaign_id)
        response.status_code = 404
        return response
    (funnel,) = service.funnels(session, lake, [campaign.id])
    within_days = int((campaign.success_rule or {}).get("within_days", 7))
    lift = service.control_vs_target(
        session,
        lake,
        campaign_id=campaign.id,
        orders=accepted_orders(session),
        within_days=within_days,
    )
    until = until or date.today()
    report = _report_rows(session, lake, campaign, user, until)
    return render(
        request,
        "evaluation/campaign_monitor.html",
        user,
        campaign=campaign,
        funnel=funnel,
        steps=[(name, label, getattr(funnel, name)) for name, label in FUNNEL_STEPS],
        exclusions=sorted(funnel.exclusions.items(), key=lambda kv: (-kv[1], kv[0])),
        lift=lift,
        within_days=within_days,
        until=until,
        breakdowns=[
            (dimension, title, _breakdown(report, dimension)) for dimension, title in BREAKDOWNS
        ],
        status_names=STATUS_NAMES,
    )


def _report_rows(
    session: Session, lake: Lake, campaign: Campaign, user: User, until: date
) -> list[dict[str, Any]]:
    """The daily report's rows of this campaign inside the user's district (as the API's)."""
    rows = service.daily_report(session, lake, until=until).to_pylist()
    return [
        r
        for r in rows
        if r["campaign_id"] == campaign.id and within(f"{r['city']}/{r['county']}", user.district)
    ]


def _breakdown(rows: list[dict[str, Any]], dimension: str) -> dict[str, list[Any]]:
    """Target users, contacted and new orders summed over one dimension of the report."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        key = row[dimension]
        label = key.isoformat() if isinstance(key, date) else str(key)
        figures = sums[label]
        figures[0] += int(row["target_users"])
        figures[1] += int(row["contacted_today"])
        figures[2] += int(row["new_orders_today"])
    labels = sorted(sums)
    return {
        "labels": labels,
        "targets": [sums[k][0] for k in labels],
        "contacted": [sums[k][1] for k in labels],
        "orders": [sums[k][2] for k in labels],
    }


def _visible(session: Session, campaign_id: int, user: User) -> Campaign | None:
    campaign = campaigns.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        return None
    return campaign
