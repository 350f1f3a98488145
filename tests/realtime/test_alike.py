"""Batch and online decide alike: every subscriber of a random world, judged by the day's
batch run and by one event each through the online decision, ends the same way.

The online side reads each subscriber's ledger facts from the real operational store, as the
workers do. Channel capacity is left out: the batch hands it out in the order of scores over
everyone, the online path in the order events arrive — by design they may differ.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, event, given, settings
from sqlalchemy.orm import Session

from steward.events.library import Event
from steward.policy import online
from steward.policy.arbitration import LedgerFacts, ledger_facts
from steward.realtime.decide import Listener, Triggers, decide
from tests.policy.test_arbitration import Bench, bench, both_ways, catalogue, policy, tight
from tests.policy.worlds import DAY, World, worlds

__all__ = ["bench", "catalogue", "policy"]
NOW = datetime.combine(DAY, time(10, 0), tzinfo=UTC)


def listeners(world: World) -> list[Listener]:
    members: dict[int, list[int]] = {}
    for campaign_id, msisdn in world.members:
        members.setdefault(campaign_id, []).append(int(msisdn))
    return [
        Listener(
            spec=spec,
            name=f"c{spec.id}",
            event="balance_low",
            condition=None,
            members=np.array(sorted(members.get(spec.id, [])), dtype=np.int64),
            delay=timedelta(0),
            window=None,
            respond_within=timedelta(hours=1),
        )
        for spec in world.campaigns
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_one_event_a_subscriber_decides_as_the_day_s_batch_run(
    session: Session, bench: Bench, world: World
) -> None:
    policy = tight(bench.policy, world).model_copy(update={"capacity": {}})
    world.capacity = {}
    savepoint = session.begin_nested()
    try:
        batch, _ = both_ways(session, bench.engine, bench.catalogue, policy, world)
        empty = LedgerFacts(units=pa.table({}), history=pa.table({}))
        referee = online.Referee(
            day=DAY,
            policy=policy,
            catalogue=bench.catalogue,
            campaigns=world.campaigns,
            offers=world.offers,
            facts=empty,
        )
        triggers = Triggers(day=DAY, referee=referee, listeners={"balance_low": listeners(world)})
        planned, outcomes = {}, Counter[tuple[int, str]]()
        for profile in world.profiles:
            msisdn = profile["msisdn"]
            low = Event(f"e-{msisdn}", "balance_low", msisdn, NOW, {"balance": 1.0})

            def facts(specs: object, msisdn: str = msisdn) -> LedgerFacts:
                return ledger_facts(
                    session, day=DAY, policy=policy, campaigns=world.campaigns, msisdn=msisdn
                )

            decision = decide(triggers, low, profile, now=NOW, facts=facts, room=lambda _: 0)
            assert decision is not None
            for campaign_id, outcome in decision.by_campaign.items():
                if outcome != "segment.not_member":
                    outcomes[(campaign_id, outcome)] += 1
            if decision.winner is not None and decision.contacts:
                w = decision.winner
                planned[msisdn] = (w.campaign.id, w.offer.id, w.channels[0].value, w.arm)
        expected = {
            r["msisdn"]: (r["campaign_id"], r["offer_id"], r["channel"], r["arm"])
            for r in batch.contacts.to_pylist()
        }
        event("contacts planned" if planned else "no contact planned")
        assert planned == expected
        assert dict(outcomes) == batch.outcomes
    finally:
        savepoint.rollback()
