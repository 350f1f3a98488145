"""The dashboard's watch: a campaign far from its expected rate, a channel over capacity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from steward.campaigns.models import Campaign
from steward.contacts import service as ledger
from steward.offers.models import Channel
from steward.ops import service as ops
from steward.ops import watch
from steward.ops.watch import Direction
from steward.policy.config import Caps, Policy

DAY = date(2026, 11, 2)
TODAY = date(2026, 12, 1)  # four weeks on: every contact of DAY has settled
OLD = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_no_success_in_200_settled_contacts_is_far_below_a_5_percent_plan() -> None:
    # Wilson's 95% upper bound of 0/200 is z^2 / (n + z^2) = 3.8415 / 203.8415 = 0.01885,
    # under 0.05 x 0.75 = 0.0375.
    verdict = watch.judge_rate(expected=0.05, successes=0, contacted=200, open_contacts=0)
    assert verdict is not None
    direction, rate, low, high, successes, contacts = verdict
    assert (direction, rate, low, successes, contacts) == (Direction.BELOW, 0.0, 0.0, 0, 200)
    assert high == pytest.approx(0.018845, abs=1e-6)


def test_a_rate_near_the_plan_or_on_too_few_contacts_is_no_alert() -> None:
    assert watch.judge_rate(expected=0.05, successes=9, contacted=200, open_contacts=0) is None
    assert watch.judge_rate(expected=0.05, successes=0, contacted=99, open_contacts=0) is None
    # 0/200 with 150 still inside their window: 50 settled, too few to call it below
    assert watch.judge_rate(expected=0.05, successes=0, contacted=200, open_contacts=150) is None


def test_a_quarter_of_contacts_ordering_is_far_above_a_4_percent_plan() -> None:
    verdict = watch.judge_rate(expected=0.04, successes=50, contacted=200, open_contacts=200)
    assert verdict is not None
    direction, rate, low, high, _, contacts = verdict
    assert (direction, rate, contacts) == (Direction.ABOVE, 0.25, 200)
    # Wilson's 95% interval of 50/200
    assert (low, high) == (pytest.approx(0.1951, abs=1e-4), pytest.approx(0.3143, abs=1e-4))


def test_early_successes_do_not_make_a_young_campaign_look_below() -> None:
    # 10 of 300 ordered, 250 of them sent within the window: judged on the 50 settled it
    # would be 10/50, far above 2%; on every contact 10/300 = 3.3%, not yet far above
    assert watch.judge_rate(expected=0.02, successes=10, contacted=300, open_contacts=250) is None


def campaign(campaign_id: int, expected: float, event: str = "order") -> Campaign:
    return Campaign(
        id=campaign_id,
        name=f"campaign {campaign_id}",
        expected_rate=expected,
        success_rule={"event": event, "within_days": 7},
    )


def contacts(campaign_id: int, n: int, ordered: int, at: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(n):
        base = {
            "contact_key": f"c{campaign_id}-{i}",
            "day": DAY,
            "msisdn": f"138{campaign_id:02d}{i:06d}",
            "campaign_id": campaign_id,
            "kind": "marketing",
            "offer_id": 1,
            "category": "data",
            "exclusion_group": None,
            "channel": "sms",
            "arm": "target",
            "source": "test",
            "at": at,
        }
        states = ["reserved", "sent"] + (["ordered"] if i < ordered else [])
        rows += [base | {"state": s} for s in states]
    return rows


def test_rate_alerts_count_the_contacts_and_successes_in_the_ledger(session: Session) -> None:
    rows = contacts(1, 120, 0, OLD) + contacts(2, 120, 6, OLD) + contacts(3, 120, 40, OLD)
    ledger.append(session, rows)
    found = watch.rate_alerts(
        session, [campaign(1, 0.10), campaign(2, 0.05), campaign(3, 0.05)], today=TODAY
    )
    assert [(a.campaign_id, a.direction, a.successes, a.contacts) for a in found] == [
        (1, Direction.BELOW, 0, 120),
        (3, Direction.ABOVE, 40, 120),
    ]
    assert found[0].open == 0


def test_contacts_sent_within_the_window_are_not_settled(session: Session) -> None:
    ledger.append(session, contacts(1, 120, 0, datetime(2026, 11, 28, 10, tzinfo=UTC)))
    assert watch.rate_alerts(session, [campaign(1, 0.10)], today=TODAY) == []
    # a success rule the ledger does not record (a hall visit) is not judged
    ledger.append(session, contacts(2, 120, 0, OLD))
    assert watch.rate_alerts(session, [campaign(2, 0.10, "visit")], today=TODAY) == []


def test_each_campaign_is_settled_by_its_own_success_window(session: Session) -> None:
    sent = datetime(2026, 11, 21, 10, tzinfo=UTC)  # ten days before TODAY
    ledger.append(session, contacts(1, 120, 0, sent) + contacts(2, 120, 0, sent))
    month = campaign(2, 0.10)
    month.success_rule = {"event": "order", "within_days": 30}
    found = watch.rate_alerts(session, [campaign(1, 0.10), month], today=TODAY)
    assert [(a.campaign_id, a.direction, a.open) for a in found] == [(1, Direction.BELOW, 0)]
    # the window's first day is TODAY - 6: a contact sent the day before it has settled
    ledger.append(session, contacts(3, 120, 0, datetime(2026, 11, 24, 23, 59, tzinfo=UTC)))
    ledger.append(session, contacts(4, 120, 0, datetime(2026, 11, 25, 0, 0, tzinfo=UTC)))
    found = watch.rate_alerts(session, [campaign(3, 0.10), campaign(4, 0.10)], today=TODAY)
    assert [(a.campaign_id, a.open) for a in found] == [(3, 0)]


def test_rate_alerts_read_counts_of_the_watched_campaigns_not_ledger_rows(
    session: Session,
) -> None:
    ledger.append(session, contacts(1, 120, 0, OLD) + contacts(2, 120, 0, OLD))
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2].lower())

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        found = watch.rate_alerts(session, [campaign(1, 0.10)], today=TODAY)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert [a.campaign_id for a in found] == [1]
    ledger_reads = [s for s in statements if "contact_event" in s]
    assert ledger_reads
    for statement in ledger_reads:  # an aggregate of the watched campaigns, never every row
        assert "count(distinct" in statement
        assert "group by" in statement
        assert "contact_event.campaign_id in" in statement


def policy(**capacity: int) -> Policy:
    caps = Caps(classes={"all": "TRUE"}, table={"all": {"overall": 3}}, periods={"overall": "1m"})
    return Policy(dnd=[], caps=caps, capacity={Channel(c): n for c, n in capacity.items()})


def test_a_channel_at_or_over_its_capacity_is_an_alert(session: Session) -> None:
    rows = contacts(1, 3, 0, OLD)
    ledger.append(session, [r for r in rows if r["state"] == "reserved"])
    found = watch.capacity_alerts(session, policy(sms=2, outbound=5), day=DAY)
    assert [(a.subject, a.used, a.capacity, a.over) for a in found] == [("sms", 3, 2, True)]
    (full,) = watch.capacity_alerts(session, policy(sms=3), day=DAY)
    assert not full.over
    # a cancelled contact gives its unit back
    ledger.append(session, [rows[0] | {"state": "cancelled"}])
    assert watch.capacity_alerts(session, policy(sms=3), day=DAY) == []


def test_the_outbound_teams_turning_contacts_away_is_an_alert(session: Session) -> None:
    run = ops.start_step(session, day=DAY, step="dispatch")
    ops.finish_step(session, run.id, detail={"outbound": {"over_capacity": 7, "queued": 800}})
    (alert,) = watch.capacity_alerts(session, policy(), day=DAY)
    assert (alert.subject, alert.used, alert.capacity, alert.over) == (watch.TEAMS, 7, None, True)
