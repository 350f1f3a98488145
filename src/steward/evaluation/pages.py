"""The campaign monitor of the workbench (issue 6): the funnel with its exclusions by rule,
the daily report charted by date, city, county, brand and channel, and control against
target with the lift and its interval.

The same service calls and rules as ``evaluation/api.py``: the API's readers, a campaign
outside the user's district is not found, and the daily report keeps the rows of the
user's district. Under the charts, the campaign's manual evaluation reports (R-EVAL-4):
analysts and planners upload one (title, summary, file) with the checks and the audit of
``evaluation/reports.py``; every reader lists and downloads them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign
from steward.campaigns.pages import STATUS_NAMES
from steward.channels.orders import accepted_orders
from steward.evaluation import reports, service
from steward.lake.service import Lake
from steward.web.deps import DbSession, LakeDep
from steward.web.render import N_, Screen, forbidden, page, render, screen

router = APIRouter(include_in_schema=False)

MONITOR = screen("/monitor", N_("Campaign monitor"), Role.PLANNER, Role.APPROVER, Role.ANALYST)
CAMPAIGN_MONITOR = Screen("/campaigns/{campaign_id}/monitor", MONITOR.title, MONITOR.roles)
# the upload form's fields, named where a message says which one is at fault
REPORT_FIELDS = {"title": N_("Title"), "summary": N_("Summary"), "file": N_("File")}

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
    user = page(request, session, MONITOR)
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
    uploaded: int | None = None,
) -> Response:
    """One campaign: funnel, exclusions by rule, daily report charts, control vs target,
    and its manual evaluation reports."""
    user = page(request, session, CAMPAIGN_MONITOR)
    campaign = _visible(session, campaign_id, user)
    if campaign is None:
        return _missing(request, user, campaign_id)
    return _monitor_page(request, session, lake, user, campaign, until, uploaded=uploaded)


@router.post("/campaigns/{campaign_id}/monitor/reports", response_class=HTMLResponse)
def upload_report(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    campaign_id: int,
    file: Annotated[UploadFile | None, File()] = None,
    title: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    """Upload a manual evaluation report as the API does; back to the monitor with it
    listed, or the monitor again with the message and the form as it was filled."""
    user = page(request, session, CAMPAIGN_MONITOR)
    if Role(user.role) not in reports.UPLOADERS:
        return forbidden(request, user)
    # One byte past the limit is enough to refuse the file without reading all of it.
    body = file.file.read(reports.MAX_BYTES + 1) if file is not None else b""
    filename = file.filename if file is not None and file.filename else ""
    try:
        report = reports.upload(
            session,
            campaign_id=campaign_id,
            title=title,
            summary=summary,
            filename=filename,
            body=body,
            by=user,
        )
    except reports.ReportNotFoundError:
        return _missing(request, user, campaign_id)
    except reports.ReportError as refused:
        campaign = _visible(session, campaign_id, user)
        assert campaign is not None  # the upload found it
        form = {"title": title, "summary": summary}
        response = _monitor_page(
            request, session, lake, user, campaign, None, form=form, error=refused
        )
        response.status_code = 422
        return response
    return RedirectResponse(
        f"/campaigns/{campaign_id}/monitor?uploaded={report.id}#reports", status_code=303
    )


@router.get("/campaigns/{campaign_id}/monitor/reports/{report_id}")
def download_report(
    request: Request, session: DbSession, campaign_id: int, report_id: int
) -> Response:
    """A report's file as uploaded, audited as the API's download is."""
    user = page(request, session, CAMPAIGN_MONITOR)
    try:
        report = reports.download(session, campaign_id=campaign_id, report_id=report_id, by=user)
    except reports.ReportNotFoundError:
        return _missing(request, user, campaign_id)
    return Response(
        report.body, media_type=report.media_type, headers=reports.download_headers(report)
    )


def _monitor_page(
    request: Request,
    session: Session,
    lake: Lake,
    user: User,
    campaign: Campaign,
    until: date | None,
    *,
    uploaded: int | None = None,
    form: dict[str, str] | None = None,
    error: reports.ReportError | None = None,
) -> HTMLResponse:
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
        reports=reports.for_campaign(session, campaign.id, user=user),
        uploaded=uploaded,
        may_upload=Role(user.role) in reports.UPLOADERS,
        max_megabytes=reports.MAX_BYTES // (1024 * 1024),
        accept=",".join(reports.KINDS),
        form=form or {"title": "", "summary": ""},
        error=error,
        fields=REPORT_FIELDS,
        size=_size,
    )


def _missing(request: Request, user: User, campaign_id: int) -> Response:
    response = render(request, "campaigns/missing.html", user, campaign_id=campaign_id)
    response.status_code = 404
    return response


def _size(n: int) -> str:
    """A file's size as people read it (the units are the same in Chinese)."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _report_rows(
    session: Session, lake: Lake, campaign: Campaign, user: User, until: date
) -> list[dict[str, Any]]:
    """The daily report's rows of this campaign inside the user's district (as the API's)."""
    rows = service.daily_report(session, lake, until=until, campaign_ids=[campaign.id])
    return [r for r in rows.to_pylist() if within(f"{r['city']}/{r['county']}", user.district)]


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
