"""The SMS loop, all through the contact ledger: send the day's reserved contacts, apply
delivery receipts, turn replies into answers, orders and opt-outs (R-CHAN-8, R-POL-4).

Each step reads what is left to do from the ledger and writes its result there in the same
transaction, so a step that crashes half-way is simply run again: a contact is submitted
only while its latest state is ``reserved``, a receipt is applied only while it is ``sent``,
a reply is handled only once (``inbound_sms.processed``), and the order centre sees each
contact's order key once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from steward.campaigns.service import get as get_campaign
from steward.campaigns.service import may_reach_customers
from steward.channels import crosschannel
from steward.channels.models import InboundSms
from steward.channels.orders import OrderCentre, order_for_contact
from steward.channels.replies import ReplyKind, parse_reply
from steward.channels.sms import Receipt, SmsCentre
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import (
    CONTACT_FIELDS,
    SERVICE,
    append,
    follow_up,
    still_reserved,
)
from steward.db import utcnow
from steward.offers.models import Channel, Offer
from steward.offers.service import by_reply_code
from steward.offers.service import get as get_offer
from steward.policy.config import QuietHours
from steward.policy.models import ChannelOptOut

SMS = Channel.SMS.value
REPLY_WINDOW = timedelta(days=7)  # a reply answers a message sent at most this long ago
APPEND_EVERY = 1_000  # ledger rows written per INSERT while sending

# Renders an offer's SMS for a number; None when the offer has no text to send.
Render = Callable[[Offer, str], str | None]


def render_sms(offer: Offer, msisdn: str) -> str | None:
    """The offer's ``sms_zh`` template with its placeholders filled in."""
    if not offer.sms_zh:
        return None
    return offer.sms_zh.format(
        offer_name=offer.name_zh,
        price=f"{offer.price:g}",
        reply_code=offer.reply_code or "",
        msisdn_tail=msisdn[-4:],
    )


# The policy's second look before hand-off (policy/handoff.py): contact_key → reason to stop.
Recheck = Callable[[list[dict[str, Any]]], dict[str, str]]


@dataclass(frozen=True)
class SendReport:
    sent: int
    cancelled: int  # campaign no longer reaching customers, or no text to send
    waiting: int  # due but held by quiet hours
    resume_at: datetime | None  # when quiet hours end, if they hold now


def send_due_sms(
    session: Session,
    centre: SmsCentre,
    *,
    day: date,
    now: datetime,
    quiet: QuietHours | None,
    render: Render = render_sms,
    recheck: Recheck | None = None,
) -> SendReport:
    """Hand ``day``'s reserved SMS contacts (target arm) to the SMS centre.

    Contacts of a campaign that may no longer reach customers (paused, terminated, ...) are
    cancelled, which gives their cap units back. Inside quiet hours (``now`` is the
    subscribers' local time) nothing is sent and the report says when sending may resume.
    """
    due = still_reserved(session, day=day, channel=SMS, now=now)
    stopped = _stopped_campaigns(session, {c["campaign_id"] for c in due})
    cancelled = [
        _next(c, State.CANCELLED, stopped[c["campaign_id"]])
        for c in due
        if c["campaign_id"] in stopped
    ]
    append(session, cancelled)
    due = [c for c in due if c["campaign_id"] not in stopped]
    if quiet is not None and quiet.holds(now.time()):
        return SendReport(
            sent=0, cancelled=len(cancelled), waiting=len(due), resume_at=_quiet_end(now, quiet)
        )
    blocked = recheck(due) if recheck is not None else {}
    stopped_now = [c for c in due if c["contact_key"] in blocked]
    append(session, [_next(c, State.CANCELLED, blocked[c["contact_key"]]) for c in stopped_now])
    due = [c for c in due if c["contact_key"] not in blocked]
    sent, unsendable = _submit(session, centre, due, render)
    return SendReport(
        sent=sent, cancelled=len(cancelled) + len(blocked) + unsendable, waiting=0, resume_at=None
    )


def _stopped_campaigns(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    """The campaigns among ``ids`` that may no longer reach customers, with the reason."""
    stopped: dict[int | None, str] = {}
    for campaign_id in {i for i in ids if i is not None}:
        campaign = get_campaign(session, campaign_id)
        if campaign is None:
            stopped[campaign_id] = "campaign missing"
        elif not may_reach_customers(campaign):
            stopped[campaign_id] = f"campaign {campaign.status}"
    return stopped


def _submit(
    session: Session, centre: SmsCentre, due: list[dict[str, Any]], render: Render
) -> tuple[int, int]:
    """Submit each contact's text and append ``sent`` (or ``cancelled`` when the offer has
    no text); returns how many of each."""
    offers: dict[int, Offer | None] = {}
    rows: list[dict[str, Any]] = []
    sent = cancelled = 0
    for contact in due:
        text = _text(session, offers, render, contact)
        if text is None:
            rows.append(_next(contact, State.CANCELLED, "no sms text"))
            cancelled += 1
        else:
            message_id = centre.submit(
                session, contact_key=contact["contact_key"], msisdn=contact["msisdn"], text=text
            )
            rows.append(_next(contact, State.SENT, message_id, source="sms-send"))
            sent += 1
        if len(rows) >= APPEND_EVERY:
            append(session, rows)
            rows = []
    append(session, rows)
    return sent, cancelled


def _text(
    session: Session, offers: dict[int, Offer | None], render: Render, contact: Mapping[str, Any]
) -> str | None:
    if contact["kind"] == SERVICE:
        return str(contact.get("detail") or "") or None  # the notice's text, written at the event
    offer_id = contact["offer_id"]
    if offer_id is None:
        return None
    if offer_id not in offers:
        offers[offer_id] = get_offer(session, offer_id)
    offer = offers[offer_id]
    return None if offer is None else render(offer, contact["msisdn"])


def _quiet_end(now: datetime, quiet: QuietHours) -> datetime:
    end = datetime.combine(now.date(), quiet.end, tzinfo=now.tzinfo)
    return end if end > now else end + timedelta(days=1)


def _next(
    contact: Mapping[str, Any], state: State, detail: str | None, *, source: str = "sms"
) -> dict[str, Any]:
    row = {f: contact[f] for f in CONTACT_FIELDS}
    return row | {"state": state.value, "detail": detail, "source": source}


def collect_receipts(session: Session, centre: SmsCentre) -> int:
    """Record each delivery receipt as ``delivered`` or ``failed`` (detail: the reason).

    A ``failed`` contact gives its cap unit back; that is the whole reconcile (R-POL-4). A
    receipt is applied only to a contact still at ``sent`` with that message id: a receipt
    read twice, or one arriving after the subscriber already replied, changes nothing.
    """
    applied, since = 0, 0
    while batch := centre.receipts(session, since):
        applied += _apply(session, batch)
        if batch[-1].id <= since:
            break  # a centre that ignores the cursor must not loop for ever
        since = batch[-1].id
    return applied


def _apply(session: Session, receipts: Sequence[Receipt]) -> int:
    by_key = {r.contact_key: r for r in receipts}
    later = aliased(ContactEvent)
    query = select(*(getattr(ContactEvent, f) for f in CONTACT_FIELDS), ContactEvent.detail).where(
        ContactEvent.contact_key.in_(by_key),
        ContactEvent.state == State.SENT.value,
        ContactEvent.channel == SMS,
        ~exists().where(later.contact_key == ContactEvent.contact_key, later.id > ContactEvent.id),
    )
    rows = []
    for contact in map(dict, session.execute(query).mappings()):
        receipt = by_key[contact["contact_key"]]
        if contact["detail"] != receipt.message_id:
            continue
        state = State.DELIVERED if receipt.delivered else State.FAILED
        detail = None if receipt.delivered else (receipt.reason or "failed")
        rows.append(_next(contact, state, detail, source="sms-receipt"))
    return append(session, rows)


class Outcome(StrEnum):
    """What became of one inbound SMS (``inbound_sms.outcome``)."""

    ORDERED = "ordered"
    ORDER_REJECTED = "order_rejected"
    ACCEPTED = "accepted"  # a yes to a contact with nothing to order
    REJECTED = "rejected"
    UNSUBSCRIBED = "unsubscribed"
    UNMATCHED = "unmatched"


@dataclass
class ReplyReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def __getitem__(self, outcome: Outcome) -> int:
        return self.counts[outcome]

    @property
    def processed(self) -> int:
        return sum(self.counts.values())


def process_replies(session: Session, centre: SmsCentre, orders: OrderCentre) -> ReplyReport:
    """Turn each unprocessed reply into a ledger answer, an order or an opt-out.

    A reply answers the newest SMS contact of its number still at ``sent`` or ``delivered``
    and sent within ``REPLY_WINDOW``; a reply code picks, among those, the contact whose
    offer has that code. Yes → ``answered`` "accepted" and the order; no → ``answered``
    "rejected"; stop → ``answered`` "unsubscribed" and a ``channel_opt_out`` row, which is
    written even when no contact matches. Every reply is kept; one that matches nothing is
    marked "unmatched".
    """
    report = ReplyReport()
    answered: list[tuple[str, str]] = []
    for inbound in centre.replies(session):
        outcome, contact_key = _handle(session, orders, inbound)
        if contact_key is not None:
            answered.append((contact_key, outcome.value))
        inbound.processed = True
        inbound.processed_at = utcnow()
        inbound.outcome = outcome.value
        inbound.contact_key = contact_key
        report.counts[outcome] += 1
        session.flush()
    crosschannel.after_replies(session, answered)  # the other channels hear of it (R-CHAN-5)
    return report


def _handle(
    session: Session, orders: OrderCentre, inbound: InboundSms
) -> tuple[Outcome, str | None]:
    parsed = parse_reply(inbound.text)
    if parsed.kind is ReplyKind.UNKNOWN:
        return Outcome.UNMATCHED, None
    offer_id: int | None = None
    if parsed.kind is ReplyKind.CODE:
        offer = by_reply_code(session, parsed.code or "")
        if offer is None:
            return Outcome.UNMATCHED, None
        offer_id = offer.id
    contact = _replied_to(session, inbound, offer_id)
    if parsed.kind is ReplyKind.UNSUBSCRIBE:
        _opt_out(session, inbound.msisdn)
    if contact is None:
        unsubscribed = parsed.kind is ReplyKind.UNSUBSCRIBE
        return (Outcome.UNSUBSCRIBED if unsubscribed else Outcome.UNMATCHED), None
    key, has_offer = contact
    return _answer(session, orders, key, parsed.kind, has_offer), key


def _replied_to(
    session: Session, inbound: InboundSms, offer_id: int | None
) -> tuple[str, bool] | None:
    """The contact key a reply answers, and whether the contact names an offer."""
    later = aliased(ContactEvent)
    query = (
        select(ContactEvent.contact_key, ContactEvent.offer_id)
        .where(
            ContactEvent.msisdn == inbound.msisdn,
            ContactEvent.channel == SMS,
            ContactEvent.kind != SERVICE,  # a notice asks for no answer
            ContactEvent.state.in_([State.SENT.value, State.DELIVERED.value]),
            ContactEvent.at >= inbound.received_at - REPLY_WINDOW,
            ~exists().where(
                later.contact_key == ContactEvent.contact_key, later.id > ContactEvent.id
            ),
        )
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    if offer_id is not None:
        query = query.where(ContactEvent.offer_id == offer_id)
    row = session.execute(query).first()
    return None if row is None else (row.contact_key, row.offer_id is not None)


def _answer(
    session: Session, orders: OrderCentre, key: str, kind: ReplyKind, has_offer: bool
) -> Outcome:
    if kind is ReplyKind.REJECT:
        follow_up(session, key, state=State.ANSWERED, source="sms-reply", detail="rejected")
        return Outcome.REJECTED
    if kind is ReplyKind.UNSUBSCRIBE:
        follow_up(session, key, state=State.ANSWERED, source="sms-reply", detail="unsubscribed")
        return Outcome.UNSUBSCRIBED
    follow_up(session, key, state=State.ANSWERED, source="sms-reply", detail="accepted")
    if not has_offer:
        return Outcome.ACCEPTED
    result = order_for_contact(session, orders, contact_key=key, source="sms-reply")
    return Outcome.ORDERED if result.accepted else Outcome.ORDER_REJECTED


def _opt_out(session: Session, msisdn: str) -> None:
    known = session.scalar(
        select(ChannelOptOut.id).where(ChannelOptOut.msisdn == msisdn, ChannelOptOut.channel == SMS)
    )
    if known is None:
        session.add(ChannelOptOut(msisdn=msisdn, channel=SMS, source="sms-reply"))
        session.flush()
