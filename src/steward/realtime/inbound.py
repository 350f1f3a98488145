"""The inbound decision: what to offer one subscriber now, on the channel they came through.

The web portal, the app, the hall clerk's screen and the 10086 agent's screen ask
``offers_for`` when a customer shows up. The answer is the day's batch loop applied to one
subscriber and one channel: the running batch campaigns that use the channel and count the
subscriber among their members, each judged by the reference referee (``policy.online``) over
the subscriber's ledger facts with the channel as the campaign's only channel — so DND, caps,
intervals and "one contact a day" hold here exactly as in the day's run, and a channel the
offer does not fit or the subscriber opted out of is named as the rule that excluded it.

The channel reports back through ``record_feedback``: what it showed, and what the customer
answered, land in the contact ledger as a contact of their own (one per campaign, channel,
subscriber and day), and a "yes" orders the offer through the order centre as an SMS "yes"
does. Repeating a report changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.service import audit, within
from steward.campaigns.batch import campaign_spec, offer_spec, running
from steward.campaigns.models import Campaign
from steward.channels import crosschannel
from steward.channels.orders import OrderCentre, OrderResult, order_for_contact
from steward.channels.service import render_sms
from steward.contacts import service as ledger
from steward.contacts.models import Arm, State
from steward.db import detached
from steward.events.triggers import rederived
from steward.lake.service import Lake
from steward.mining import service as models
from steward.offers.models import Channel, Offer
from steward.policy import online
from steward.policy.arbitration import (
    HELD_BACK,
    CampaignSpec,
    LedgerFacts,
    control_draw,
    ledger_facts,
)
from steward.policy.config import Policy
from steward.realtime.decide import is_member
from steward.realtime.profile import OnlineProfile, ProfileView
from steward.realtime.service import member_numbers
from steward.segments import service as segments
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from steward.wording import N_, Refusal

LOST = "arbitration.lost"
OFFERABLE = (None, LOST)  # still competing, or beaten by a better offer: both can be shown
# Channels where a person speaks to the customer (a script) and where a screen shows a banner.
SPOKEN = (Channel.HALL, Channel.INBOUND, Channel.OUTBOUND, Channel.ACCOUNT_MANAGER)
SCREENS = (Channel.WEB, Channel.APP, Channel.WECHAT, Channel.SELF_SERVICE)
# A contact whose ledger holds one of these takes no further report.
CLOSED = (State.FAILED, State.CANCELLED, State.HELD_BACK)
SHOWN = (State.RESERVED, State.SENT, State.DELIVERED)
ANSWERS = ("accepted", "rejected")  # the customer's answers, as ``answered`` details
KEY_LENGTH = 64  # contact_event.contact_key


class DecideError(Refusal):
    """A request the decision API cannot honour; the message says why."""


class FeedbackConflictError(DecideError):
    """A report the contact's ledger no longer allows (e.g. a rejection after the order)."""


class UnknownSubscriberError(LookupError):
    """A number not in the profile snapshot, or outside the caller's district."""


class Outcome(StrEnum):
    """What a channel reports about an offer it showed."""

    SHOWN = "shown"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Text:
    """What the channel says or shows: ``kind`` is script, banner, sms or name."""

    kind: str
    zh: str
    en: str


@dataclass(frozen=True)
class Offered:
    rank: int
    campaign_id: int
    campaign_name: str
    offer_id: int
    code: str
    name_zh: str
    name_en: str
    category: str
    score: float
    strong: bool
    outcome: str  # "winner", or "arbitration.lost" for an alternative
    text: Text
    reasons: list[str]


@dataclass(frozen=True)
class Excluded:
    campaign_id: int
    campaign_name: str
    offer_id: int
    code: str
    outcome: str  # the rule that excluded it, as in "why not"


@dataclass(frozen=True)
class Decision:
    msisdn: str
    channel: Channel
    day: date
    snapshot: date
    offers: list[Offered]
    excluded: list[Excluded]


@dataclass(frozen=True)
class FeedbackResult:
    contact_key: str
    states: list[str]  # the contact's states in the ledger, oldest first
    appended: int  # ledger rows this report wrote: 0 when it repeated an earlier one
    order: OrderResult | None


@dataclass
class Listing:
    """The day's running batch campaigns compiled once for the inbound path: the online
    profile, each campaign's members as sorted numbers, the offers, and a referee a channel
    — so a request reads memory and the subscriber's ledger facts, never the lake."""

    day: date
    snapshot_day: date
    profile: OnlineProfile
    campaigns: dict[int, Campaign]  # detached from their session
    members: dict[int, npt.NDArray[np.int64] | None]
    offers: dict[int, Offer]
    segment_names: dict[int, str]
    catalogue: TagCatalogue
    policy: Policy
    learned: dict[tuple[int, int], float] = field(default_factory=dict)
    _referees: dict[Channel, online.Referee] = field(default_factory=dict)

    def referee(self, channel: Channel) -> online.Referee:
        """Every campaign on ``channel`` as its only channel, the rules compiled once."""
        if channel not in self._referees:
            listing = [c for c in self.campaigns.values() if channel.value in c.channels]
            self._referees[channel] = online.Referee(
                day=self.day,
                policy=self.policy,
                catalogue=self.catalogue,
                campaigns=[_on(c, self.day, channel, self.learned) for c in listing],
                offers=[offer_spec(o) for o in self.offers.values()],
                facts=LedgerFacts(units=pa.table({}), history=pa.table({})),
            )
        return self._referees[channel]

    def subscriber(self, msisdn: str, district: str) -> ProfileView:
        view = self.profile.view(msisdn)
        if view is None or not within(f"{view.get('city')}/{view.get('county')}", district):
            # outside the caller's district a number is as unknown as one never seen
            raise UnknownSubscriberError(f"no subscriber {msisdn} in the profile snapshot")
        return view


def _on(
    campaign: Campaign, day: date, channel: Channel, learned: dict[tuple[int, int], float]
) -> CampaignSpec:
    return replace(campaign_spec(campaign, day, learned), channels=(channel,))


def build_listing(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    day: date,
    *,
    profile: OnlineProfile | None = None,
) -> Listing:
    """Compile ``day``'s listing; ``profile`` is an online profile to share (the event
    workers', with what events changed) when it is of the newest snapshot."""
    latest = tags.latest_snapshot(session, lake, day)
    if latest is None:
        raise DecideError(
            N_("no profile snapshot on or before %(day)s: run steward tags refresh"), day=day
        )
    snapshot_day, snapshot = latest
    if profile is None or profile.as_of != snapshot_day:
        table = lake.engine.query(f"SELECT * FROM {snapshot}")
        profile = OnlineProfile(table, snapshot_day, rederived(catalogue))
    campaigns = running(session, day)
    members = {c.id: member_numbers(session, lake, catalogue, c, snapshot) for c in campaigns}
    wanted = {o for c in campaigns for o in c.offer_ids}
    offers = _offers(session, wanted)
    names = {
        i: s.name
        for c in campaigns
        for i in c.segment_ids
        if (s := segments.get(session, i)) is not None
    }
    return Listing(
        day=day,
        snapshot_day=snapshot_day,
        profile=profile,
        campaigns={c.id: detached(c) for c in campaigns},
        members=members,
        offers={i: detached(o) for i, o in offers.items()},
        segment_names=names,
        catalogue=catalogue,
        policy=policy,
        learned=models.learning_factors(session, lake, day),
    )


def offers_for(
    session: Session,
    listing: Listing,
    *,
    msisdn: str,
    channel: Channel,
    limit: int = 5,
    district: str = "province",
) -> Decision:
    """The offers to make ``msisdn`` on ``channel`` on ``day``, best first, and the rest of
    the candidates with the rule that excluded each.

    Offerable: a candidate the referee leaves competing, or one that lost arbitration only
    (the screen shows alternatives), whose campaign does not hold the subscriber back as
    control (the same stable draw as the day's run, so the control group stays untouched).
    Ranked by score, then campaign and offer id; ``limit`` cuts the list. ``strong`` marks
    the top quartile by score: at least the best offer, ties included. ``district`` is the
    caller's: a subscriber outside it is unknown (``UnknownSubscriberError``).
    """
    profile = listing.subscriber(msisdn, district)
    campaigns = {
        c.id: c
        for c in listing.campaigns.values()
        if channel.value in c.channels and is_member(listing.members[c.id], int(msisdn))
    }
    offers = listing.offers
    judged = _judge(session, listing, campaigns, profile, msisdn, channel)
    for candidate in judged:
        if candidate.outcome in OFFERABLE and _held_back(candidate):
            candidate.outcome = HELD_BACK
    chosen = sorted(
        (c for c in judged if c.outcome in OFFERABLE and channel in c.channels),
        key=online.Candidate.order,
    )
    threshold = _strong_threshold([c.score for c in chosen])
    return Decision(
        msisdn=msisdn,
        channel=channel,
        day=listing.day,
        snapshot=listing.snapshot_day,
        offers=[
            _offered(listing, rank, c, campaigns, offers, channel, threshold)
            for rank, c in enumerate(chosen[:limit], start=1)
        ],
        excluded=[_excluded(c, campaigns, offers) for c in judged if c not in chosen],
    )


def _judge(
    session: Session,
    listing: Listing,
    campaigns: dict[int, Campaign],
    profile: ProfileView,
    msisdn: str,
    channel: Channel,
) -> list[online.Candidate]:
    """The referee's verdicts, each campaign reaching the subscriber through ``channel`` only."""
    if not campaigns:
        return []
    referee = listing.referee(channel)
    specs = [referee.campaigns[c] for c in campaigns]
    facts = ledger_facts(
        session, day=listing.day, policy=listing.policy, campaigns=specs, msisdn=msisdn
    )
    return referee.with_facts(facts).candidates(msisdn, profile, list(campaigns))


def _offers(session: Session, ids: set[int]) -> dict[int, Offer]:
    return {o.id: o for o in session.scalars(select(Offer).where(Offer.id.in_(sorted(ids))))}


def _held_back(candidate: online.Candidate) -> bool:
    return control_draw(candidate.campaign.id, candidate.msisdn) < candidate.campaign.control_share


def _strong_threshold(scores: list[float]) -> float:
    """The lowest score of the top quartile (at least one offer); ``inf`` for none."""
    if not scores:
        return math.inf
    ranked = sorted(scores, reverse=True)
    return ranked[math.ceil(len(ranked) / 4) - 1]


def _offered(
    listing: Listing,
    rank: int,
    candidate: online.Candidate,
    campaigns: dict[int, Campaign],
    offers: dict[int, Offer],
    channel: Channel,
    threshold: float,
) -> Offered:
    campaign, offer = campaigns[candidate.campaign.id], offers[candidate.offer.id]
    return Offered(
        rank=rank,
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        offer_id=offer.id,
        code=offer.code,
        name_zh=offer.name_zh,
        name_en=offer.name_en,
        category=offer.category,
        score=candidate.score,
        strong=candidate.score >= threshold,
        outcome=candidate.outcome or "winner",
        text=channel_text(offer, channel, candidate.msisdn),
        reasons=_reasons(listing, candidate, campaign, offer, channel),
    )


def _reasons(
    listing: Listing,
    candidate: online.Candidate,
    campaign: Campaign,
    offer: Offer,
    channel: Channel,
) -> list[str]:
    """Why this offer suits, in the order the rules were passed."""
    names = [listing.segment_names[i] for i in campaign.segment_ids if i in listing.segment_names]
    segments_named = f" (segments: {', '.join(names)})" if names else ""
    reasons = [
        f"member of campaign {campaign.name!r}{segments_named}",
        f"eligible for {offer.code}: {offer.eligibility}",
        f"fits {channel.value} (channel priority {offer.channel_fit.get(channel.value)})",
        f"passes the contact policy on {channel.value}: no DND, interval or cap stops it",
        _score_reason(candidate),
    ]
    if candidate.outcome == LOST:
        reasons.append("an alternative: a better-scoring offer leads the list (arbitration.lost)")
    return reasons


def _score_reason(candidate: online.Candidate) -> str:
    spec, offer = candidate.campaign, candidate.offer
    if candidate.propensity is None:
        rate = f"expected rate {spec.expected_rate:g}"
    else:
        rate = (
            f"propensity {candidate.propensity:g} for {offer.category} "
            f"× learning factor {spec.factor(offer.id):g}"
        )
    return (
        f"score {candidate.score:.6g} = priority {spec.priority} × {rate} × value {offer.value:g}"
    )


def _excluded(
    candidate: online.Candidate, campaigns: dict[int, Campaign], offers: dict[int, Offer]
) -> Excluded:
    return Excluded(
        campaign_id=candidate.campaign.id,
        campaign_name=campaigns[candidate.campaign.id].name,
        offer_id=candidate.offer.id,
        code=offers[candidate.offer.id].code,
        outcome=str(candidate.outcome),
    )


def channel_text(offer: Offer, channel: Channel, msisdn: str) -> Text:
    """What ``channel`` says of the offer: an agent's or clerk's script on a spoken channel
    (that channel's, else another spoken one's), the SMS template filled in on SMS, the
    channel's banner script on a screen (else another screen's); the offer's name and price
    when the offer has none of these."""
    if channel is Channel.SMS and (sms := _sms(offer, msisdn)) is not None:
        return sms
    family, kind = (SPOKEN, "script") if channel in SPOKEN else (SCREENS, "banner")
    for candidate in (channel, *family):
        script = offer.scripts.get(candidate.value)
        if script:
            return Text(kind, str(script["zh"]), str(script["en"]))
    price = f"{offer.price:g}"
    if offer.price > 0:
        return Text("name", f"{offer.name_zh}，{price}元", f"{offer.name_en}, {price} CNY")
    return Text("name", offer.name_zh, offer.name_en)


def _sms(offer: Offer, msisdn: str) -> Text | None:
    zh = render_sms(offer, msisdn)
    if zh is None:
        return None
    en = (offer.sms_en or "").format(
        offer_name=offer.name_en,
        price=f"{offer.price:g}",
        reply_code=offer.reply_code or "",
        msisdn_tail=msisdn[-4:],
    )
    return Text("sms", zh, en)


def contact_key(day: date, campaign_id: int, msisdn: str, channel: Channel) -> str:
    """The contact a channel's reports about one campaign, subscriber and day share."""
    key = f"{day:%Y%m%d}-c{campaign_id}-{msisdn}-{channel.value}"
    if len(key) > KEY_LENGTH:
        raise DecideError(
            N_("contact key %(key)r is longer than %(limit)s characters"), key=key, limit=KEY_LENGTH
        )
    return key


def record_feedback(
    session: Session,
    listing: Listing,
    *,
    msisdn: str,
    campaign_id: int,
    offer_id: int,
    channel: Channel,
    outcome: Outcome,
    day: date,
    by: str,
    district: str = "province",
    orders: OrderCentre | None = None,
    note: str | None = None,
) -> FeedbackResult:
    """Record what ``channel`` did with an offer of a running campaign, in the ledger.

    ``shown``: the contact ``reserved`` (it takes its cap units), ``sent`` and
    ``delivered``. ``accepted``: shown if it was not, ``answered`` "accepted", then the
    order through ``orders`` (``ordered``, or ``answered`` "order_rejected: …"); without an
    order centre the answer alone is kept. ``rejected``: shown if it was not, ``answered``
    "rejected". A report the contact holds already appends nothing; one its ledger forbids
    (anything after failed, cancelled or held back; a rejection after the order; another
    offer under the same contact) raises ``FeedbackConflictError``. ``by`` is the caller,
    kept with ``note`` in the audit log.
    """
    listing.subscriber(msisdn, district)
    campaign = _reaching(session, campaign_id, offer_id, channel, day)
    key = contact_key(day, campaign.id, msisdn, channel)
    source = f"decide {channel.value}"
    rows = _contact_rows(session, key, msisdn, day)
    _check(rows, key, offer_id, outcome)
    appended = _show(session, campaign, key, msisdn, offer_id, channel, day, rows, by)
    order = None
    if outcome is not Outcome.SHOWN and _last_answer(rows) != outcome.value:
        ledger.follow_up(session, key, state=State.ANSWERED, source=source, detail=outcome.value)
        # the campaign's pending contacts on the other channels follow the rules (R-CHAN-5)
        crosschannel.apply_outcome(session, contact_key=key, outcome=crosschannel.Outcome(outcome))
        appended += 1
    if outcome is Outcome.ACCEPTED and orders is not None:
        before = len(ledger.states_of(session, key))
        order = order_for_contact(session, orders, contact_key=key, source=source)
        appended += len(ledger.states_of(session, key)) - before
    if appended:  # who reported it (a clerk's sale counts for their commission), and why
        detail = {"outcome": outcome.value, "channel": channel.value, "offer_id": offer_id}
        audit(
            session,
            actor=by,
            action="decide.feedback",
            entity="contact",
            entity_id=key,
            detail=detail,
            comment=note or "",
        )
    return FeedbackResult(key, ledger.states_of(session, key), appended, order)


def _reaching(
    session: Session, campaign_id: int, offer_id: int, channel: Channel, day: date
) -> Campaign:
    campaign = next((c for c in running(session, day) if c.id == campaign_id), None)
    if campaign is None:
        raise DecideError(
            N_("campaign %(campaign_id)s is not running on %(day)s"),
            field="campaign_id",
            campaign_id=campaign_id,
            day=day,
        )
    if channel.value not in campaign.channels:
        raise DecideError(
            N_("campaign %(campaign_id)s does not reach %(channel)s"),
            field="channel",
            campaign_id=campaign_id,
            channel=channel.value,
        )
    if offer_id not in campaign.offer_ids:
        raise DecideError(
            N_("offer %(offer_id)s is not an offer of campaign %(campaign_id)s"),
            field="offer_id",
            offer_id=offer_id,
            campaign_id=campaign_id,
        )
    return campaign


def _contact_rows(session: Session, key: str, msisdn: str, day: date) -> list[dict[str, Any]]:
    """The contact's ledger rows, oldest first."""
    rows = ledger.history(session, windows=[(tuple(State), day)], until=day, msisdn=msisdn)
    return sorted((r for r in rows.to_pylist() if r["contact_key"] == key), key=lambda r: r["id"])


def _check(rows: list[dict[str, Any]], key: str, offer_id: int, outcome: Outcome) -> None:
    states = {r["state"] for r in rows}
    if rows and rows[0]["offer_id"] != offer_id:
        raise FeedbackConflictError(
            N_(
                "contact %(key)s shows offer %(shown)s, not %(offer_id)s: "
                "one offer per campaign, channel, subscriber and day"
            ),
            field="offer_id",
            key=key,
            shown=rows[0]["offer_id"],
            offer_id=offer_id,
        )
    closed = sorted(states & {s.value for s in CLOSED})
    if closed:
        raise FeedbackConflictError(
            N_("contact %(key)s is %(state)s: nothing may follow"), key=key, state=closed[0]
        )
    if outcome is Outcome.REJECTED and State.ORDERED.value in states:
        raise FeedbackConflictError(
            N_("contact %(key)s has ordered already: too late to reject"), key=key
        )


def _show(
    session: Session,
    campaign: Campaign,
    key: str,
    msisdn: str,
    offer_id: int,
    channel: Channel,
    day: date,
    rows: list[dict[str, Any]],
    by: str,
) -> int:
    """Append the states of a shown contact it does not hold yet; returns how many."""
    offer = session.get(Offer, offer_id)
    assert offer is not None  # a campaign's offers exist (checked when it was made)
    held = {r["state"] for r in rows}
    contact = {
        "contact_key": key,
        "day": day,
        "msisdn": msisdn,
        "campaign_id": campaign.id,
        "kind": campaign.kind,
        "offer_id": offer_id,
        "category": offer.category,
        "exclusion_group": offer.exclusion_group,
        "channel": channel.value,
        "arm": Arm.TARGET.value,
        "source": f"decide {channel.value}",
    }
    details = {State.RESERVED: None, State.SENT: f"shown by {by}"[:200], State.DELIVERED: None}
    return ledger.append(
        session,
        [contact | {"state": s.value, "detail": details[s]} for s in SHOWN if s.value not in held],
    )


def _last_answer(rows: list[dict[str, Any]]) -> str | None:
    """The customer's latest answer (an order centre's refusal is not one)."""
    answers = [r["detail"] for r in rows if r["state"] == State.ANSWERED and r["detail"] in ANSWERS]
    return answers[-1] if answers else None
