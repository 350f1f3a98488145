"""Outbound work orders over HTTP: an agent pulls, works and records calls; teams are made
by administrators; every other role is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.channels import outbound
from steward.channels.orders import SimulatedOrderCentre
from steward.offers.models import Offer
from steward.web import deps
from tests.channels.test_outbound import data_pack, reserve, trail
from tests.web_fixtures import PASSWORD, Api

PROVINCE = {"13800000001": "lanzhou", "13800000002": "lanzhou/chengguan"}


def queued(api: Api, *msisdns: str, offer: bool = False) -> list[str]:
    """Today's reserved contacts queued for a province team, due now; their keys."""
    now = datetime.now(UTC)
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        if not outbound.teams(session):
            outbound.create_team(session, name="hotline", district="province", daily_capacity=9)
        offer_id = None
        if offer:
            offer_id = session.scalar(select(Offer.id).where(Offer.code == "DP5G"))
        keys = reserve(session, *msisdns, day=now.date(), offer_id=offer_id)
        outbound.queue_due_contacts(
            session, day=now.date(), now=now - timedelta(seconds=1), districts=PROVINCE
        )
    return keys


def ledger(api: Api, key: str) -> list[tuple[str, str | None]]:
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        return trail(session, key)


def test_an_agent_pulls_a_call_records_a_call_back_and_finds_it_on_their_list(api: Api) -> None:
    (key,) = queued(api, "13800000001")
    agent = api.as_("agent")

    pulled = api.client.post("/work-orders/next", headers=agent)
    assert pulled.status_code == 200, pulled.text
    order = pulled.json()
    assert (order["msisdn"], order["assigned_to"], order["status"]) == (
        "13800000001",
        "agent",
        "assigned",
    )
    assert [o["id"] for o in api.client.get("/work-orders/mine", headers=agent).json()] == [
        order["id"]
    ]
    assert api.client.post("/work-orders/next", headers=agent).json() is None

    later = (datetime.now(UTC) + timedelta(days=2)).astimezone().isoformat()
    body = {"result": "call_back", "callback_at": later}
    closed = api.client.post(f"/work-orders/{order['id']}/result", json=body, headers=agent)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["result"]) == ("closed", "call_back")
    mine = api.client.get("/work-orders/mine", headers=agent).json()
    assert [(o["contact_key"], o["attempt"]) for o in mine] == [(key, 2)]
    assert [state for state, _ in ledger(api, key)][-2:] == ["answered", "planned"]


def test_a_result_that_does_not_add_up_or_comes_twice_is_refused(api: Api) -> None:
    queued(api, "13800000001")
    agent = api.as_("agent")
    order_id = api.client.post("/work-orders/next", headers=agent).json()["id"]
    path = f"/work-orders/{order_id}/result"

    no_reason = api.client.post(path, json={"result": "failed"}, headers=agent)
    naive = api.client.post(
        path, json={"result": "call_back", "callback_at": "2030-01-01T10:00:00"}, headers=agent
    )
    done = api.client.post(path, json={"result": "failed", "reason": "busy"}, headers=agent)
    again = api.client.post(path, json={"result": "accepted"}, headers=agent)
    unknown = api.client.post("/work-orders/999/result", json={"result": "x"}, headers=agent)
    missing = api.client.post(
        "/work-orders/999/result",
        json={"result": "rejected", "reason": "too expensive"},
        headers=agent,
    )

    assert no_reason.status_code == 422
    assert no_reason.json()["detail"]["message"] == "a failed call needs a reason"
    assert naive.status_code == 422  # a call-back time must say its time zone
    assert done.status_code == 200, done.text
    assert again.status_code == 422
    assert "closed already" in again.json()["detail"]["message"]
    assert unknown.status_code == 422
    assert missing.status_code == 404


def test_another_agent_and_other_roles_are_refused(api: Api) -> None:
    queued(api, "13800000001")
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        other = auth.create_user(
            session,
            username="agent.two",
            password=PASSWORD,
            role=Role.AGENT,
            district="lanzhou",
            by="test",
        )
        token = auth.issue_token(session, other)
    order_id = api.client.post("/work-orders/next", headers=api.as_("agent")).json()["id"]
    body = {"result": "rejected", "reason": "too expensive"}

    stranger = api.client.post(
        f"/work-orders/{order_id}/result", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    planner = api.client.post(
        f"/work-orders/{order_id}/result", json=body, headers=api.as_("planner")
    )

    assert stranger.status_code == 403
    assert "not assigned to agent.two" in stranger.json()["detail"]
    assert planner.status_code == 403
    assert api.client.get("/work-orders/mine", headers=api.as_("clerk")).status_code == 403
    assert api.client.post("/work-orders/next", headers=api.as_("planner")).status_code == 403
    team = {"name": "lanzhou", "district": "lanzhou", "daily_capacity": 50}
    assert api.client.post("/teams", json=team, headers=api.as_("planner")).status_code == 403
    assert api.client.get("/teams", headers=api.as_("agent")).status_code == 403


def test_administrators_make_teams_and_planners_read_them(api: Api) -> None:
    team = {"name": "chengguan", "district": "lanzhou/chengguan", "daily_capacity": 120}

    made = api.client.post("/teams", json=team, headers=api.as_("data_admin"))
    twice = api.client.post("/teams", json=team, headers=api.as_("system_admin"))
    listed = api.client.get("/teams", headers=api.as_("planner"))

    assert made.status_code == 201, made.text
    assert twice.status_code == 422
    assert [(t["name"], t["daily_capacity"]) for t in listed.json()] == [("chengguan", 120)]


def test_an_accepted_call_orders_through_the_apps_order_centre(api: Api) -> None:
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        data_pack(session)
    (key,) = queued(api, "13800000002", offer=True)
    app = api.client.app
    app.dependency_overrides[deps.get_order_centre] = SimulatedOrderCentre  # type: ignore[attr-defined]
    agent = api.as_("agent")
    order_id = api.client.post("/work-orders/next", headers=agent).json()["id"]

    done = api.client.post(
        f"/work-orders/{order_id}/result", json={"result": "accepted"}, headers=agent
    )

    assert done.status_code == 200, done.text
    assert [state for state, _ in ledger(api, key)] == ["reserved", "sent", "answered", "ordered"]
