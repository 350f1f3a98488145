"""Arbitration one subscriber at a time: the reference the batch path must equal.

Straightforward on purpose — plain loops over one subscriber's candidates in the order the
semantics state (docs/arbitration.md) — so that a reader can check it against the text, the
property test can hold the set-based batch to it, and the online decisions reuse it.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from steward.contacts.models import Arm
from steward.offers.models import Channel
from steward.policy import dnd
from steward.policy.arbitration import (
    BEGUN,
    EXCLUDED_CAMPAIGN_DAYS,
    HELD_BACK,
    MARKETING,
    PLAN_SCHEMA,
    PLANNED,
    REACHED,
    CampaignSpec,
    LedgerFacts,
    OfferSpec,
    Plan,
    control_draw,
    interval_since,
    period_start,
    propensity_tag,
    score,
    stage,
    tie_break,
)
from steward.policy.config import Policy, Scope
from steward.rules import parse_rule, to_python
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types

Profile = Mapping[str, Any]


@dataclass
class Candidate:
    msisdn: str
    campaign: CampaignSpec
    offer: OfferSpec
    score: float
    outcome: str | None = None  # None while it still competes
    channels: tuple[Channel, ...] = ()  # available channels, in the campaign's order
    arm: str = Arm.TARGET.value
    propensity: float | None = None  # the subscriber's published propensity, if scored

    def order(self) -> tuple[float, int, int]:
        return (-self.score, self.campaign.id, self.offer.id)


class Referee:
    """The rules compiled once for one run; ``candidates`` judges one subscriber."""

    def __init__(
        self,
        *,
        day: date,
        policy: Policy,
        catalogue: TagCatalogue,
        campaigns: Iterable[CampaignSpec],
        offers: Iterable[OfferSpec],
        facts: LedgerFacts,
    ) -> None:
        types = rule_types(catalogue)
        self.day = day
        self.policy = policy
        self.campaigns = {c.id: c for c in campaigns}
        self.offers = {o.id: o for o in offers}
        self.eligible = {
            o.id: to_python(parse_rule(o.eligibility, types)) for o in self.offers.values()
        }
        self.dnd_reason = {
            c.id: dnd.why_not(catalogue, dnd.checks(policy, include=c.dnd_include))
            for c in self.campaigns.values()
        }
        self.classes = [
            (n, to_python(parse_rule(r, types))) for n, r in policy.caps.classes.items()
        ]
        self.opt_out = [d for d in policy.dnd if d.per_channel]
        self._read(facts)

    def _read(self, facts: LedgerFacts) -> None:
        if facts.units.num_rows + facts.history.num_rows + facts.opt_outs.num_rows == 0:
            self.units, self.history, self.units_by_msisdn, self.listed = [], {}, {}, set()
            return
        self.units = facts.units.to_pylist()
        self.history = _by_msisdn(facts.history.to_pylist())
        self.units_by_msisdn = _by_msisdn(self.units)
        self.listed = {(r["msisdn"], r["channel"]) for r in facts.opt_outs.to_pylist()}

    def with_facts(self, facts: LedgerFacts) -> Referee:
        """The same compiled rules over other ledger facts (online: one subscriber's, now)."""
        judged = copy.copy(self)
        judged._read(facts)
        return judged

    def candidates(
        self, msisdn: str, profile: Profile, campaign_ids: Iterable[int]
    ) -> list[Candidate]:
        """Every (campaign, offer) of this subscriber, each judged up to arbitration."""
        history = self.history.get(msisdn, [])
        used = self._used(msisdn)
        cap_row = self._cap_row(profile)
        memo = _Memo(self, profile)
        found = []
        for campaign_id in sorted(set(campaign_ids)):
            campaign = self.campaigns[campaign_id]
            for offer_id in campaign.offers:
                offer = self.offers[offer_id]
                rate = profile.get(propensity_tag(offer))
                candidate = Candidate(
                    msisdn, campaign, offer, score(campaign, offer, rate), propensity=rate
                )
                self._judge(candidate, memo, history, used, cap_row)
                found.append(candidate)
        self._arbitrate(found)
        return found

    def _judge(
        self,
        candidate: Candidate,
        memo: _Memo,
        history: list[dict[str, Any]],
        used: dict[str, int],
        cap_row: dict[str, int],
    ) -> None:
        campaign, offer = candidate.campaign, candidate.offer
        profile = memo.profile
        marketing = campaign.kind == MARKETING
        if self._begun(campaign, history):
            candidate.outcome = "campaign.contacted"
        elif self._done_today(candidate.msisdn, history):
            candidate.outcome = "day.contacted"  # one contact a subscriber a day
        elif not memo.eligible(offer.id):
            candidate.outcome = "offer.not_eligible"
        elif (reason := memo.dnd_reason(campaign)) is not None:
            candidate.outcome = reason
        elif self._excluded_campaign(campaign, history):
            candidate.outcome = "campaign.excluded"
        elif marketing and (interval := self._interval(offer, history)) is not None:
            candidate.outcome = f"interval.{interval}"
        elif marketing and _reached(used, cap_row, "overall"):
            candidate.outcome = "cap.overall"
        else:
            blocks = [
                (ch, self._block(ch, offer, profile, used, cap_row, marketing))
                for ch in campaign.channels
            ]
            candidate.channels = tuple(ch for ch, block in blocks if block is None)
            if not candidate.channels:
                candidate.outcome = str(blocks[0][1])

    def _done_today(self, msisdn: str, history: list[dict[str, Any]]) -> bool:
        """Contacted today (a unit held) or held back today: the subscriber's day is done."""
        units = self.units_by_msisdn.get(msisdn, [])
        return any(u["day"] == self.day for u in units) or any(
            r["day"] == self.day and r["state"] == HELD_BACK for r in history
        )

    def _begun(self, campaign: CampaignSpec, history: list[dict[str, Any]]) -> bool:
        return any(
            r["campaign_id"] == campaign.id
            and r["state"] in BEGUN
            and r["day"] >= campaign.wave_start
            for r in history
        )

    def _excluded_campaign(self, campaign: CampaignSpec, history: list[dict[str, Any]]) -> bool:
        since = self.day.toordinal() - EXCLUDED_CAMPAIGN_DAYS
        return any(
            r["campaign_id"] in campaign.exclude_campaigns
            and r["state"] in REACHED
            and r["arm"] == Arm.TARGET.value
            and r["day"].toordinal() >= since
            for r in history
        )

    def _interval(self, offer: OfferSpec, history: list[dict[str, Any]]) -> str | None:
        for interval in self.policy.intervals:
            since = interval_since(self.day, interval)
            for r in history:
                if (
                    r["kind"] == MARKETING
                    and r["arm"] == Arm.TARGET.value
                    and r["state"] in interval.states
                    and r["day"] >= since
                    and (not interval.channels or r["channel"] in interval.channels)
                    and (not interval.details or r["detail"] in interval.details)
                    and _shares(interval.scope, offer, r)
                ):
                    return interval.name
        return None

    def _used(self, msisdn: str) -> dict[str, int]:
        """Marketing units held per channel and overall, each over its own period."""
        periods = self.policy.caps.periods
        used: dict[str, int] = defaultdict(int)
        for unit in self.units_by_msisdn.get(msisdn, []):
            if unit["kind"] != MARKETING:
                continue
            channel = unit["channel"]
            if channel in periods and unit["day"] >= period_start(self.day, periods[channel]):
                used[channel] += 1
            outside = channel in self.policy.caps.outside_overall
            if not outside and unit["day"] >= period_start(self.day, periods["overall"]):
                used["overall"] += 1
        return used

    def _cap_row(self, profile: Profile) -> dict[str, int]:
        for name, holds in self.classes:
            if holds(profile) is True:
                return self.policy.caps.table[name]
        return {}

    def _block(
        self,
        channel: Channel,
        offer: OfferSpec,
        profile: Profile,
        used: dict[str, int],
        cap_row: dict[str, int],
        marketing: bool,
    ) -> str | None:
        """Why this channel cannot carry the offer to this subscriber, or None."""
        if channel not in offer.fit:
            return "channel.no_fit"
        tag = dnd.OPT_OUT_TAGS.get(channel)
        if self.opt_out and tag is not None:
            listed = (profile.get("msisdn"), channel.value) in self.listed
            if profile.get(tag) is True or listed:
                return f"dnd.{dnd.OPT_OUT}"
        if marketing and _reached(used, cap_row, channel.value):
            return f"cap.{channel.value}"
        return None

    def _arbitrate(self, found: list[Candidate]) -> None:
        """The best passing target candidate wins the subscriber; the rest lose to it."""
        competing = sorted((c for c in found if c.outcome is None), key=Candidate.order)
        for loser in competing[1:]:
            loser.outcome = "arbitration.lost"

    def day_units(self) -> dict[str, int]:
        """Today's units per channel already held, from earlier runs and the online path."""
        counts: dict[str, int] = defaultdict(int)
        for unit in self.units:
            if unit["day"] == self.day:
                counts[unit["channel"]] += 1
        return counts


class _Memo:
    """One subscriber's answers that do not change from candidate to candidate: whether an
    offer is eligible, and the DND reason for a set of included categories."""

    def __init__(self, referee: Referee, profile: Profile) -> None:
        self.referee = referee
        self.profile = profile
        self._eligible: dict[int, bool] = {}
        self._dnd: dict[tuple[str, ...], str | None] = {}

    def eligible(self, offer_id: int) -> bool:
        if offer_id not in self._eligible:
            self._eligible[offer_id] = self.referee.eligible[offer_id](self.profile) is True
        return self._eligible[offer_id]

    def dnd_reason(self, campaign: CampaignSpec) -> str | None:
        key = campaign.dnd_include
        if key not in self._dnd:
            self._dnd[key] = self.referee.dnd_reason[campaign.id](self.profile)
        return self._dnd[key]


def _by_msisdn(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["msisdn"]].append(row)
    return grouped


def _reached(used: dict[str, int], cap_row: dict[str, int], key: str) -> bool:
    return key in cap_row and used.get(key, 0) >= cap_row[key]


def _shares(scope: Scope, offer: OfferSpec, row: Mapping[str, Any]) -> bool:
    if scope is Scope.OFFER:
        return bool(row["offer_id"] == offer.id)
    if scope is Scope.CATEGORY:
        return bool(row["category"] == offer.category)
    if scope is Scope.GROUP:
        return offer.group is not None and row["exclusion_group"] == offer.group
    return True


def arbitrate(
    referee: Referee,
    members: Mapping[str, Iterable[int]],
    profiles: Callable[[str], Profile | None],
) -> tuple[Plan, dict[str, list[Candidate]]]:
    """The whole run, a subscriber at a time, then capacity in the global order."""
    judged: dict[str, list[Candidate]] = {}
    for msisdn in sorted(members):
        profile = profiles(msisdn)
        if profile is not None:
            judged[msisdn] = referee.candidates(msisdn, profile, members[msisdn])
    winners = [c for found in judged.values() for c in found if c.outcome is None]
    winners.sort(key=lambda c: (-c.score, tie_break(c.msisdn)))
    remaining = {
        ch: max(cap - referee.day_units().get(ch.value, 0), 0)
        for ch, cap in referee.policy.capacity.items()
    }
    for winner in winners:
        allocate(winner, remaining)
    return _plan(judged), judged


def allocate(winner: Candidate, remaining: dict[Channel, int]) -> None:
    """The winner's first channel with room; then the control draw of its campaign: a drawn
    winner keeps its place (the unit of capacity counts) but is held back, so target and
    control differ by the contact alone."""
    for channel in winner.channels:
        if channel not in remaining or remaining[channel] > 0:
            if channel in remaining:
                remaining[channel] -= 1
            winner.channels = (channel,)
            winner.outcome = PLANNED
            if control_draw(winner.campaign.id, winner.msisdn) < winner.campaign.control_share:
                winner.outcome, winner.arm = HELD_BACK, Arm.CONTROL.value
            return
    winner.outcome = f"capacity.{winner.channels[0].value}"


def _plan(judged: dict[str, list[Candidate]]) -> Plan:
    rows = []
    outcomes: dict[tuple[int, str], int] = defaultdict(int)
    for found in judged.values():
        for campaign_id, best in _per_campaign(found).items():
            outcomes[(campaign_id, str(best.outcome))] += 1
            if best.outcome in (PLANNED, HELD_BACK):
                rows.append(
                    {
                        "msisdn": best.msisdn,
                        "campaign_id": campaign_id,
                        "offer_id": best.offer.id,
                        "channel": best.channels[0].value,
                        "arm": best.arm,
                        "score": best.score,
                    }
                )
    rows.sort(key=lambda r: (r["campaign_id"], r["msisdn"]))
    return Plan(pa.Table.from_pylist(rows, schema=PLAN_SCHEMA), dict(outcomes))


def _per_campaign(found: list[Candidate]) -> dict[int, Candidate]:
    """Each campaign's furthest-reaching candidate for the subscriber."""
    best: dict[int, Candidate] = {}
    for candidate in found:
        key = (stage(str(candidate.outcome)), -candidate.score, candidate.offer.id)
        current = best.get(candidate.campaign.id)
        if current is None or key < (stage(str(current.outcome)), -current.score, current.offer.id):
            best[candidate.campaign.id] = candidate
    return best
