"""A manual evaluation report in Chromium, in Chinese (R-EVAL-4): an analyst uploads one on a
demo campaign's monitor, sees it listed with who uploaded it, and downloads it back."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels

CSV = "地市,目标用户,接触,订购\n兰州,1200,980,64\n天水,800,610,31\n".encode()


def test_an_analyst_uploads_an_evaluation_report_in_chinese(
    chinese: Page, base_url: str, tmp_path: Path
) -> None:
    page = chinese
    title = f"流失挽留效果评估 {secrets.token_hex(2)}"
    sign_in(page, base_url, "demo.analyst")
    page.click("header nav >> text=活动监控")
    page.get_by_test_id("campaigns").get_by_role("link", name=re.compile("流失挽留")).click()
    expect(page.locator("h1")).to_contain_text("流失挽留")
    expect(page.locator("#reports h2")).to_have_text("人工评估报告")

    form = page.get_by_test_id("report-upload")
    form.get_by_label("标题").fill(title)
    form.get_by_label("摘要").fill("目标组订购率高于对照组，建议扩大到全省。")
    form.get_by_label("文件").set_input_files(
        {"name": "评估明细.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    form.get_by_role("button", name="上传").click()

    expect(page).to_have_url(re.compile(r"/monitor\?uploaded=\d+#reports$"))
    expect(page.get_by_test_id("uploaded")).to_have_text(f"报告“{title}”已上传。")
    row = page.get_by_test_id("reports").locator("tbody tr", has_text=title)
    expect(row).to_contain_text("评估明细.csv")
    expect(row).to_contain_text("demo.analyst")
    expect(row).to_contain_text(f"{len(CSV)} B")
    assert english_labels(page) == []
    page.locator("#reports").evaluate("section => section.scrollIntoView()")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "evaluation-report.png"))

    with page.expect_download() as download:
        row.get_by_role("link", name="评估明细.csv").click()
    assert download.value.suggested_filename == "评估明细.csv"
    saved = tmp_path / "back.csv"
    download.value.save_as(saved)
    assert saved.read_bytes() == CSV
