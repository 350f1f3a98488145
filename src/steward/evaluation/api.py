"""REST routes of evaluation: a campaign's funnel and lift, the daily report, and its manual
evaluation reports (R-EVAL-4: upload, list, download)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from steward.auth.models import Role, User
from steward.auth.service import within
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign
from steward.channels.orders import accepted_orders
from steward.evaluation import reports, service
from steward.evaluation.models import EvaluationReport
from steward.evaluation.schemas import ReportRead
from steward.web.deps import DbSession, LakeDep, RequireRole

router = APIRouter(tags=["evaluation"])
Reader = Annotated[
    User, Depends(RequireRole(Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN))
]
Uploader = Annotated[User, Depends(RequireRole(*reports.UPLOADERS))]


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


@router.post("/campaigns/{campaign_id}/reports", response_model=ReportRead, status_code=201)
def upload_report(
    campaign_id: int,
    session: DbSession,
    user: Uploader,
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> EvaluationReport:
    """Upload a manual evaluation report (multipart: title, summary, file); 422 names the
    field at fault, 404 a campaign outside the caller's district."""
    # One byte past the limit is enough to refuse the file without reading all of it.
    body = file.file.read(reports.MAX_BYTES + 1)
    try:
        return reports.upload(
            session,
            campaign_id=campaign_id,
            title=title,
            summary=summary,
            filename=file.filename or "",
            body=body,
            by=user,
        )
    except reports.ReportNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except reports.ReportError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/campaigns/{campaign_id}/reports", response_model=list[ReportRead])
def list_reports(campaign_id: int, session: DbSession, user: Reader) -> list[EvaluationReport]:
    """The campaign's manual evaluation reports, newest first (their files apart)."""
    try:
        return reports.for_campaign(session, campaign_id, user=user)
    except reports.ReportNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/campaigns/{campaign_id}/reports/{report_id}", response_class=Response)
def download_report(campaign_id: int, report_id: int, session: DbSession, user: Reader) -> Response:
    """The report's file as uploaded, as an attachment; the download is audited."""
    try:
        report = reports.download(session, campaign_id=campaign_id, report_id=report_id, by=user)
    except reports.ReportNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(
        report.body, media_type=report.media_type, headers=reports.download_headers(report)
    )


def _inside(row: dict[str, Any], district: str) -> bool:
    return within(f"{row['city']}/{row['county']}", district)


def _campaign(session: DbSession, campaign_id: int, user: User) -> Campaign:
    campaign = campaigns.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        raise HTTPException(404, f"no campaign {campaign_id}")
    return campaign
