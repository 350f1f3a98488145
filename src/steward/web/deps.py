"""Named dependencies for routes (STYLE.md §4): tests swap them with dependency_overrides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.tags.schemas import TagCatalogue


def get_db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    factory = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


def get_lake(request: Request) -> Iterator[Lake]:
    """The app's lake, one request at a time: its engine connection keeps per-connection
    scratch tables, so requests take turns (a pool of connections can come with load)."""
    lake: Lake = request.app.state.lake
    with request.app.state.lake_lock:
        yield lake


def get_catalogue(request: Request) -> TagCatalogue:
    catalogue: TagCatalogue = request.app.state.catalogue
    return catalogue


def get_user(request: Request) -> str:
    # Users and roles arrive with the campaign-loop issue; until then the caller names itself.
    return request.headers.get("X-Steward-User", "anonymous")[:64]


DbSession = Annotated[Session, Depends(get_db_session)]
LakeDep = Annotated[Lake, Depends(get_lake)]
Catalogue = Annotated[TagCatalogue, Depends(get_catalogue)]
CurrentUser = Annotated[str, Depends(get_user)]
