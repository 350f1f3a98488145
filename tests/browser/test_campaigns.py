"""The approval inbox and the campaign monitor in Chromium, in Chinese (issue 6): a planner's
resubmitted campaign reaches the approver with what changed, the approver comments and
approves, and a demo campaign's monitor draws its funnel and daily-report charts."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from steward import db
from steward.auth.models import User
from steward.campaigns import service
from steward.campaigns.models import Campaign, Status
from steward.campaigns.schemas import CampaignCreate
from steward.settings import Settings
from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def planner_resubmits(demo_home: Path) -> tuple[int, str]:
    """The planner copies a demo campaign, submits it, takes it back, raises its priority
    and submits it again: the service calls the API makes."""
    engine = db.make_engine(Settings(home=demo_home).database_url)
    name = f"冬季流量包推荐 {secrets.token_hex(2)}"
    try:
        with db.transaction(db.session_factory(engine)) as session:
            planner = session.scalar(select(User).where(User.username == "demo.planner"))
            model = session.scalar(select(Campaign).where(Campaign.name.like("流量包推荐%")))
            assert planner is not None
            assert model is not None
            draft = service.copy(session, model, name=name, by=planner)
            service.move(session, draft, to=Status.SUBMITTED, by=planner, comment="请审批")
            service.move(session, draft, to=Status.DRAFT, by=planner, comment="提高优先级")
            edited = CampaignCreate.model_validate(service.editable(draft) | {"priority": 85})
            service.update(session, draft, campaign_in=edited, by=planner)
            service.move(session, draft, to=Status.SUBMITTED, by=planner, comment="已修改")
            return draft.id, name
    finally:
        engine.dispose()


def test_the_approver_reads_what_changed_and_approves_in_chinese(
    chinese: Page, base_url: str, demo_home: Path
) -> None:
    campaign_id, name = planner_resubmits(demo_home)
    page = chinese
    sign_in(page, base_url, "demo.approver")
    page.click("header nav >> text=审批待办")
    expect(page.locator("h1")).to_have_text("审批待办")
    item = page.get_by_test_id(f"submitted-{campaign_id}")
    expect(item).to_contain_text(name)
    expect(item).to_contain_text("自第 1 版以来的变更（当前为第 2 版）")
    changes = item.get_by_test_id(f"changes-{campaign_id}")
    expect(changes.locator("tr", has_text="优先级")).to_contain_text("85")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approvals-zh.png"))
    item.locator("textarea").fill("预算已核对，同意")
    item.locator("button[value=approve]").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}/view$"))
    expect(page.get_by_test_id("status")).to_have_text("已批准")
    last = page.get_by_test_id("history").locator("tbody tr").last
    expect(last).to_contain_text("预算已核对，同意")
    expect(last).to_contain_text("demo.approver")
    expect(page.get_by_test_id("versions").locator("tbody tr")).to_have_count(2)
    assert english_labels(page) == []


def test_the_analyst_watches_a_demo_campaign_in_chinese(chinese: Page, base_url: str) -> None:
    page = chinese
    sign_in(page, base_url, "demo.analyst")
    page.click("header nav >> text=活动监控")
    expect(page.locator("h1")).to_have_text("活动监控")
    page.get_by_test_id("campaigns").get_by_role("link", name=re.compile("换机推荐")).click()
    expect(page.locator("h1")).to_contain_text("换机推荐")
    targets = page.get_by_test_id("funnel").locator("tr[data-step=targets] td.number")
    assert int(targets.inner_text()) > 0
    expect(page.locator("#funnel-chart svg")).to_be_visible()  # ECharts drew the funnel
    expect(page.locator("#report-day svg")).to_be_visible()
    expect(page.locator("#report-channel svg")).to_be_visible()
    expect(page.get_by_test_id("lift")).to_contain_text("目标组")
    expect(page.locator("#reports h2")).to_have_text("人工评估报告")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "monitor-zh.png"))
