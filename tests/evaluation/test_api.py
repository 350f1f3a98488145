"""Evaluation and explanation over HTTP: funnel, lift, daily report, why not; each scoped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from steward import db
from steward.campaigns.models import Campaign
from steward.contacts import service as ledger
from tests.web_fixtures import Api

DAY = date(2026, 12, 2)


def seed(api: Api, district: str = "province") -> int:
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        campaign = Campaign(
            name=f"data pack {district}",
            kind="marketing",
            status="running",
            segment_ids=[],
            offer_ids=[1],
            channels=["sms"],
            waves=[],
            control_share=0.1,
            priority=50,
            expected_rate=0.02,
            success_rule={"event": "order", "within_days": 7},
            budget=[],
            start_date=DAY,
            end_date=DAY,
            owner="planner",
            district=district,
        )
        session.add(campaign)
        session.flush()
        base = {
            "day": DAY,
            "campaign_id": campaign.id,
            "kind": "marketing",
            "offer_id": 1,
            "category": "data",
            "exclusion_group": None,
            "channel": "sms",
            "source": "test",
            "at": datetime(2026, 12, 2, 10, tzinfo=UTC),
        }
        rows = [
            base | {"contact_key": "a", "msisdn": "13800000001", "arm": "target", "state": s}
            for s in ("reserved", "sent", "delivered", "answered")
        ]
        rows.append(
            base
            | {"contact_key": "b", "msisdn": "13800000002", "arm": "control", "state": "held_back"}
        )
        ledger.append(session, rows)
        return campaign.id


def test_an_analyst_reads_the_funnel_the_lift_and_the_daily_report(api: Api) -> None:
    campaign_id = seed(api)
    funnel = api.client.get(f"/campaigns/{campaign_id}/funnel", headers=api.as_("analyst"))
    assert funnel.status_code == 200, funnel.text
    assert (funnel.json()["planned"], funnel.json()["responded"]) == (1, 1)
    lift = api.client.get(f"/campaigns/{campaign_id}/lift", headers=api.as_("analyst")).json()
    assert (lift["target"]["n"], lift["control"]["n"]) == (1, 1)
    report = api.client.get(
        "/reports/daily", params={"until": "2026-12-03"}, headers=api.as_("analyst")
    ).json()
    assert [(r["city"], r["contacted_today"]) for r in report] == [("lanzhou", 1)]


def test_an_agent_may_ask_why_not_but_not_read_the_funnel(api: Api) -> None:
    campaign_id = seed(api)
    assert (
        api.client.get(f"/campaigns/{campaign_id}/funnel", headers=api.as_("agent")).status_code
        == 403
    )
    why = api.client.get(
        f"/campaigns/{campaign_id}/why-not/13800000003",
        params={"day": "2026-12-20"},
        headers=api.as_("agent"),
    )
    assert why.status_code == 200, why.text
    assert why.json()["outcome"] == "campaign.not_today"


def test_a_city_planner_sees_neither_another_districts_campaign_nor_its_report_rows(
    api: Api,
) -> None:
    campaign_id = seed(api, district="tianshui")
    headers = api.as_("lanzhou_planner")
    assert api.client.get(f"/campaigns/{campaign_id}/funnel", headers=headers).status_code == 404
    rows = api.client.get("/reports/daily", params={"until": "2026-12-03"}, headers=headers)
    assert all(r["city"] == "lanzhou" for r in rows.json())


def test_operators_see_and_acknowledge_alerts(api: Api) -> None:
    listed = api.client.get("/ops/alerts", headers=api.as_("data_admin"))
    assert listed.status_code == 200
    assert api.client.get("/ops/alerts", headers=api.as_("clerk")).status_code == 403
    missing = api.client.post("/ops/alerts/999/ack", headers=api.as_("system_admin"))
    assert missing.status_code == 422
