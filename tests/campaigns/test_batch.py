"""The day's run: running campaigns only, through the policy, into the ledger, explained."""

from __future__ import annotations

from dataclasses import asdict
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


def launch(
    session: Session, people: dict[str, User], world: dict[str, int], **extra: Any
) -> Campaign:
    campaign = campaigns.create(
        session,
        campaign_in=campaign_in(world["segment"], world["offer"], control_share=0.0, **extra),
        by=people["maker"],
    )
    campaigns.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    campaigns.move(session, campaign, to=Status.APPROVED, by=people["checker"], comment="ok")
    campaigns.move(session, campaign, to=Status.RUNNING, by=people["maker"])
    return campaign


def ledger_rows(session: Session) -> list[ContactEvent]:
    return list(session.scalars(select(ContactEvent).order_by(ContactEvent.msisdn)))


def test_a_running_campaign_reserves_contacts_and_explains_every_exclusion(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    campaign = launch(session, people, world)
    report = batch.run_day(session, lake, catalogue, policy, day=DAY)
    assert report.campaigns == [campaign.id]
    assert report.outcomes[str(campaign.id)] == {
        "planned": 2,
        "dnd.vip_diamond_gold": 1,
        "dnd.staff": 1,
        "offer.not_eligible": 1,
    }
    rows = ledger_rows(session)
    assert [(r.msisdn, r.state, r.channel) for r in rows] == [
        ("13800000001", "reserved", "sms"),
        ("13800000003", "reserved", "outbound"),  # opted out of SMS: the next channel
    ]
    assert rows[0].contact_key == f"20261202-c{campaign.id}-13800000001"


def test_a_second_run_the_same_day_adds_nothing(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    campaign = launch(session, people, world)
    batch.run_day(session, lake, catalogue, policy, day=DAY)
    again = batch.run_day(session, lake, catalogue, policy, day=DAY)
    assert again.reserved == 0
    assert again.outcomes[str(campaign.id)]["campaign.contacted"] == 2
    assert len(ledger_rows(session)) == 2


def test_only_running_campaigns_reach_anyone(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    draft = campaigns.create(
        session, campaign_in=campaign_in(world["segment"], world["offer"]), by=people["maker"]
    )
    campaigns.move(session, draft, to=Status.SUBMITTED, by=people["maker"])
    report = batch.run_day(session, lake, catalogue, policy, day=DAY)
    assert report.campaigns == []
    assert ledger_rows(session) == []


def test_a_city_campaign_stays_in_its_city_and_an_included_category_is_reached(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    launch(session, people, world, district="lanzhou", dnd_include=["vip_diamond_gold"])
    batch.run_day(session, lake, catalogue, policy, day=DAY)
    assert [r.msisdn for r in ledger_rows(session)] == ["13800000001", "13800000002"]


def test_outside_its_waves_a_campaign_waits(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    launch(session, people, world)
    report = batch.run_day(session, lake, catalogue, policy, day=date(2026, 12, 20))
    assert report.campaigns == []


def test_why_not_names_the_rule_for_one_subscriber_and_campaign(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    people: dict[str, User],
    world: dict[str, int],
) -> None:
    campaign = launch(session, people, world)

    def why(msisdn: str) -> dict[str, Any]:
        return batch.explain(
            session, lake, catalogue, policy, msisdn=msisdn, campaign_id=campaign.id, day=DAY
        )

    assert why("13800000001")["outcome"] == "winner"
    assert why("13800000001")["offers"][0]["channels"] == ["sms", "outbound"]
    assert why("13800000002")["outcome"] == "dnd.vip_diamond_gold"
    assert why("13800000005")["outcome"] == "offer.not_eligible"
    assert why("13900000000")["outcome"] == "not.in_snapshot"
    batch.run_day(session, lake, catalogue, policy, day=DAY)
    assert why("13800000001")["outcome"] == "campaign.contacted"
    late = batch.explain(
        session,
        lake,
        catalogue,
        policy,
        msisdn="13800000001",
        campaign_id=campaign.id,
        day=date(2026, 12, 20),
    )
    assert late["outcome"] == "campaign.not_today"  # running, but outside its waves
