"""Do-not-disturb management in Chromium (issue 6, screen 9): a data administrator checks an
opt-out list, sees its bad lines named, then saves it (the demo's ``demo.data``)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels


def test_a_data_administrator_checks_then_saves_an_opt_out_list(
    chinese: Page, base_url: str, tmp_path: Path
) -> None:
    listing = tmp_path / "optouts.txt"
    listing.write_text("13800000101\n13800000102\n1380000\n", encoding="utf-8")
    page = chinese
    sign_in(page, base_url, "demo.data")
    page.click("header nav >> text=免打扰管理")
    expect(page.get_by_test_id("categories")).to_contain_text("始终排除")
    form = page.get_by_test_id("upload")
    form.locator("input[type=file]").set_input_files(str(listing))
    form.locator("button").click()
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("仅做了校验，未保存任何内容。")
    expect(page.get_by_test_id("bad-lines")).to_contain_text("不是 11 位手机号码")
    form.locator("input[name=save]").check()
    form.locator("button").click()
    expect(report).to_contain_text("已加入名单 2 个号码。")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "dnd-zh.png"), full_page=False)
