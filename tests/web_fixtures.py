"""A real app over a real lake, with one user of every role, each holding a token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.settings import Settings
from steward.tags import service as tags_service
from steward.web.app import create_app
from tests.tags import factories as f

PASSWORD = "correct horse battery"


class Api:
    """A test client that acts as a named user of a role."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    app = create_app(Settings(home=tmp_path))
    tokens: dict[str, str] = {}
    with db.transaction(app.state.sessions) as session:
        f.publish(
            session,
            app.state.lake,
            "profile",
            date(2026, 11, 1),
            [
                f.profile("13800000001"),
                f.profile("13800000002", brand="mzone"),
                f.profile("13800000003", city="tianshui", county="qinzhou"),
            ],
        )
        tags_service.refresh(session, app.state.lake, app.state.catalogue, date(2026, 11, 30))
        users = [(role.value, role, "province") for role in Role]
        users.append(("lanzhou_planner", Role.PLANNER, "lanzhou"))
        for name, role, district in users:
            user = auth.create_user(
                session, username=name, password=PASSWORD, role=role, district=district, by="test"
            )
            tokens[name] = auth.issue_token(session, user)
    with TestClient(app) as client:
        yield Api(client, tokens)
