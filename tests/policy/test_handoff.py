"""The second check at hand-off (R-POL-4): units spent since the plan, opt-outs since."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.lake.service import Lake
from steward.policy import handoff
from steward.policy.config import Policy, load_policy
from steward.policy.models import ChannelOptOut
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from tests.tags import factories as f

DAY = date(2026, 12, 2)


@pytest.fixture
def catalogue() -> TagCatalogue:
    return tags.load_catalogue()


@pytest.fixture
def policy(catalogue: TagCatalogue) -> Policy:
    return load_policy(catalogue)


@pytest.fixture
def snapshot(session: Session, lake: Lake, catalogue: TagCatalogue) -> None:
    people = [f.profile(f"1380000000{n}", brand="gotone") for n in range(1, 4)]
    f.publish(session, lake, "profile", date(2026, 11, 30), people)
    tags.refresh(session, lake, catalogue, date(2026, 12, 1))


def unit(key: str, msisdn: str, *, kind: str = "marketing", day: date = DAY) -> dict[str, Any]:
    return {
        "contact_key": key,
        "state": "reserved",
        "day": day,
        "msisdn": msisdn,
        "campaign_id": 1,
        "kind": kind,
        "offer_id": 1,
        "category": "data",
        "exclusion_group": None,
        "channel": "sms",
        "arm": "target",
        "source": "test",
    }


def test_a_contact_over_its_cap_or_opted_out_since_the_plan_is_stopped(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, snapshot: None
) -> None:
    # GoTone: 3 SMS a month. The first number holds four units (one spent online since).
    rows = [unit(f"a{n}", "13800000001", day=date(2026, 12, 1)) for n in range(3)]
    rows += [unit("due-a", "13800000001"), unit("due-b", "13800000002")]
    rows += [unit("due-c", "13800000003", kind="care")]
    rows += [unit(f"c{n}", "13800000003", kind="care") for n in range(5)]
    ledger.append(session, rows)
    session.add(ChannelOptOut(msisdn="13800000002", channel="sms", source="sms-reply"))
    session.flush()
    due = [r for r in rows if r["contact_key"].startswith("due")]
    stopped = handoff.recheck(session, lake, catalogue, policy, day=DAY, contacts=due)
    assert stopped == {
        "due-a": "cap.sms at hand-off",
        "due-b": "dnd.optout_channel at hand-off",
    }  # care is not capped: due-c goes


def test_a_contact_within_its_caps_goes(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, snapshot: None
) -> None:
    rows = [unit("a1", "13800000001", day=date(2026, 12, 1)), unit("due-a", "13800000001")]
    ledger.append(session, rows)
    assert handoff.recheck(session, lake, catalogue, policy, day=DAY, contacts=rows[1:]) == {}
