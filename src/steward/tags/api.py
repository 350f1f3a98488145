"""REST routes of the tag library (thin: the service does the work)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from steward.tags import service
from steward.web.deps import EVERYONE, Catalogue, DbSession, LakeDep, RequireRole

router = APIRouter(prefix="/tags", tags=["tags"], dependencies=[Depends(RequireRole(*EVERYONE))])


@router.get("")
def list_tags(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in catalogue.tags]


@router.get("/{name}")
def show_tag(name: str, session: DbSession, lake: LakeDep, catalogue: Catalogue) -> dict[str, Any]:
    tag = catalogue.get(name)
    if tag is None:
        raise HTTPException(404, f"unknown tag {name!r}")
    return {
        "tag": tag.model_dump(mode="json"),
        "distribution": service.distribution(session, lake, tag),
    }
