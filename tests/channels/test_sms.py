"""The SMS loop through the ledger: send, receipts, replies, orders and opt-outs."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.campaigns.models import Status
from steward.channels.models import BillingOrder, InboundSms, SmsMessage
from steward.channels.orders import SimulatedOrderCentre
from steward.channels.service import (
    Outcome,
    collect_receipts,
    process_replies,
    render_sms,
    send_due_sms,
)
from steward.channels.sms import SimulatedSmsCentre
from steward.contacts.models import State
from steward.contacts.service import holding_units, states_of
from steward.db import utcnow
from steward.lake.service import Lake
from steward.offers.models import Offer
from steward.policy.config import QuietHours
from steward.policy.models import ChannelOptOut
from tests.channels.test_orders import DAY, campaign, contact, details, sample_offers

NOON = datetime.combine(DAY, time(12, 0))
QUIET = QuietHours(start=time(21, 30), end=time(8, 0))
MSISDN = "13800000001"


@pytest.fixture
def offers(session: Session, lake: Lake) -> dict[str, Offer]:
    return sample_offers(session, lake)


@pytest.fixture
def centre() -> SimulatedSmsCentre:
    return SimulatedSmsCentre(failure_share=0.0)


def send(session: Session, centre: SimulatedSmsCentre, *, now: datetime = NOON) -> tuple[int, int]:
    report = send_due_sms(session, centre, day=DAY, now=now, quiet=QUIET)
    return report.sent, report.cancelled


def messages(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SmsMessage)) or 0


def test_a_contact_goes_reserved_sent_delivered_answered_ordered(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session)
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=running.id)
    assert send(session, centre) == (1, 0)
    assert collect_receipts(session, centre) == 1
    centre.reply(session, MSISDN, "是")
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.ORDERED] == report.processed == 1
    assert states_of(session, key) == ["reserved", "sent", "delivered", "answered", "ordered"]
    assert details(session, key, State.ANSWERED) == ["accepted"]
    order = session.scalar(select(BillingOrder).where(BillingOrder.order_key == key))
    assert order is not None
    assert details(session, key, State.ORDERED) == [order.reference]


def test_the_text_is_the_offers_template_filled_in(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    contact(session, "k1", offer=offers["DP5G"], campaign_id=campaign(session).id)
    send(session, centre)
    sms = session.scalar(select(SmsMessage))
    assert sms is not None
    assert sms.text == "回复KT5G订购5GB流量包，20元，尾号0001"
    assert render_sms(offers["DP10G"], MSISDN) == (
        "尊敬的客户，您本月流量使用较多，回复KT10G即可订购10GB流量包，30元/月。"
    )


def test_a_failed_delivery_gives_the_cap_unit_back(
    session: Session, offers: dict[str, Offer]
) -> None:
    failing = SimulatedSmsCentre(failure_share=1.0)
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, failing)
    assert MSISDN in holding_units(session, since=DAY).column("msisdn").to_pylist()
    assert collect_receipts(session, failing) == 1
    assert details(session, key, State.FAILED) == ["unreachable"]
    assert MSISDN not in holding_units(session, since=DAY).column("msisdn").to_pylist()


def test_sending_again_sends_nothing_new(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session)
    for n in range(3):
        contact(session, f"k{n}", offer=offers["DP10G"], campaign_id=running.id, msisdn=f"1380{n}")
    assert send(session, centre) == (3, 0)
    assert send(session, centre) == (0, 0)
    assert messages(session) == 3
    assert details(session, "k0", State.SENT) == [
        session.scalar(select(SmsMessage.message_id).where(SmsMessage.contact_key == "k0"))
    ]


def test_a_submission_repeated_after_a_crash_returns_the_first_message(
    session: Session, centre: SimulatedSmsCentre
) -> None:
    first = centre.submit(session, contact_key="k1", msisdn=MSISDN, text="hello")
    again = centre.submit(session, contact_key="k1", msisdn=MSISDN, text="hello")
    assert again == first
    assert messages(session) == 1


def test_receipts_read_twice_are_recorded_once(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, centre)
    assert collect_receipts(session, centre) == 1
    assert collect_receipts(session, centre) == 0
    assert states_of(session, key) == ["reserved", "sent", "delivered"]


def test_replying_twice_orders_once(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, centre)
    orders = SimulatedOrderCentre()
    centre.reply(session, MSISDN, "Y")
    centre.reply(session, MSISDN, "ｙｅｓ")
    first = process_replies(session, centre, orders)
    centre.reply(session, MSISDN, "KT10G")
    second = process_replies(session, centre, orders)
    assert (first[Outcome.ORDERED], first[Outcome.UNMATCHED]) == (1, 1)
    assert second[Outcome.UNMATCHED] == 1
    assert details(session, key, State.ANSWERED) == ["accepted"]
    assert len(details(session, key, State.ORDERED)) == 1
    assert session.scalar(select(func.count()).select_from(BillingOrder)) == 1


def test_a_paused_campaigns_contacts_are_cancelled_never_sent(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    paused = campaign(session, status=Status.PAUSED, name="paused")
    running = campaign(session, name="running")
    held = contact(session, "k1", offer=offers["DP10G"], campaign_id=paused.id)
    contact(session, "k2", offer=offers["DP10G"], campaign_id=running.id, msisdn="13800000002")
    assert send(session, centre) == (1, 1)
    assert states_of(session, held) == ["reserved", "cancelled"]
    assert details(session, held, State.CANCELLED) == ["campaign paused"]
    assert session.scalar(select(SmsMessage.contact_key)) == "k2"
    assert MSISDN not in holding_units(session, since=DAY).column("msisdn").to_pylist()


def test_quiet_hours_send_nothing_and_say_when_sending_resumes(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    late = datetime.combine(DAY, time(22, 15))
    report = send_due_sms(session, centre, day=DAY, now=late, quiet=QUIET)
    assert (report.sent, report.waiting) == (0, 1)
    assert report.resume_at == datetime.combine(DAY + timedelta(days=1), time(8, 0))
    early = send_due_sms(session, centre, day=DAY, now=late.replace(hour=3), quiet=QUIET)
    assert early.resume_at == datetime.combine(DAY, time(8, 0))
    assert messages(session) == 0
    assert states_of(session, key) == ["reserved"]
    assert send(session, centre, now=datetime.combine(DAY, time(8, 0))) == (1, 0)


def test_only_target_sms_contacts_of_the_day_are_sent(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session).id
    dp = offers["DP10G"]
    contact(session, "control", offer=dp, campaign_id=running, arm="control")
    contact(session, "call", offer=dp, campaign_id=running, channel="outbound")
    contact(session, "tomorrow", offer=dp, campaign_id=running, day=DAY + timedelta(days=1))
    contact(session, "planned", offer=dp, campaign_id=running, state=State.PLANNED)
    contact(session, "due", offer=dp, campaign_id=running)
    assert send(session, centre) == (1, 0)
    assert session.scalar(select(SmsMessage.contact_key)) == "due"


def test_an_offer_without_an_sms_text_is_cancelled(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["FAMSHARE"], campaign_id=campaign(session).id)
    assert send(session, centre) == (0, 1)
    assert details(session, key, State.CANCELLED) == ["no sms text"]


def test_an_unsubscribe_lands_in_the_opt_out_list(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, centre)
    centre.reply(session, MSISDN, "TD")
    centre.reply(session, "13999999999", "退订")  # no contact: still honoured
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.UNSUBSCRIBED] == 2
    assert details(session, key, State.ANSWERED) == ["unsubscribed"]
    opted = session.execute(select(ChannelOptOut.msisdn, ChannelOptOut.channel)).all()
    assert sorted(opted) == [(MSISDN, "sms"), ("13999999999", "sms")]
    centre.reply(session, MSISDN, "0000")
    process_replies(session, centre, SimulatedOrderCentre())
    assert session.scalar(select(func.count()).select_from(ChannelOptOut)) == 2


def test_an_unmatched_reply_is_kept_as_unmatched(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, centre)
    centre.reply(session, MSISDN, "what is this?")
    centre.reply(session, "13999999999", "Y")
    centre.reply(session, MSISDN, "KT5G")  # an offer the subscriber was not sent
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.UNMATCHED] == report.processed == 3
    kept = session.scalars(select(InboundSms).order_by(InboundSms.id)).all()
    assert [(r.processed, r.outcome, r.contact_key) for r in kept] == [
        (True, "unmatched", None)
    ] * 3
    assert centre.replies(session) == []


def test_a_reply_code_answers_the_contact_of_its_offer(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session).id
    ten = contact(session, "k10", offer=offers["DP10G"], campaign_id=running)
    five = contact(session, "k5", offer=offers["DP5G"], campaign_id=running)
    send(session, centre)
    centre.reply(session, MSISDN, "kt 10g")
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.ORDERED] == 1
    assert states_of(session, ten)[-1] == "ordered"
    assert states_of(session, five) == ["reserved", "sent"]


def test_a_plain_yes_answers_the_newest_message(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session).id
    older = contact(session, "k10", offer=offers["DP10G"], campaign_id=running)
    newer = contact(session, "k5", offer=offers["DP5G"], campaign_id=running)
    send(session, centre)
    centre.reply(session, MSISDN, "1")
    process_replies(session, centre, SimulatedOrderCentre())
    assert states_of(session, newer)[-1] == "ordered"
    assert states_of(session, older) == ["reserved", "sent"]


def test_a_no_is_recorded_and_orders_nothing(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=campaign(session).id)
    send(session, centre)
    centre.reply(session, MSISDN, "不要")
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.REJECTED] == 1
    assert states_of(session, key)[-1] == "answered"
    assert details(session, key, State.ANSWERED) == ["rejected"]
    assert session.scalar(select(func.count()).select_from(BillingOrder)) == 0


def test_a_yes_to_a_care_message_records_the_rejected_order(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(session, "k1", offer=offers["BIRTHDAY"], campaign_id=campaign(session).id)
    send(session, centre)
    centre.reply(session, MSISDN, "好")
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.ORDER_REJECTED] == 1
    assert details(session, key, State.ANSWERED) == [
        "accepted",
        "order_rejected: no billing product to order",
    ]


def test_a_reply_to_a_message_older_than_a_week_is_unmatched(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    key = contact(
        session,
        "k1",
        offer=offers["DP10G"],
        campaign_id=None,
        state=State.SENT,
        at=utcnow() - timedelta(days=8),
    )
    centre.reply(session, MSISDN, "Y")
    report = process_replies(session, centre, SimulatedOrderCentre())
    assert report[Outcome.UNMATCHED] == 1
    assert states_of(session, key) == ["sent"]


def test_the_simulated_centre_fails_its_share_of_numbers_the_same_way_every_time() -> None:
    centre = SimulatedSmsCentre()
    numbers = [f"139{n:08d}" for n in range(20_000)]
    failing = [n for n in numbers if centre.fails(n)]
    assert 0.025 < len(failing) / len(numbers) < 0.035
    assert failing == [n for n in numbers if SimulatedSmsCentre().fails(n)]


def test_the_policys_second_look_stops_a_contact_at_hand_off(
    session: Session, offers: dict[str, Offer], centre: SimulatedSmsCentre
) -> None:
    running = campaign(session)
    stopped = contact(session, "k1", offer=offers["DP10G"], campaign_id=running.id)
    contact(session, "k2", offer=offers["DP10G"], campaign_id=running.id, msisdn="13800000002")

    def recheck(due: list[dict[str, Any]]) -> dict[str, str]:
        assert {c["contact_key"] for c in due} == {"k1", "k2"}
        return {"k1": "cap.sms at hand-off"}

    report = send_due_sms(session, centre, day=DAY, now=NOON, quiet=QUIET, recheck=recheck)
    assert (report.sent, report.cancelled) == (1, 1)
    assert details(session, stopped, State.CANCELLED) == ["cap.sms at hand-off"]
    assert MSISDN not in holding_units(session, since=DAY).column("msisdn").to_pylist()
