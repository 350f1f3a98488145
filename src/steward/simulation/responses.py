"""SIMULATION, for the demo only: customers answer from the synthetic province's hidden truth.

Nothing here is part of the platform's decisions. It plays the customers' side so that the
demo's loop closes: subscribers reply to SMS (through the simulated SMS centre, as a phone
would), agents record their calls' results (through the same service the API uses), and some
customers order on their own (through the simulated billing centre) — the control group too,
which is what makes the measured lift honest. Each customer's chance follows their hidden
affinity for the offer's kind and their preferred channel; every draw is a hash of the seed
and the contact, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.channels import outbound
from steward.channels.orders import OrderCentre
from steward.channels.sms import SimulatedSmsCentre
from steward.channels.workorders import CallResult, WorkOrder, WorkOrderStatus
from steward.contacts import service as ledger
from steward.lake.service import Lake
from steward.offers.models import Offer

# The hidden affinity that speaks for each kind of offer (None: nothing to want, e.g. care).
AFFINITY = {
    "data_pack": "affinity_data",
    "vas": "affinity_vas",
    "content": "affinity_content",
    "plan_change": "affinity_voice",
    "family": "affinity_family",
    "roaming": "affinity_roaming",
    "handset": "affinity_handset",
    "broadband": "affinity_broadband",
}


@dataclass
class SimulationReport:
    sms_replies: int = 0
    sms_accepts: int = 0
    sms_unsubscribes: int = 0
    calls: dict[str, int] | None = None
    organic_orders: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulate_responses(
    session: Session,
    lake: Lake,
    *,
    truth: Path,
    day: date,
    now: datetime,
    seed: int,
    centre: SimulatedSmsCentre,
    orders: OrderCentre,
) -> SimulationReport:
    """Play the customers' answers to ``day``'s contacts (clearly a simulation)."""
    engine = lake.engine
    engine.register("sim_ledger", ledger.read(session))
    engine.register("sim_offer", _offers(session))
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW sim_truth AS SELECT * FROM {engine.scan_parquet([truth])}"
    )
    report = SimulationReport()
    _sms_replies(session, lake, report, day=day, seed=seed, centre=centre)
    report.calls = _calls(session, lake, day=day, now=now, seed=seed, orders=orders)
    report.organic_orders = _organic(session, lake, day=day, seed=seed, orders=orders)
    return report


def _offers(session: Session) -> pa.Table:
    offers = list(session.scalars(select(Offer)))
    return pa.table(
        {
            "offer_id": pa.array([o.id for o in offers], pa.int64()),
            "offer_type": [o.offer_type for o in offers],
            "reply_code": [o.reply_code for o in offers],
            "product": [o.billing_product_id for o in offers],
        }
    )


def _draw(seed: int, purpose: str) -> str:
    return (
        f"('0x' || left(md5('{seed}:{purpose}:' || l.contact_key), 8))::UBIGINT::DOUBLE "
        "/ 4294967296.0"
    )


def _affinity() -> str:
    whens = " ".join(f"WHEN '{kind}' THEN t.{column}" for kind, column in AFFINITY.items())
    return f"coalesce(CASE o.offer_type {whens} END, 0.0)"


# A customer's chance to accept on each channel: a base, plus their affinity for the
# offer's kind (squared: the keen are keener), half again on the channel they prefer.
_ACCEPT = {"sms": (0.03, 0.45), "outbound": (0.05, 0.55)}


def _p_accept(channel: str) -> str:
    base, reach = _ACCEPT[channel]
    return (
        f"{base} + {reach} * power({_affinity()}, 2) "
        f"* CASE WHEN t.preferred_channel = '{channel}' THEN 1.5 ELSE 1.0 END"
    )


def expected_accepts(session: Session, lake: Lake, *, plan: pa.Table, truth: Path) -> float:
    """The orders a plan's target contacts (msisdn, offer_id, channel, arm) would bring on
    average, by the simulated customers' own chances: a yardstick for benchmarks only."""
    engine = lake.engine
    engine.register("sim_plan", plan)
    engine.register("sim_offer", _offers(session))
    whens = " ".join(f"WHEN '{ch}' THEN {_p_accept(ch)}" for ch in _ACCEPT)
    value = (
        engine.query(
            f"""
        SELECT coalesce(sum(CASE l.channel {whens} ELSE 0 END), 0) AS accepts
        FROM sim_plan l JOIN sim_offer o USING (offer_id)
        LEFT JOIN {engine.scan_parquet([truth])} t USING (msisdn)
        WHERE l.arm = 'target' AND o.product IS NOT NULL
        """
        )
        .column("accepts")[0]
        .as_py()
    )
    return float(value)


def _latest(state_filter: str, day: date) -> str:
    """Target contacts of ``day`` whose latest state is one of ``state_filter``."""
    return f"""
        SELECT * FROM sim_ledger l
        WHERE l.day = DATE '{day.isoformat()}' AND l.arm = 'target'
        QUALIFY row_number() OVER (PARTITION BY l.contact_key ORDER BY l.id DESC) = 1
          AND l.state IN ({state_filter})
    """


def _sms_replies(
    session: Session,
    lake: Lake,
    report: SimulationReport,
    *,
    day: date,
    seed: int,
    centre: SimulatedSmsCentre,
) -> None:
    """Delivered SMS: some accept (the reply code or 是), some say no, a few unsubscribe."""
    decided = lake.engine.query(
        f"""
        WITH l AS ({_latest("'delivered'", day)})
        SELECT l.msisdn, o.reply_code, o.product IS NOT NULL AS orderable,
          {_draw(seed, "sms")} AS u,
          {_p_accept("sms")} AS p_accept
        FROM l JOIN sim_offer o USING (offer_id) LEFT JOIN sim_truth t USING (msisdn)
        WHERE l.channel = 'sms'
        """
    ).to_pylist()
    for row in decided:
        text = _reply(row)
        if text is None:
            continue
        centre.reply(session, row["msisdn"], text)
        report.sms_replies += 1
        report.sms_accepts += text not in ("N", "TD")
        report.sms_unsubscribes += text == "TD"


def _reply(row: dict[str, Any]) -> str | None:
    u, p_accept = float(row["u"]), float(row["p_accept"])
    if u > 0.995:
        return "TD"
    if not row["orderable"]:
        return None  # a greeting or a reminder: nothing to answer
    if u < p_accept:
        return str(row["reply_code"]) if row["reply_code"] and u < p_accept / 2 else "是"
    if u < p_accept + 0.12:
        return "N"
    return None


def _calls(
    session: Session,
    lake: Lake,
    *,
    day: date,
    now: datetime,
    seed: int,
    orders: OrderCentre,
) -> dict[str, int]:
    """Each assigned work order gets the result the customer would have given the agent."""
    open_orders = list(
        session.scalars(select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.ASSIGNED.value))
    )
    if not open_orders:
        return {}
    keys = pa.table({"contact_key": [w.contact_key for w in open_orders]})
    lake.engine.register("sim_calls", keys)
    chances = {
        r["contact_key"]: (float(r["u"]), float(r["p_accept"]))
        for r in lake.engine.query(
            f"""
            SELECT l.contact_key, {_draw(seed, "call")} AS u,
              {_p_accept("outbound")} AS p_accept
            FROM (SELECT DISTINCT contact_key, msisdn, offer_id FROM sim_ledger
                  SEMI JOIN sim_calls USING (contact_key)) l
            JOIN sim_offer o USING (offer_id) LEFT JOIN sim_truth t USING (msisdn)
            """
        ).to_pylist()
    }
    counted: dict[str, int] = {}
    for work in open_orders:
        u, p_accept = chances.get(work.contact_key, (1.0, 0.0))
        result, reason, callback = _call_result(u, p_accept, now)
        agent = session.scalar(select(User).where(User.username == work.assigned_to))
        if agent is None:
            continue
        outbound.record_result(
            session,
            work.id,
            by=agent,
            result=result,
            reason=reason,
            callback_at=callback,
            orders=orders,
            now=now,
        )
        counted[result.value] = counted.get(result.value, 0) + 1
    return counted


def _call_result(
    u: float, p_accept: float, now: datetime
) -> tuple[CallResult, str | None, datetime | None]:
    if u > 0.85:
        return CallResult.FAILED, "no answer", None
    if u < p_accept:
        return CallResult.ACCEPTED, None, None
    if u < p_accept + 0.05:
        return CallResult.CALL_BACK, None, now + timedelta(days=1)
    if u < p_accept + 0.15:
        return CallResult.CONSIDERING, None, None
    return CallResult.REJECTED, "not interested", None


def _organic(session: Session, lake: Lake, *, day: date, seed: int, orders: OrderCentre) -> int:
    """Customers who order on their own, target and control alike, as their affinity says."""
    rows = lake.engine.query(
        f"""
        WITH l AS (
          SELECT DISTINCT contact_key, msisdn, offer_id FROM sim_ledger
          WHERE day = DATE '{day.isoformat()}' AND state IN ('reserved', 'held_back')
        ),
        ordered AS (SELECT DISTINCT contact_key FROM sim_ledger WHERE state = 'ordered')
        SELECT l.contact_key, l.msisdn, l.offer_id, o.product
        FROM l JOIN sim_offer o USING (offer_id) LEFT JOIN sim_truth t USING (msisdn)
        WHERE o.product IS NOT NULL
          AND l.contact_key NOT IN (SELECT contact_key FROM ordered)
          AND {_draw(seed, "organic")} < 0.01 + 0.08 * {_affinity()}
        """
    ).to_pylist()
    for row in rows:
        orders.place(
            session,
            order_key=f"organic-{row['contact_key']}",
            msisdn=row["msisdn"],
            billing_product_id=row["product"],
            offer_id=int(row["offer_id"]),
        )
    return len(rows)
