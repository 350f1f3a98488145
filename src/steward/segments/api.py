"""REST routes of segments: trial count, create, import a list, count, snapshot."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from steward.auth.models import Role, User
from steward.auth.service import district_rule
from steward.segments import service
from steward.segments.models import Segment
from steward.segments.schemas import (
    CountResult,
    ListImportReport,
    RuleIn,
    SegmentCreate,
    SegmentRead,
    SnapshotReport,
)
from steward.web.deps import Catalogue, DbSession, LakeDep, RequireRole

router = APIRouter(prefix="/segments", tags=["segments"])
readers = RequireRole(Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN)
makers = RequireRole(Role.PLANNER, Role.ANALYST, Role.SYSTEM_ADMIN)
Reader = Annotated[User, Depends(readers)]
Maker = Annotated[User, Depends(makers)]


@router.post("/count", response_model=CountResult)
def trial_count(
    rule_in: RuleIn, session: DbSession, lake: LakeDep, catalogue: Catalogue, user: Reader
) -> CountResult:
    """Count a rule before saving it (试算), within the caller's district."""
    return service.trial_count(
        session,
        lake,
        catalogue,
        rule=rule_in.rule,
        as_of=rule_in.as_of,
        scope=district_rule(user.district),
    )


@router.post("", response_model=SegmentRead, status_code=201)
def create_segment(
    segment_in: SegmentCreate, session: DbSession, catalogue: Catalogue, user: Maker
) -> Segment:
    return service.create(session, catalogue, segment_in=segment_in, by=user.username)


@router.post("/import", response_model=ListImportReport)
def import_list(
    session: DbSession,
    lake: LakeDep,
    user: Maker,
    name: Annotated[str, Form(min_length=1, max_length=128)],
    file: Annotated[UploadFile, File(description="One number a line.")],
    description: Annotated[str, Form()] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> ListImportReport:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "list.txt"
        path.write_bytes(file.file.read())
        return service.import_list(
            session,
            lake,
            name=name,
            path=path,
            description=description,
            by=user.username,
            dry_run=dry_run,
        )


@router.get("", response_model=list[SegmentRead])
def list_segments(session: DbSession, _: Reader) -> list[Segment]:
    return service.list_all(session)


@router.get("/{segment_id}", response_model=SegmentRead)
def get_segment(segment_id: int, session: DbSession, _: Reader) -> Segment:
    return _segment(session, segment_id)


@router.get("/{segment_id}/count", response_model=CountResult)
def count_segment(
    segment_id: int,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    user: Reader,
    as_of: date | None = None,
) -> CountResult:
    segment = _segment(session, segment_id)
    return service.count(
        session, lake, catalogue, segment, as_of, scope=district_rule(user.district)
    )


@router.post("/{segment_id}/snapshot", response_model=SnapshotReport)
def snapshot_segment(
    segment_id: int,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    _: Maker,
    as_of: date | None = None,
) -> SnapshotReport:
    """Write the segment's membership as of a date to the lake."""
    result = service.snapshot_members(
        session, lake, catalogue, _segment(session, segment_id), as_of
    )
    return SnapshotReport.model_validate(result)


def _segment(session: DbSession, segment_id: int) -> Segment:
    segment = service.get(session, segment_id)
    if segment is None:
        raise HTTPException(404, f"no segment {segment_id}")
    return segment
