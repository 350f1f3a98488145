"""Users, roles and districts; passwords hashed with Argon2; bearer tokens; the audit log.

A district scopes what a user sees: a province user sees every subscriber, a city user those
of the city, a county user those of the county (R-OPS-1). ``district_rule`` gives that scope
in the rule language, so every domain applies it the same way.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import ApiToken, AuditEntry, Role, User
from steward.db import utcnow
from steward.wording import N_, Refusal

PROVINCE = "province"
DISTRICT = re.compile(r"^(province|[a-z][a-z_]{1,31}(/[a-z][a-z_]{1,31})?)$")
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
TOKEN_HOURS = 12
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class AuthError(Refusal):
    """A user request that cannot be honoured; the message says why."""


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    district: str,
    display_name: str = "",
    by: str,
) -> User:
    """Add a user; the password is stored only as an Argon2 hash."""
    if not USERNAME.match(username):
        raise AuthError(
            N_("username %(username)r: 3-64 lower-case letters, digits, . _ -"),
            field="username",
            username=username,
        )
    if not DISTRICT.match(district):
        raise AuthError(
            N_("district %(district)r: 'province', a city or 'city/county'"),
            field="district",
            district=district,
        )
    if len(password) < MIN_PASSWORD:
        raise AuthError(
            N_("a password needs at least %(minimum)s characters"),
            field="password",
            minimum=MIN_PASSWORD,
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AuthError(N_("user %(username)r exists already"), field="username", username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        role=role.value,
        district=district,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        actor=by,
        action="user.create",
        entity="user",
        entity_id=username,
        detail={"role": role.value, "district": district},
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        _hasher.hash(password)  # same time for unknown users: no username probing by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except VerificationError:
        return None
    return user


def issue_token(session: Session, user: User) -> str:
    """A random bearer token; only its hash is stored, it expires after TOKEN_HOURS."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_sha256=_digest(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=TOKEN_HOURS),
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.get(ApiToken, _digest(token))
    if row is None or _aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; every moment Steward stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def within(district: str, scope: str) -> bool:
    """Whether ``district`` lies inside ``scope`` (a province user's scope holds all)."""
    return scope == PROVINCE or district == scope or district.startswith(scope + "/")


def district_rule(district: str) -> str | None:
    """The user's scope as a rule over tags (None: the whole province)."""
    if district == PROVINCE:
        return None
    city, _, county = district.partition("/")
    rule = f"city = '{city}'"
    return rule + (f" AND county = '{county}'" if county else "")


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str = "",
    detail: dict[str, Any] | None = None,
    comment: str = "",
) -> None:
    """Record who did what; the log is append-only."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail or {},
            comment=comment,
        )
    )
    session.flush()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
