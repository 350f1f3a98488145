"""The event library and the watch list in Chromium (issue 6, screen 10)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from steward import db
from steward.events.models import WatchEntry
from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def test_an_analyst_reads_the_library_and_reviews_the_watch_list(
    chinese: Page, base_url: str, demo_home: Path
) -> None:
    sessions = db.session_factory(db.make_engine(f"sqlite:///{demo_home / 'steward.db'}"))
    with db.transaction(sessions) as session:
        session.add(
            WatchEntry(
                msisdn="13800000009",
                reason="monthly_bill_high",
                district="province",
                event_id="browser-watch-1",
                figure=888.0,
                opened_at=datetime.now(UTC),
                status="open",
            )
        )
    page = chinese
    sign_in(page, base_url, "demo.analyst")
    page.click("header nav >> text=事件库")
    expect(page.locator("h1")).to_have_text("事件库")
    expect(page.get_by_test_id("triggered")).to_contain_text("balance_low")
    expect(page.get_by_test_id("event-types")).to_contain_text("短信")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "events-zh.png"), full_page=False)
    page.click("header nav >> text=高额关注名单")
    row = page.locator("#entry-1, [data-testid=entry]").filter(has_text="138****0009").first
    expect(row).to_contain_text("高额账单")
    row.locator("select").select_option("cleared")
    row.locator("button").click()
    expect(page.get_by_role("alert")).to_contain_text("备注必填")
    row = page.locator("[data-testid=entry]").filter(has_text="138****0009").first
    row.locator("select").select_option("acted")
    row.locator("input[name=note]").fill("客户出差，已提醒")
    row.locator("button").click()
    row = page.locator("[data-testid=entry]").filter(has_text="138****0009").first
    expect(row.get_by_test_id("status")).to_have_text("已处理")
    expect(row).to_contain_text("demo.analyst")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "watch-zh.png"), full_page=False)
