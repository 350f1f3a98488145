"""Named dependencies for routes (STYLE.md §4): tests swap them with dependency_overrides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.channels.orders import OrderCentre
from steward.lake.service import Lake
from steward.policy.config import Policy
from steward.tags.schemas import TagCatalogue

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token")


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


def get_policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


def get_order_centre(request: Request) -> OrderCentre | None:
    """The app's billing order centre, if it has one: an accepted offer or call then orders."""
    centre: OrderCentre | None = getattr(request.app.state, "order_centre", None)
    return centre


# Committed before the answer leaves (scope "function"): a client that got its answer finds
# the work saved, e.g. the next page after a sign-in finds the session token.
SESSION = Depends(get_db_session, scope="function")


def get_user(session: Annotated[Session, SESSION], token: Annotated[str, Depends(bearer)]) -> User:
    user = auth.user_for_token(session, token)
    if user is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return user


class RequireRole:
    """A route's guard: the caller must hold one of ``roles`` (kept for the route-walk test)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, user: Annotated[User, Depends(get_user)]) -> User:
        if Role(user.role) not in self.roles:
            raise HTTPException(403, f"role {user.role} may not do this")
        return user


EVERYONE = tuple(Role)
DbSession = Annotated[Session, SESSION]
LakeDep = Annotated[Lake, Depends(get_lake, scope="function")]
Catalogue = Annotated[TagCatalogue, Depends(get_catalogue)]
PolicyDep = Annotated[Policy, Depends(get_policy)]
CurrentUser = Annotated[User, Depends(get_user)]
OrderCentreDep = Annotated[OrderCentre | None, Depends(get_order_centre)]
