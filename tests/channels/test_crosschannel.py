"""Cross-channel rules (R-CHAN-4, R-CHAN-5): an outcome on one channel cancels or keeps the
same campaign's pending contacts of the subscriber on the others, as the rules say; a
channel's screen shows the contacts of other channels whose topic the rules let it see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from steward.auth.models import AuditEntry, Role, User
from steward.channels import crosschannel, outbound
from steward.channels.crosschannel import Action, Outcome, RulesError, Topic
from steward.channels.orders import SimulatedOrderCentre
from steward.channels.service import process_replies
from steward.channels.sms import SimulatedSmsCentre
from steward.channels.workorders import CallResult, WorkOrderStatus
from steward.contacts import service as ledger
from steward.offers.models import Channel, Offer
from tests.channels.test_outbound import (
    DAY,
    NOW,
    assigned_to,
    data_pack,
    order_of,
    reserve,
    trail,
    user,
)

CUSTOMER, NEIGHBOUR = "13800000001", "13800000002"


def contact(
    session: Session,
    msisdn: str,
    *,
    channel: str,
    campaign_id: int = 1,
    states: tuple[str, ...] = ("reserved",),
    kind: str = "marketing",
    offer_id: int | None = None,
    arm: str = "target",
) -> str:
    """A contact of ``campaign_id`` through ``states``; its key."""
    key = f"{DAY}:{campaign_id}:{channel}:{msisdn}"
    row = {
        "contact_key": key,
        "day": DAY,
        "msisdn": msisdn,
        "campaign_id": campaign_id,
        "kind": kind,
        "offer_id": offer_id,
        "category": None,
        "exclusion_group": None,
        "channel": channel,
        "arm": arm,
        "source": "test",
    }
    ledger.append(session, [row | {"state": state} for state in states])
    return key


def admin(session: Session) -> User:
    return user(session, "root", Role.SYSTEM_ADMIN, "province")


def everything(session: Session) -> dict[tuple[str, str], str]:
    rules = crosschannel.current(session)
    return {
        (c.value, o.value): rules.action(c, o).value
        for c, outcomes in crosschannel.OUTCOMES.items()
        for o in outcomes
    }


def offer(session: Session, code: str, offer_type: str, category: str) -> Offer:
    made = Offer(
        code=code,
        name_zh=code,
        name_en=code,
        billing_product_id=f"P_{code}",
        offer_type=offer_type,
        category=category,
        price=10,
        cost=1,
        commission=1,
        channel_fit={},
        scripts={},
        created_by="test",
    )
    session.add(made)
    session.flush()
    return made


def test_the_defaults_say_what_r_chan_4_and_5_say(session: Session) -> None:
    rules = crosschannel.current(session)
    for channel in (Channel.OUTBOUND, Channel.INBOUND, Channel.HALL):
        for topic in (Topic.PLAN_CHANGE, Topic.VAS, Topic.DATA_PACK):
            assert rules.shows(topic, channel)
        for topic in (Topic.CARE, Topic.RETENTION):
            assert not rules.shows(topic, channel)
    for outcome in (Outcome.ACCEPTED, Outcome.ORDERED, Outcome.REJECTED):
        assert rules.action(Channel.OUTBOUND, outcome) is Action.CANCEL
    for outcome in (Outcome.NOT_REACHED, Outcome.CALL_BACK, Outcome.CONSIDERING):
        assert rules.action(Channel.OUTBOUND, outcome) is Action.KEEP


def test_an_accepted_call_cancels_the_campaigns_sms_and_app_contacts_releasing_their_units(
    session: Session,
) -> None:
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    sms = contact(session, CUSTOMER, channel="sms")
    app = contact(session, CUSTOMER, channel="app")
    assert {"sms", "app"} <= set(
        ledger.holding_units(session, since=DAY, msisdn=CUSTOMER).column("channel").to_pylist()
    )

    outbound.record_result(session, order_of(session, called).id, by=agent, result="accepted")

    rule = "cross-channel rule: outbound accepted"
    assert trail(session, sms) == [("reserved", None), ("cancelled", rule)]
    assert trail(session, app) == [("reserved", None), ("cancelled", rule)]
    left = ledger.holding_units(session, since=DAY, msisdn=CUSTOMER)
    assert set(left.column("channel").to_pylist()) == {"outbound"}


def test_a_call_not_reached_or_to_call_back_keeps_the_other_channels(session: Session) -> None:
    agent = user(session, "agent1")
    first, second = assigned_to(session, agent, CUSTOMER, NEIGHBOUR)
    sms_first = contact(session, CUSTOMER, channel="sms")
    sms_second = contact(session, NEIGHBOUR, channel="sms")

    outbound.record_result(
        session, order_of(session, first).id, by=agent, result="failed", reason="no answer"
    )
    outbound.record_result(
        session, order_of(session, second).id, by=agent, result=CallResult.CONSIDERING
    )

    assert ledger.states_of(session, sms_first) == ["reserved"]
    assert ledger.states_of(session, sms_second) == ["reserved"]


def test_other_campaigns_other_subscribers_the_control_arm_and_sent_sms_are_untouched(
    session: Session,
) -> None:
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    other_campaign = contact(session, CUSTOMER, channel="sms", campaign_id=2)
    other_subscriber = contact(session, NEIGHBOUR, channel="sms")
    control = contact(session, CUSTOMER, channel="app", states=("held_back",), arm="control")
    already_out = contact(session, CUSTOMER, channel="sms", states=("reserved", "sent"))

    outbound.record_result(
        session, order_of(session, called).id, by=agent, result="rejected", reason="no need"
    )

    assert ledger.states_of(session, other_campaign) == ["reserved"]
    assert ledger.states_of(session, other_subscriber) == ["reserved"]
    assert ledger.states_of(session, control) == ["held_back"]
    assert ledger.states_of(session, already_out) == ["reserved", "sent"]


def test_a_rule_changed_to_keep_keeps(session: Session) -> None:
    wanted = everything(session) | {("outbound", "accepted"): "keep"}
    crosschannel.save(
        session,
        shown=[],
        actions=wanted,
        by=admin(session),
        reason="the SMS reminder helps",
    )
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    sms = contact(session, CUSTOMER, channel="sms")

    outbound.record_result(session, order_of(session, called).id, by=agent, result="accepted")

    assert ledger.states_of(session, sms) == ["reserved"]


def test_an_sms_order_withdraws_the_open_outbound_call_and_repeating_changes_nothing(
    session: Session,
) -> None:
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    replied = contact(
        session, CUSTOMER, channel="sms", states=("reserved", "sent", "delivered", "answered")
    )
    assert order_of(session, called).status == WorkOrderStatus.ASSIGNED.value

    assert crosschannel.apply_outcome(session, contact_key=replied, outcome=Outcome.ORDERED) == 1
    assert crosschannel.apply_outcome(session, contact_key=replied, outcome=Outcome.ORDERED) == 0

    assert [s for s, _ in trail(session, called)] == ["reserved", "sent", "cancelled"]
    withdrawn = order_of(session, called)
    assert withdrawn.status == WorkOrderStatus.CLOSED.value
    assert withdrawn.reason == "withdrawn, cross-channel rule: sms ordered"
    assert outbound.open_orders_of(session, agent.username) == []
    left = ledger.holding_units(session, since=DAY, msisdn=CUSTOMER)
    assert left.column("channel").to_pylist() == ["sms"]  # the call's unit is back


def test_a_yes_by_sms_after_a_call_back_withdraws_the_call_back_but_keeps_its_unit(
    session: Session,
) -> None:
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    replied = contact(
        session, CUSTOMER, channel="sms", states=("reserved", "sent", "delivered", "answered")
    )
    first = order_of(session, called)
    outbound.record_result(
        session,
        first.id,
        by=agent,
        result=CallResult.CALL_BACK,
        callback_at=NOW + timedelta(days=1),
        now=NOW,
    )
    assert outbound.open_orders_of(session, agent.username) == [order_of(session, called, 2)]

    assert crosschannel.apply_outcome(session, contact_key=replied, outcome=Outcome.ACCEPTED) == 0

    # the customer was reached by the call: too late to cancel, the unit stays taken
    assert [s for s, _ in trail(session, called)] == ["reserved", "sent", "answered", "planned"]
    call_back = order_of(session, called, 2)
    assert call_back.status == WorkOrderStatus.CLOSED.value
    assert call_back.reason == "withdrawn, cross-channel rule: sms accepted"
    assert outbound.open_orders_of(session, agent.username) == []
    left = ledger.holding_units(session, since=DAY, msisdn=CUSTOMER)
    assert sorted(left.column("channel").to_pylist()) == ["outbound", "sms"]


def test_a_call_back_under_a_cancel_rule_cancels_the_others_and_keeps_its_own_order(
    session: Session,
) -> None:
    wanted = everything(session) | {("outbound", "call_back"): "cancel"}
    crosschannel.save(
        session, shown=[], actions=wanted, by=admin(session), reason="a call-back is enough"
    )
    agent = user(session, "agent1")
    (called,) = assigned_to(session, agent, CUSTOMER)
    sms = contact(session, CUSTOMER, channel="sms")

    outbound.record_result(
        session,
        order_of(session, called).id,
        by=agent,
        result=CallResult.CALL_BACK,
        callback_at=NOW + timedelta(hours=3),
        now=NOW,
    )

    assert trail(session, sms) == [
        ("reserved", None),
        ("cancelled", "cross-channel rule: outbound call_back"),
    ]
    assert [s for s, _ in trail(session, called)][-2:] == ["answered", "planned"]
    assert outbound.open_orders_of(session, agent.username) == [order_of(session, called, 2)]


def test_sms_replies_reach_the_other_channels_in_one_statement_whatever_their_number(
    session: Session,
) -> None:
    numbers = [f"1390000{n:04d}" for n in range(5)]
    for number in numbers:
        contact(session, number, channel="sms", states=("reserved", "sent"))
    calls = reserve(session, *numbers)
    centre = SimulatedSmsCentre(failure_share=0.0)
    for number in numbers:
        centre.reply(session, number, "不要")
    cancelling: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if statement.startswith("INSERT INTO contact_event") and "SELECT" in statement:
            cancelling.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        process_replies(session, centre, SimulatedOrderCentre())
    finally:
        event.remove(connection, "before_cursor_execute", count)

    assert len(cancelling) == 1
    assert all(ledger.states_of(session, k) == ["reserved", "cancelled"] for k in calls)


def test_an_accepted_call_that_orders_cancels_once(session: Session) -> None:
    agent = user(session, "agent1")
    pack = data_pack(session)
    (called,) = assigned_to(session, agent, CUSTOMER, offer_id=pack.id)
    sms = contact(session, CUSTOMER, channel="sms", offer_id=pack.id)

    outbound.record_result(
        session,
        order_of(session, called).id,
        by=agent,
        result="accepted",
        orders=SimulatedOrderCentre(),
    )

    assert [s for s, _ in trail(session, called)][-2:] == ["answered", "ordered"]
    assert [s for s, _ in trail(session, sms)] == ["reserved", "cancelled"]


def test_many_outcomes_are_applied_in_one_call(session: Session) -> None:
    numbers = [f"1390000{n:04d}" for n in range(30)]
    replies = [
        contact(session, n, channel="sms", states=("reserved", "sent", "answered")) for n in numbers
    ]
    calls = reserve(session, *numbers)

    cancelled = crosschannel.apply_outcomes(session, [(k, Outcome.REJECTED) for k in replies])

    assert cancelled == 30
    assert all(ledger.states_of(session, k)[-1] == "cancelled" for k in calls)


def test_history_shows_the_topics_the_rules_let_a_channel_see(session: Session) -> None:
    data = offer(session, "DATA1", "data_pack", "data")
    retention = offer(session, "KEEP1", "vas", "retention")
    birthday = offer(session, "BDAY1", "care", "care")
    contact(session, CUSTOMER, channel="sms", states=("reserved", "sent"), offer_id=data.id)
    contact(
        session,
        CUSTOMER,
        channel="outbound",
        campaign_id=2,
        states=("reserved", "sent", "answered"),
    )  # no offer: no topic, never shown
    contact(session, CUSTOMER, channel="sms", campaign_id=3, offer_id=retention.id)
    contact(session, CUSTOMER, channel="sms", campaign_id=4, kind="care", offer_id=birthday.id)
    contact(session, CUSTOMER, channel="hall", campaign_id=5, offer_id=data.id)
    contact(session, NEIGHBOUR, channel="sms", campaign_id=6, offer_id=data.id)

    seen = crosschannel.shared_history(session, CUSTOMER, Channel.HALL)

    assert [(c.channel, c.offer_code, c.state) for c in seen] == [("sms", "DATA1", "sent")]
    assert [c.topic for c in crosschannel.shared_history(session, CUSTOMER, "outbound")] == [
        "data_pack",
        "data_pack",
    ]
    assert crosschannel.shared_history(session, CUSTOMER, Channel.SMS) == []

    crosschannel.save(
        session,
        shown=[("care", "hall"), ("data_pack", "hall")],
        actions=everything(session),
        by=admin(session),
        reason="clerks greet customers on their birthday",
    )
    topics = {c.topic for c in crosschannel.shared_history(session, CUSTOMER, Channel.HALL)}
    assert topics == {"care", "data_pack"}


def test_a_save_is_all_or_nothing_audited_and_for_the_administrator_only(
    session: Session,
) -> None:
    root = admin(session)
    before = crosschannel.current(session)
    bad = everything(session) | {("outbound", "not_reached"): "delete"}
    with pytest.raises(RulesError) as refused:
        crosschannel.save(session, shown=[("care", "hall")], actions=bad, by=root, reason="x")
    assert refused.value.field == "rule:outbound:not_reached"
    with pytest.raises(RulesError) as no_reason:
        crosschannel.save(session, shown=[], actions=everything(session), by=root, reason=" ")
    assert no_reason.value.field == "reason"
    with pytest.raises(RulesError):
        crosschannel.save(
            session,
            shown=[],
            actions=everything(session),
            by=user(session, "planner1", Role.PLANNER),
            reason="mine",
        )
    assert crosschannel.current(session) == before

    changes = crosschannel.save(
        session,
        shown=[("care", "hall")],
        actions=everything(session) | {("sms", "rejected"): "keep"},
        by=root,
        reason="a no by SMS is no reason to stop a call",
    )

    assert {"topic": "care", "channel": "hall", "from": False, "to": True} in changes["visibility"]
    assert changes["outcomes"] == [
        {"channel": "sms", "outcome": "rejected", "from": "cancel", "to": "keep"}
    ]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "channels.crosschannel.rules")
    ).one()
    assert (entry.actor, entry.comment) == ("root", "a no by SMS is no reason to stop a call")
    assert crosschannel.current(session).action(Channel.SMS, Outcome.REJECTED) is Action.KEEP
