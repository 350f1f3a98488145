"""The approval inbox, a campaign's record and the campaign monitor over HTTP: roles as the
API's, maker-checker refused with a message, campaigns outside the district not found."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.campaigns import service
from steward.campaigns.models import Campaign, Status
from steward.contacts import service as ledger
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import PASSWORD, Api

DAY = date(2026, 12, 2)


def _user(session: Session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def submitted(
    api: Api, name: str, *, district: str = "province", owner: str = "planner", resubmit: bool
) -> int:
    """A campaign its maker submitted (twice, priority 50 then 80, when ``resubmit``)."""
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        campaign = Campaign(
            name=name,
            kind="marketing",
            status="draft",
            segment_ids=[1],
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
            owner=owner,
            district=district,
        )
        session.add(campaign)
        session.flush()
        planner = _user(session, "planner")
        service.move(session, campaign, to=Status.SUBMITTED, by=planner, comment="please")
        if resubmit:
            service.move(session, campaign, to=Status.DRAFT, by=planner, comment="one more")
            campaign.priority = 80
            service.move(session, campaign, to=Status.SUBMITTED, by=planner, comment="again")
        return campaign.id


def status_of(api: Api, campaign_id: int) -> str:
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        campaign = service.get(session, campaign_id)
        assert campaign is not None
        return campaign.status


def another_user(api: Api, name: str, role: Role, district: str) -> TestClient:
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        auth.create_user(
            session, username=name, password=PASSWORD, role=role, district=district, by="test"
        )
    return signed_in(api, name)


def test_the_approver_sees_what_changed_comments_and_approves(api: Api) -> None:
    campaign_id = submitted(api, "winter data pack", resubmit=True)
    client = signed_in(api, "approver")
    inbox = client.get("/approvals", headers=EN)
    assert inbox.status_code == 200
    assert "winter data pack" in inbox.text
    assert "What changed since version 1 (now version 2)" in inbox.text
    assert "<td>Priority</td><td>50</td><td>80</td>" in inbox.text
    decided = client.post(
        f"/approvals/{campaign_id}",
        data={"decision": "approve", "comment": "budget checked"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert decided.headers["location"] == f"/campaigns/{campaign_id}/view"
    assert status_of(api, campaign_id) == "approved"
    record = client.get(f"/campaigns/{campaign_id}/view", headers=EN).text
    assert "budget checked" in record
    assert "<td>Submitted</td><td>Approved</td>" in record
    assert "No campaign awaits your decision." in client.get("/approvals", headers=EN).text
    assert "已批准" in client.get(f"/campaigns/{campaign_id}/view", headers=ZH).text


def test_the_approver_rejects_with_a_comment_and_the_maker_sees_why(api: Api) -> None:
    campaign_id = submitted(api, "handset push", resubmit=False)
    client = signed_in(api, "approver")
    first = client.get("/approvals", headers=EN).text
    assert "First submission (version 1): every field is new" in first
    client.post(f"/approvals/{campaign_id}", data={"decision": "reject", "comment": "too wide"})
    assert status_of(api, campaign_id) == "rejected"
    record = signed_in(api, "planner").get(f"/campaigns/{campaign_id}/view", headers=EN).text
    assert "too wide" in record


def test_the_maker_may_not_approve_their_own_campaign_and_is_told_so(api: Api) -> None:
    campaign_id = submitted(api, "own campaign", owner="approver", resubmit=False)
    client = signed_in(api, "approver")
    refused = client.post(
        f"/approvals/{campaign_id}",
        data={"decision": "approve", "comment": "mine, fine"},
        headers=EN,
    )
    assert refused.status_code == 422
    assert "the approver is never the maker" in refused.text
    assert 'role="alert"' in refused.text
    assert status_of(api, campaign_id) == "submitted"


def test_the_inboxs_refusals_are_in_the_pages_language(api: Api) -> None:
    campaign_id = submitted(api, "own campaign", owner="approver", resubmit=False)
    client = signed_in(api, "approver")
    own = client.post(
        f"/approvals/{campaign_id}", data={"decision": "approve", "comment": "ok"}, headers=ZH
    )
    assert own.status_code == 422
    assert "审批人不能是活动创建人：请由其他审批人审批" in own.text
    assert "never the maker" not in own.text
    other_id = submitted(api, "quiet campaign", resubmit=False)
    client = signed_in(api, "approver")
    quiet = client.post(f"/approvals/{other_id}", data={"decision": "reject"}, headers=ZH)
    assert "请说明将活动置为“已驳回”的理由（意见必填）" in quiet.text
    odd = client.post(
        f"/approvals/{campaign_id}", data={"decision": "shrug", "comment": "x"}, headers=ZH
    )
    assert "未知的审批决定 &#39;shrug&#39;" in odd.text
    long = client.post(
        f"/approvals/{campaign_id}", data={"decision": "approve", "comment": "x" * 2001}
    )
    assert "意见最多 2000 个字符" in long.text  # Chinese by default
    english = client.post(f"/approvals/{other_id}", data={"decision": "reject"}, headers=EN)
    assert "say why the campaign is rejected (a comment is required)" in english.text
    assert status_of(api, campaign_id) == status_of(api, other_id) == "submitted"


def test_a_decision_without_a_comment_is_refused_with_a_message(api: Api) -> None:
    campaign_id = submitted(api, "quiet campaign", resubmit=False)
    client = signed_in(api, "approver")
    refused = client.post(f"/approvals/{campaign_id}", data={"decision": "approve"}, headers=EN)
    assert refused.status_code == 422
    assert "a comment is required" in refused.text
    assert status_of(api, campaign_id) == "submitted"


def test_only_approvers_decide_and_the_apis_readers_read_the_record(api: Api) -> None:
    campaign_id = submitted(api, "guarded campaign", resubmit=False)
    planner = signed_in(api, "planner")
    assert "This screen is not open to your role." in planner.get("/approvals", headers=EN).text
    answer = planner.post(
        f"/approvals/{campaign_id}", data={"decision": "approve", "comment": "me"}, headers=EN
    )
    assert "This screen is not open to your role." in answer.text
    assert status_of(api, campaign_id) == "submitted"
    for role in ("planner", "approver", "analyst", "system_admin"):
        page = signed_in(api, role).get(f"/campaigns/{campaign_id}/view", headers=EN)
        assert "guarded campaign" in page.text, role
    for role in ("agent", "clerk", "data_admin"):
        page = signed_in(api, role).get(f"/campaigns/{campaign_id}/view", headers=EN)
        assert "This screen is not open to your role." in page.text, role
        page = signed_in(api, role).get(f"/campaigns/{campaign_id}/monitor", headers=EN)
        assert "This screen is not open to your role." in page.text, role


def test_a_campaign_outside_the_district_is_not_found(api: Api) -> None:
    campaign_id = submitted(api, "lanzhou only", district="lanzhou", resubmit=False)
    elsewhere = another_user(api, "tianshui.approver", Role.APPROVER, "tianshui")
    assert "lanzhou only" not in elsewhere.get("/approvals", headers=EN).text
    refused = elsewhere.post(
        f"/approvals/{campaign_id}", data={"decision": "approve", "comment": "ok"}, headers=EN
    )
    assert refused.status_code == 404
    assert status_of(api, campaign_id) == "submitted"
    assert elsewhere.get(f"/campaigns/{campaign_id}/view").status_code == 404
    local = another_user(api, "lanzhou.approver", Role.APPROVER, "lanzhou")
    assert "lanzhou only" in local.get("/approvals", headers=EN).text
    lanzhou_planner = signed_in(api, "lanzhou_planner")
    assert lanzhou_planner.get(f"/campaigns/{campaign_id}/view").status_code == 200
    assert "lanzhou only" in lanzhou_planner.get("/monitor", headers=EN).text


def running_with_contacts(api: Api, district: str) -> int:
    """A running campaign with one target contacted and answering, one held back."""
    campaign_id = submitted(api, f"data pack {district}", district=district, resubmit=False)
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        campaign = service.get(session, campaign_id)
        assert campaign is not None
        service.move(
            session, campaign, to=Status.APPROVED, by=_user(session, "approver"), comment="ok"
        )
        base = {
            "day": DAY,
            "campaign_id": campaign_id,
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
    return campaign_id


def test_the_monitor_shows_the_funnel_the_report_and_control_against_target(api: Api) -> None:
    campaign_id = running_with_contacts(api, "province")
    client = signed_in(api, "analyst")
    listing = client.get("/monitor", headers=EN).text
    assert f'href="/campaigns/{campaign_id}/monitor"' in listing
    page = client.get(
        f"/campaigns/{campaign_id}/monitor", params={"until": "2026-12-03"}, headers=EN
    )
    assert page.status_code == 200, page.text
    assert '<tr data-step="planned"><td>Planned</td><td class="number">1</td></tr>' in page.text
    assert '<tr data-step="responded"><td>Responded</td><td class="number">1</td></tr>' in page.text
    assert "Target group" in page.text
    assert "Control group" in page.text
    assert 'xAxis: {type: "category", data: ["2026-12-02"]}' in page.text  # by date
    assert 'xAxis: {type: "category", data: ["lanzhou"]}' in page.text  # by city
    assert 'xAxis: {type: "category", data: ["SMS"]}' in page.text  # by channel, translated
    assert "No evaluation report yet." in page.text
    chinese = client.get(f"/campaigns/{campaign_id}/monitor", headers=ZH).text
    assert "漏斗" in chinese
    assert "按规则剔除" in chinese


def test_the_monitor_keeps_to_the_district(api: Api) -> None:
    campaign_id = running_with_contacts(api, "tianshui")
    lanzhou_planner = signed_in(api, "lanzhou_planner")
    assert "data pack tianshui" not in lanzhou_planner.get("/monitor", headers=EN).text
    assert lanzhou_planner.get(f"/campaigns/{campaign_id}/monitor").status_code == 404
