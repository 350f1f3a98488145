"""The front line's refusals in the page's language (issue 6): what the outbound, strategy,
decision and ledger services refuse reads in Chinese on a Chinese page and in English on an
English one — on the desk, the work-list builder, the counter, the rules screen and the
customer view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from steward import db
from steward.campaigns.models import Campaign
from steward.offers.models import Offer
from tests.web.test_channel_rules_pages import RULES, form
from tests.web.test_channels_pages import ME, _call_for_agent, front
from tests.web.test_outbound_strategy_pages import _planned_call_and_team
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

__all__ = ["front"]  # the fixture, used here by name


def test_a_call_result_refused_reads_in_the_pages_language(front: Api) -> None:
    order_id = _call_for_agent(front)
    agent = signed_in(front, "agent")
    path = f"/desk/orders/{order_id}/result"
    for headers, reason, callback in (
        (ZH, "客户拒绝须填写原因（客户怎么说的）", "约定回呼须填写日期和时间"),
        (
            EN,
            "a refusal needs a reason (what the customer said)",
            "a call-back needs a date and time",
        ),
    ):
        refused = agent.post(path, data={"result": "rejected"}, headers=headers)
        no_time = agent.post(path, data={"result": "call_back"}, headers=headers)
        assert refused.status_code == 422
        assert reason in refused.text
        assert no_time.status_code == 422
        assert callback in no_time.text


def test_the_next_call_refused_to_a_non_agent_reads_in_the_pages_language(front: Api) -> None:
    client = signed_in(front, "data_admin")
    zh = client.post("/desk/next", headers=ZH)
    en = client.post("/desk/next", headers=EN)
    assert "&#39;data_admin&#39;不是在岗坐席" in zh.text
    assert "&#39;data_admin&#39; is no active agent" in en.text


def test_the_work_list_builders_refusals_read_in_the_pages_language(front: Api) -> None:
    team_id = _planned_call_and_team(front)
    admin = signed_in(front, "system_admin")
    for form_in, chinese, english in (
        (
            {"team_id": team_id, "strategy": "direct", "size": "0"},
            "外呼数量：每批工单为1到500通外呼",
            "size: a work list holds 1 to 500 calls",
        ),
        (
            {"team_id": team_id, "strategy": "direct", "size": "many"},
            "外呼数量：请填写整数",
            "size: a whole number",
        ),
        (
            {"team_id": team_id, "strategy": "cold_calls", "size": "5"},
            "外呼策略：请从五种策略中选择一种",
            "strategy: choose one of the five strategies",
        ),
        (
            {"team_id": "999", "strategy": "direct", "size": "5"},
            "外呼班组：您的辖区内没有编号为999的班组",
            "team: no team 999 in your district",
        ),
        (
            {"team_id": team_id, "strategy": "direct", "size": "5", "agents": "nobody"},
            "以下不是在岗坐席：&#39;nobody&#39;",
            "no active agent: &#39;nobody&#39;",
        ),
    ):
        zh = admin.post("/desk/work-lists", data=form_in, headers=ZH)
        en = admin.post("/desk/work-lists", data=form_in, headers=EN)
        assert zh.status_code == en.status_code == 422, form_in
        assert chinese in zh.text, form_in
        assert english in en.text, form_in
        assert english not in zh.text, form_in


def test_the_counters_refusal_of_an_order_reads_in_the_pages_language(front: Api) -> None:
    app: Any = front.client.app
    with db.transaction(app.state.sessions) as session:
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "family")).one()
        other = session.scalars(select(Offer.id).where(Offer.code != "FAMSHARE")).first()
    body = {"msisdn": ME, "campaign_id": campaign_id, "offer_id": other, "channel": "hall"}
    clerk = signed_in(front, "clerk")
    zh = clerk.post("/counter/order", data=body, headers=ZH)
    en = clerk.post("/counter/order", data=body, headers=EN)
    assert zh.status_code == en.status_code == 422
    assert f"产品{other}不属于活动{campaign_id}" in zh.text
    assert f"offer {other} is not an offer of campaign {campaign_id}" in en.text


def test_the_rules_screens_refusal_reads_in_the_pages_language(api: Api) -> None:
    client = signed_in(api, "system_admin")
    zh = client.post(RULES, data=form(api), headers=ZH)
    en = client.post(RULES, data=form(api), headers=EN)
    assert zh.status_code == en.status_code == 422
    assert "请填写修改规则的原因，1到200个字符。" in zh.text
    assert "Say why you change the rules, in 1 to 200 characters." in en.text


def test_the_customer_views_bad_number_reads_in_the_pages_language(api: Api) -> None:
    client = signed_in(api, "agent")
    zh = client.get("/customer", params={"msisdn": "12ab"}, headers=ZH)
    en = client.get("/customer", params={"msisdn": "12ab"}, headers=EN)
    assert "请输入11位手机号码。" in zh.text
    assert "Type an 11-digit mobile number." in en.text
