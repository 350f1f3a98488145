"""Outbound calls: the day's reserved contacts become work orders of call-centre teams, agents
work them, and every result goes back to the contact ledger (R-CHAN-3, R-CHAN-7, R-CHAN-8).

The ledger stays the truth: a queued order writes ``sent`` (handed to the channel), a team
over its daily capacity ``cancelled`` (the cap unit goes back), a call result ``answered`` or
``failed``, a call-back ``planned`` with a new order due then. Orders only carry the work.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import DISTRICT, PROVINCE
from steward.channels import crosschannel
from steward.channels.orders import OrderCentre, order_for_contact
from steward.channels.workorders import CallResult, OutboundTeam, WorkOrder, WorkOrderStatus
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import CONTACT_FIELDS, append, follow_up, still_reserved
from steward.db import utcnow
from steward.offers.models import Channel
from steward.wording import N_, Refusal

SOURCE = "outbound"
OVER_CAPACITY = "team capacity"
NO_DISTRICT = "no district known"
REASON_LENGTH = 200

# msisdn -> district ("lanzhou/chengguan"), or a function that looks up many numbers at once
Districts = Mapping[str, str] | Callable[[Sequence[str]], Mapping[str, str]]

# what each result writes to the ledger; a failure's detail is its reason
LEDGER_STATE = {
    CallResult.ACCEPTED: State.ANSWERED,
    CallResult.REJECTED: State.ANSWERED,
    CallResult.CONSIDERING: State.ANSWERED,
    CallResult.CALL_BACK: State.ANSWERED,
    CallResult.FAILED: State.FAILED,
}


class OutboundError(Refusal):
    """A request about teams or work orders that cannot be honoured; the message says why."""


class UnknownWorkOrderError(OutboundError):
    """No work order has the id asked for."""


class NotYourOrderError(OutboundError):
    """The user may not act on this work order: it is another agent's."""


@dataclass(frozen=True)
class QueueReport:
    """What one queue run did: orders made, contacts cancelled for capacity, and the
    contacts left waiting (still reserved) by reason."""

    queued: int = 0
    over_capacity: int = 0
    not_queued: dict[str, int] = field(default_factory=dict)
    stopped_by_policy: int = 0  # cancelled by the policy's second look at hand-off


def create_team(session: Session, *, name: str, district: str, daily_capacity: int) -> OutboundTeam:
    """A call-centre team; it takes the contacts of its district that no narrower team
    covers, at most ``daily_capacity`` a day."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise OutboundError(N_("a team needs a name of 1-64 characters"), field="name")
    if not DISTRICT.match(district):
        raise OutboundError(
            N_("district %(district)r: 'province', a city or 'city/county'"),
            field="district",
            district=district,
        )
    if daily_capacity < 0:
        raise OutboundError(N_("daily capacity cannot be negative"), field="daily_capacity")
    if session.scalar(select(OutboundTeam.id).where(OutboundTeam.name == name)) is not None:
        raise OutboundError(N_("a team named %(name)r exists already"), field="name", name=name)
    team = OutboundTeam(name=name, district=district, daily_capacity=daily_capacity)
    session.add(team)
    session.flush()
    return team


def teams(session: Session) -> list[OutboundTeam]:
    return list(
        session.scalars(select(OutboundTeam).order_by(OutboundTeam.district, OutboundTeam.name))
    )


def queue_due_contacts(
    session: Session,
    *,
    day: date,
    now: datetime,
    districts: Districts,
    recheck: Callable[[list[dict[str, Any]]], dict[str, str]] | None = None,
) -> QueueReport:
    """Turn ``day``'s reserved outbound contacts (target arm, no work order yet) into work
    orders due at ``now``, each for the most specific team whose district holds the
    subscriber's. Safe to repeat: a contact is queued or cancelled once.

    ``districts`` gives each subscriber's district (from the profile snapshot); a function
    is called once with every number at stake. Contacts beyond a team's capacity for the day
    are cancelled in the ledger; contacts without a district or a team stay reserved and
    are reported, so a later run can queue them once a team covers them.
    """
    contacts = _due_contacts(session, day, now)
    if not contacts:
        return QueueReport()
    blocked = recheck(contacts) if recheck is not None else {}
    if blocked:  # the policy's second look (R-POL-4): these may no longer be called
        stopped = [c for c in contacts if c["contact_key"] in blocked]
        append(
            session, [_ledger_row(c, State.CANCELLED, blocked[c["contact_key"]]) for c in stopped]
        )
        contacts = [c for c in contacts if c["contact_key"] not in blocked]
    where = _lookup(districts, [c["msisdn"] for c in contacts])
    router = _Router(teams(session), _taken(session, day))
    now = _utc(now)
    orders: list[dict[str, Any]] = []
    cancelled: list[dict[str, Any]] = []
    waiting: Counter[str] = Counter()
    for contact in contacts:
        team, reason = router.take(where.get(contact["msisdn"]))
        if team is not None:
            orders.append(_new_order(contact, team, day=day, due_at=now, attempt=1))
        elif reason == OVER_CAPACITY:
            cancelled.append(_ledger_row(contact, State.CANCELLED, OVER_CAPACITY))
        else:
            waiting[reason] += 1
    ids = _insert_orders(session, orders)
    sent = [
        _ledger_row(c, State.SENT, f"work order {ids[c['contact_key']]}")
        for c in contacts
        if c["contact_key"] in ids
    ]
    append(session, sent + cancelled)
    return QueueReport(
        queued=len(orders),
        over_capacity=len(cancelled),
        not_queued=dict(waiting),
        stopped_by_policy=len(blocked),
    )


def capacity_left(session: Session, team: OutboundTeam, day: date) -> int:
    """Calls ``team`` can still take on ``day`` (its capacity less the orders it holds)."""
    return max(team.daily_capacity - _taken(session, day).get(team.id, 0), 0)


def queue_for_team(
    session: Session,
    contacts: Sequence[Mapping[str, Any]],
    team: OutboundTeam,
    *,
    day: date,
    now: datetime,
    note: str,
    recheck: Callable[[list[dict[str, Any]]], dict[str, str]] | None = None,
    limit: int | None = None,
) -> tuple[dict[str, int], int]:
    """Queue reserved ``contacts`` (ledger fields) as orders of one chosen team, as
    ``queue_due_contacts`` does for the team of each district: the policy's second look
    first (a blocked contact is cancelled), then the team's capacity and ``limit`` (the rest
    stay reserved), then one order each and a ``sent`` row whose detail ends with ``note``.
    Returns the new order ids by contact key and how many the policy stopped."""
    due = [dict(c) for c in contacts]
    blocked = recheck(due) if recheck is not None and due else {}
    if blocked:
        stopped = [c for c in due if c["contact_key"] in blocked]
        append(
            session, [_ledger_row(c, State.CANCELLED, blocked[c["contact_key"]]) for c in stopped]
        )
        due = [c for c in due if c["contact_key"] not in blocked]
    room = capacity_left(session, team, day)
    due = due[: room if limit is None else min(room, limit)]
    now = _utc(now)
    ids = _insert_orders(
        session, [_new_order(c, team, day=day, due_at=now, attempt=1) for c in due]
    )
    sent = [
        _ledger_row(c, State.SENT, f"work order {ids[c['contact_key']]} · {note}"[:200])
        for c in due
    ]
    append(session, sent)
    return ids, len(blocked)


def hand_to(
    session: Session, team: OutboundTeam, order_ids: Sequence[int], agents: list[str]
) -> int:
    """Put the given queued orders of ``team`` on ``agents``' lists in turn; how many."""
    if not agents or not order_ids:
        return 0
    _check_agents(session, team, agents)
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.id.in_(list(order_ids)),
            WorkOrder.team_id == team.id,
            WorkOrder.status == WorkOrderStatus.QUEUED.value,
        )
        .order_by(WorkOrder.id)
    )
    handed = 0
    for order, agent in zip(session.scalars(query), itertools.cycle(agents), strict=False):
        order.status, order.assigned_to = WorkOrderStatus.ASSIGNED.value, agent
        handed += 1
    session.flush()
    return handed


def _due_contacts(session: Session, day: date, now: datetime) -> list[dict[str, Any]]:
    """The day's reserved outbound contacts, due by ``now``, that have no work order yet."""
    queued = exists().where(WorkOrder.contact_key == ContactEvent.contact_key)
    return still_reserved(session, day=day, channel=Channel.OUTBOUND.value, unless=queued, now=now)


def _lookup(districts: Districts, msisdns: list[str]) -> Mapping[str, str]:
    return districts if isinstance(districts, Mapping) else districts(msisdns)


def _taken(session: Session, day: date) -> dict[int, int]:
    """Work orders each team already holds for ``day`` (earlier runs and call-backs)."""
    query = (
        select(WorkOrder.team_id, func.count())
        .where(WorkOrder.day == day)
        .group_by(WorkOrder.team_id)
    )
    return dict(session.execute(query).all())


def ancestors(district: str) -> list[str]:
    """The districts that contain ``district``, widest first, itself last:
    "lanzhou/chengguan" → ["province", "lanzhou", "lanzhou/chengguan"]."""
    parts = [] if district == PROVINCE else district.split("/")
    return [PROVINCE, *("/".join(parts[:n]) for n in range(1, len(parts) + 1))]


class _Router:
    """Picks the team for a subscriber's district and counts each team's day."""

    def __init__(self, all_teams: list[OutboundTeam], taken: dict[int, int]) -> None:
        self.by_district: dict[str, list[OutboundTeam]] = {}
        for team in sorted(all_teams, key=lambda t: t.id):
            self.by_district.setdefault(team.district, []).append(team)
        self.left = {t.id: t.daily_capacity - taken.get(t.id, 0) for t in all_teams}

    def take(self, district: str | None) -> tuple[OutboundTeam | None, str]:
        """The team that calls, or None and why not. Teams of one district fill in order."""
        if district is None:
            return None, NO_DISTRICT
        covering = [d for d in ancestors(district) if d in self.by_district]
        if not covering:
            return None, f"no team covers {district}"
        for team in self.by_district[covering[-1]]:
            if self.left[team.id] > 0:
                self.left[team.id] -= 1
                return team, ""
        return None, OVER_CAPACITY


def _new_order(
    contact: Mapping[str, Any], team: OutboundTeam, *, day: date, due_at: datetime, attempt: int
) -> dict[str, Any]:
    return {
        "contact_key": contact["contact_key"],
        "msisdn": contact["msisdn"],
        "campaign_id": contact["campaign_id"],
        "offer_id": contact["offer_id"],
        "team_id": team.id,
        "day": day,
        "due_at": due_at,
        "status": WorkOrderStatus.QUEUED.value,
        "attempt": attempt,
        "created_at": utcnow(),
    }


def _insert_orders(session: Session, orders: list[dict[str, Any]]) -> dict[str, int]:
    """Insert in bulk; the new ids by contact key."""
    if not orders:
        return {}
    statement = insert(WorkOrder).returning(WorkOrder.contact_key, WorkOrder.id)
    return dict(session.execute(statement, orders).all())


def _ledger_row(contact: Mapping[str, Any], state: State, detail: str) -> dict[str, Any]:
    return {f: contact[f] for f in CONTACT_FIELDS} | {
        "state": state.value,
        "detail": detail,
        "source": SOURCE,
    }


def assign(session: Session, *, team_id: int, agents: list[str], now: datetime) -> int:
    """Hand the team's due queued orders to ``agents`` in turn (oldest due first); returns
    how many were assigned. Every agent must be an active agent inside the team's district."""
    team = session.get(OutboundTeam, team_id)
    if team is None:
        raise OutboundError(N_("no team %(team_id)s"), field="team_id", team_id=team_id)
    if not agents:
        raise OutboundError(N_("name at least one agent to assign to"), field="agents")
    _check_agents(session, team, agents)
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.team_id == team_id,
            WorkOrder.status == WorkOrderStatus.QUEUED.value,
            WorkOrder.due_at <= _utc(now),
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .with_for_update(skip_locked=True)
    )
    assigned = 0
    for order, agent in zip(session.scalars(query), itertools.cycle(agents), strict=False):
        order.status, order.assigned_to = WorkOrderStatus.ASSIGNED.value, agent
        assigned += 1
    session.flush()
    return assigned


def _check_agents(session: Session, team: OutboundTeam, agents: list[str]) -> None:
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(agents)))}
    inactive: list[str] = []
    outside: list[str] = []
    for name in dict.fromkeys(agents):
        user = users.get(name)
        if user is None or not user.active or user.role != Role.AGENT.value:
            inactive.append(repr(name))
        elif team.district not in ancestors(user.district):
            outside.append(f"{name!r} ({user.district})")
    values = {"inactive": ", ".join(inactive), "outside": ", ".join(outside)}
    if inactive and outside:
        raise OutboundError(
            N_(
                "no active agent: %(inactive)s; outside the team's district %(district)s: "
                "%(outside)s"
            ),
            field="agents",
            district=team.district,
            **values,
        )
    if inactive:
        raise OutboundError(N_("no active agent: %(inactive)s"), field="agents", **values)
    if outside:
        raise OutboundError(
            N_("outside the team's district %(district)s: %(outside)s"),
            field="agents",
            district=team.district,
            **values,
        )


def next_for(session: Session, agent: str, now: datetime) -> WorkOrder | None:
    """Assign the next due queued order (oldest due first) of any team whose district holds
    the agent's to the agent; None when nothing is due. Concurrent pulls on PostgreSQL skip
    each other's rows, so no order reaches two agents."""
    user = session.scalar(select(User).where(User.username == agent, User.active))
    if user is None or user.role != Role.AGENT.value:
        raise OutboundError(N_("%(agent)r is no active agent"), agent=agent)
    query = (
        select(WorkOrder)
        .join(OutboundTeam, OutboundTeam.id == WorkOrder.team_id)
        .where(
            OutboundTeam.district.in_(ancestors(user.district)),
            WorkOrder.status == WorkOrderStatus.QUEUED.value,
            WorkOrder.due_at <= _utc(now),
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=WorkOrder)
    )
    order = session.scalar(query)
    if order is not None:
        order.status, order.assigned_to = WorkOrderStatus.ASSIGNED.value, agent
        session.flush()
    return order


def open_orders_of(session: Session, agent: str) -> list[WorkOrder]:
    """The agent's assigned, unfinished orders, soonest due first (call-backs included)."""
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.assigned_to == agent,
            WorkOrder.status == WorkOrderStatus.ASSIGNED.value,
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
    )
    return list(session.scalars(query))


def record_result(
    session: Session,
    work_order_id: int,
    *,
    by: User,
    result: CallResult,
    reason: str | None = None,
    callback_at: datetime | None = None,
    orders: OrderCentre | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """Close the order with the call's result and write it to the ledger.

    Only the assigned agent, or a system administrator, may record. ``failed`` needs a
    reason (the ledger's detail; the cap unit is released); ``call_back`` needs a future
    ``callback_at`` and makes a new order for then, on the same agent's list. ``accepted``
    orders the contact's offer through ``orders`` when an order centre is given.
    """
    now = _utc(now or utcnow())
    result = CallResult(result)
    order = session.get(WorkOrder, work_order_id, with_for_update=True)
    if order is None:
        raise UnknownWorkOrderError(N_("no work order %(id)s"), id=work_order_id)
    _check_may_record(order, by)
    reason = _checked_reason(result, reason)
    _check_callback(result, callback_at, now)
    order.status = WorkOrderStatus.CLOSED.value
    order.result, order.reason, order.closed_at = result.value, reason, now
    order.callback_at = _utc(callback_at) if callback_at is not None else None
    detail = reason if result is CallResult.FAILED else result.value
    follow_up(session, order.contact_key, state=LEDGER_STATE[result], source=SOURCE, detail=detail)
    if result is CallResult.CALL_BACK and callback_at is not None:
        _call_back(session, order, callback_at)
    # R-CHAN-5, once the contact's own rows (a call-back's ``planned`` too) are written
    crosschannel.after_call(session, order.contact_key, result)
    if result is CallResult.ACCEPTED and orders is not None and order.offer_id is not None:
        order_for_contact(session, orders, contact_key=order.contact_key, source=SOURCE)
    session.flush()
    return order


def _check_may_record(order: WorkOrder, by: User) -> None:
    if by.role != Role.SYSTEM_ADMIN.value and order.assigned_to != by.username:
        raise NotYourOrderError(
            N_("work order %(id)s is not assigned to %(user)s"), id=order.id, user=by.username
        )
    if order.status == WorkOrderStatus.CLOSED.value:
        raise OutboundError(
            N_(
                "work order %(id)s is closed already with result %(result)s; "
                "a result is recorded once"
            ),
            id=order.id,
            result=order.result,
        )


def _checked_reason(result: CallResult, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if result is CallResult.FAILED and reason is None:
        raise OutboundError(N_("a failed call needs a reason"), field="reason")
    if result is CallResult.REJECTED and reason is None:
        raise OutboundError(N_("a refusal needs a reason (what the customer said)"), field="reason")
    if reason is not None and len(reason) > REASON_LENGTH:
        raise OutboundError(
            N_("a reason has at most %(limit)s characters"), field="reason", limit=REASON_LENGTH
        )
    return reason


def _check_callback(result: CallResult, callback_at: datetime | None, now: datetime) -> None:
    if result is not CallResult.CALL_BACK:
        if callback_at is not None:
            raise OutboundError(
                N_("callback_at goes only with the result call_back"), field="callback_at"
            )
        return
    if callback_at is None or _utc(callback_at) <= now:
        raise OutboundError(
            N_("a call-back needs a callback_at in the future"), field="callback_at"
        )


def _call_back(session: Session, order: WorkOrder, callback_at: datetime) -> WorkOrder:
    """A new order for the same contact, due at ``callback_at``, on the same agent's list;
    it takes a unit of the team's capacity on the call-back's (caller's local) day."""
    due_at = _utc(callback_at)
    again = WorkOrder(
        contact_key=order.contact_key,
        msisdn=order.msisdn,
        campaign_id=order.campaign_id,
        offer_id=order.offer_id,
        team_id=order.team_id,
        day=callback_at.date(),
        due_at=due_at,
        assigned_to=order.assigned_to,
        status=(WorkOrderStatus.ASSIGNED if order.assigned_to else WorkOrderStatus.QUEUED).value,
        attempt=order.attempt + 1,
    )
    session.add(again)
    detail = f"call back {due_at.isoformat()}"
    follow_up(session, order.contact_key, state=State.PLANNED, source=SOURCE, detail=detail)
    return again


def _utc(moment: datetime) -> datetime:
    """Every moment is stored in UTC (SQLite keeps no offset); a naive one is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
