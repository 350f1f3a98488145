"""Cross-channel rules in Chromium on the demo home (issue 6, screen 13; R-CHAN-4, R-CHAN-5):
the system administrator edits both tables in Chinese and saves them with a reason; the
agent's desk shows the customer's contacts on the other channels that the rules let it see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.channels.workorders import WorkOrder
from steward.contacts import service as ledger
from steward.offers.models import Offer
from steward.settings import Settings
from tests.browser.conftest import sign_in
from tests.browser.test_desk import _call_for
from tests.browser.test_workbench import SCREENSHOTS, english_labels

ADMIN = "demo.admin"


@pytest.fixture(scope="module")
def demo_sessions(demo_home: Path) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(Settings(home=demo_home).database_url)
    yield db.session_factory(engine)
    engine.dispose()


def _sms_of_the_same_campaign(sessions: sessionmaker[Session], msisdn: str) -> None:
    """A data-pack SMS of the call's campaign, reserved for today (data marketing: shown on
    the outbound desk by the default rules)."""
    now = datetime.now(UTC)
    with db.transaction(sessions) as session:
        call = session.scalars(
            select(WorkOrder).where(WorkOrder.msisdn == msisdn).order_by(WorkOrder.id.desc())
        ).first()
        assert call is not None
        offer = session.scalars(select(Offer).where(Offer.code == "DP10G")).one()
        row = {
            "contact_key": f"rules-test-{now:%H%M%S%f}",
            "day": now.date(),
            "msisdn": msisdn,
            "campaign_id": call.campaign_id,
            "kind": "marketing",
            "offer_id": offer.id,
            "category": offer.category,
            "exclusion_group": offer.exclusion_group,
            "channel": "sms",
            "arm": "target",
            "state": "reserved",
            "source": "test",
        }
        ledger.append(session, [row])


def test_the_administrator_edits_the_rules_in_chinese(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session]
) -> None:
    page = chinese
    sign_in(page, base_url, ADMIN)
    page.click("text=跨渠道规则")
    expect(page.locator("h1")).to_have_text("跨渠道规则")
    expect(page.get_by_test_id("visibility")).to_contain_text("语音套餐营销")
    family_hall = page.locator('input[name="show:family:hall"]')
    expect(family_hall).not_to_be_checked()
    family_hall.check()
    page.select_option('select[name="rule:hall:rejected"]', "keep")
    page.click("text=保存两张规则表")
    expect(page.get_by_test_id("message")).to_contain_text("请填写修改规则的原因")
    page.fill('input[name="reason"]', "营业厅也要看到家庭套餐的外呼记录")
    page.click("text=保存两张规则表")
    expect(page.get_by_test_id("saved")).to_have_text("规则已保存。")
    expect(page.locator('input[name="show:family:hall"]')).to_be_checked()
    expect(page.locator('select[name="rule:hall:rejected"]')).to_have_value("keep")
    expect(page.get_by_test_id("changes")).to_contain_text("营业厅也要看到家庭套餐的外呼记录")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "channel-rules.png"), full_page=True)


def test_the_desk_shows_the_customers_contacts_on_other_channels(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session]
) -> None:
    page = chinese
    msisdn = _call_for(demo_sessions, "demo.agent1")
    _sms_of_the_same_campaign(demo_sessions, msisdn)
    sign_in(page, base_url, "demo.agent1")
    page.click("text=外呼工作台")
    page.locator("tr", has_text=msisdn).last.get_by_test_id("open-order").click()
    history = page.get_by_test_id("shared-history")
    expect(history).to_contain_text("其他渠道的接触记录")
    expect(history.locator("tr[data-channel=sms]").first).to_contain_text("短信")
    expect(history).to_contain_text("已预占，尚未执行")
    assert english_labels(page) == []
