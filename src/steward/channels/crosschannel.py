"""Cross-channel rules (R-CHAN-4, R-CHAN-5): one subscriber, one campaign, many channels.

Two small tables an administrator edits (``channels.models``): which channel's screen shows
the contacts other channels made, by topic; and what an outcome on one channel does to the
same campaign's contacts of the subscriber still pending on the other channels — ``cancel``
(a ``cancelled`` ledger row naming the rule, which gives the cap unit back and withdraws an
open outbound work order; a call-back of a call that reached the customer only loses its
order, and keeps its unit) or ``keep``. The channels call ``apply_outcome`` as they record
what happened; it cancels in one statement per rule, never one per subscriber, and is safe
to repeat: a cancelled contact is no longer pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from steward.auth.models import Role, User
from steward.auth.service import audit
from steward.campaigns.models import Campaign, CampaignKind
from steward.channels.models import Action, HistoryVisibility, Outcome, OutcomeRule, Topic
from steward.channels.workorders import CallResult, WorkOrder, WorkOrderStatus
from steward.contacts.models import Arm, ContactEvent, State
from steward.contacts.service import CONTACT_FIELDS, SERVICE
from steward.db import utcnow
from steward.offers.models import Channel, Offer
from steward.wording import N_, Refusal

__all__ = [
    "OUTCOMES",
    "VIEWING_CHANNELS",
    "Action",
    "Outcome",
    "Rules",
    "RulesError",
    "SharedContact",
    "Topic",
    "after_call",
    "after_replies",
    "apply_outcome",
    "apply_outcomes",
    "current",
    "save",
    "shared_history",
]

SOURCE = "crosschannel"
EDITORS = frozenset({Role.SYSTEM_ADMIN})
# The screens that show a subscriber's contacts: the agent's desk and the counter.
VIEWING_CHANNELS = (Channel.OUTBOUND, Channel.INBOUND, Channel.HALL)
# The outcomes each channel reports, so the rules a screen can set.
OUTCOMES: dict[Channel, tuple[Outcome, ...]] = {
    Channel.OUTBOUND: (
        Outcome.ACCEPTED,
        Outcome.ORDERED,
        Outcome.REJECTED,
        Outcome.CONSIDERING,
        Outcome.CALL_BACK,
        Outcome.NOT_REACHED,
    ),
    Channel.SMS: (Outcome.ACCEPTED, Outcome.ORDERED, Outcome.REJECTED, Outcome.UNSUBSCRIBED),
    Channel.INBOUND: (Outcome.ACCEPTED, Outcome.ORDERED, Outcome.REJECTED),
    Channel.HALL: (Outcome.ACCEPTED, Outcome.ORDERED, Outcome.REJECTED),
}
CALL_OUTCOMES = {
    CallResult.ACCEPTED: Outcome.ACCEPTED,
    CallResult.REJECTED: Outcome.REJECTED,
    CallResult.CONSIDERING: Outcome.CONSIDERING,
    CallResult.CALL_BACK: Outcome.CALL_BACK,
    CallResult.FAILED: Outcome.NOT_REACHED,
}
# ``channels.service.Outcome`` of an SMS reply; an order refused by billing was still a yes.
REPLY_OUTCOMES = {
    "ordered": Outcome.ORDERED,
    "order_rejected": Outcome.ACCEPTED,
    "accepted": Outcome.ACCEPTED,
    "rejected": Outcome.REJECTED,
    "unsubscribed": Outcome.UNSUBSCRIBED,
}
REASON_LENGTH = 200
KEYS_PER_STATEMENT = 5_000  # trigger keys bound in one statement (SQLite's parameter limit)
HISTORY_LIMIT = 20
# The states that say the customer was reached: a contact with one is never cancelled.
REACHED = (State.DELIVERED, State.ANSWERED, State.ORDERED)


class RulesError(Refusal):
    """Rules that cannot be saved; ``field`` names the form field at fault."""


@dataclass(frozen=True)
class Rules:
    """The whole rule set: the (topic, channel) pairs that show, the action of each outcome."""

    shown: frozenset[tuple[Topic, Channel]]
    actions: Mapping[tuple[Channel, Outcome], Action] = field(default_factory=dict)

    def shows(self, topic: Topic, channel: Channel) -> bool:
        return (topic, channel) in self.shown

    def action(self, channel: Channel, outcome: Outcome) -> Action:
        return self.actions.get((channel, outcome), Action.KEEP)


@dataclass(frozen=True)
class SharedContact:
    """One contact of another channel, at its latest state, as a screen may show it."""

    day: date
    at: datetime
    channel: str
    topic: str
    campaign_id: int | None
    campaign_name: str | None
    offer_code: str | None
    offer_name_zh: str | None
    offer_name_en: str | None
    state: str
    detail: str | None


# --- the rules --------------------------------------------------------------------------------


def current(session: Session) -> Rules:
    """The rules in force; a pair without a row shows nothing and keeps (the safe side)."""
    topics, channels, outcomes = set(Topic), set(Channel), set(Outcome)
    shown = frozenset(
        (Topic(v.topic), Channel(v.channel))
        for v in session.scalars(select(HistoryVisibility).where(HistoryVisibility.shows))
        if v.topic in topics and v.channel in channels
    )
    actions = {
        (Channel(r.channel), Outcome(r.outcome)): Action(r.action)
        for r in session.scalars(select(OutcomeRule))
        if r.channel in channels and r.outcome in outcomes
    }
    return Rules(shown=shown, actions=actions)


def save(
    session: Session,
    *,
    shown: Iterable[tuple[str, str]],
    actions: Mapping[tuple[str, str], str],
    by: User,
    reason: str,
) -> dict[str, list[dict[str, Any]]]:
    """Replace the whole rule set, all or nothing, and audit what changed with ``reason``.

    ``shown`` lists the (topic, viewing channel) pairs that show history, every other pair
    shows none; ``actions`` must give ``cancel`` or ``keep`` for every (channel, outcome)
    of ``OUTCOMES``. Only the system administrator edits. Returns the changes (empty when
    nothing changed, and then nothing is audited).
    """
    if Role(by.role) not in EDITORS:
        raise RulesError(N_("only the system administrator may change the cross-channel rules"))
    reason = reason.strip()
    if not 1 <= len(reason) <= REASON_LENGTH:
        raise RulesError(
            N_("say why, in 1 to %(limit)s characters"), field="reason", limit=REASON_LENGTH
        )
    wanted = Rules(shown=_checked_shown(shown), actions=_checked_actions(actions))
    before = current(session)
    changes = {
        "visibility": _visibility_changes(before, wanted),
        "outcomes": _action_changes(before, wanted),
    }
    if not changes["visibility"] and not changes["outcomes"]:
        return changes
    _write(session, wanted, by.username)
    audit(
        session,
        actor=by.username,
        action="channels.crosschannel.rules",
        entity="crosschannel_rules",
        detail=changes,
        comment=reason,
    )
    return changes


def _checked_shown(pairs: Iterable[tuple[str, str]]) -> frozenset[tuple[Topic, Channel]]:
    viewing = {c.value for c in VIEWING_CHANNELS}
    checked = set()
    for topic, channel in pairs:
        if topic not in set(Topic):
            raise RulesError(N_("no topic %(topic)r"), field=f"show:{topic}:{channel}", topic=topic)
        if channel not in viewing:
            raise RulesError(
                N_("%(channel)r shows no history: one of %(viewing)s"),
                field=f"show:{topic}:{channel}",
                channel=channel,
                viewing=sorted(viewing),
            )
        checked.add((Topic(topic), Channel(channel)))
    return frozenset(checked)


def _checked_actions(
    actions: Mapping[tuple[str, str], str],
) -> dict[tuple[Channel, Outcome], Action]:
    known = {(c.value, o.value) for c, outcomes in OUTCOMES.items() for o in outcomes}
    unknown = sorted(set(actions) - known)
    if unknown:
        channel, outcome = unknown[0]
        raise RulesError(
            N_("no rule for %(outcome)r on %(channel)r"),
            field=f"rule:{channel}:{outcome}",
            outcome=outcome,
            channel=channel,
        )
    checked = {}
    for channel, outcome in sorted(known):
        name = f"rule:{channel}:{outcome}"
        if (channel, outcome) not in actions:
            raise RulesError(N_("%(name)s: choose cancel or keep"), field=name, name=name)
        action = actions[(channel, outcome)]
        if action not in set(Action):
            raise RulesError(
                N_("%(name)s: %(action)r is neither cancel nor keep"),
                field=name,
                name=name,
                action=action,
            )
        checked[(Channel(channel), Outcome(outcome))] = Action(action)
    return checked


def _visibility_changes(before: Rules, after: Rules) -> list[dict[str, Any]]:
    return [
        {"topic": t.value, "channel": c.value, "from": before.shows(t, c), "to": after.shows(t, c)}
        for t in Topic
        for c in VIEWING_CHANNELS
        if before.shows(t, c) != after.shows(t, c)
    ]


def _action_changes(before: Rules, after: Rules) -> list[dict[str, Any]]:
    return [
        {
            "channel": c.value,
            "outcome": o.value,
            "from": before.action(c, o).value,
            "to": after.action(c, o).value,
        }
        for c, outcomes in OUTCOMES.items()
        for o in outcomes
        if before.action(c, o) != after.action(c, o) or (c, o) not in before.actions
    ]


def _write(session: Session, rules: Rules, by: str) -> None:
    """Every pair gets its row (so the table says it all), updated in place where it exists."""
    now = utcnow()
    rows = {(v.topic, v.channel): v for v in session.scalars(select(HistoryVisibility))}
    for topic in Topic:
        for channel in VIEWING_CHANNELS:
            row = rows.get((topic.value, channel.value))
            if row is None:
                row = HistoryVisibility(topic=topic.value, channel=channel.value)
                session.add(row)
            if row.shows != rules.shows(topic, channel) or row.id is None:
                row.shows, row.updated_by, row.updated_at = rules.shows(topic, channel), by, now
    kept = {(r.channel, r.outcome): r for r in session.scalars(select(OutcomeRule))}
    for (channel, outcome), action in rules.actions.items():
        rule = kept.get((channel.value, outcome.value))
        if rule is None:
            rule = OutcomeRule(channel=channel.value, outcome=outcome.value)
            session.add(rule)
        if rule.action != action.value:
            rule.action, rule.updated_by, rule.updated_at = action.value, by, now
    session.flush()


# --- the engine: an outcome on one channel, the campaign's pending contacts on the others -----


def after_call(session: Session, contact_key: str, result: CallResult) -> int:
    """Apply the rules to an outbound call's result; the contacts cancelled."""
    return apply_outcome(session, contact_key=contact_key, outcome=CALL_OUTCOMES[result])


def after_replies(session: Session, replies: Iterable[tuple[str, str]]) -> int:
    """Apply the rules to SMS replies, (contact key, ``channels.service.Outcome``) pairs, in
    one ``apply_outcomes``; the contacts cancelled."""
    happened = [(key, REPLY_OUTCOMES[r]) for key, r in replies if r in REPLY_OUTCOMES]
    return apply_outcomes(session, happened) if happened else 0


def apply_outcome(session: Session, *, contact_key: str, outcome: Outcome) -> int:
    """``outcome`` happened to the contact ``contact_key``: cancel, as the rule of its channel
    and outcome says, the same campaign's pending contacts of the subscriber on every other
    channel. Returns how many contacts were cancelled."""
    return apply_outcomes(session, [(contact_key, outcome)])


def apply_outcomes(session: Session, happened: Iterable[tuple[str, Outcome]]) -> int:
    """``apply_outcome`` for many contacts at once, a contact possibly with several outcomes
    (a feedback file's "accepted" then "ordered"): one statement per rule that cancels,
    whatever the number of subscribers. Safe to repeat."""
    by_rule: dict[tuple[Channel, Outcome], list[str]] = {}
    wanted: dict[str, set[Outcome]] = {}
    for key, outcome in happened:
        wanted.setdefault(key, set()).add(Outcome(outcome))
    rules = current(session)
    for key, channel in _channels_of(session, list(wanted)):
        if channel not in set(Channel):
            continue
        for outcome in sorted(wanted[key]):
            if rules.action(Channel(channel), outcome) is Action.CANCEL:
                by_rule.setdefault((Channel(channel), outcome), []).append(key)
    cancelled = 0
    for (channel, outcome), keys in sorted(by_rule.items()):
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            chunk = keys[start : start + KEYS_PER_STATEMENT]
            cancelled += _cancel(session, chunk, channel, outcome)
    return cancelled


def _channels_of(session: Session, keys: list[str]) -> list[tuple[str, str]]:
    """(contact key, channel) of the contacts named, in one query a chunk."""
    found: list[tuple[str, str]] = []
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[start : start + KEYS_PER_STATEMENT]
        query = (
            select(ContactEvent.contact_key, ContactEvent.channel)
            .where(ContactEvent.contact_key.in_(chunk))
            .distinct()
        )
        found += [(key, channel) for key, channel in session.execute(query)]
    return found


def _trigger_pairs(
    session: Session, trigger_keys: list[str], channel: Channel
) -> list[tuple[str, int]]:
    """The (msisdn, campaign_id) of the trigger contacts on ``channel``: the few subscribers
    and campaigns whose contacts on the other channels the trigger may reach."""
    query = (
        select(ContactEvent.msisdn, ContactEvent.campaign_id)
        .where(
            ContactEvent.contact_key.in_(trigger_keys),
            ContactEvent.channel == channel.value,
            ContactEvent.campaign_id.is_not(None),
        )
        .distinct()
    )
    return [(m, c) for m, c in session.execute(query) if c is not None]


def _open_of(pairs: list[tuple[str, int]], channel: Channel) -> Any:
    """The condition on ``ContactEvent`` (the latest row of its contact) that picks the
    contacts of the trigger ``pairs`` not done yet: another channel, target arm, reserved, a
    call-back planned, or an outbound call handed to a team but not made (an outbound
    ``sent`` is a queued work order; an SMS ``sent`` is out). Looked up by subscriber
    (``ix_contact_event_msisdn_at``), never over the whole ledger; a ``campaign_id IN``
    is left out on purpose, as SQLite then scans the campaign by its index instead."""
    later = aliased(ContactEvent)
    return and_(
        ContactEvent.msisdn.in_(sorted({m for m, _ in pairs})),
        tuple_(ContactEvent.msisdn, ContactEvent.campaign_id).in_(pairs),
        ContactEvent.channel != channel.value,
        ContactEvent.arm == Arm.TARGET.value,
        or_(
            ContactEvent.state.in_([State.RESERVED.value, State.PLANNED.value]),
            and_(
                ContactEvent.state == State.SENT.value,
                ContactEvent.channel == Channel.OUTBOUND.value,
            ),
        ),
        ~exists().where(later.contact_key == ContactEvent.contact_key, later.id > ContactEvent.id),
    )


def _not_reached() -> Any:
    """The contact never reached the customer: a call-back planned after an answered call
    did, and it keeps its cap unit (the ledger allows no ``cancelled`` after a reached
    state, as the feedback importer says: "too late to cancel")."""
    reached = aliased(ContactEvent)
    return ~exists().where(
        reached.contact_key == ContactEvent.contact_key,
        reached.state.in_([s.value for s in REACHED]),
    )


def _cancel(session: Session, trigger_keys: list[str], channel: Channel, outcome: Outcome) -> int:
    """Withdraw the open work orders of the contacts the trigger reaches (a call-back too),
    then append ``cancelled`` rows, in one INSERT … SELECT, for those that never reached the
    customer; how many contacts were cancelled."""
    detail = f"cross-channel rule: {channel.value} {outcome.value}"
    now = utcnow()
    session.flush()
    pairs = _trigger_pairs(session, trigger_keys, channel)
    if not pairs:
        return 0
    open_ = _open_of(pairs, channel)
    withdrawn = select(ContactEvent.contact_key).where(open_).scalar_subquery()
    session.execute(
        update(WorkOrder)
        .where(
            WorkOrder.contact_key.in_(withdrawn),
            WorkOrder.status.in_([WorkOrderStatus.QUEUED.value, WorkOrderStatus.ASSIGNED.value]),
        )
        .values(status=WorkOrderStatus.CLOSED.value, reason=f"withdrawn, {detail}", closed_at=now)
        .execution_options(synchronize_session="fetch")
    )
    fields = [getattr(ContactEvent, f) for f in CONTACT_FIELDS]
    rows = select(
        *fields,
        literal(State.CANCELLED.value, String),
        literal(detail, String),
        literal(SOURCE, String),
        literal(now, DateTime(timezone=True)),
    ).where(open_, _not_reached())
    columns = [*CONTACT_FIELDS, "state", "detail", "source", "at"]
    statement = insert(ContactEvent).from_select(columns, rows).returning(ContactEvent.id)
    return len(session.execute(statement).all())  # rowcount is not reliable on every driver


# --- the shared history -----------------------------------------------------------------------


def _topic() -> Any:
    """A contact's topic in SQL (``Topic``): care campaigns and notices, then retention
    offers, then the offer's type."""
    return case(
        (ContactEvent.kind.in_([CampaignKind.CARE.value, SERVICE]), Topic.CARE.value),
        (Offer.category == Topic.RETENTION.value, Topic.RETENTION.value),
        else_=Offer.offer_type,
    )


def shared_history(
    session: Session, msisdn: str, channel: Channel | str, *, limit: int = HISTORY_LIMIT
) -> list[SharedContact]:
    """The subscriber's contacts on the other channels that ``channel``'s screen may show by
    the visibility rules (R-CHAN-4): each contact once, at its latest state, newest first.
    Control-arm contacts never reached the customer and are left out."""
    channel = Channel(channel)
    topics = [t.value for t, c in current(session).shown if c is channel]
    if not topics:
        return []
    latest = (
        select(func.max(ContactEvent.id))
        .where(ContactEvent.msisdn == msisdn)
        .group_by(ContactEvent.contact_key)
        .scalar_subquery()
    )
    topic = _topic()
    query = (
        select(
            ContactEvent.day,
            ContactEvent.at,
            ContactEvent.channel,
            topic.label("topic"),
            ContactEvent.campaign_id,
            Campaign.name.label("campaign_name"),
            Offer.code.label("offer_code"),
            Offer.name_zh.label("offer_name_zh"),
            Offer.name_en.label("offer_name_en"),
            ContactEvent.state,
            ContactEvent.detail,
        )
        .outerjoin(Offer, Offer.id == ContactEvent.offer_id)
        .outerjoin(Campaign, Campaign.id == ContactEvent.campaign_id)
        .where(
            ContactEvent.id.in_(latest),
            ContactEvent.channel != channel.value,
            ContactEvent.arm == Arm.TARGET.value,
            topic.in_(topics),
        )
        .order_by(ContactEvent.id.desc())
        .limit(limit)
    )
    return [SharedContact(**row) for row in session.execute(query).mappings()]
