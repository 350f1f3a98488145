"""The campaign lifecycle: maker-checker, every step recorded, overrides warned."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.campaigns import service
from steward.campaigns.models import Status
from steward.campaigns.schemas import CampaignCreate
from steward.lake.service import Lake
from steward.offers import service as offers
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags_service
from tests.tags import factories as f


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    def user(name: str, role: Role, district: str = "province") -> User:
        return auth.create_user(
            session,
            username=name,
            password="a long password",
            role=role,
            district=district,
            by="test",
        )

    return {
        "maker": user("maker", Role.PLANNER),
        "other": user("other", Role.PLANNER),
        "checker": user("checker", Role.APPROVER),
        "admin": user("admin", Role.SYSTEM_ADMIN),
        "lz": user("lz.planner", Role.PLANNER, "lanzhou"),
        "analyst": user("analyst", Role.ANALYST),
    }


@pytest.fixture
def draft_in(session: Session, lake: Lake) -> CampaignCreate:
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    catalogue = tags_service.load_catalogue()
    offer = offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="t")[0]
    segment = segments.create(
        session, catalogue, by="t", segment_in=SegmentCreate(name="heavy data", rule="data_heavy")
    )
    return campaign_in(segment.id, offer.id)


def campaign_in(segment_id: int, offer_id: int, **overrides: Any) -> CampaignCreate:
    data: dict[str, Any] = {
        "name": "data pack for heavy users",
        "kind": "marketing",
        "segment_ids": [segment_id],
        "offer_ids": [offer_id],
        "channels": ["sms", "outbound"],
        "waves": [{"name": "w1", "start": "2026-12-01", "end": "2026-12-07"}],
        "control_share": 0.1,
        "budget": [{"kind": "commission", "item": "per sale", "amount": 2000}],
        "start_date": "2026-12-01",
        "end_date": "2026-12-31",
    }
    return CampaignCreate.model_validate(data | overrides)


def test_a_campaign_goes_from_draft_to_completed_with_every_step_recorded(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    campaign = service.create(session, campaign_in=draft_in, by=people["maker"])
    assert campaign.status == "draft"
    assert not service.may_reach_customers(campaign)
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    service.move(session, campaign, to=Status.APPROVED, by=people["checker"], comment="fine")
    assert service.may_reach_customers(campaign)
    for to in (Status.RUNNING, Status.PAUSED, Status.RUNNING, Status.COMPLETED):
        service.move(session, campaign, to=to, by=people["maker"])
    steps = [(t.from_status, t.to_status, t.actor) for t in service.history(session, campaign)]
    assert steps[:2] == [("draft", "submitted", "maker"), ("submitted", "approved", "checker")]
    assert steps[-1] == ("running", "completed", "maker")
    assert service.warnings(session) == []


def test_the_approver_is_never_the_maker(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    approver_made = auth.create_user(
        session,
        username="both",
        password="a long password",
        role=Role.APPROVER,
        district="province",
        by="t",
    )
    campaign = service.create(session, campaign_in=draft_in, by=people["maker"])
    campaign.owner = approver_made.username  # an approver who drafted it cannot approve it
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    with pytest.raises(service.CampaignError, match="never the maker"):
        service.move(session, campaign, to=Status.APPROVED, by=approver_made, comment="ok")


@pytest.mark.parametrize(
    ("who", "to", "message"),
    [
        ("maker", Status.APPROVED, "a planner may not make a campaign approved"),
        ("analyst", Status.SUBMITTED, "an? analyst may not"),
        ("checker", Status.RUNNING, "cannot become running"),
    ],
)
def test_a_step_out_of_turn_or_role_is_refused(
    session: Session,
    people: dict[str, User],
    draft_in: CampaignCreate,
    who: str,
    to: Status,
    message: str,
) -> None:
    campaign = service.create(session, campaign_in=draft_in, by=people["maker"])
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    if to is Status.SUBMITTED:
        service.move(session, campaign, to=Status.DRAFT, by=people["maker"])
    with pytest.raises(service.CampaignError, match=message):
        service.move(session, campaign, to=to, by=people[who], comment="x")


def test_approving_needs_a_comment(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    campaign = service.create(session, campaign_in=draft_in, by=people["maker"])
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    with pytest.raises(service.CampaignError, match="comment is required"):
        service.move(session, campaign, to=Status.APPROVED, by=people["checker"])


def test_an_administrator_override_is_allowed_and_raises_a_warning(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    campaign = service.create(session, campaign_in=draft_in, by=people["admin"])
    service.move(session, campaign, to=Status.SUBMITTED, by=people["admin"])
    step = service.move(
        session,
        campaign,
        to=Status.APPROVED,
        by=people["admin"],
        comment="urgent network outage care",
    )
    assert step.override
    submitted, approved = service.warnings(session)  # both steps were not the admin's role
    assert "submitted outside the approval flow" in submitted.message
    assert "approved outside the approval flow: urgent network outage care" in approved.message
    assert approved.actor == "admin"
    with pytest.raises(service.CampaignError, match="planner may not acknowledge"):
        service.acknowledge_warning(session, approved.id, by=people["maker"])
    service.acknowledge_warning(session, approved.id, by=people["checker"])
    assert service.warnings(session) == [submitted]
    with pytest.raises(service.CampaignError, match="acknowledged by checker"):
        service.acknowledge_warning(session, approved.id, by=people["checker"])


def test_a_copy_is_a_new_draft_that_remembers_its_origin(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    original = service.create(session, campaign_in=draft_in, by=people["maker"])
    service.move(session, original, to=Status.SUBMITTED, by=people["maker"])
    copied = service.copy(session, original, name="heavy users, January", by=people["other"])
    assert (copied.status, copied.owner, copied.copied_from) == ("draft", "other", original.id)
    assert copied.channels == ["sms", "outbound"]
    assert copied.budget == original.budget


def test_a_city_planner_works_only_in_their_city(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    with pytest.raises(service.CampaignError, match="outside yours"):
        service.create(
            session,
            by=people["lz"],
            campaign_in=draft_in.model_copy(update={"district": "tianshui"}),
        )
    mine = service.create(session, by=people["lz"], campaign_in=draft_in)
    assert mine.district == "lanzhou"
    province = service.create(
        session, by=people["maker"], campaign_in=draft_in.model_copy(update={"name": "province"})
    )
    assert [c.id for c in service.visible(session, people["lz"])] == [mine.id]
    assert len(service.visible(session, people["maker"])) == 2
    assert province.district == "province"


def test_references_and_dates_are_checked(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    with pytest.raises(service.CampaignError, match="no segment 999999, no active offer 999999"):
        service.create(
            session,
            by=people["maker"],
            campaign_in=draft_in.model_copy(
                update={"segment_ids": [999_999], "offer_ids": [999_999]}
            ),
        )
    with pytest.raises(ValueError, match="wave 'late' must lie within"):
        campaign_in(1, 1, waves=[{"name": "late", "start": "2027-01-01", "end": "2027-01-02"}])
    with pytest.raises(ValueError, match="a channel is listed twice"):
        campaign_in(1, 1, channels=["sms", "sms"])


def test_an_approver_sees_what_changed_since_the_last_submitted_version(
    session: Session, people: dict[str, User], draft_in: CampaignCreate
) -> None:
    campaign = service.create(session, campaign_in=draft_in, by=people["maker"])
    assert service.changes(session, campaign)["version"] is None
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    first = service.changes(session, campaign)
    assert (first["version"], first["previous"]) == (1, None)
    assert first["changed"]["control_share"] == {"from": None, "to": 0.1}
    with pytest.raises(service.CampaignError, match="only a draft can"):
        service.update(session, campaign, campaign_in=draft_in, by=people["maker"])
    service.move(session, campaign, to=Status.REJECTED, by=people["checker"], comment="too wide")
    service.move(session, campaign, to=Status.DRAFT, by=people["maker"])
    edited = draft_in.model_copy(update={"control_share": 0.2, "priority": 70})
    with pytest.raises(service.CampaignError, match="only maker, its maker"):
        service.update(session, campaign, campaign_in=edited, by=people["other"])
    service.update(session, campaign, campaign_in=edited, by=people["maker"])
    service.move(session, campaign, to=Status.SUBMITTED, by=people["maker"])
    second = service.changes(session, campaign)
    assert (second["version"], second["previous"]) == (2, 1)
    assert second["changed"] == {
        "control_share": {"from": 0.1, "to": 0.2},
        "priority": {"from": 50, "to": 70},
    }
