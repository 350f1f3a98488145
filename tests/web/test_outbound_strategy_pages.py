"""Work lists built with an outbound strategy on the desk (R-CHAN-7), and the counter's
questionnaire mode (R-CHAN-6), over HTTP: roles, clear refusals, nothing half-saved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from steward import db
from steward.campaigns.models import Campaign
from steward.channels import outbound
from steward.channels.workorders import WorkOrder
from steward.contacts import service as ledger
from steward.offers.models import Offer
from tests.web.test_channels_pages import ME, _running_family_campaign
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

ANSWERS = {
    "msisdn": ME,
    "data": "light",
    "calls": "few",
    "travel": "never",
    "family": "3",
    "handset": "new",
    "budget": "50",
}


@pytest.fixture
def front(api: Api) -> Api:
    """A running campaign of the family offer on the hall, inbound and outbound (as the
    desk's and counter's tests have it)."""
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        _running_family_campaign(session, app.state.lake, app.state.catalogue)
    return api


def _planned_call_and_team(api: Api) -> int:
    """A reserved outbound contact of the family campaign for ME, and a team; its id."""
    app: Any = api.client.app
    now = datetime.now(UTC)
    with db.transaction(app.state.sessions) as session:
        offer = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "family")).one()
        row = {
            "contact_key": f"{now.date()}:{campaign_id}:outbound:{ME}",
            "day": now.date(),
            "msisdn": ME,
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
        ledger.append(session, [row])
        team = outbound.create_team(session, name="hotline", district="province", daily_capacity=9)
        return team.id


def _orders(api: Api) -> int:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(WorkOrder)) or 0)


def test_a_supervisor_builds_a_work_list_and_the_agent_sees_its_strategy(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    admin = signed_in(front, "system_admin")
    desk = admin.get("/desk", headers=ZH)
    assert "生成外呼工单" in desk.text
    assert "包年续约" in desk.text  # the five strategies are offered
    form = {"team_id": team_id, "strategy": "direct", "size": 5, "agents": "agent"}
    built = admin.post("/desk/work-lists", data=form, headers=ZH)
    assert built.status_code == 200, built.text
    assert "已排入1通外呼" in built.text
    assert "1通已分给坐席" in built.text
    agent = signed_in(front, "agent")
    mine = agent.get("/desk", headers=ZH)
    assert ME in mine.text
    assert "直接推荐" in mine.text.split("<tbody>")[1]  # the order carries its strategy
    assert "生成外呼工单" not in mine.text  # an agent builds no work list
    app: Any = front.client.app
    with db.transaction(app.state.sessions) as session:
        order_id = session.scalars(select(WorkOrder.id)).one()
    panel = agent.get(f"/desk/orders/{order_id}", headers=ZH)
    assert "按活动话术推荐活动产品。" in panel.text


def test_the_data_administrator_builds_and_an_agent_may_not(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    desk = signed_in(front, "data_admin").get("/desk", headers=EN).text
    assert "Build a work list" in desk
    assert "My work list" not in desk  # a data administrator takes no calls
    assert "My work list" in signed_in(front, "agent").get("/desk", headers=EN).text
    refused = signed_in(front, "agent").post(
        "/desk/work-lists", data={"team_id": team_id, "strategy": "direct", "size": 5}, headers=EN
    )
    assert refused.status_code == 403
    assert "Your role may not build work lists." in refused.text
    assert "not open to your role" in signed_in(front, "clerk").get("/desk", headers=EN).text
    assert _orders(front) == 0


def test_bad_input_names_the_field_and_saves_nothing(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    admin = signed_in(front, "system_admin")
    for form, field in (
        ({"team_id": team_id, "strategy": "direct", "size": "0"}, "size:"),
        ({"team_id": team_id, "strategy": "direct", "size": "many"}, "size:"),
        ({"team_id": team_id, "strategy": "cold_calls", "size": "5"}, "strategy:"),
        ({"team_id": "999", "strategy": "direct", "size": "5"}, "team:"),
        # an unknown agent is found after the orders were made: all of it is undone
        ({"team_id": team_id, "strategy": "direct", "size": "5", "agents": "nobody"}, "nobody"),
    ):
        answer = admin.post("/desk/work-lists", data=form, headers=EN)
        assert answer.status_code == 422, form
        assert field in answer.text, form
    assert _orders(front) == 0


def test_a_trial_strategy_says_the_province_has_no_trial_data(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    admin = signed_in(front, "system_admin")
    form = {"team_id": team_id, "strategy": "trial_callback", "size": "5"}
    answer = admin.post("/desk/work-lists", data=form, headers=ZH)
    assert answer.status_code == 200
    assert "该策略需要试用数据，但省公司未提供" in answer.text
    assert _orders(front) == 0


def test_the_clerk_answers_the_questionnaire_and_sees_the_matched_offers(front: Api) -> None:
    clerk = signed_in(front, "clerk")
    counter = clerk.get("/counter", params={"msisdn": ME}, headers=ZH)
    assert "切换到问卷模式" in counter.text
    empty = clerk.get("/counter/questionnaire", params={"msisdn": ME}, headers=ZH)
    assert empty.status_code == 200
    assert "需求表" not in empty.text  # the questions first
    answered = clerk.get("/counter/questionnaire", params=ANSWERS, headers=ZH)
    assert answered.status_code == 200, answered.text
    assert "需求表" in answered.text
    assert "需求强" in answered.text  # three family members
    assert 'data-code="FAMSHARE"' in answered.text
    assert "客户接受并订购" in answered.text or 'hx-post="/counter/order"' in answered.text


def test_no_need_matches_nothing_and_a_bad_answer_is_named(front: Api) -> None:
    clerk = signed_in(front, "clerk")
    calm = clerk.get("/counter/questionnaire", params=ANSWERS | {"family": "0"}, headers=EN)
    assert "No offer the customer may take now fits these needs." in calm.text
    bad = clerk.get("/counter/questionnaire", params=ANSWERS | {"family": "many"}, headers=EN)
    assert bad.status_code == 422
    assert "Family members: a whole number from 0 to 9." in bad.text
    wrong = clerk.get("/counter/questionnaire", params=ANSWERS | {"msisdn": "12-3"}, headers=EN)
    assert wrong.status_code == 422
    assert "Type a mobile number of 5 to 20 digits, digits only." in wrong.text
    assert (
        "not open to your role"
        in signed_in(front, "analyst").get("/counter/questionnaire", headers=EN).text
    )
