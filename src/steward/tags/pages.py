"""The tag library's screen (issue 6): search the catalogue, read a tag's definition, how
its values fall in the latest snapshot (a chart) and how fresh that snapshot is.

Open to every role, as the API's tag routes are; the distribution is the province's.
The screens live under ``/workbench``: the API owns ``GET /tags`` and ``GET /tags/{name}``
and is routed first, so the same paths cannot serve HTML.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from steward.auth.models import Role
from steward.rules import TagType
from steward.tags import service
from steward.tags.schemas import Refresh, TagCatalogue, TagDefinition
from steward.web.deps import Catalogue, DbSession, LakeDep
from steward.web.render import N_, language_of, page, render, screen

LIBRARY = screen("/workbench/tags", N_("Tag library"), *Role)
router = APIRouter(prefix="/workbench/tags", include_in_schema=False)

TYPE_NAMES = {
    TagType.BOOL: N_("Yes/no"),
    TagType.INT: N_("Integer"),
    TagType.FLOAT: N_("Number"),
    TagType.CATEGORY: N_("Category"),
    TagType.DATE: N_("Date"),
}
REFRESH_NAMES = {Refresh.DAILY: N_("Daily"), Refresh.EVENT: N_("Daily, and by events between")}


def search(catalogue: TagCatalogue, query: str) -> list[TagDefinition]:
    """The tags whose name, labels, description or group hold every word of ``query``."""
    words = query.lower().split()
    found = []
    for tag in catalogue.tags:
        text = " ".join((tag.name, tag.label_zh, tag.label_en, tag.description, tag.group)).lower()
        if all(word in text for word in words):
            found.append(tag)
    return found


@router.get("", response_class=HTMLResponse)
def library(request: Request, session: DbSession, catalogue: Catalogue, q: str = "") -> Response:
    user = page(request, session, LIBRARY)
    dates = service.snapshot_dates(session)
    return render(
        request,
        "tags/library.html",
        user,
        query=q,
        tags=search(catalogue, q),
        total=len(catalogue.tags),
        latest=dates[-1] if dates else None,
        type_names=TYPE_NAMES,
    )


@router.get("/{name}", response_class=HTMLResponse)
def tag_page(
    request: Request, name: str, session: DbSession, lake: LakeDep, catalogue: Catalogue
) -> Response:
    user = page(request, session, LIBRARY)
    tag = catalogue.get(name)
    if tag is None:
        response = render(request, "tags/missing.html", user, tag_name=name)
        response.status_code = 404
        return response
    return render(
        request,
        "tags/tag.html",
        user,
        tag=tag,
        label=tag.label_zh if language_of(request) == "zh_CN" else tag.label_en,
        distribution=service.distribution(session, lake, tag),
        snapshots=service.snapshot_dates(session),
        type_names=TYPE_NAMES,
        refresh_names=REFRESH_NAMES,
    )
