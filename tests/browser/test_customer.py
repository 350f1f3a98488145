"""The customer view in Chromium (issue 6, screen 8): an agent looks a customer up and reads
their tags, contacts and orders; a bad number is named."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from steward import db
from steward.contacts.models import ContactEvent
from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def test_an_agent_reads_one_customer(chinese: Page, base_url: str, demo_home: Path) -> None:
    sessions = db.session_factory(db.make_engine(f"sqlite:///{demo_home / 'steward.db'}"))
    with sessions() as session:
        number = session.scalar(
            select(ContactEvent.msisdn).where(ContactEvent.state == "ordered").limit(1)
        )
    assert number is not None
    page = chinese
    sign_in(page, base_url, "demo.agent1")
    page.click("header nav >> text=客户视图")
    page.fill("#msisdn", "12345")
    page.click("[data-testid=lookup] button")
    expect(page.get_by_role("alert")).to_have_text("请输入11位手机号码。")
    page.fill("#msisdn", number)
    page.click("[data-testid=lookup] button")
    expect(page.locator("h2").first).to_have_text(number)
    expect(page.get_by_test_id("tags")).to_contain_text("品牌")
    expect(page.get_by_test_id("contacts")).to_contain_text("已订购")  # states in words
    # campaigns and offers by name in the page's language, not by id
    ordered = page.get_by_test_id("contacts").locator("tr", has_text="已订购").first
    expect(ordered.locator("td").nth(3)).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
    expect(ordered.locator("td").nth(4)).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
    expect(page.get_by_test_id("orders").locator("tbody td").nth(1)).not_to_have_text(
        re.compile(r"^\d+$")
    )
    # the batch why-not of each running campaign, its reason in words, never a code
    why_not = page.get_by_test_id("why-not")
    expect(why_not.locator("tbody tr").first).to_have_attribute("data-campaign", "1")
    for cell in why_not.locator("td[data-outcome]").all():
        code = cell.get_attribute("data-outcome")
        assert code
        assert cell.inner_text() != code
    expect(why_not).to_contain_text("今日已接触")  # contacted today, by the order's campaign
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "customer-zh.png"), full_page=False)
    why_not.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "customer-why-not-zh.png"), full_page=False)
