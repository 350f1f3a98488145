"""REST routes of segments: trial count, create, import a list, count, snapshot."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile

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
from steward.web.deps import Catalogue, CurrentUser, DbSession, LakeDep

router = APIRouter(prefix="/segments", tags=["segments"])


@router.post("/count", response_model=CountResult)
def trial_count(
    rule_in: RuleIn, session: DbSession, lake: LakeDep, catalogue: Catalogue
) -> CountResult:
    """Count a rule before saving it (试算)."""
    return service.trial_count(session, lake, catalogue, rule=rule_in.rule, as_of=rule_in.as_of)


@router.post("", response_model=SegmentRead, status_code=201)
def create_segment(
    segment_in: SegmentCreate, session: DbSession, catalogue: Catalogue, user: CurrentUser
) -> Segment:
    return service.create(session, catalogue, segment_in=segment_in, by=user)


@router.post("/import", response_model=ListImportReport)
def import_list(
    session: DbSession,
    lake: LakeDep,
    user: CurrentUser,
    name: Annotated[str, Form(min_length=1, max_length=128)],
    file: Annotated[UploadFile, File(description="One number a line.")],
    description: Annotated[str, Form()] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> ListImportReport:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "list.txt"
        path.write_bytes(file.file.read())
        return service.import_list(
            session, lake, name=name, path=path, description=description, by=user, dry_run=dry_run
        )


@router.get("", response_model=list[SegmentRead])
def list_segments(session: DbSession) -> list[Segment]:
    return service.list_all(session)


@router.get("/{segment_id}", response_model=SegmentRead)
def get_segment(segment_id: int, session: DbSession) -> Segment:
    return _segment(session, segment_id)


@router.get("/{segment_id}/count", response_model=CountResult)
def count_segment(
    segment_id: int,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    as_of: date | None = None,
) -> CountResult:
    return service.count(session, lake, catalogue, _segment(session, segment_id), as_of)


@router.post("/{segment_id}/snapshot", response_model=SnapshotReport)
def snapshot_segment(
    segment_id: int,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
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
