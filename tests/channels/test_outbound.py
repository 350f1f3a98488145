"""Outbound work orders: queued per team within capacity, worked by agents, every result
written back to the contact ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.channels import outbound
from steward.channels.orders import SimulatedOrderCentre
from steward.channels.workorders import CallResult, OutboundTeam, WorkOrder
from steward.contacts import service as ledger
from steward.contacts.models import ContactEvent, State
from steward.offers.models import Offer

DAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
LANZHOU = {f"1380000000{n}": "lanzhou/chengguan" for n in range(10)}


def reserve(
    session: Session,
    *msisdns: str,
    day: date = DAY,
    channel: str = "outbound",
    arm: str = "target",
    offer_id: int | None = None,
) -> list[str]:
    """Reserved contacts of campaign 1, as the day's arbitration leaves them; their keys."""
    keys = [f"{day}:1:{channel}:{msisdn}" for msisdn in msisdns]
    rows = [
        {
            "contact_key": key,
            "day": day,
            "msisdn": msisdn,
            "campaign_id": 1,
            "kind": "marketing",
            "offer_id": offer_id,
            "category": "data",
            "exclusion_group": None,
            "channel": channel,
            "arm": arm,
            "state": "reserved",
            "source": "test",
        }
        for key, msisdn in zip(keys, msisdns, strict=True)
    ]
    ledger.append(session, rows)
    return keys


def trail(session: Session, contact_key: str) -> list[tuple[str, str | None]]:
    """The contact's (state, detail) pairs, oldest first."""
    query = (
        select(ContactEvent.state, ContactEvent.detail)
        .where(ContactEvent.contact_key == contact_key)
        .order_by(ContactEvent.id)
    )
    return [(state, detail) for state, detail in session.execute(query)]


def order_of(session: Session, contact_key: str, attempt: int = 1) -> WorkOrder:
    return session.scalars(
        select(WorkOrder).where(WorkOrder.contact_key == contact_key, WorkOrder.attempt == attempt)
    ).one()


def user(session: Session, name: str, role: Role = Role.AGENT, district: str = "lanzhou") -> User:
    return auth.create_user(
        session,
        username=name,
        password="correct horse battery",
        role=role,
        district=district,
        by="test",
    )


def team(session: Session, name: str, district: str, capacity: int = 10) -> OutboundTeam:
    return outbound.create_team(session, name=name, district=district, daily_capacity=capacity)


def queue(session: Session, districts: dict[str, str] | None = None) -> outbound.QueueReport:
    return outbound.queue_due_contacts(
        session, day=DAY, now=NOW, districts=LANZHOU if districts is None else districts
    )


def assigned_to(session: Session, agent: User, *msisdns: str, **reserve_args: Any) -> list[str]:
    """Contacts queued for a Lanzhou team and on ``agent``'s list; their keys."""
    keys = reserve(session, *msisdns, **reserve_args)
    lanzhou = session.scalar(select(OutboundTeam).where(OutboundTeam.district == "lanzhou"))
    lanzhou = lanzhou or team(session, "lanzhou", "lanzhou")
    queue(session)
    outbound.assign(session, team_id=lanzhou.id, agents=[agent.username], now=NOW)
    return keys


def data_pack(session: Session) -> Offer:
    """An offer with a billing product, so an order of it is accepted."""
    offer = Offer(
        code="DP5G",
        name_zh="5GB流量包",
        name_en="5 GB pack",
        billing_product_id="DP_5GB_20",
        offer_type="data_pack",
        category="data",
        price=20,
        cost=2,
        commission=1,
        channel_fit={"outbound": 1},
        scripts={},
        created_by="test",
    )
    session.add(offer)
    session.flush()
    return offer


def holding(session: Session) -> set[str]:
    return set(ledger.holding_units(session, since=DAY).column("msisdn").to_pylist())


def test_a_team_takes_its_daily_capacity_and_the_excess_is_cancelled_releasing_the_unit(
    session: Session,
) -> None:
    team(session, "lanzhou", "lanzhou", capacity=2)
    first, second, third = reserve(session, "13800000001", "13800000002", "13800000003")

    report = queue(session)

    assert (report.queued, report.over_capacity, report.not_queued) == (2, 1, {})
    assert trail(session, first) == [
        ("reserved", None),
        ("sent", f"work order {order_of(session, first).id}"),
    ]
    assert trail(session, second)[-1][0] == "sent"
    assert trail(session, third) == [("reserved", None), ("cancelled", "team capacity")]
    assert holding(session) == {"13800000001", "13800000002"}


def test_the_most_specific_team_whose_district_holds_the_subscriber_calls(
    session: Session,
) -> None:
    province = team(session, "province", "province")
    city = team(session, "lanzhou", "lanzhou")
    county = team(session, "chengguan", "lanzhou/chengguan")
    keys = reserve(session, "13800000001", "13800000002", "13800000003")
    districts = {
        "13800000001": "lanzhou/chengguan",
        "13800000002": "lanzhou/qilihe",
        "13800000003": "tianshui/qinzhou",
    }

    assert queue(session, districts).queued == 3

    teams = [order_of(session, key).team_id for key in keys]
    assert teams == [county.id, city.id, province.id]


def test_teams_of_one_district_fill_in_turn_before_contacts_are_cancelled(
    session: Session,
) -> None:
    first = team(session, "lanzhou a", "lanzhou", capacity=1)
    second = team(session, "lanzhou b", "lanzhou", capacity=1)
    keys = reserve(session, "13800000001", "13800000002", "13800000003")

    assert queue(session).over_capacity == 1

    assert [order_of(session, k).team_id for k in keys[:2]] == [first.id, second.id]


def test_contacts_without_a_team_or_a_district_wait_reserved_and_are_reported(
    session: Session,
) -> None:
    team(session, "lanzhou", "lanzhou")
    _, uncovered, unknown = reserve(session, "13800000001", "13900000002", "13900000003")
    districts = {"13800000001": "lanzhou", "13900000002": "tianshui"}

    report = queue(session, districts)

    assert report.queued == 1
    assert report.not_queued == {"no team covers tianshui": 1, "no district known": 1}
    assert ledger.states_of(session, uncovered) == ["reserved"]
    assert ledger.states_of(session, unknown) == ["reserved"]
    team(session, "tianshui", "tianshui")
    assert queue(session, districts).queued == 1  # once a team covers it, it is queued


def test_only_the_days_reserved_outbound_target_contacts_are_queued(session: Session) -> None:
    team(session, "lanzhou", "lanzhou")
    (wanted,) = reserve(session, "13800000001")
    reserve(session, "13800000002", arm="control")
    reserve(session, "13800000003", channel="sms")
    reserve(session, "13800000004", day=DAY + timedelta(days=1))
    (withdrawn,) = reserve(session, "13800000005")
    ledger.follow_up(session, withdrawn, state=State.CANCELLED, source="test")

    assert queue(session).queued == 1

    assert session.scalars(select(WorkOrder.contact_key)).all() == [wanted]


def test_running_the_queue_again_queues_nobody_twice_and_counts_the_days_capacity(
    session: Session,
) -> None:
    team(session, "lanzhou", "lanzhou", capacity=2)
    reserve(session, "13800000001")
    assert queue(session).queued == 1
    assert queue(session).queued == 0

    reserve(session, "13800000002", "13800000003")
    report = queue(session)

    assert (report.queued, report.over_capacity) == (1, 1)
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 2


def test_a_callable_looks_up_every_district_at_stake_at_once(session: Session) -> None:
    team(session, "lanzhou", "lanzhou")
    reserve(session, "13800000001", "13800000002")
    asked: list[list[str]] = []

    def lookup(msisdns: Sequence[str]) -> dict[str, str]:
        asked.append(sorted(msisdns))
        return dict.fromkeys(asked[-1], "lanzhou")

    report = outbound.queue_due_contacts(session, day=DAY, now=NOW, districts=lookup)

    assert report.queued == 2
    assert asked == [["13800000001", "13800000002"]]


def test_due_orders_are_assigned_to_the_agents_in_turn(session: Session) -> None:
    lanzhou = team(session, "lanzhou", "lanzhou")
    anna, bob = user(session, "anna"), user(session, "bob")
    keys = reserve(session, *(f"1380000000{n}" for n in range(5)))
    queue(session)

    before = outbound.assign(
        session, team_id=lanzhou.id, agents=["anna", "bob"], now=NOW - timedelta(minutes=1)
    )
    count = outbound.assign(session, team_id=lanzhou.id, agents=["anna", "bob"], now=NOW)

    assert (before, count) == (0, 5)  # nothing is due before it was queued
    assert [order_of(session, k).assigned_to for k in keys] == ["anna", "bob"] * 2 + ["anna"]
    assert [o.msisdn for o in outbound.open_orders_of(session, bob.username)] == [
        "13800000001",
        "13800000003",
    ]
    assert len(outbound.open_orders_of(session, anna.username)) == 3
    assert outbound.assign(session, team_id=lanzhou.id, agents=["anna"], now=NOW) == 0


def test_only_active_agents_inside_the_teams_district_are_assigned(session: Session) -> None:
    lanzhou = team(session, "lanzhou", "lanzhou")
    user(session, "tian", district="tianshui")
    user(session, "pat", role=Role.PLANNER)

    with pytest.raises(outbound.OutboundError) as refused:
        outbound.assign(session, team_id=lanzhou.id, agents=["tian", "pat", "nobody"], now=NOW)

    assert str(refused.value) == (
        "no active agent: 'pat', 'nobody'; outside the team's district lanzhou: 'tian' (tianshui)"
    )
    assert refused.value.field == "agents"


def test_an_agent_pulls_the_next_due_order_of_a_team_holding_their_district(
    session: Session,
) -> None:
    team(session, "lanzhou", "lanzhou")
    team(session, "tianshui", "tianshui")
    user(session, "chen", district="lanzhou/chengguan")
    first, second, elsewhere = reserve(session, "13800000001", "13800000002", "13900000003")
    queue(session, {**LANZHOU, "13900000003": "tianshui"})

    pulled = [outbound.next_for(session, "chen", NOW) for _ in range(3)]

    assert [o.contact_key if o else None for o in pulled] == [first, second, None]
    assert order_of(session, first).assigned_to == "chen"
    assert order_of(session, elsewhere).assigned_to is None


@pytest.mark.parametrize(
    ("result", "reason", "last"),
    [
        (CallResult.ACCEPTED, None, ("answered", "accepted")),
        (CallResult.REJECTED, "too expensive", ("answered", "rejected")),
        (CallResult.CONSIDERING, None, ("answered", "considering")),
        (CallResult.FAILED, "number unreachable", ("failed", "number unreachable")),
    ],
)
def test_a_result_closes_the_order_and_writes_the_ledger(
    session: Session, result: CallResult, reason: str | None, last: tuple[str, str]
) -> None:
    anna = user(session, "anna")
    (key,) = assigned_to(session, anna, "13800000001")

    order = outbound.record_result(
        session, order_of(session, key).id, by=anna, result=result, reason=reason, now=NOW
    )

    assert (order.status, order.result, order.reason) == ("closed", result.value, reason)
    assert [state for state, _ in trail(session, key)] == ["reserved", "sent", last[0]]
    assert trail(session, key)[-1] == last
    assert outbound.open_orders_of(session, "anna") == []
    released = result is CallResult.FAILED
    assert ("13800000001" not in holding(session)) is released


def test_an_accepted_call_orders_the_offer_when_an_order_centre_is_given(
    session: Session,
) -> None:
    offer = data_pack(session)
    anna = user(session, "anna")
    (key,) = assigned_to(session, anna, "13800000001", offer_id=offer.id)

    outbound.record_result(
        session,
        order_of(session, key).id,
        by=anna,
        result=CallResult.ACCEPTED,
        orders=SimulatedOrderCentre(),
        now=NOW,
    )

    assert [state for state, _ in trail(session, key)] == [
        "reserved",
        "sent",
        "answered",
        "ordered",
    ]


def test_a_call_back_makes_a_new_order_due_then_on_the_agents_list(session: Session) -> None:
    anna = user(session, "anna")
    (key,) = assigned_to(session, anna, "13800000001")
    thursday = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)

    first = outbound.record_result(
        session,
        order_of(session, key).id,
        by=anna,
        result=CallResult.CALL_BACK,
        callback_at=thursday,
        now=NOW,
    )

    again = order_of(session, key, attempt=2)
    assert first.status == "closed"
    assert (again.status, again.assigned_to, again.day) == ("assigned", "anna", thursday.date())
    assert again.due_at.replace(tzinfo=UTC) == thursday
    assert trail(session, key)[-2:] == [
        ("answered", "call_back"),
        ("planned", "call back 2026-12-10T15:00:00+00:00"),
    ]
    assert [o.id for o in outbound.open_orders_of(session, "anna")] == [again.id]
    outbound.record_result(session, again.id, by=anna, result=CallResult.ACCEPTED, now=thursday)
    assert trail(session, key)[-1] == ("answered", "accepted")


@pytest.mark.parametrize(
    ("result", "reason", "callback_at", "message"),
    [
        (CallResult.CALL_BACK, None, None, "callback_at in the future"),
        (CallResult.CALL_BACK, None, NOW - timedelta(hours=1), "callback_at in the future"),
        (CallResult.FAILED, "  ", None, "a failed call needs a reason"),
        (CallResult.REJECTED, "no", NOW + timedelta(days=1), "only with the result call_back"),
        (CallResult.REJECTED, "x" * 201, None, "at most 200 characters"),
    ],
)
def test_a_result_that_does_not_add_up_is_refused_and_the_order_stays_open(
    session: Session,
    result: CallResult,
    reason: str | None,
    callback_at: datetime | None,
    message: str,
) -> None:
    anna = user(session, "anna")
    (key,) = assigned_to(session, anna, "13800000001")
    order = order_of(session, key)

    with pytest.raises(outbound.OutboundError, match=message):
        outbound.record_result(
            session,
            order.id,
            by=anna,
            result=result,
            reason=reason,
            callback_at=callback_at,
            now=NOW,
        )

    assert order.status == "assigned"
    assert ledger.states_of(session, key) == ["reserved", "sent"]


def test_only_the_assigned_agent_or_an_administrator_records_a_result(session: Session) -> None:
    anna, bob = user(session, "anna"), user(session, "bob")
    admin = user(session, "root", role=Role.SYSTEM_ADMIN, district="province")
    first, second = assigned_to(session, anna, "13800000001", "13800000002")

    with pytest.raises(outbound.NotYourOrderError, match="not assigned to bob"):
        outbound.record_result(
            session,
            order_of(session, first).id,
            by=bob,
            result=CallResult.REJECTED,
            reason="too expensive",
            now=NOW,
        )
    done = outbound.record_result(
        session, order_of(session, second).id, by=admin, result=CallResult.CONSIDERING, now=NOW
    )

    assert done.status == "closed"
    assert order_of(session, first).status == "assigned"


def test_a_closed_order_refuses_a_second_result(session: Session) -> None:
    anna = user(session, "anna")
    (key,) = assigned_to(session, anna, "13800000001")
    order_id = order_of(session, key).id
    outbound.record_result(
        session, order_id, by=anna, result=CallResult.REJECTED, reason="too expensive", now=NOW
    )

    with pytest.raises(outbound.OutboundError, match="closed already with result rejected"):
        outbound.record_result(session, order_id, by=anna, result=CallResult.ACCEPTED, now=NOW)

    assert ledger.states_of(session, key) == ["reserved", "sent", "answered"]


def test_an_unknown_order_is_reported_by_its_id(session: Session) -> None:
    anna = user(session, "anna")
    with pytest.raises(outbound.UnknownWorkOrderError, match="no work order 999"):
        outbound.record_result(
            session, 999, by=anna, result=CallResult.REJECTED, reason="too expensive", now=NOW
        )


@pytest.mark.parametrize(
    ("name", "district", "capacity", "message"),
    [
        ("", "lanzhou", 5, "a name of 1-64"),
        ("x", "Lan Zhou", 5, "district 'Lan Zhou'"),
        ("x", "lanzhou", -1, "cannot be negative"),
        ("taken", "lanzhou", 5, "exists already"),
    ],
)
def test_a_team_needs_a_free_name_a_district_and_a_capacity(
    session: Session, name: str, district: str, capacity: int, message: str
) -> None:
    team(session, "taken", "province")
    with pytest.raises(outbound.OutboundError, match=message):
        team(session, name, district, capacity)


def test_teams_are_listed_by_district(session: Session) -> None:
    team(session, "b", "lanzhou")
    team(session, "a", "province")
    assert [t.name for t in outbound.teams(session)] == ["b", "a"]
