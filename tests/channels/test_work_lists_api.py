"""Work lists built with an outbound strategy over HTTP (R-CHAN-7): the roles and the
district of the desk's builder, what was built in the answer, and a refusal (422) that names
its field and keeps nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.channels import outbound
from steward.channels.workorders import WorkOrder
from tests.web.test_channels_pages import _running_family_campaign
from tests.web.test_outbound_strategy_pages import _planned_call_and_team
from tests.web_fixtures import PASSWORD, Api


@pytest.fixture
def front(api: Api) -> Api:
    """A running campaign of the family offer on the hall, inbound and outbound."""
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        _running_family_campaign(session, app.state.lake, app.state.catalogue)
    return api


def _orders(api: Api) -> list[WorkOrder]:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        return list(session.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def _path(team_id: int) -> str:
    return f"/teams/{team_id}/work-lists"


def test_the_data_administrator_builds_a_list_and_hands_it_to_an_agent(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    body = {"strategy": "direct", "size": 5, "agents": ["agent"]}

    built = front.client.post(_path(team_id), json=body, headers=front.as_("data_admin"))

    assert built.status_code == 201, built.text
    answer = built.json()
    orders = _orders(front)
    assert answer["strategy"] == "direct"
    assert answer["team"] == "hotline"
    assert (answer["queued"], answer["assigned"], answer["capacity_left"]) == (1, 1, 9)
    assert answer["unavailable"] is None
    assert answer["order_ids"] == [o.id for o in orders]
    assert [(o.assigned_to, o.team_id) for o in orders] == [("agent", team_id)]


def test_a_trial_strategy_builds_nothing_and_says_why(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    body = {"strategy": "trial_users", "size": 5}
    built = front.client.post(_path(team_id), json=body, headers=front.as_("system_admin"))
    assert built.status_code == 201, built.text
    assert built.json()["queued"] == 0
    assert "no trial data" in built.json()["unavailable"]
    assert _orders(front) == []


def test_only_the_roles_that_manage_teams_build(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    body = {"strategy": "direct", "size": 5}
    for role in (Role.AGENT, Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.CLERK):
        refused = front.client.post(_path(team_id), json=body, headers=front.as_(role.value))
        assert refused.status_code == 403, role
    assert front.client.post(_path(team_id), json=body).status_code == 401
    assert _orders(front) == []


def test_a_refusal_names_its_field_and_keeps_nothing(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    admin = front.as_("system_admin")
    for path, body, field in (
        (_path(999), {"strategy": "direct", "size": 5}, "team_id"),
        # an unknown agent is found after the orders were made: all of it is undone
        (_path(team_id), {"strategy": "direct", "size": 5, "agents": ["nobody"]}, "agents"),
    ):
        refused = front.client.post(path, json=body, headers=admin)
        assert refused.status_code == 422, body
        assert refused.json()["detail"]["field"] == field, refused.text
    unknown = front.client.post(_path(999), json={"strategy": "direct", "size": 5}, headers=admin)
    assert unknown.json()["detail"]["message"] == "team: no team 999 in your district"
    for body, field in (
        ({"strategy": "direct", "size": 0}, "size"),
        ({"strategy": "cold_calls", "size": 5}, "strategy"),
        ({"strategy": "annual_renewal", "size": 5, "within_days": 400}, "within_days"),
        ({"strategy": "monthly_to_annual", "size": 5, "min_tenure_months": 0}, "min_tenure_months"),
        ({"strategy": "direct", "size": 5, "shop": "x"}, "shop"),
    ):
        invalid = front.client.post(_path(team_id), json=body, headers=admin)
        assert invalid.status_code == 422, body
        assert invalid.json()["detail"][0]["loc"][-1] == field, invalid.text
    assert _orders(front) == []


def test_a_team_outside_the_callers_district_is_unknown(front: Api) -> None:
    _planned_call_and_team(front)
    app: Any = front.client.app
    with db.transaction(app.state.sessions) as session:
        tianshui = outbound.create_team(
            session, name="tianshui", district="tianshui", daily_capacity=9
        )
        city_admin = auth.create_user(
            session,
            username="lanzhou_admin",
            password=PASSWORD,
            role=Role.DATA_ADMIN,
            district="lanzhou",
            by="test",
        )
        token = auth.issue_token(session, city_admin)
        team_id = tianshui.id
    refused = front.client.post(
        _path(team_id),
        json={"strategy": "direct", "size": 5},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == {
        "message": f"team: no team {team_id} in your district",
        "field": "team_id",
    }
    with db.transaction(app.state.sessions) as session:
        assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0
