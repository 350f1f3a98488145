"""The funnel, the daily report and control against target, counted from the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.evaluation import service
from steward.lake.service import Lake
from steward.tags import service as tags
from tests.tags import factories as f

DAY = date(2026, 12, 2)
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def contact(n: int, *states: str, arm: str = "target", at: datetime = AT) -> list[dict[str, Any]]:
    base = {
        "contact_key": f"k{n}",
        "day": DAY,
        "msisdn": f"1380000{n:04d}",
        "campaign_id": 7,
        "kind": "marketing",
        "offer_id": 3,
        "category": "data",
        "exclusion_group": None,
        "channel": "sms",
        "arm": arm,
        "source": "test",
    }
    return [base | {"state": s, "at": at} for s in states]


@pytest.fixture
def history(session: Session) -> None:
    rows = contact(1, "reserved", "sent", "delivered") + contact(2, "reserved", "sent")
    rows += contact(3, "reserved", "sent", "delivered", "answered")
    rows += contact(4, "reserved", "sent", "delivered", "answered") + contact(
        4, "ordered", at=LATER
    )
    rows += contact(5, "held_back", arm="control") + contact(6, "held_back", arm="control")
    ledger.append(session, rows)


def outcomes(session: Session, lake: Lake, rows: list[tuple[str, int]]) -> None:
    table = pa.Table.from_pylist(
        [
            {"run_day": DAY, "run_at": AT, "campaign_id": 7, "outcome": o, "subscribers": n}
            for o, n in rows
        ]
    )
    lake.engine.register("test_outcomes", table)
    lake.write(session, service.OUTCOME_TABLE, DAY, "r1", "SELECT * FROM test_outcomes")


def test_the_funnel_follows_the_latest_run_then_the_ledger(
    session: Session, lake: Lake, history: None
) -> None:
    outcomes(
        session,
        lake,
        [("planned", 4), ("held_back", 2), ("dnd.staff", 3), ("interval.marketed_3m", 1)],
    )
    (funnel,) = service.funnels(session, lake, [7])
    assert funnel.run_day == DAY
    assert (funnel.targets, funnel.after_policy) == (10, 6)
    assert funnel.exclusions == {"dnd.staff": 3, "interval.marketed_3m": 1}
    assert (funnel.held_back, funnel.planned, funnel.contacted) == (2, 4, 4)
    assert (funnel.delivered, funnel.responded, funnel.ordered) == (3, 2, 1)


def test_a_campaign_never_run_has_an_empty_funnel(session: Session, lake: Lake) -> None:
    (funnel,) = service.funnels(session, lake, [8])
    assert funnel.targets == 0
    assert funnel.run_day is None


def test_the_daily_report_counts_today_and_accumulates(
    session: Session, lake: Lake, history: None
) -> None:
    f.publish(
        session,
        lake,
        "profile",
        date(2026, 11, 30),
        [f.profile(f"1380000{n:04d}", city="lanzhou" if n < 3 else "tianshui") for n in range(7)],
    )
    tags.refresh(session, lake, tags.load_catalogue(), date(2026, 12, 1))
    rows = service.daily_report(session, lake, until=date(2026, 12, 3)).to_pylist()
    # one campaign's report reads its own contacts only, and finds the same rows
    assert {r["campaign_id"] for r in rows} == {7}
    own = service.daily_report(session, lake, until=date(2026, 12, 3), campaign_ids=[7])
    assert own.to_pylist() == rows
    other = service.daily_report(session, lake, until=date(2026, 12, 3), campaign_ids=[8])
    assert other.num_rows == 0
    by = {(r["day"], r["city"]): r for r in rows}
    lanzhou = by[(DAY, "lanzhou")]
    assert (lanzhou["target_users"], lanzhou["contacted_today"], lanzhou["new_orders_today"]) == (
        2,
        2,
        0,
    )
    tianshui_next = by[(date(2026, 12, 3), "tianshui")]
    assert tianshui_next["new_orders_today"] == 1
    assert tianshui_next["cumulative_contacted"] == 2
    assert tianshui_next["cumulative_orders"] == 1


def test_control_against_target_uses_one_order_feed_for_both_arms(
    session: Session, lake: Lake, history: None
) -> None:
    feed = pa.Table.from_pylist(
        [
            {"msisdn": "13800000004", "offer_id": 3, "day": date(2026, 12, 3)},
            {"msisdn": "13800000005", "offer_id": 3, "day": date(2026, 12, 4)},  # organic
            {"msisdn": "13800000001", "offer_id": 3, "day": date(2026, 12, 30)},  # too late
            {"msisdn": "13800000002", "offer_id": 9, "day": date(2026, 12, 3)},  # other offer
        ]
    )
    result = service.control_vs_target(session, lake, campaign_id=7, orders=feed, within_days=7)
    assert result["target"] == {"arm": "target", "n": 4, "ordered": 1, "responded": 2}
    assert result["control"] == {"arm": "control", "n": 2, "ordered": 1, "responded": 0}
    lift = result["order_lift"]
    assert lift["lift"] == pytest.approx(0.25 - 0.5)
    assert lift["ci_low"] < lift["lift"] < lift["ci_high"]
