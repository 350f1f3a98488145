"""Shared fixtures of the mining tests: the people of the model lifecycle."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    def user(name: str, role: Role) -> User:
        return auth.create_user(
            session,
            username=name,
            password="a long password",
            role=role,
            district="province",
            by="test",
        )

    return {
        "analyst": user("analyst", Role.ANALYST),
        "approver": user("approver", Role.APPROVER),
        "planner": user("planner", Role.PLANNER),
    }
