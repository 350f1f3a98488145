"""The campaign wizard and the offer catalogue in Chromium, in Chinese (issue 6, screen 5): a
planner builds a segment visually and sees its count, makes a campaign on it in the wizard
and submits it; the approver approves it; the planner starts it, the day's batch runs it
(the function the daily run calls), and the planner sees its funnel on the monitor."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from steward import db
from steward.campaigns import batch
from steward.cli.common import Context
from steward.policy.config import load_policy
from steward.settings import Settings
from steward.tags.service import load_catalogue
from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def build_segment(page: Page, name: str) -> None:
    """The visual builder: gotone subscribers with a three-month ARPU above 50, counted."""
    page.click("header nav >> text=客户群")
    page.click("text=新建客户群")
    first = page.locator("#builder .cond").nth(0)
    first.locator("select.tag").select_option("brand")
    first.locator("input.value").fill("gotone")
    page.click("#builder .group-head >> text=添加条件")
    second = page.locator("#builder .cond").nth(1)
    second.locator("select.tag").select_option("arpu_3m")
    second.locator("select.operator").select_option(">")
    second.locator("input.value").fill("50")
    expect(page.locator("#rule")).to_have_value("brand = 'gotone' AND arpu_3m > 50")
    expect(page.get_by_test_id("total")).to_have_text(re.compile(r"^[1-9]\d*$"))
    page.fill("#name", name)
    page.click("text=保存客户群")
    expect(page).to_have_url(re.compile(r"/workbench/segments\?saved=\d+$"))


def fill_the_wizard(page: Page, name: str, segment: str) -> None:
    today = date.today()
    page.fill("#name", name)
    row = page.get_by_test_id("segments").locator("tr", has_text=segment)
    row.locator("input[type=checkbox]").check()
    row.get_by_role("button", name="统计").click()
    expect(row.locator("[data-testid^=members-]")).to_have_text(re.compile(r"^[1-9]\d*$"))
    page.locator("[data-testid=offers] tr[data-offer=DP10G] input[type=checkbox]").check()
    page.select_option("#channel-0", "sms")
    page.select_option("#channel-1", "outbound")
    page.fill("#priority", "70")
    page.locator("input[name=wave_name]").first.fill("第一波")
    page.locator("input[name=wave_start]").first.fill(today.isoformat())
    page.locator("input[name=wave_end]").first.fill((today + timedelta(days=6)).isoformat())
    page.fill("#control_share", "10")  # percent
    page.locator("input[name=budget_item]").first.fill("短信通道费")
    page.locator("input[name=budget_amount]").first.fill("500")
    page.fill("#expected_rate", "5")  # percent


def reviewed(page: Page, field: str) -> Locator:
    """The value of a field on the wizard's review."""
    heading = page.locator("th", has_text=re.compile(f"^{field}$"))
    return page.get_by_test_id("review").locator("tr", has=heading).locator("td")


def run_the_day(demo_home: Path, campaign_id: int) -> None:
    """The day's batch for every running campaign, as the daily run's arbitration step."""
    context = Context(Settings(home=demo_home))
    lake = context.lake()
    catalogue = load_catalogue()
    try:
        with db.transaction(context.sessions) as session:
            report = batch.run_day(
                session, lake, catalogue, load_policy(catalogue), day=date.today()
            )
        assert campaign_id in report.campaigns
    finally:
        lake.engine.close()
        context.engine.dispose()


def test_a_campaign_from_segment_to_funnel_in_chinese(
    chinese: Page, base_url: str, demo_home: Path
) -> None:
    page = chinese
    suffix = secrets.token_hex(2)
    segment, name = f"全球通高价值 {suffix}", f"全球通流量包推荐 {suffix}"
    sign_in(page, base_url, "demo.planner")
    build_segment(page, segment)

    page.locator("header nav a", has_text=re.compile("^营销活动$")).click()
    expect(page.locator("h1")).to_have_text("营销活动")
    page.get_by_test_id("new-campaign").click()
    expect(page.locator("h1")).to_have_text("新建活动")
    fill_the_wizard(page, name, segment)
    page.get_by_role("button", name="复核活动").click()
    expect(reviewed(page, "客户群")).to_have_text(segment)
    expect(reviewed(page, "渠道")).to_have_text("短信 › 外呼")
    expect(reviewed(page, "产品")).to_have_text("10GB流量包")
    expect(reviewed(page, "预算")).to_contain_text("短信通道费")
    expect(reviewed(page, "对照组比例")).to_have_text("10%")  # typed in percent
    expect(reviewed(page, "预期成功率")).to_have_text("5.0%")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "wizard.png"), full_page=True)

    page.get_by_role("button", name="保存草稿").click()
    expect(page).to_have_url(re.compile(r"/workbench/campaigns/\d+/edit\?saved=draft$"))
    campaign_id = int(re.findall(r"/campaigns/(\d+)/edit", page.url)[0])
    expect(page.get_by_test_id("saved")).to_contain_text("已保存为草稿")
    page.fill("#comment", "请审批")
    page.get_by_role("button", name="保存并提交审批").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}/view$"))
    expect(page.get_by_test_id("status")).to_have_text("已提交")
    page.click("text=退出")

    sign_in(page, base_url, "demo.approver")
    page.click("header nav >> text=审批待办")
    item = page.get_by_test_id(f"submitted-{campaign_id}")
    expect(item).to_contain_text(name)
    item.locator("textarea").fill("预算合理，同意")
    item.locator("button[value=approve]").click()
    expect(page.get_by_test_id("status")).to_have_text("已批准")
    page.click("text=退出")

    sign_in(page, base_url, "demo.planner")
    page.locator("header nav a", has_text=re.compile("^营销活动$")).click()
    page.locator(f"tr[data-campaign='{campaign_id}']").get_by_role("button", name="启动").click()
    expect(page.get_by_test_id("status")).to_have_text("执行中")
    run_the_day(demo_home, campaign_id)

    page.goto(f"{base_url}/campaigns/{campaign_id}/monitor")
    expect(page.locator("h1")).to_contain_text(name)
    targets = page.get_by_test_id("funnel").locator("tr[data-step=targets] td.number")
    assert int(targets.inner_text()) > 0
    expect(page.locator("#funnel-chart svg")).to_be_visible()
    assert english_labels(page) == []


def test_the_offer_catalogue_in_chinese(chinese: Page, base_url: str) -> None:
    page = chinese
    sign_in(page, base_url, "demo.planner")
    page.locator("header nav a", has_text=re.compile("^产品$")).click()
    expect(page.locator("h1")).to_have_text("产品")
    offers = page.get_by_test_id("offers")
    expect(offers.locator("tr[data-code=DP10G]")).to_contain_text("10GB流量包")
    expect(offers.locator("tr[data-code=DP10G]")).to_contain_text("流量包")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "offers.png"), full_page=True)
    page.select_option("#type", "handset")
    page.click("form[role=search] button[type=submit]")
    expect(offers.locator("tr[data-code=DP10G]")).to_have_count(0)
    expect(offers.locator("tr[data-code=HS5G24]")).to_have_count(1)
    offers.locator("tr[data-code=HS5G24] a").click()
    expect(page.get_by_test_id("eligibility")).to_contain_text("handset_upgrade_candidate")
    expect(page.get_by_test_id("scripts")).to_contain_text("签约24个月")
    assert english_labels(page) == []
