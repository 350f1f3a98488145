"""The counter's questionnaire and the outbound strategies in Chromium on the demo home
(R-CHAN-6, R-CHAN-7): a hall clerk answers the needs questions in Chinese, sees the matched
offers and orders one in one click; a supervisor builds an annual-renewal work list for a
team and the agent finds the calls, with the strategy's emphasis, on the desk."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.channels import outbound
from steward.channels.workorders import OutboundTeam
from tests.browser.conftest import sign_in
from tests.browser.test_desk import CLERK, _hall_customer, _orders_of, demo_sessions
from tests.browser.test_workbench import SCREENSHOTS, english_labels

__all__ = ["demo_sessions"]  # the module's fixture, shared with the desk's tests

SUPERVISOR = "demo.admin"  # the demo's system administrator
TEAM = "续约专席 renewal desk"
AGENT = "demo.agent2"


def _team(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        if session.scalar(select(OutboundTeam).where(OutboundTeam.name == TEAM)) is None:
            outbound.create_team(session, name=TEAM, district="province", daily_capacity=40)


def test_a_clerk_answers_the_questionnaire_and_orders_a_matched_offer(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session], demo_home: Path
) -> None:
    page = chinese
    msisdn = _hall_customer(demo_sessions, demo_home)
    sign_in(page, base_url, CLERK)
    page.click("text=接待台")
    page.click("text=切换到问卷模式")
    expect(page.locator("h1")).to_have_text("需求问卷")
    page.fill("#msisdn", msisdn)
    page.select_option("#q-data", "medium")
    page.select_option("#q-travel", "never")
    page.fill("#q-family", "3")
    page.select_option("#q-handset", "new")
    page.fill("#q-budget", "30")
    page.click("text=匹配产品")
    expect(page.get_by_test_id("needs")).to_contain_text("需求强", timeout=20_000)
    matched = page.locator("[data-testid=offer][data-code=FAMSHARE]")
    expect(matched).to_contain_text("家庭成员数")
    expect(matched).to_contain_text("在预算内")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "questionnaire.png"), full_page=True)
    matched.get_by_role("button").click()
    expect(matched.get_by_test_id("ordered")).to_contain_text("已订购")
    assert _orders_of(demo_sessions, msisdn) == ["accepted"]


def test_a_supervisor_builds_a_renewal_work_list_and_the_agent_sees_it(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session]
) -> None:
    page = chinese
    _team(demo_sessions)
    sign_in(page, base_url, SUPERVISOR)
    page.goto(base_url + "/desk")
    builder = page.get_by_test_id("build-work-list")
    expect(builder).to_contain_text("生成外呼工单")
    builder.locator("select[name=team_id]").select_option(label=f"{TEAM} · province")
    builder.locator("select[name=strategy]").select_option("annual_renewal")
    builder.locator("input[name=size]").fill("5")
    builder.locator("input[name=days]").fill("60")
    builder.locator("input[name=agents]").fill(AGENT)
    builder.get_by_role("button", name="生成工单").click()
    report = page.get_by_test_id("work-list-report")
    expect(report).to_contain_text("包年续约")
    expect(report).not_to_contain_text("已排入0通")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "work-list-zh.png"), full_page=True)
    page.context.clear_cookies()
    sign_in(page, base_url, AGENT)
    page.goto(base_url + "/desk")
    renewal = page.locator("tr", has_text="包年续约").first
    expect(renewal).to_be_visible()
    renewal.get_by_test_id("open-order").click()
    expect(page.get_by_test_id("strategy")).to_contain_text("合约即将到期")
    assert english_labels(page) == []
