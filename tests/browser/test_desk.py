"""The front line in Chromium on the demo home (issue 6, screens 11 and 12): an agent opens a
call on the outbound desk and orders in one click; a hall clerk types a number, sees the offers
that suit, the strong one marked, and orders one in one click — at desk and tablet width."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.auth.models import User
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.campaigns.schemas import CampaignCreate
from steward.channels.models import BillingOrder
from steward.channels.workorders import WorkOrder, WorkOrderStatus
from steward.contacts import service as ledger
from steward.contacts.models import ContactEvent
from steward.lake.engine import make_engine
from steward.lake.service import Lake
from steward.offers.models import Offer
from steward.realtime.api import LISTING_CHECK_S
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.settings import Settings
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from steward.tags.service import load_catalogue
from tests.browser.conftest import sign_in
from tests.browser.test_workbench import SCREENSHOTS, english_labels

CLERK = "demo.clerk"
HALL_CAMPAIGN = "柜台家庭共享 Family share at the counter"


@pytest.fixture(scope="module")
def demo_sessions(demo_home: Path) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(Settings(home=demo_home).database_url)
    yield db.session_factory(engine)
    engine.dispose()


def _call_for(sessions: sessionmaker[Session], agent: str) -> str:
    """A fresh outbound call on ``agent``'s list: a demo subscriber offered the data pack by
    the demo's data-pack campaign; its number."""
    now = datetime.now(UTC)
    with db.transaction(sessions) as session:
        done = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).first()
        assert done is not None, "the demo made no outbound call"
        offer = session.scalars(select(Offer).where(Offer.code == "DP10G")).one()
        key = f"desk-test-{now:%H%M%S%f}"
        row = {
            "contact_key": key,
            "day": now.date(),
            "msisdn": done.msisdn,
            "campaign_id": done.campaign_id,
            "kind": "marketing",
            "offer_id": offer.id,
            "category": offer.category,
            "exclusion_group": offer.exclusion_group,
            "channel": "outbound",
            "arm": "target",
            "state": "reserved",
            "source": "test",
        }
        ledger.append(session, [row, row | {"state": "sent", "detail": "desk test"}])
        session.add(
            WorkOrder(
                contact_key=key,
                msisdn=done.msisdn,
                campaign_id=done.campaign_id,
                offer_id=offer.id,
                team_id=done.team_id,
                day=now.date(),
                due_at=now - timedelta(minutes=1),
                assigned_to=agent,
                status=WorkOrderStatus.ASSIGNED.value,
                attempt=1,
            )
        )
        return done.msisdn


def _hall_customer(sessions: sessionmaker[Session], demo_home: Path) -> str:
    """A clerk user, a running hall campaign of the family offer for everyone active without
    a family plan, and one such subscriber not contacted today; their number."""
    settings = Settings(home=demo_home)
    catalogue = load_catalogue()
    lake = Lake(settings.lake, make_engine(settings.analytics_engine))
    today = date.today()
    with db.transaction(sessions) as session:
        launched = session.scalar(select(Campaign).where(Campaign.name == HALL_CAMPAIGN)) is None
        if launched:
            _launch_hall_campaign(session, catalogue, today)
        latest = tags.latest_snapshot(session, lake, today)
        assert latest is not None
        contacted = set(
            session.scalars(select(ContactEvent.msisdn).where(ContactEvent.day == today))
        )
    if launched:  # the app looks at the running campaigns again after this
        time.sleep(LISTING_CHECK_S + 0.5)
    rows = lake.engine.query(
        f"SELECT msisdn FROM {latest[1]} WHERE status = 'active' AND NOT has_family "
        "ORDER BY msisdn LIMIT 500"
    ).to_pylist()
    return next(str(r["msisdn"]) for r in rows if str(r["msisdn"]) not in contacted)


def _launch_hall_campaign(session: Session, catalogue: TagCatalogue, day: date) -> None:
    planner = session.scalars(select(User).where(User.username == "demo.planner")).one()
    approver = session.scalars(select(User).where(User.username == "demo.approver")).one()
    family = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
    segment = segments.create(
        session,
        catalogue,
        by="demo.planner",
        segment_in=SegmentCreate(name=HALL_CAMPAIGN, rule="status = 'active' AND NOT has_family"),
    )
    spec = CampaignCreate.model_validate(
        {
            "name": HALL_CAMPAIGN,
            "kind": "marketing",
            "segment_ids": [segment.id],
            "offer_ids": [family.id],
            "channels": ["hall", "inbound"],
            "waves": [{"name": "w1", "start": day, "end": day + timedelta(days=6)}],
            "control_share": 0.0,
            "priority": 80,
            "expected_rate": 0.1,
            "start_date": day,
            "end_date": day + timedelta(days=29),
        }
    )
    campaign = campaigns.create(session, campaign_in=spec, by=planner)
    campaigns.move(session, campaign, to=Status.SUBMITTED, by=planner)
    campaigns.move(session, campaign, to=Status.APPROVED, by=approver, comment="test")
    campaigns.move(session, campaign, to=Status.RUNNING, by=planner)


def _orders_of(sessions: sessionmaker[Session], msisdn: str) -> list[str]:
    with db.transaction(sessions) as session:
        query = select(BillingOrder.status).where(BillingOrder.msisdn == msisdn)
        return list(session.scalars(query))


def test_an_agent_opens_a_call_and_orders_in_one_click(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session]
) -> None:
    page = chinese
    msisdn = _call_for(demo_sessions, "demo.agent1")
    before = _orders_of(demo_sessions, msisdn).count("accepted")
    sign_in(page, base_url, "demo.agent1")
    page.click("text=外呼工作台")
    expect(page.locator("h1")).to_have_text("外呼工作台")
    page.locator("tr", has_text=msisdn).last.get_by_test_id("open-order").click()
    expect(page.get_by_test_id("summary")).to_contain_text("品牌")
    expect(page.get_by_test_id("script")).not_to_be_empty()
    expect(page.get_by_test_id("suitability")).to_contain_text("符合产品办理条件")
    assert english_labels(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk-zh.png"), full_page=True)
    page.click("text=接受并立即订购")
    expect(page.get_by_test_id("billing")).to_contain_text("已订购")
    assert _orders_of(demo_sessions, msisdn).count("accepted") == before + 1


def test_a_clerk_types_a_number_and_orders_the_strong_offer_in_one_click(
    chinese: Page, base_url: str, demo_sessions: sessionmaker[Session], demo_home: Path
) -> None:
    page = chinese
    msisdn = _hall_customer(demo_sessions, demo_home)
    sign_in(page, base_url, CLERK)
    page.click("text=接待台")
    page.fill("#msisdn", "13x")
    page.click("text=查询推荐")
    expect(page.get_by_test_id("message")).to_contain_text("请输入5到20位的手机号码")
    page.fill("#msisdn", msisdn)
    page.click("text=查询推荐")
    strong = page.locator("[data-testid=offer].strong").first
    expect(strong).to_contain_text("FAMSHARE", timeout=20_000)
    expect(strong).to_contain_text("强烈推荐")
    assert english_labels(page) == []
    page.screenshot(path=str(SCREENSHOTS / "counter-zh.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})
    expect(strong.get_by_role("button")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "counter-zh-tablet.png"), full_page=True)
    strong.get_by_role("button").click()
    expect(strong.get_by_test_id("ordered")).to_contain_text("已订购")
    assert _orders_of(demo_sessions, msisdn) == ["accepted"]
