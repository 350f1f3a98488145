"""Campaign evaluation from the ledger: the funnel, the daily report, control against target.

Everything is counted in the analytics engine over the ledger's rows (R-EVAL-1, R-EVAL-3,
R-EVAL-5); a subscriber's city, county and brand come from the profile snapshot of the day
the report is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.evaluation.stats import ArmComparison, compare
from steward.events.models import TriggerOutcome
from steward.lake.service import Lake
from steward.tags import service as tags

OUTCOME_TABLE = "arbitration_outcome"  # written by each day's run (campaigns/batch.py)
# Outcomes that are not the policy's doing: the subscriber passed every rule.
PASSED = ("planned", "held_back", "arbitration.lost", "campaign.contacted")
REPORT_DIMENSIONS = ("day", "city", "county", "brand", "campaign_id", "channel")


@dataclass
class Funnel:
    """Targets → after policy → planned → contacted → responded → ordered (R-EVAL-1)."""

    campaign_id: int
    run_day: date | None = None  # the latest run, whose population the first steps count
    targets: int = 0
    after_policy: int = 0
    exclusions: dict[str, int] = field(default_factory=dict)
    held_back: int = 0
    planned: int = 0
    contacted: int = 0
    delivered: int = 0
    responded: int = 0
    ordered: int = 0

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["run_day"] = self.run_day.isoformat() if self.run_day else None
        return found


def funnels(session: Session, lake: Lake, campaign_ids: Sequence[int]) -> list[Funnel]:
    """One funnel per campaign: the latest run's population, then the ledger's counts."""
    found = {c: Funnel(c) for c in campaign_ids}
    _ledger_steps(session, lake, found)
    _run_steps(session, lake, found)
    _event_steps(session, found)
    return [found[c] for c in campaign_ids]


def _event_steps(session: Session, found: dict[int, Funnel]) -> None:
    """A triggered campaign's population: every event it heard, by how far each got."""
    query = (
        select(
            TriggerOutcome.campaign_id,
            TriggerOutcome.outcome,
            func.count().label("events"),
            func.max(TriggerOutcome.day).label("day"),
        )
        .where(TriggerOutcome.campaign_id.in_(list(found)))
        .group_by(TriggerOutcome.campaign_id, TriggerOutcome.outcome)
    )
    for row in session.execute(query):
        funnel = found[int(row.campaign_id)]
        funnel.run_day = max(filter(None, (funnel.run_day, row.day)))
        funnel.targets += int(row.events)
        if _passed(str(row.outcome)):
            funnel.after_policy += int(row.events)
        else:
            funnel.exclusions[str(row.outcome)] = int(row.events)


def _ledger_steps(session: Session, lake: Lake, found: dict[int, Funnel]) -> None:
    engine = lake.engine
    engine.register("eval_ledger", ledger.read(session, campaign_ids=list(found)))
    counted = engine.query(
        """
        SELECT campaign_id,
          count(DISTINCT contact_key) FILTER (WHERE state = 'held_back') AS held_back,
          count(DISTINCT contact_key) FILTER (WHERE state = 'reserved') AS planned,
          count(DISTINCT contact_key) FILTER (WHERE state = 'sent') AS contacted,
          count(DISTINCT contact_key) FILTER (WHERE state = 'delivered') AS delivered,
          count(DISTINCT contact_key) FILTER (WHERE state = 'answered') AS responded,
          count(DISTINCT contact_key) FILTER (WHERE state = 'ordered') AS ordered
        FROM eval_ledger GROUP BY campaign_id
        """
    ).to_pylist()
    for row in counted:
        funnel = found[int(row.pop("campaign_id"))]
        for name, value in row.items():
            setattr(funnel, name, int(value))


def _run_steps(session: Session, lake: Lake, found: dict[int, Funnel]) -> None:
    relation = lake.relation(session, OUTCOME_TABLE)
    if relation is None:
        return
    ids = ", ".join(str(c) for c in found)
    rows = lake.engine.query(
        f"""
        WITH runs AS (SELECT * FROM {relation} WHERE campaign_id IN ({ids})),
        latest AS (
          SELECT campaign_id, max(run_day) AS run_day FROM runs GROUP BY campaign_id
        ),
        first_of_day AS (
          SELECT r.campaign_id, r.run_day, min(r.run_at) AS run_at
          FROM runs r JOIN latest l USING (campaign_id, run_day) GROUP BY ALL
        )
        SELECT r.campaign_id, r.run_day, r.outcome, r.subscribers
        FROM runs r JOIN first_of_day f USING (campaign_id, run_day, run_at)
        ORDER BY r.campaign_id, r.subscribers DESC, r.outcome
        """
    ).to_pylist()
    for row in rows:
        funnel = found[int(row["campaign_id"])]
        funnel.run_day = row["run_day"]
        n = int(row["subscribers"])
        funnel.targets += n
        if _passed(str(row["outcome"])):
            funnel.after_policy += n
        else:
            funnel.exclusions[str(row["outcome"])] = n


def _passed(outcome: str) -> bool:
    return outcome in PASSED or outcome.startswith("capacity.")


def daily_report(
    session: Session, lake: Lake, *, until: date, campaign_ids: Sequence[int] | None = None
) -> pa.Table:
    """R-EVAL-3 by date, city, county, brand, campaign and channel, up to ``until``.

    Per row: target users (contacts reserved that day), contacted today (sent), new orders
    today, and the cumulative contacted and orders of that city/county/brand/campaign/channel.
    An event's day is the day its ledger row was written. ``campaign_ids`` keeps to those
    campaigns (all when None), read so from the ledger: a campaign's monitor reads its own.
    """
    engine = lake.engine
    engine.register("eval_ledger", ledger.read(session, campaign_ids=campaign_ids))
    latest = tags.latest_snapshot(session, lake, until)
    places = (
        f"SELECT msisdn, city, county, brand FROM {latest[1]}"
        if latest is not None
        else "SELECT NULL::VARCHAR AS msisdn, NULL::VARCHAR AS city, NULL::VARCHAR AS county, "
        "NULL::VARCHAR AS brand WHERE FALSE"
    )
    return engine.query(
        f"""
        WITH events AS (
          SELECT CASE WHEN e.state = 'reserved' THEN e.day ELSE CAST(e.at AS DATE) END AS day,
            coalesce(CAST(p.city AS VARCHAR), 'unknown') AS city,
            coalesce(CAST(p.county AS VARCHAR), 'unknown') AS county,
            coalesce(CAST(p.brand AS VARCHAR), 'unknown') AS brand,
            e.campaign_id, e.channel, e.state, e.contact_key
          FROM eval_ledger e LEFT JOIN ({places}) p USING (msisdn)
          WHERE e.arm = 'target' AND e.state IN ('reserved', 'sent', 'ordered')
        ),
        daily AS (
          SELECT day, city, county, brand, campaign_id, channel,
            count(DISTINCT contact_key) FILTER (WHERE state = 'reserved') AS target_users,
            count(DISTINCT contact_key) FILTER (WHERE state = 'sent') AS contacted_today,
            count(DISTINCT contact_key) FILTER (WHERE state = 'ordered') AS new_orders_today
          FROM events WHERE day <= DATE '{until.isoformat()}' GROUP BY ALL
        )
        SELECT *,
          sum(contacted_today) OVER w AS cumulative_contacted,
          sum(new_orders_today) OVER w AS cumulative_orders
        FROM daily
        WINDOW w AS (PARTITION BY city, county, brand, campaign_id, channel ORDER BY day)
        ORDER BY day, city, county, brand, campaign_id, channel
        """
    )


def control_vs_target(
    session: Session, lake: Lake, *, campaign_id: int, orders: pa.Table, within_days: int
) -> dict[str, Any]:
    """Order rates of the contacted target arm against the held-back control (R-EVAL-5).

    ``orders`` is the order feed (msisdn, offer_id, day): every accepted order, whoever made
    it happen, so both arms are measured by the same source. A subscriber succeeds when they
    order the campaign offer they were planned or held back with, within ``within_days`` of
    that day. Responses are counted for the target arm only: the control got no message.
    """
    engine = lake.engine
    engine.register("eval_ledger", ledger.read(session, campaign_ids=[campaign_id]))
    engine.register("eval_orders", orders)
    arms = engine.query(
        f"""
        WITH assigned AS (
          SELECT DISTINCT contact_key, msisdn, offer_id, day, arm FROM eval_ledger
          WHERE state IN ('reserved', 'held_back')
        ),
        judged AS (
          SELECT a.arm, a.contact_key,
            EXISTS (SELECT 1 FROM eval_orders o WHERE o.msisdn = a.msisdn
                    AND o.offer_id = a.offer_id AND o.day >= a.day
                    AND o.day <= a.day + INTERVAL {int(within_days)} DAY) AS ordered,
            EXISTS (SELECT 1 FROM eval_ledger r WHERE r.contact_key = a.contact_key
                    AND r.state = 'answered') AS responded
          FROM assigned a
        )
        SELECT arm, count(*) AS n, count(*) FILTER (WHERE ordered) AS ordered,
          count(*) FILTER (WHERE responded) AS responded
        FROM judged GROUP BY arm
        """
    ).to_pylist()
    by_arm = {str(r["arm"]): r for r in arms}
    target, control = by_arm.get("target"), by_arm.get("control")
    result: dict[str, Any] = {
        "campaign_id": campaign_id,
        "target": target,
        "control": control,
        "order_lift": None,
    }
    if target and control and target["n"] and control["n"]:
        comparison: ArmComparison = compare(
            arm="target",
            n_arm=int(target["n"]),
            successes_arm=int(target["ordered"]),
            control="control",
            n_control=int(control["n"]),
            successes_control=int(control["ordered"]),
        )
        result["order_lift"] = comparison.to_dict()
    return result
