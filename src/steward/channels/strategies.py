"""Outbound strategies (R-CHAN-7): five named ways to choose whom a team calls, and why.

A supervisor builds a work list for one team with one strategy and a size. Each strategy is
one set-based selection — SQL over the ledger, or DuckDB over the profile snapshot, the
subscription snapshot and the accepted orders — never a Python loop per subscriber:

- ``direct`` (direct recommendation): the day's planned outbound contacts of the running
  campaigns, as the day's queue takes them — already through the contact policy's plan.
- ``annual_renewal``: subscribers whose annual commitment ends within ``days`` — a one- or
  two-year contract in the profile (``contract_type``, ``contract_days_left``), offered the
  best-fitting active outbound offer of 12 months or more they are eligible for; or an order
  of such an offer placed through Steward whose commitment runs out (renew the same offer).
- ``monthly_to_annual``: subscribers without a commitment (``contract_type`` none or
  monthly) who have paid a product monthly for ``tenure_months`` or more (the subscription
  snapshot's ``start_date``), where an active outbound offer sells that very billing product
  with a commitment of 12 months or more — its annual version.
- ``trial_users`` and ``trial_callback``: **the province delivers no trial data.** The
  subscription interface carries product, start date, end date and status only, and no
  offer has a trial or free period, so nobody can be told apart as "on trial" or "trial
  ends in N days". These two return nothing and say so (``UNAVAILABLE``); they start working
  when the interface carries a trial end date.

New contacts (every strategy but ``direct``) are written to the ledger as outbound marketing
contacts of no campaign, ``reserved``, detail and source naming the strategy. All contacts
then go through ``outbound.queue_for_team``: the policy's second look at hand-off (caps and
opt-outs, as ``queue_due_contacts`` does), the team's capacity, one work order each.

Where the strategy is kept: the work order has no free field and no migration is added here,
so the strategy is written into the ledger's ``sent`` row of the order's contact ("work
order 12 · strategy annual_renewal"). ``strategy_of`` reads it back by contact key, so a
call-back (a new order of the same contact) keeps its strategy too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import pyarrow as pa
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.auth.service import district_rule, within
from steward.channels import outbound
from steward.channels.models import BillingOrder, OrderStatus
from steward.channels.workorders import OutboundTeam, WorkOrder, WorkOrderStatus
from steward.contacts.models import Arm, ContactEvent, State
from steward.contacts.service import append, still_reserved
from steward.lake.service import Lake
from steward.offers.models import Channel, Offer
from steward.policy import dnd, handoff
from steward.policy.arbitration import MARKETING
from steward.policy.config import Policy
from steward.rules import RuleError, parse_rule, to_sql
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from steward.wording import N_, Refusal

MAX_SIZE = 500  # one work list; a larger one is built in several
ANNUAL = 12  # months of commitment that make an offer an "annual" one
DEFAULT_DAYS = 30
DEFAULT_TENURE = 12
SUBSCRIPTION_TABLE = "subscription"
NO_TRIAL_DATA = (
    "the province delivers no trial data: the subscription interface has product, start "
    "date, end date and status only, and no offer has a trial or free period"
)
_NOTE = re.compile(r"strategy ([a-z_]+)$")


class Strategy(StrEnum):
    TRIAL_USERS = "trial_users"
    TRIAL_CALLBACK = "trial_callback"
    DIRECT = "direct"
    ANNUAL_RENEWAL = "annual_renewal"
    MONTHLY_TO_ANNUAL = "monthly_to_annual"


# Strategies the province's data cannot feed, and why (they return an empty list).
UNAVAILABLE = {Strategy.TRIAL_USERS: NO_TRIAL_DATA, Strategy.TRIAL_CALLBACK: NO_TRIAL_DATA}


class StrategyError(Refusal):
    """A work list that cannot be built as asked; the message names the field (``field``)."""


@dataclass(frozen=True)
class Options:
    """The strategy's knobs: the horizon in days and the least tenure in months."""

    days: int = DEFAULT_DAYS
    tenure_months: int = DEFAULT_TENURE


@dataclass(frozen=True)
class WorkListReport:
    strategy: Strategy
    team: str
    capacity_left: int  # calls the team could still take today, before this list
    selected: int  # contacts the strategy found (new ones: at most size and capacity)
    queued: int
    stopped_by_policy: int
    assigned: int
    unavailable: str | None = None  # why the strategy found no data at all
    order_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What a selection reads: the lake and its snapshot, the tag catalogue and the policy."""

    session: Session
    lake: Lake
    catalogue: TagCatalogue
    policy: Policy
    day: date
    now: datetime


def build_work_list(
    ctx: Context,
    *,
    team_id: int,
    strategy: Strategy,
    size: int,
    by: User,
    options: Options = Options(),
    agents: Sequence[str] = (),
    recheck: Callable[[list[dict[str, Any]]], dict[str, str]] | None = None,
) -> WorkListReport:
    """Choose up to ``size`` contacts with ``strategy`` for the team, inside the team's and
    the supervisor's district, queue them as the team's orders (the policy checked again at
    hand-off, by ``recheck`` or else ``policy.handoff``), and hand them to ``agents`` in turn
    when some are named."""
    team = _team(ctx.session, team_id, by)
    _check(size, options)
    left = outbound.capacity_left(ctx.session, team, ctx.day)
    take = min(size, left)
    if strategy in UNAVAILABLE or take == 0:
        return WorkListReport(strategy, team.name, left, 0, 0, 0, 0, UNAVAILABLE.get(strategy))
    if strategy is Strategy.DIRECT:
        contacts = _direct(ctx, team.district)
    else:
        contacts = _reserve(ctx, strategy, _chosen(ctx, strategy, team.district, take, options))
    if recheck is None:
        recheck = _policy_recheck(ctx)
    ids, stopped = outbound.queue_for_team(
        ctx.session,
        contacts,
        team,
        day=ctx.day,
        now=ctx.now,
        note=f"strategy {strategy.value}",
        recheck=recheck,
        limit=take,
    )
    order_ids = sorted(ids.values())
    assigned = outbound.hand_to(ctx.session, team, order_ids, list(agents))
    return WorkListReport(
        strategy, team.name, left, len(contacts), len(ids), stopped, assigned, None, order_ids
    )


def strategy_of(session: Session, contact_keys: Iterable[str]) -> dict[str, Strategy]:
    """The strategy each contact was queued with (from its ``sent`` row); absent: none."""
    keys = sorted(set(contact_keys))
    if not keys:
        return {}
    query = select(ContactEvent.contact_key, ContactEvent.detail).where(
        ContactEvent.contact_key.in_(keys),
        ContactEvent.state == State.SENT.value,
        ContactEvent.source == outbound.SOURCE,
    )
    found: dict[str, Strategy] = {}
    for key, detail in session.execute(query):
        match = _NOTE.search(detail or "")
        if match and match.group(1) in Strategy.__members__.values():
            found[key] = Strategy(match.group(1))
    return found


def _team(session: Session, team_id: int, by: User) -> OutboundTeam:
    team = session.get(OutboundTeam, team_id)
    if team is None or not within(team.district, by.district):
        raise StrategyError(
            N_("team: no team %(team_id)s in your district"), field="team_id", team_id=team_id
        )
    return team


def _check(size: int, options: Options) -> None:
    if not 1 <= size <= MAX_SIZE:
        raise StrategyError(
            N_("size: a work list holds 1 to %(limit)s calls"), field="size", limit=MAX_SIZE
        )
    if not 1 <= options.days <= 366:
        raise StrategyError(N_("days: 1 to 366"), field="days")
    if not 1 <= options.tenure_months <= 240:
        raise StrategyError(N_("tenure: 1 to 240 months"), field="tenure_months")


def _policy_recheck(ctx: Context) -> Callable[[list[dict[str, Any]]], dict[str, str]]:
    def recheck(contacts: list[dict[str, Any]]) -> dict[str, str]:
        return handoff.recheck(
            ctx.session, ctx.lake, ctx.catalogue, ctx.policy, day=ctx.day, contacts=contacts
        )

    return recheck


# --- direct recommendation: the campaigns' planned contacts --------------------------------


def _direct(ctx: Context, district: str) -> list[dict[str, Any]]:
    """The day's reserved outbound contacts with no order yet, due by now, of subscribers
    inside the team's district, first reserved first (all of them: the policy's look may
    stop some, and the size is cut after it)."""
    queued = exists().where(WorkOrder.contact_key == ContactEvent.contact_key)
    due = still_reserved(
        ctx.session, day=ctx.day, channel=Channel.OUTBOUND.value, unless=queued, now=ctx.now
    )
    if not due:
        return []
    inside = _inside(ctx, district, [c["msisdn"] for c in due])
    return [c for c in due if c["msisdn"] in inside]


def _inside(ctx: Context, district: str, msisdns: list[str]) -> set[str]:
    snapshot = _snapshot(ctx)
    ctx.lake.engine.register("strategy_numbers", pa.table({"msisdn": pa.array(msisdns)}))
    where = _district_sql(ctx, district)
    rows = ctx.lake.engine.query(
        f"SELECT msisdn FROM {snapshot} WHERE {where} "
        "AND msisdn IN (SELECT msisdn FROM strategy_numbers)"
    )
    return {str(m) for m in rows.column("msisdn").to_pylist()}


# --- strategies that find new contacts in the snapshot ---------------------------------------


def _chosen(
    ctx: Context, strategy: Strategy, district: str, take: int, options: Options
) -> list[dict[str, Any]]:
    """(msisdn, offer_id) pairs, best first: one offer per subscriber, the one that fits
    outbound best (lowest channel priority, then highest commission, then lowest id)."""
    offers = _annual_offers(ctx.session)
    if not offers:
        return []
    engine = ctx.lake.engine
    engine.register("strategy_offers", _offer_table(offers))
    engine.register("strategy_busy", _busy(ctx.session, ctx.day))
    if strategy is Strategy.ANNUAL_RENEWAL:
        engine.register(
            "strategy_commitments", _commitments(ctx.session, offers, ctx.day, options.days)
        )
        union = _renewals(ctx, offers, district, options.days)
    else:
        subscription = _subscriptions(ctx)
        if subscription is None:
            return []
        union = _conversions(ctx, subscription, district, options.tenure_months)
    chosen: list[dict[str, Any]] = engine.query(
        f"SELECT msisdn, offer_id FROM ({union}) c "
        "WHERE msisdn NOT IN (SELECT msisdn FROM strategy_busy) "
        "QUALIFY row_number() OVER (PARTITION BY msisdn ORDER BY fit, commission DESC, "
        "offer_id) = 1 "
        f"ORDER BY urgency, msisdn LIMIT {int(take)}"
    ).to_pylist()
    return chosen


def _renewals(ctx: Context, offers: list[Offer], district: str, days: int) -> str:
    """Contracts of the profile ending within ``days`` × the annual offers each is eligible
    for; and Steward's orders of annual offers whose commitment ends within ``days``."""
    snapshot, day = _snapshot(ctx), ctx.day.isoformat()
    ending = (
        "status = 'active' AND contract_type IN ('one_year', 'two_year') "
        f"AND contract_days_left BETWEEN 0 AND {int(days)}"
    )
    base = f"{ending} AND {_contactable(ctx)} AND {_district_sql(ctx, district)}"
    parts = [
        f"SELECT msisdn, {o.id} AS offer_id, {_fit(o)} AS fit, {float(o.commission)} "
        f"AS commission, contract_days_left AS urgency FROM {snapshot} "
        f"WHERE {base} AND ({_eligibility(ctx, o)})"
        for o in offers
    ]
    reachable = (
        f"SELECT msisdn FROM {snapshot} WHERE status = 'active' AND {_contactable(ctx)} "
        f"AND {_district_sql(ctx, district)}"
    )
    parts.append(
        "SELECT c.msisdn, c.offer_id, o.fit, o.commission, "
        f"date_diff('day', DATE '{day}', c.ends) AS urgency FROM ("
        "SELECT msisdn, offer_id, CAST(ordered + to_months(months) AS DATE) AS ends "
        "FROM strategy_commitments) c JOIN strategy_offers o USING (offer_id) "
        f"WHERE c.ends BETWEEN DATE '{day}' AND DATE '{day}' + INTERVAL {int(days)} DAY "
        f"AND c.msisdn IN ({reachable})"
    )
    return " UNION ALL ".join(parts)


def _conversions(ctx: Context, subscription: str, district: str, tenure: int) -> str:
    """Monthly payers of a product an annual offer sells, held for ``tenure`` months."""
    snapshot, day = _snapshot(ctx), ctx.day.isoformat()
    payers = (
        f"SELECT msisdn FROM {snapshot} WHERE status = 'active' "
        "AND contract_type IN ('none', 'monthly') "
        f"AND {_contactable(ctx)} AND {_district_sql(ctx, district)}"
    )
    return (
        "SELECT s.msisdn, o.offer_id, o.fit, o.commission, "
        f"date_diff('month', DATE '{day}', min(s.start_date)) AS urgency "
        f"FROM {subscription} s JOIN strategy_offers o ON o.product = s.product_id "
        f"WHERE s.status = 'active' AND s.start_date <= DATE '{day}' - INTERVAL {int(tenure)} "
        f"MONTH AND s.msisdn IN ({payers}) GROUP BY s.msisdn, o.offer_id, o.fit, o.commission"
    )


def _annual_offers(session: Session) -> list[Offer]:
    """Active offers with something to order, a commitment of a year or more, fit for calls."""
    query = select(Offer).where(
        Offer.active, Offer.commitment_months >= ANNUAL, Offer.billing_product_id.is_not(None)
    )
    return [o for o in session.scalars(query.order_by(Offer.id)) if _fits_outbound(o)]


def _fits_outbound(offer: Offer) -> bool:
    return Channel.OUTBOUND.value in (offer.channel_fit or {})


def _fit(offer: Offer) -> int:
    return int((offer.channel_fit or {}).get(Channel.OUTBOUND.value, 99))


def _offer_table(offers: list[Offer]) -> pa.Table:
    return pa.table(
        {
            "offer_id": pa.array([o.id for o in offers], pa.int64()),
            "product": pa.array([o.billing_product_id for o in offers], pa.string()),
            "fit": pa.array([_fit(o) for o in offers], pa.int64()),
            "commission": pa.array([float(o.commission) for o in offers], pa.float64()),
        }
    )


def _busy(session: Session, day: date) -> pa.Table:
    """Numbers not to call again now: an open work order, or an outbound contact today."""
    # Every team's: a number may be on another team's list; teams' capacity bounds the set.
    open_orders = select(WorkOrder.msisdn).where(WorkOrder.status != WorkOrderStatus.CLOSED.value)
    today = select(ContactEvent.msisdn).where(
        ContactEvent.day == day, ContactEvent.channel == Channel.OUTBOUND.value
    )
    numbers = set(session.scalars(open_orders)) | set(session.scalars(today))
    return pa.table({"msisdn": pa.array(sorted(numbers), pa.string())})


def _commitments(session: Session, offers: list[Offer], day: date, days: int) -> pa.Table:
    """Accepted orders of the annual ``offers`` whose commitment may end within ``days``:
    who, which offer, when, for how many months. The window is a little wide (a month is
    28 to 31 days); the selection keeps the exact end."""
    start = datetime.combine(day, time(), UTC)
    windows = [
        and_(
            BillingOrder.offer_id == o.id,
            BillingOrder.at >= start - timedelta(days=31 * o.commitment_months + 1),
            BillingOrder.at < start + timedelta(days=days + 2 - 28 * o.commitment_months),
        )
        for o in offers
    ]
    rows = session.execute(
        select(BillingOrder.msisdn, BillingOrder.offer_id, BillingOrder.at, Offer.commitment_months)
        .join(Offer, Offer.id == BillingOrder.offer_id)
        .where(
            BillingOrder.status == OrderStatus.ACCEPTED.value,
            Offer.commitment_months >= ANNUAL,
            or_(*windows),
        )
    ).all()
    return pa.table(
        {
            "msisdn": pa.array([r[0] for r in rows], pa.string()),
            "offer_id": pa.array([r[1] for r in rows], pa.int64()),
            "ordered": pa.array([r[2].date() for r in rows], pa.date32()),
            "months": pa.array([r[3] for r in rows], pa.int32()),
        }
    )


def _reserve(
    ctx: Context, strategy: Strategy, chosen: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Write the chosen pairs to the ledger as reserved outbound contacts of no campaign."""
    if not chosen:
        return []
    offers = {o.id: o for o in ctx.session.scalars(select(Offer))}
    note = f"strategy {strategy.value}"
    contacts = [
        {
            "contact_key": f"{ctx.day:%Y%m%d}-{strategy.value}-{r['msisdn']}",
            "day": ctx.day,
            "msisdn": str(r["msisdn"]),
            "campaign_id": None,
            "kind": MARKETING,
            "offer_id": int(r["offer_id"]),
            "category": offers[int(r["offer_id"])].category,
            "exclusion_group": offers[int(r["offer_id"])].exclusion_group,
            "channel": Channel.OUTBOUND.value,
            "arm": Arm.TARGET.value,
        }
        for r in chosen
    ]
    append(
        ctx.session,
        [c | {"state": State.RESERVED.value, "detail": note, "source": note} for c in contacts],
    )
    return contacts


# --- the snapshot and its conditions ---------------------------------------------------------


def _snapshot(ctx: Context) -> str:
    latest = tags.latest_snapshot(ctx.session, ctx.lake, ctx.day)
    if latest is None:
        raise StrategyError(
            N_("strategy: no profile snapshot on or before %(day)s"), field="strategy", day=ctx.day
        )
    return latest[1]


def _subscriptions(ctx: Context) -> str | None:
    day = ctx.lake.latest_day(ctx.session, SUBSCRIPTION_TABLE, ctx.day)
    if day is None:
        return None
    files = ctx.lake.files(ctx.session, SUBSCRIPTION_TABLE, days=(day, day))
    return ctx.lake.engine.scan_parquet(files) if files else None


def _rule_sql(ctx: Context, rule: str) -> str:
    types = tags.rule_types(ctx.catalogue)
    return to_sql(parse_rule(rule, types), dialect=ctx.lake.engine.dialect)


def _district_sql(ctx: Context, district: str) -> str:
    rule = district_rule(district)
    return "TRUE" if rule is None else f"({_rule_sql(ctx, rule)})"


def _eligibility(ctx: Context, offer: Offer) -> str:
    try:
        return f"coalesce({_rule_sql(ctx, offer.eligibility)}, FALSE)"
    except RuleError as exc:  # the tags changed since the offer was saved
        raise StrategyError(
            N_(
                "strategy: the eligibility rule of offer %(offer)s no longer fits the tags; "
                "correct the offer first"
            ),
            field="strategy",
            offer=offer.code,
        ) from exc


def _contactable(ctx: Context) -> str:
    """No do-not-disturb category of the policy holds for an outbound call."""
    found = dnd.checks(ctx.policy, channel=Channel.OUTBOUND)
    return f"({dnd.exclusion_sql(ctx.catalogue, found, ctx.lake.engine.dialect)}) IS NULL"
