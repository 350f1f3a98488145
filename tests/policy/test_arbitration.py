"""Arbitration: the set-based batch equals the one-at-a-time reference, and the policy holds.

Random small worlds (subscribers, offers, campaigns, a ledger's past in the real operational
store) are arbitrated both ways; the plans must be identical, and the plan must keep every
promise of the policy: no DND subscriber contacted, no cap or capacity exceeded, no two
offers of one exclusion group, the control group never contacted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.lake.engine import DuckDBEngine
from steward.offers.models import Channel
from steward.policy import online
from steward.policy.arbitration import (
    HELD_BACK,
    MARKETING,
    Plan,
    ledger_facts,
    period_start,
)
from steward.policy.batch import Arbiter
from steward.policy.config import Caps, Policy, load_policy
from steward.policy.models import ChannelOptOut
from steward.tags.schemas import TagCatalogue
from steward.tags.service import load_catalogue
from tests.policy.worlds import DAY, World, worlds

ALWAYS = ("dnd_staff", "dnd_cancelled")


@pytest.fixture(scope="module")
def catalogue() -> TagCatalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def policy(catalogue: TagCatalogue) -> Policy:
    return load_policy(catalogue)


class Bench:
    """What every example shares; a short repr keeps hypothesis' reports readable."""

    def __init__(self, engine: DuckDBEngine, catalogue: TagCatalogue, policy: Policy) -> None:
        self.engine = engine
        self.catalogue = catalogue
        self.policy = policy

    def __repr__(self) -> str:
        return "Bench(default policy, tag catalogue, DuckDB)"


@pytest.fixture(scope="module")
def bench(catalogue: TagCatalogue, policy: Policy) -> Iterator[Bench]:
    engine = DuckDBEngine(memory_limit="512MB")
    yield Bench(engine, catalogue, policy)
    engine.close()


def tight(policy: Policy, world: World) -> Policy:
    """Caps of one or two so that small worlds reach them; the world's capacity."""
    table = {
        name: {k: 1 + (v > 3) for k, v in row.items()} for name, row in policy.caps.table.items()
    }
    caps = Caps(
        classes=policy.caps.classes,
        table=table,
        periods=policy.caps.periods,
        outside_overall=policy.caps.outside_overall,
    )
    return policy.model_copy(update={"caps": caps, "capacity": world.capacity})


def both_ways(
    session: Session, engine: DuckDBEngine, catalogue: TagCatalogue, policy: Policy, world: World
) -> tuple[Plan, Plan]:
    ledger.append(session, world.history)
    session.add_all(ChannelOptOut(msisdn=m, channel=c, source="test") for m, c in world.opt_outs)
    session.flush()
    facts = ledger_facts(session, day=DAY, policy=policy, campaigns=world.campaigns)
    engine.register("world_profile", world.profile_table())
    engine.register("world_members", world.member_table())
    arbiter = Arbiter(
        engine,
        day=DAY,
        policy=policy,
        catalogue=catalogue,
        campaigns=world.campaigns,
        offers=world.offers,
        chunk_subscribers=world.chunk,
    )
    batch = arbiter.run(members="SELECT * FROM world_members", profile="world_profile", facts=facts)
    referee = online.Referee(
        day=DAY,
        policy=policy,
        catalogue=catalogue,
        campaigns=world.campaigns,
        offers=world.offers,
        facts=facts,
    )
    members: dict[str, list[int]] = {}
    for campaign_id, msisdn in world.members:
        members.setdefault(msisdn, []).append(campaign_id)
    profiles = {p["msisdn"]: p for p in world.profiles}
    reference, _ = online.arbitrate(referee, members, profiles.get)
    return batch, reference


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_batch_and_one_at_a_time_make_the_same_plan_and_keep_the_policy(
    session: Session, bench: Bench, world: World
) -> None:
    policy = tight(bench.policy, world)
    savepoint = session.begin_nested()
    try:
        batch, reference = both_ways(session, bench.engine, bench.catalogue, policy, world)
        assert batch.contacts.to_pylist() == reference.contacts.to_pylist()
        assert batch.outcomes == reference.outcomes
        for _, outcome in batch.outcomes:
            event(outcome.split(".")[0] if outcome.startswith("interval") else outcome)
        check_promises(batch, policy, world)
    finally:
        savepoint.rollback()


def check_promises(plan: Plan, policy: Policy, world: World) -> None:
    profiles = {p["msisdn"]: p for p in world.profiles}
    campaigns = {c.id: c for c in world.campaigns}
    offers = {o.id: o for o in world.offers}
    contacts = plan.contacts.to_pylist()
    targets = [c for c in contacts if c["arm"] == "target"]
    # one contact per subscriber per run, and the control group is never contacted
    assert len({c["msisdn"] for c in targets}) == len(targets)
    assert all(c["arm"] == "control" for c in contacts if c not in targets)
    held = {(c["campaign_id"], c["msisdn"]) for c in contacts if c["arm"] == "control"}
    # a held-back winner is nobody's contact today: the arms differ by the contact alone
    assert not {m for _, m in held} & {c["msisdn"] for c in targets}
    for contact in targets:
        profile = profiles[contact["msisdn"]]
        campaign = campaigns[contact["campaign_id"]]
        # no DND subscriber, no opted-out channel
        assert not any(profile[flag] is True for flag in ALWAYS)
        if "complaint_sensitive" not in campaign.dnd_include:
            assert profile["complaint_sensitive"] is not True
        assert profile.get(f"dnd_optout_{contact['channel']}") is not True
        assert (contact["msisdn"], contact["channel"]) not in world.opt_outs
        assert Channel(contact["channel"]) in offers[contact["offer_id"]].fit
    # no channel over its capacity (nothing of today was in the past for capacity's sake)
    today = Counter(
        h["channel"] for h in world.history if h["day"] == DAY and h["state"] == "reserved"
    )
    planned = Counter(c["channel"] for c in targets)
    for channel, capacity in world.capacity.items():
        assert (
            planned[channel.value] <= max(capacity - today[channel.value], 0)
            or not planned[channel.value]
        )
    check_caps_and_groups(targets, policy, world)
    assert plan.planned() == len(targets)
    assert sum(n for (_, o), n in plan.outcomes.items() if o == HELD_BACK) == len(held)


def check_caps_and_groups(targets: list[dict[str, Any]], policy: Policy, world: World) -> None:
    released = {h["contact_key"] for h in world.history if h["state"] in ("failed", "cancelled")}
    units = [
        h
        for h in world.history
        if h["state"] == "reserved" and h["kind"] == MARKETING and h["contact_key"] not in released
    ]
    campaigns = {c.id: c for c in world.campaigns}
    offers = {o.id: o for o in world.offers}
    monthly = period_start(DAY, "1m")
    for contact in targets:
        if campaigns[contact["campaign_id"]].kind != MARKETING:
            continue
        mine = [u for u in units if u["msisdn"] == contact["msisdn"] and u["day"] >= monthly]
        overall = [u for u in mine if u["channel"] not in policy.caps.outside_overall]
        # a marketing contact only goes to someone under the smallest overall cap's reach
        assert len(overall) < max(row["overall"] for row in policy.caps.table.values())
        group = offers[contact["offer_id"]].group
        if group is not None:
            assert not any(
                h["msisdn"] == contact["msisdn"]
                and h["exclusion_group"] == group
                and h["state"] in ("ordered", "reserved", "sent", "delivered")
                and h["kind"] == MARKETING
                and h["arm"] == "target"
                and (DAY - h["day"]).days <= 180
                for h in world.history
            )
