"""The tag library and the segment builder in Chromium: a planner finds a tag and sees its
distribution drawn, builds a segment visually while the rule text and the trial count
follow, saves it and finds it in the list — all in Chinese (issue 6)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def test_a_planner_reads_a_tag_then_builds_counts_and_saves_a_segment(
    chinese: Page, base_url: str
) -> None:
    page = chinese
    sign_in(page, base_url, "demo.planner")
    page.click("header nav >> text=标签库")
    expect(page.locator("h1")).to_have_text("标签库")
    page.fill("#q", "品牌")
    expect(page.get_by_test_id("tags")).not_to_contain_text("arpu_3m")
    page.click("[data-testid=tags] a >> text=品牌")
    expect(page.locator("h1")).to_contain_text("brand")
    expect(page.get_by_test_id("freshness")).to_contain_text("快照")
    expect(page.locator("#distribution svg")).to_be_visible()  # ECharts drew the chart
    expect(page.get_by_test_id("top")).to_contain_text("全球通")  # brand gotone, in words
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "tags-zh.png"))

    page.click("header nav >> text=客户群")
    page.click("text=新建客户群")
    expect(page.locator("h1")).to_have_text("新建客户群")
    first = page.locator("#builder .cond").nth(0)
    first.locator("select.tag").select_option("brand")
    first.locator("input.value").fill("gotone")
    page.click("#builder .group-head >> text=添加条件")
    second = page.locator("#builder .cond").nth(1)
    second.locator("select.tag").select_option("arpu_3m")
    second.locator("select.operator").select_option(">")
    second.locator("input.value").fill("50")
    expect(page.locator("#rule")).to_have_value("brand = 'gotone' AND arpu_3m > 50")
    total = page.get_by_test_id("total")
    expect(total).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("breakdown")).to_contain_text("地市")
    expect(page.get_by_test_id("sample")).to_contain_text("****")

    # typing the rule moves the builder: the parser read a third condition
    page.fill("#rule", "brand = 'gotone' AND arpu_3m > 50 AND vip_level <> 'gold'")
    expect(page.locator("#builder .cond")).to_have_count(3)
    expect(page.locator("#builder .cond").nth(2).locator("select.tag")).to_have_value("vip_level")
    page.fill("#rule", "brand = 'gotone' AND arpu_3m > 50")
    expect(page.locator("#builder .cond")).to_have_count(2)
    page.fill("#rule", "brnd = 'gotone'")  # the parser's message, in Chinese
    expect(page.get_by_test_id("rule-error")).to_contain_text("未知标签 'brnd'")
    page.fill("#rule", "brand = 'gotone' AND arpu_3m > 50")
    expect(total).to_have_text(re.compile(r"^[1-9]\d*$"))
    page.fill("#name", "全球通高价值")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "segments-zh.png"))

    page.click("text=保存客户群")
    expect(page).to_have_url(re.compile(r"/workbench/segments\?saved=\d+$"))
    saved = page.get_by_test_id("saved")
    expect(saved).to_contain_text("全球通高价值")
    expect(saved).to_contain_text("brand = 'gotone' AND arpu_3m > 50")
    assert english_labels(page) == []
