"""Outbound strategies (R-CHAN-7): each picks its subscribers set-based, the work orders
carry the strategy, and the team's capacity and the contact policy still hold."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.channels import outbound, strategies
from steward.channels.models import BillingOrder
from steward.channels.strategies import Context, Options, Strategy, StrategyError
from steward.channels.workorders import CallResult, WorkOrder, WorkOrderStatus
from steward.contacts import service as ledger
from steward.contacts.models import ContactEvent
from steward.lake.service import Lake
from steward.offers import service as offers_service
from steward.offers.models import Offer
from steward.policy.config import Policy, load_policy
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from tests.tags import factories as f

AS_OF = date(2026, 12, 1)
DAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ENDING = "13800000001"  # one-year contract ending in 10 days
LATER = "13800000002"  # one-year contract ending in 200 days
OPTED_OUT = "13800000003"  # ending soon, but opted out of outbound calls
ELSEWHERE = "13800000004"  # ending soon, in another city
LOYAL = "13800000005"  # no contract, family sharing paid monthly since 2024
NEWCOMER = "13800000006"  # no contract, family sharing since last month


@pytest.fixture
def catalogue() -> TagCatalogue:
    return tags.load_catalogue()


@pytest.fixture
def policy(catalogue: TagCatalogue) -> Policy:
    return load_policy(catalogue)


@pytest.fixture
def world(session: Session, lake: Lake, catalogue: TagCatalogue) -> None:
    """Six subscribers, the sample offers, and the profile and subscription snapshots."""
    f.publish(session, lake, "product", date(2026, 11, 30), [asdict(p) for p in CATALOGUE])
    offers_service.import_file(session, lake, catalogue, path=offers_service.SAMPLES, by="t")
    year = {"contract_type": "one_year", "payment_type": "postpaid"}
    people = [
        f.profile(ENDING, contract_end=AS_OF + timedelta(days=10), **year),
        f.profile(LATER, contract_end=AS_OF + timedelta(days=200), **year),
        f.profile(OPTED_OUT, contract_end=AS_OF + timedelta(days=5), optout_outbound=True, **year),
        f.profile(ELSEWHERE, contract_end=AS_OF + timedelta(days=5), city="tianshui", **year),
        f.profile(LOYAL, contract_type="monthly"),
        f.profile(NEWCOMER),
    ]
    f.publish(session, lake, "profile", date(2026, 11, 30), people)
    subscriptions = [
        f.subscription(LOYAL, "FAM_SHARE_10") | {"start_date": date(2024, 3, 1)},
        f.subscription(NEWCOMER, "FAM_SHARE_10") | {"start_date": date(2026, 11, 2)},
    ]
    f.publish(session, lake, "subscription", date(2026, 11, 30), subscriptions)
    tags.refresh(session, lake, catalogue, AS_OF)


def admin(session: Session, district: str = "province") -> User:
    return auth.create_user(
        session,
        username=f"boss-{district.replace('/', '-')}",
        password="correct horse battery",
        role=Role.SYSTEM_ADMIN,
        district=district,
        by="t",
    )


def context(session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy) -> Context:
    return Context(session, lake, catalogue, policy, DAY, NOW)


def orders(session: Session) -> list[WorkOrder]:
    return list(session.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def offer_code(session: Session, offer_id: int | None) -> str:
    offer = session.get(Offer, offer_id)
    assert offer is not None
    return offer.code


def test_annual_renewal_calls_contracts_ending_soon_with_an_annual_offer(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    team = outbound.create_team(session, name="lanzhou", district="lanzhou", daily_capacity=9)
    report = strategies.build_work_list(
        context(session, lake, catalogue, policy),
        team_id=team.id,
        strategy=Strategy.ANNUAL_RENEWAL,
        size=10,
        by=admin(session),
    )
    made = orders(session)
    # later: not ending; opted out: do-not-disturb; elsewhere: outside the team's city
    assert [o.msisdn for o in made] == [ENDING]
    assert (report.selected, report.queued, report.stopped_by_policy) == (1, 1, 0)
    assert offer_code(session, made[0].offer_id) == "FAMSHARE"  # 12 months, eligible
    assert made[0].campaign_id is None
    assert made[0].team_id == team.id
    assert strategies.strategy_of(session, [made[0].contact_key]) == {
        made[0].contact_key: Strategy.ANNUAL_RENEWAL
    }
    states = ledger.states_of(session, made[0].contact_key)
    assert states == ["reserved", "sent"]


def test_monthly_to_annual_calls_long_tenure_payers_of_a_product_with_an_annual_version(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    team = outbound.create_team(session, name="all", district="province", daily_capacity=9)
    report = strategies.build_work_list(
        context(session, lake, catalogue, policy),
        team_id=team.id,
        strategy=Strategy.MONTHLY_TO_ANNUAL,
        size=5,
        by=admin(session),
        options=Options(tenure_months=12),
    )
    made = orders(session)
    assert [o.msisdn for o in made] == [LOYAL]  # the newcomer holds it one month only
    assert offer_code(session, made[0].offer_id) == "FAMSHARE"  # sells FAM_SHARE_10 for 12
    assert report.queued == 1


def test_the_trial_strategies_say_the_province_delivers_no_trial_data(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    team = outbound.create_team(session, name="all", district="province", daily_capacity=9)
    for strategy in (Strategy.TRIAL_USERS, Strategy.TRIAL_CALLBACK):
        report = strategies.build_work_list(
            context(session, lake, catalogue, policy),
            team_id=team.id,
            strategy=strategy,
            size=5,
            by=admin(session) if strategy is Strategy.TRIAL_USERS else _boss(session),
        )
        assert report.queued == 0
        assert report.unavailable is not None
        assert "no trial data" in report.unavailable
    assert orders(session) == []


def _boss(session: Session) -> User:
    return session.scalars(select(User).where(User.username == "boss-province")).one()


def _reserve(session: Session, *msisdns: str) -> list[str]:
    offer = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
    rows: list[dict[str, Any]] = [
        {
            "contact_key": f"{DAY}:1:outbound:{m}",
            "day": DAY,
            "msisdn": m,
            "campaign_id": 1,
            "kind": "marketing",
            "offer_id": offer.id,
            "category": offer.category,
            "exclusion_group": offer.exclusion_group,
            "channel": "outbound",
            "arm": "target",
            "state": "reserved",
            "source": "test",
        }
        for m in msisdns
    ]
    ledger.append(session, rows)
    return [str(r["contact_key"]) for r in rows]


def test_direct_recommendation_queues_the_campaigns_planned_calls_within_capacity(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    keys = _reserve(session, LATER, NEWCOMER, LOYAL, ELSEWHERE)
    team = outbound.create_team(session, name="lanzhou", district="lanzhou", daily_capacity=2)
    agent = auth.create_user(
        session,
        username="caller",
        password="correct horse battery",
        role=Role.AGENT,
        district="lanzhou",
        by="t",
    )
    stop = {keys[0]: "cap.outbound at hand-off"}
    report = strategies.build_work_list(
        context(session, lake, catalogue, policy),
        team_id=team.id,
        strategy=Strategy.DIRECT,
        size=10,
        by=admin(session),
        agents=[agent.username],
        recheck=lambda due: {
            c["contact_key"]: stop[c["contact_key"]] for c in due if c["contact_key"] in stop
        },
    )
    made = orders(session)
    # capacity 2: the first is stopped by the policy, the next two queued; elsewhere waits
    assert [o.msisdn for o in made] == [NEWCOMER, LOYAL]
    assert (report.queued, report.stopped_by_policy, report.assigned) == (2, 1, 2)
    assert all(o.status == WorkOrderStatus.ASSIGNED.value for o in made)
    assert ledger.states_of(session, keys[0]) == ["reserved", "cancelled"]
    assert ledger.states_of(session, keys[3]) == ["reserved"]
    assert set(strategies.strategy_of(session, keys).values()) == {Strategy.DIRECT}
    # a call-back is a new order of the same contact: it keeps the strategy
    outbound.record_result(
        session,
        made[0].id,
        by=agent,
        result=CallResult.CALL_BACK,
        callback_at=NOW + timedelta(days=1),
        now=NOW,
    )
    again = orders(session)[-1]
    assert again.attempt == 2
    assert strategies.strategy_of(session, [again.contact_key])[again.contact_key] == "direct"


def test_a_work_list_respects_the_capacity_left_and_the_contact_policy(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    team = outbound.create_team(session, name="all", district="province", daily_capacity=0)
    report = strategies.build_work_list(
        context(session, lake, catalogue, policy),
        team_id=team.id,
        strategy=Strategy.ANNUAL_RENEWAL,
        size=10,
        by=admin(session),
    )
    assert (report.capacity_left, report.queued) == (0, 0)
    assert session.scalar(select(ContactEvent.id).limit(1)) is None  # nothing reserved


def test_bad_requests_name_the_field_and_leave_nothing(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    team = outbound.create_team(session, name="all", district="province", daily_capacity=9)
    ctx = context(session, lake, catalogue, policy)
    with pytest.raises(StrategyError, match="size"):
        strategies.build_work_list(
            ctx, team_id=team.id, strategy=Strategy.DIRECT, size=0, by=admin(session)
        )
    with pytest.raises(StrategyError, match="team"):  # a city supervisor, a province team
        strategies.build_work_list(
            ctx,
            team_id=team.id,
            strategy=Strategy.DIRECT,
            size=3,
            by=admin(session, "lanzhou"),
        )
    assert orders(session) == []


def test_annual_renewal_refuses_naming_an_offer_whose_rule_no_longer_fits_the_tags(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    famshare = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
    famshare.eligibility = "tag_dropped_since = 1"  # saved before the tag was retired
    session.flush()
    team = outbound.create_team(session, name="all", district="province", daily_capacity=9)

    with pytest.raises(StrategyError, match="FAMSHARE") as refused:
        strategies.build_work_list(
            context(session, lake, catalogue, policy),
            team_id=team.id,
            strategy=Strategy.ANNUAL_RENEWAL,
            size=5,
            by=admin(session),
        )
    assert refused.value.field == "strategy"
    assert orders(session) == []


def test_annual_renewal_renews_stewards_orders_whose_commitment_ends_soon(
    session: Session, lake: Lake, catalogue: TagCatalogue, policy: Policy, world: None
) -> None:
    famshare = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
    placed = {LOYAL: NOW - timedelta(days=355), NEWCOMER: NOW - timedelta(days=800)}
    session.add_all(
        BillingOrder(
            order_key=f"order-{msisdn}",
            msisdn=msisdn,
            billing_product_id=famshare.billing_product_id,
            offer_id=famshare.id,
            status="accepted",
            at=at,
        )
        for msisdn, at in placed.items()
    )
    session.flush()
    team = outbound.create_team(session, name="lanzhou", district="lanzhou", daily_capacity=9)

    strategies.build_work_list(
        context(session, lake, catalogue, policy),
        team_id=team.id,
        strategy=Strategy.ANNUAL_RENEWAL,
        size=5,
        by=admin(session),
    )

    # LOYAL's 12 months run out in 10 days; NEWCOMER's ended long ago and is not even read
    assert {o.msisdn for o in orders(session)} == {ENDING, LOYAL}
    read = strategies._commitments(session, [famshare], DAY, 30)
    assert read.column("msisdn").to_pylist() == [LOYAL]
