"""The workbench shell over HTTP: sign-in by cookie, roles per screen, the language of a
page (cookie, then Accept-Language), and no open redirect."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from steward import db
from steward.auth.models import Role, User
from steward.campaigns.models import Campaign
from steward.contacts import service as ledger
from steward.offers.models import Channel
from steward.ops import service as ops
from steward.web import render
from tests.web_fixtures import PASSWORD, Api

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}


def signed_in(api: Api, who: str) -> TestClient:
    client = api.client
    client.cookies.clear()
    answer = client.post(
        "/signin", data={"username": who, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/home"
    return client


def test_a_visitor_gets_the_sign_in_page_in_the_browsers_language(api: Api) -> None:
    api.client.cookies.clear()
    assert "登录客户经理平台" in api.client.get("/", headers=ZH).text
    assert "Sign in to Steward" in api.client.get("/", headers=EN).text
    assert "登录客户经理平台" in api.client.get("/").text  # no preference: Chinese
    assert api.client.get("/home", follow_redirects=False).headers["location"] == "/"


def test_a_wrong_password_says_so_and_sets_no_session(api: Api) -> None:
    api.client.cookies.clear()
    answer = api.client.post(
        "/signin", data={"username": "planner", "password": "nope"}, headers=EN
    )
    assert "Wrong user name or password." in answer.text
    assert render.SESSION_COOKIE not in api.client.cookies


def test_the_language_switch_wins_over_the_browser_and_stays_on_site(api: Api) -> None:
    client = signed_in(api, "planner")
    switched = client.get("/language/en?back=/home", follow_redirects=False)
    assert switched.headers["location"] == "/home"
    page = client.get("/home", headers=ZH).text
    assert "Welcome, planner" in page
    assert "Planner" in page
    away = client.get("/language/zh_CN?back=https://evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"
    assert "欢迎，planner" in client.get("/home", headers=EN).text


@pytest.mark.parametrize("role", list(Role))
def test_each_screen_opens_to_exactly_its_roles(api: Api, role: Role) -> None:
    client = signed_in(api, role.value)
    home = client.get("/home", headers=EN).text
    for screen in render.SCREENS:
        page = client.get(screen.path, headers=EN)
        allowed = role in screen.roles
        assert page.status_code == (200 if allowed else 403)
        assert ("This screen is not open to your role." not in page.text) == allowed
        assert (f'href="{screen.path}"' in home) == allowed


def test_signing_out_ends_the_session(api: Api) -> None:
    client = signed_in(api, "analyst")
    client.post("/signout", follow_redirects=False)
    client.cookies.clear()  # the browser drops the cookie the answer deleted
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/"


def test_the_dashboard_names_a_channel_at_its_capacity_in_both_languages(api: Api) -> None:
    app = api.client.app
    day = date(2026, 11, 30)
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        contact = {
            "day": day,
            "campaign_id": 7,
            "kind": "marketing",
            "offer_id": 1,
            "category": "data",
            "exclusion_group": None,
            "channel": "sms",
            "arm": "target",
            "source": "test",
            "state": "reserved",
        }
        ledger.append(
            session,
            [contact | {"contact_key": f"k{n}", "msisdn": f"1380000000{n}"} for n in (1, 2)],
        )
    policy = app.state.policy  # type: ignore[attr-defined]
    app.state.policy = policy.model_copy(update={"capacity": {Channel.SMS: 2}})  # type: ignore[attr-defined]
    try:
        client = signed_in(api, "planner")
        client.get("/language/en")
        english = client.get("/dashboard").text
        client.get("/language/zh_CN")
        chinese = client.get("/dashboard").text
    finally:
        app.state.policy = policy  # type: ignore[attr-defined]
    assert "SMS is at capacity today: 2 contacts, its capacity." in english
    assert "短信 今日已满额：2 个接触，等于其容量。" in chinese
    assert "No alert." not in english


def test_the_dashboard_judges_success_windows_on_its_business_day(api: Api) -> None:
    # The ledger's latest day is long past (the runs stopped): contacts sent two days
    # before it are still open as of that day, whatever the clock says; those sent a month
    # before it have settled, and none of them ordered.
    day = date(2026, 10, 1)
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        ids = []
        for name in ("fresh", "settled"):
            campaign = Campaign(
                name=name,
                kind="marketing",
                status="running",
                segment_ids=[1],
                offer_ids=[1],
                channels=["sms"],
                waves=[],
                control_share=0.0,
                priority=50,
                expected_rate=0.10,
                success_rule={"event": "order", "within_days": 7},
                budget=[],
                start_date=date(2026, 9, 1),
                end_date=date(2026, 12, 31),
                owner="planner",
                district="province",
            )
            session.add(campaign)
            session.flush()
            ids.append(campaign.id)
        fresh, settled = ids
        sent_at = {
            fresh: datetime(2026, 9, 29, 10, tzinfo=UTC),
            settled: datetime(2026, 9, 1, 10, tzinfo=UTC),
        }
        ledger.append(
            session,
            [
                {
                    "contact_key": f"c{c}-{n}",
                    "day": day,
                    "msisdn": f"139{c:02d}{n:06d}",
                    "campaign_id": c,
                    "kind": "marketing",
                    "offer_id": 1,
                    "category": "data",
                    "exclusion_group": None,
                    "channel": "sms",
                    "arm": "target",
                    "source": "test",
                    "state": "sent",
                    "at": at,
                }
                for c, at in sent_at.items()
                for n in range(120)
            ],
        )
    client = signed_in(api, "planner")
    page = client.get("/dashboard", headers=EN).text
    assert f'data-testid="rate-alert" data-campaign="{settled}"' in page
    assert f'data-testid="rate-alert" data-campaign="{fresh}"' not in page


def test_a_quiet_day_has_no_alert(api: Api) -> None:
    client = signed_in(api, "analyst")
    client.get("/language/en")
    page = client.get("/dashboard").text
    assert "No alert." in page
    assert "on at least 100 contacts, the 95% interval" in page


def test_the_dashboard_names_a_failed_step_and_a_missing_source_in_both_languages(
    api: Api, tmp_path: Path
) -> None:
    folder = tmp_path / "nowhere"
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        admin = session.scalar(select(User).where(User.username == "data_admin"))
        assert admin is not None
        ops.register_source(
            session,
            name="boss-voice",
            folder=folder,
            pattern="voice_*.txt",
            interface="voice",
            expected_by=time(3, 0),
            by=admin,
        )
        run = ops.start_step(session, day=date(2026, 11, 30), step="tags")
        ops.fail_step(session, run.id, error="TagError: no profile")
    client = signed_in(api, "data_admin")
    english = client.get("/dashboard", headers=EN).text
    chinese = client.get("/dashboard", headers=ZH).text
    assert "2026-11-30 · Refreshing tags · Step failed: TagError: no profile" in english
    assert "2026-11-30 · 标签刷新 · 步骤失败: TagError: no profile" in chinese
    assert f"boss-voice · Files missing: the folder {folder} does not exist" in english
    assert f"boss-voice · 文件缺失: 文件夹 {folder} 不存在" in chinese
    assert "does not exist" not in chinese
