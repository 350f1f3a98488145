"""The day's run: running campaigns only, through the policy, into the ledger, explained."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.campaigns import batch
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.contacts.models import ContactEvent
from steward.lake.service import Lake
from steward.offers import service as offers
from steward.policy.config import Policy, load_policy
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags_service
from steward.tags.schemas import TagCatalogue
from tests.campaigns.test_service import campaign_in
from tests.tags import factories as f

DAY = date(2026, 12, 2)
PEOPLE = {
    "13800000001": {},
    "13800000002": {"vip_level": "gold"},
    "13800000003": {"city": "tianshui", "county": "qinzhou", "optout_sms": True},
    "13800000004": {"customer_type": "staff"},
    "13800000005": {"status": "suspended"},
}


@pytest.fixture
def catalogue() -> TagCatalogue:
    return tags_service.load_catalogue()


@pytest.fixture
def policy(catalogue: TagCatalogue) -> Policy:
    return load_policy(catalogue)


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    def user(name: str, role: Role, district: str = "province") -> User:
        return auth.create_user(
            session, username=name, password="a long password", role=role, district=district, by="t"
        )

    return {"maker": user("maker", Role.PLANNER), "checker": user("checker", Role.APPROVER)}


@pytest.fixture
def world(session: Session, lake: Lake, catalogue: TagCatalogue) -> dict[str, int]:
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    rows = [f.profile(m, **extra) for m, extra in PEOPLE.items()]
    f.publish(session, lake, "profile", date(2026, 11, 30), rows)
    tags_service.refresh(session, lake, catalogue, date(2026, 12, 1))
    imported = offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="t")
    family = next(o for o in imported if o.code == "FAMSHARE")
    family.channel_fit = {"sms": 1, "outbound": 2}  # so an SMS opt-out shows the overflow
    session.flush()
    segment = segments.create(
        session, catalogue, by="t", segment_in=SegmentCreate(name="everyone", rule="TRUE")
    )
    return {"offer": family.id, "segment": segment.id}


@dataclass
class Day:
    """A small province with one offer and one segment, and the means to run its days."""

    session: Session
    lake: Lake
    catalogue: TagCatalogue
    policy: Policy
    people: dict[str, User]
    world: dict[str, int]

    def launch(self, **extra: Any) -> Campaign:
        maker, checker = self.people["maker"], self.people["checker"]
        campaign = campaigns.create(
            self.session,
            campaign_in=campaign_in(
                self.world["segment"], self.world["offer"], control_share=0.0, **extra
            ),
            by=maker,
        )
        campaigns.move(self.session, campaign, to=Status.SUBMITTED, by=maker)
        campaigns.move(self.session, campaign, to=Status.APPROVED, by=checker, comment="ok")
        campaigns.move(self.session, campaign, to=Status.RUNNING, by=maker)
        return campaign

    def run(self, day: date = DAY) -> batch.RunReport:
        return batch.run_day(self.session, self.lake, self.catalogue, self.policy, day=day)

    def why(self, msisdn: str, campaign: Campaign, day: date = DAY) -> dict[str, Any]:
        return batch.explain(
            self.session,
            self.lake,
            self.catalogue,
            self.policy,
            msisdn=msisdn,
            campaign_id=campaign.id,
            day=day,
        )


@pytest.fixture
def d(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> Day:
    return Day(session, lake, catalogue, policy, people, world)


def ledger_rows(session: Session) -> list[ContactEvent]:
    return list(session.scalars(select(ContactEvent).order_by(ContactEvent.msisdn)))


def test_a_running_campaign_reserves_contacts_and_explains_every_exclusion(d: Day) -> None:
    campaign = d.launch()
    report = d.run()
    assert report.campaigns == [campaign.id]
    assert report.outcomes[str(campaign.id)] == {
        "planned": 2,
        "dnd.vip_diamond_gold": 1,
        "dnd.staff": 1,
        "offer.not_eligible": 1,
    }
    rows = ledger_rows(d.session)
    assert [(r.msisdn, r.state, r.channel) for r in rows] == [
        ("13800000001", "reserved", "sms"),
        ("13800000003", "reserved", "outbound"),  # opted out of SMS: the next channel
    ]
    assert rows[0].contact_key == f"20261202-c{campaign.id}-13800000001"


def test_a_second_run_the_same_day_adds_nothing(d: Day) -> None:
    campaign = d.launch()
    d.run()
    again = d.run()
    assert again.reserved == 0
    assert again.outcomes[str(campaign.id)]["campaign.contacted"] == 2
    assert len(ledger_rows(d.session)) == 2


def test_only_running_campaigns_reach_anyone(d: Day) -> None:
    maker = d.people["maker"]
    draft_in = campaign_in(d.world["segment"], d.world["offer"])
    draft = campaigns.create(d.session, campaign_in=draft_in, by=maker)
    campaigns.move(d.session, draft, to=Status.SUBMITTED, by=maker)
    report = d.run()
    assert report.campaigns == []
    assert ledger_rows(d.session) == []


def test_a_city_campaign_stays_in_its_city_and_an_included_category_is_reached(d: Day) -> None:
    d.launch(district="lanzhou", dnd_include=["vip_diamond_gold"])
    d.run()
    assert [r.msisdn for r in ledger_rows(d.session)] == ["13800000001", "13800000002"]


def test_outside_its_waves_a_campaign_waits(d: Day) -> None:
    d.launch()
    report = d.run(date(2026, 12, 20))
    assert report.campaigns == []


def test_why_not_names_the_rule_for_one_subscriber_and_campaign(d: Day) -> None:
    campaign = d.launch()
    assert d.why("13800000001", campaign)["outcome"] == "winner"
    assert d.why("13800000001", campaign)["offers"][0]["channels"] == ["sms", "outbound"]
    assert d.why("13800000002", campaign)["outcome"] == "dnd.vip_diamond_gold"
    assert d.why("13800000005", campaign)["outcome"] == "offer.not_eligible"
    assert d.why("13900000000", campaign)["outcome"] == "not.in_snapshot"
    d.run()
    assert d.why("13800000001", campaign)["outcome"] == "campaign.contacted"
    late = d.why("13800000001", campaign, date(2026, 12, 20))
    assert late["outcome"] == "campaign.not_today"  # running, but outside its waves


def test_why_not_of_many_campaigns_at_once_answers_as_each_one_alone(d: Day) -> None:
    everyone = d.launch(name="everyone", priority=40)
    first = d.launch(name="first", priority=90)
    vips = d.launch(name="vips", priority=60, dnd_include=["vip_diamond_gold"])
    tianshui = d.launch(name="tianshui", district="tianshui")
    later = d.launch(
        name="later", waves=[{"name": "w2", "start": "2026-12-10", "end": "2026-12-20"}]
    )
    draft_in = campaign_in(d.world["segment"], d.world["offer"], name="draft")
    draft = campaigns.create(d.session, campaign_in=draft_in, by=d.people["maker"])
    chosen = [everyone, first, vips, tianshui, later, draft]
    ids = [c.id for c in chosen]

    def each_alone(msisdn: str) -> dict[int, dict[str, Any]]:
        return {c.id: d.why(msisdn, c) for c in chosen}

    def all_at_once(msisdn: str) -> dict[int, dict[str, Any]]:
        return batch.explain_many(
            d.session, d.lake, d.catalogue, d.policy, msisdn=msisdn, campaign_ids=ids, day=DAY
        )

    for msisdn in [*PEOPLE, "13900000000"]:
        assert all_at_once(msisdn) == each_alone(msisdn), msisdn
    answers = all_at_once("13800000001")
    outcomes = {c.name: answers[c.id]["outcome"] for c in chosen}
    assert outcomes == {
        "everyone": "arbitration.lost",
        "first": "winner",
        "vips": "arbitration.lost",
        "tianshui": "segment.not_member",
        "later": "campaign.not_today",
        "draft": "campaign.draft",
    }
    assert all_at_once("13800000002")[vips.id]["outcome"] == "winner"
    d.run()
    for msisdn in PEOPLE:
        assert all_at_once(msisdn) == each_alone(msisdn), msisdn
    with pytest.raises(batch.RunError):
        batch.explain_many(
            d.session,
            d.lake,
            d.catalogue,
            d.policy,
            msisdn="13800000001",
            campaign_ids=[0],
            day=DAY,
        )
