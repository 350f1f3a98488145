"""The outbound desk and the counter over HTTP (issue 6, screens 11 and 12): the roles of the
routes they stand beside, a malformed number refused with a clear message, and one order
however often the button is clicked."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward import db
from steward.auth.models import User
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.channels import outbound
from steward.channels.models import BillingOrder
from steward.channels.workorders import WorkOrder
from steward.contacts import service as ledger
from steward.offers import service as offers_service
from steward.offers.models import Offer
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from tests.campaigns.test_service import campaign_in
from tests.tags import factories as f
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

ME = "13800000001"
FAMILY_FIT = {"hall": 1, "inbound": 2, "outbound": 3}


@pytest.fixture
def front(api: Api) -> Api:
    """A running campaign of the family offer on the hall, inbound and outbound, this week."""
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        _running_family_campaign(session, app.state.lake, app.state.catalogue)
    return api


def _running_family_campaign(session: Session, lake: Any, catalogue: Any) -> None:
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    imported = offers_service.import_file(
        session, lake, catalogue, path=offers_service.SAMPLES, by="t"
    )
    family = next(o for o in imported if o.code == "FAMSHARE")
    family.channel_fit = FAMILY_FIT
    segment = segments.create(
        session, catalogue, by="t", segment_in=SegmentCreate(name="everyone", rule="TRUE")
    )
    maker = session.scalars(select(User).where(User.username == "planner")).one()
    checker = session.scalars(select(User).where(User.username == "approver")).one()
    today = date.today()
    week = [{"name": "w1", "start": today - timedelta(days=1), "end": today + timedelta(days=6)}]
    spec = campaign_in(
        segment.id,
        family.id,
        name="family",
        channels=["hall", "inbound", "outbound"],
        waves=week,
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=20),
    )
    campaign = campaigns.create(session, campaign_in=spec, by=maker)
    campaign.control_share = 0.0
    campaigns.move(session, campaign, to=Status.SUBMITTED, by=maker)
    campaigns.move(session, campaign, to=Status.APPROVED, by=checker, comment="ok")
    campaigns.move(session, campaign, to=Status.RUNNING, by=maker)


def _call_for_agent(api: Api, msisdn: str = ME) -> int:
    """A reserved outbound contact of the family campaign, queued and on agent's list."""
    app: Any = api.client.app
    now = datetime.now(UTC)
    with db.transaction(app.state.sessions) as session:
        offer = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "family")).one()
        ledger.append(
            session,
            [
                {
                    "contact_key": f"{now.date()}:{campaign_id}:outbound:{msisdn}",
                    "day": now.date(),
                    "msisdn": msisdn,
                    "campaign_id": campaign_id,
                    "kind": "marketing",
                    "offer_id": offer.id,
                    "category": offer.category,
                    "exclusion_group": offer.exclusion_group,
                    "channel": "outbound",
                    "arm": "target",
                    "state": "reserved",
                    "source": "test",
                }
            ],
        )
        team = outbound.create_team(session, name="hotline", district="province", daily_capacity=9)
        outbound.queue_due_contacts(
            session,
            day=now.date(),
            now=now - timedelta(seconds=1),
            districts={msisdn: "lanzhou"},
        )
        outbound.assign(session, team_id=team.id, agents=["agent"], now=now)
        return session.scalars(select(WorkOrder.id)).one()


def _billing_orders(api: Api) -> int:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(BillingOrder)) or 0)


def test_the_desk_opens_to_agents_and_the_counter_to_the_decision_routes_roles(
    front: Api,
) -> None:
    for who, desk, counter in (
        ("agent", True, True),
        ("clerk", False, True),
        ("planner", False, True),
        ("analyst", False, False),
        ("approver", False, False),
        ("system_admin", True, True),
    ):
        client = signed_in(front, who)
        refused = "This screen is not open to your role."
        assert (refused not in client.get("/desk", headers=EN).text) == desk, who
        assert (refused not in client.get("/counter", headers=EN).text) == counter, who
    front.client.cookies.clear()
    assert front.client.get("/desk", follow_redirects=False).headers["location"] == "/"


def test_an_agent_opens_a_call_sees_the_customer_and_orders_in_one_click_once(
    front: Api,
) -> None:
    order_id = _call_for_agent(front)
    client = signed_in(front, "agent")

    desk = client.get("/desk", headers=ZH).text
    panel = client.get(f"/desk/orders/{order_id}", headers=ZH, params={})
    assert ME in desk
    assert "外呼工作台" in desk
    assert panel.status_code == 200, panel.text
    assert "适配度" in panel.text  # suitability
    assert "话术" in panel.text  # the script
    assert "品牌" in panel.text  # a tag of the summary, labelled from the catalogue

    path = f"/desk/orders/{order_id}/result"
    first = client.post(path, data={"result": "accepted"}, headers=EN | {"HX-Request": "true"})
    again = client.post(path, data={"result": "accepted"}, headers=EN | {"HX-Request": "true"})

    assert first.status_code == 200, first.text
    assert "Ordered" in first.text
    assert again.status_code == 200
    assert "Ordered" in again.text
    assert _billing_orders(front) == 1
    assert ME not in client.get("/desk", headers=EN).text.split("<tbody>")[1]


def test_another_agent_cannot_open_or_close_my_call_and_a_refusal_needs_a_reason(
    front: Api,
) -> None:
    order_id = _call_for_agent(front)
    admin = signed_in(front, "system_admin")
    assert admin.get(f"/desk/orders/{order_id}", headers=EN).status_code == 200
    agent = signed_in(front, "agent")
    refused = agent.post(f"/desk/orders/{order_id}/result", data={"result": "rejected"}, headers=EN)
    assert refused.status_code == 422
    assert "a refusal needs a reason" in refused.text
    assert agent.get("/desk/orders/999", headers=EN).status_code == 404


def test_a_call_back_puts_a_new_call_on_the_list(front: Api) -> None:
    order_id = _call_for_agent(front)
    client = signed_in(front, "agent")
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"/desk/orders/{order_id}/result",
        data={"result": "call_back", "callback_at": later},
        headers=EN,
    )
    assert answer.status_code == 200, answer.text
    assert "A new call is on your list" in answer.text
    app: Any = front.client.app
    with db.transaction(app.state.sessions) as session:
        assert [o.attempt for o in outbound.open_orders_of(session, "agent")] == [2]


def test_a_clerk_types_a_number_sees_the_strong_offer_and_orders_it_once(front: Api) -> None:
    client = signed_in(front, "clerk")

    page = client.get("/counter", params={"msisdn": ME}, headers=ZH)
    fragment = client.get("/counter", params={"msisdn": ME}, headers=ZH | {"HX-Request": "true"})

    assert page.status_code == 200, page.text
    assert "FAMSHARE" in page.text
    assert "强烈推荐" in page.text  # the strong offer is marked
    assert "<header>" not in fragment.text  # htmx gets the offers alone
    app: Any = front.client.app
    with db.transaction(app.state.sessions) as session:
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "family")).one()
        offer_id = session.scalars(select(Offer.id).where(Offer.code == "FAMSHARE")).one()
    body = {"msisdn": ME, "campaign_id": campaign_id, "offer_id": offer_id, "channel": "hall"}
    first = client.post("/counter/order", data=body, headers=EN)
    again = client.post("/counter/order", data=body, headers=EN)
    assert first.status_code == 200, first.text
    assert "Ordered" in first.text
    assert again.text == first.text
    assert _billing_orders(front) == 1


def test_a_malformed_or_unknown_number_is_refused_with_a_clear_message(front: Api) -> None:
    client = signed_in(front, "agent")
    bad = client.get("/counter", params={"msisdn": "138-0000"}, headers=EN)
    unknown = client.get("/counter", params={"msisdn": "13900000000"}, headers=EN)
    ordered = client.post(
        "/counter/order",
        data={"msisdn": "abc", "campaign_id": 1, "offer_id": 1, "channel": "inbound"},
        headers=EN,
    )
    assert bad.status_code == 422
    assert "Type a mobile number of 5 to 20 digits, digits only." in bad.text
    assert "No subscriber with this number in your district." in unknown.text
    assert ordered.status_code == 422


def test_a_planner_previews_offers_but_may_not_order(front: Api) -> None:
    client = signed_in(front, "planner")
    page = client.get("/counter", params={"msisdn": ME, "channel": "hall"}, headers=EN)
    assert "FAMSHARE" in page.text
    assert "Customer accepts" not in page.text
    refused = client.post(
        "/counter/order",
        data={"msisdn": ME, "campaign_id": 1, "offer_id": 1, "channel": "hall"},
        headers=EN,
    )
    assert refused.status_code == 403


def test_a_number_outside_the_district_is_unknown(front: Api) -> None:
    client: TestClient = signed_in(front, "lanzhou_planner")
    page = client.get("/counter", params={"msisdn": "13800000003"}, headers=EN)
    assert "No subscriber with this number in your district." in page.text
