"""Churn warning (R-MINE-2): the probability that an active line leaves within a horizon.

Labels come from what the operator delivers: a line is *cancelled* in the profile, and the
day it left is the end of its last subscription. A cohort is every line active on a cutoff
day; its features are read **as of the cutoff** (bills of months that ended before it,
tenure and contract days left on it, add-ons held on it) and its label is "left within the
horizon after it". Nothing dated after the cutoff reaches a feature, and the validation
cohort's cutoff is the training cohort's label end: the split cannot leak the future.

The health score of core customers (fee binding, service binding, service, tenure, calling
circle) is a transparent weighted sum computed beside the score, not a trained model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.mining import linear
from steward.mining.metrics import report

NUMERIC = (
    "tenure_months",
    "contract_days_left",
    "age",
    "monthly_fee",
    "arpu_3m",
    "bill_last",
    "spend_trend",
    "data_fee_3m",
    "roaming_fee_3m",
    "arrears",
    "addons",
)
CATEGORICAL = ("brand", "vip_level", "payment_type", "contract_type", "customer_type")
HISTORY_MONTHS = 6


class ChurnError(ValueError):
    """Churn cannot be trained or scored on this data (the message says what is missing)."""


@dataclass(frozen=True)
class Relations:
    """FROM-expressions of the lake tables churn reads, and what was read (for the registry)."""

    profile: str
    subscription: str
    product: str
    bill: str | None
    inputs: list[dict[str, str]]


def relations(session: Session, lake: Lake) -> Relations:
    """The latest profile, subscriptions and products, and every bill month."""
    found: dict[str, str | None] = {}
    inputs: list[dict[str, str]] = []
    for table in ("profile", "subscription", "product", "bill"):
        day = lake.latest_day(session, table, date.max)
        if day is None:
            found[table] = None
            continue
        days = (date.min, date.max) if table == "bill" else (day, day)
        files = lake.files(session, table, days=days)
        found[table] = lake.engine.scan_parquet(files) if files else None
        inputs += _recorded(session, lake, table, days)
    missing = [t for t in ("profile", "subscription", "product") if found[t] is None]
    if missing:
        raise ChurnError(f"churn needs {', '.join(missing)}: load a delivery first")
    return Relations(
        found["profile"] or "",
        found["subscription"] or "",
        found["product"] or "",
        found["bill"],
        inputs,
    )


def _recorded(
    session: Session, lake: Lake, table: str, days: tuple[date, date]
) -> list[dict[str, str]]:
    from sqlalchemy import select

    from steward.lake.models import LakePartition

    rows = session.scalars(
        select(LakePartition)
        .where(LakePartition.table_name == table, LakePartition.part_date.between(*days))
        .order_by(LakePartition.part_date, LakePartition.part_key)
    )
    return [
        {"table": table, "day": r.part_date.isoformat(), "sha256": r.content_sha256} for r in rows
    ]


def latest_cancellation_day(session: Session, lake: Lake) -> date:
    """Labels are known up to the newest profile delivery: later leavers are not yet seen."""
    day = lake.latest_day(session, "profile", date.max)
    if day is None:
        raise ChurnError("no profile delivered yet")
    return day


def cohort_sql(r: Relations, cutoff: date, horizon: int) -> str:
    """Every line active on ``cutoff``: its features as of then and whether it left within
    ``horizon`` days after."""
    d = _date(cutoff)
    month = cutoff.replace(day=1)
    m1 = _date(_months_before(month, 1))
    m3 = _date(_months_before(month, 3))
    m6 = _date(_months_before(month, HISTORY_MONTHS))
    bills = (
        f"""SELECT msisdn,
          round(avg(total) FILTER (WHERE bill_month >= {m3}), 6) AS arpu_3m,
          round(avg(total) FILTER (WHERE bill_month = {m1}), 6) AS bill_last,
          round(avg(total) FILTER (WHERE bill_month < {m3}), 6) AS bill_earlier,
          round(avg(data_fee) FILTER (WHERE bill_month >= {m3}), 6) AS data_fee_3m,
          round(avg(roaming_fee) FILTER (WHERE bill_month >= {m3}), 6) AS roaming_fee_3m,
          max(arrears) FILTER (WHERE bill_month >= {m3}) AS arrears
        FROM {r.bill} WHERE bill_month >= {m6} AND bill_month < {_date(month)} GROUP BY msisdn"""
        if r.bill
        else "SELECT NULL::VARCHAR AS msisdn, NULL::DOUBLE AS arpu_3m, NULL::DOUBLE AS bill_last, "
        "NULL::DOUBLE AS bill_earlier, NULL::DOUBLE AS data_fee_3m, "
        "NULL::DOUBLE AS roaming_fee_3m, NULL::DOUBLE AS arrears WHERE FALSE"
    )
    return f"""
    WITH gone AS (
      SELECT msisdn, max(end_date) AS left_on FROM {r.subscription} GROUP BY msisdn
    ),
    b AS ({bills}),  -- rounded: a parallel sum may differ in the last bit, a model may not
    extras AS (
      SELECT s.msisdn, count(*) AS addons FROM {r.subscription} s
      JOIN {r.product} pr USING (product_id)
      WHERE pr.kind <> 'plan' AND s.start_date <= {d} AND (s.end_date IS NULL OR s.end_date > {d})
      GROUP BY s.msisdn
    )
    SELECT p.msisdn,
      date_diff('day', p.activation_date, {d}) / 30.4 AS tenure_months,
      CAST(date_diff('day', {d}, p.contract_end) AS DOUBLE) AS contract_days_left,
      CAST(date_diff('year', p.birth_date, {d}) AS DOUBLE) AS age,
      CAST(p.monthly_fee AS DOUBLE) AS monthly_fee,
      b.arpu_3m, b.bill_last, b.bill_last / nullif(b.bill_earlier, 0) AS spend_trend,
      b.data_fee_3m, b.roaming_fee_3m, b.arrears,
      CAST(coalesce(e.addons, 0) AS DOUBLE) AS addons,
      p.brand, p.vip_level, p.payment_type, p.contract_type, p.customer_type,
      coalesce(p.status = 'cancelled' AND g.left_on > {d}
               AND g.left_on <= {_date(cutoff + timedelta(days=horizon))}, FALSE) AS label
    FROM {r.profile} p
    LEFT JOIN gone g USING (msisdn)
    LEFT JOIN b USING (msisdn)
    LEFT JOIN extras e USING (msisdn)
    WHERE p.activation_date <= {d}
      AND NOT (p.status = 'cancelled' AND coalesce(g.left_on, {d}) <= {d})
    ORDER BY p.msisdn
    """


@dataclass
class Trained:
    model: linear.LinearModel
    metrics: dict[str, object]
    params: dict[str, object]


def train(
    session: Session, lake: Lake, *, horizon: int, seed: int, labels_until: date | None = None
) -> tuple[Trained, list[dict[str, str]]]:
    """Fit on the newest cohort whose horizon is fully observed; report on it out of time.

    The report's model is fitted one horizon earlier and scored on the newest cohort: the
    published model is the same recipe refitted on the newest cohort.
    """
    r = relations(session, lake)
    known = labels_until or latest_cancellation_day(session, lake)
    cutoff = known - timedelta(days=horizon)
    earlier = cutoff - timedelta(days=horizon)
    older = lake.engine.query(cohort_sql(r, earlier, horizon))
    newest = lake.engine.query(cohort_sql(r, cutoff, horizon))
    for name, cohort in (("training", older), ("validation", newest)):
        positives = int(np.sum(_label(cohort)))
        if positives < 5:
            raise ChurnError(
                f"the {name} cohort has {positives} leavers within {horizon} days: "
                "too few to learn from (churn needs the cancellation history of the profile)"
            )
    check = _fit(older, seed)
    metrics = report(_label(newest), check.predict(newest))
    metrics["training_cutoff"] = earlier.isoformat()
    metrics["validation_cutoff"] = cutoff.isoformat()
    model = _fit(newest, seed)
    params: dict[str, object] = {
        "horizon_days": horizon,
        "cutoff": cutoff.isoformat(),
        "numeric": list(NUMERIC),
        "categorical": list(CATEGORICAL),
        "estimator": "logistic regression (C=1), standardised numbers, one-hot categories",
    }
    return Trained(model, metrics, params), r.inputs


def _fit(cohort: pa.Table, seed: int) -> linear.LinearModel:
    return linear.fit(cohort, _label(cohort), numeric=NUMERIC, categorical=CATEGORICAL, seed=seed)


def _label(cohort: pa.Table) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    return np.asarray(cohort.column("label").to_numpy(zero_copy_only=False), dtype=bool)


def base_sql(session: Session, lake: Lake, as_of: date) -> str:
    """The lines active on ``as_of`` with their features: the population churn scores."""
    return cohort_sql(relations(session, lake), as_of, 0)


def health(cohort: pa.Table) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    """Core-customer health, 0..100: fee binding (contract), service binding (add-ons),
    service (no arrears), tenure and spend, equally weighted; each part 0..1."""

    def column(name: str) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        values = cohort.column(name).to_numpy(zero_copy_only=False)
        return np.nan_to_num(np.asarray(values, dtype=np.float64))

    fee = np.clip(column("contract_days_left") / 365.0, 0.0, 1.0)
    service_binding = np.clip(column("addons") / 2.0, 0.0, 1.0)
    service = (column("arrears") <= 0).astype(np.float64)
    tenure = np.clip(column("tenure_months") / 60.0, 0.0, 1.0)
    spend = np.clip(np.nan_to_num(column("spend_trend"), nan=1.0), 0.0, 1.0)
    return np.round(100.0 * (fee + service_binding + service + tenure + spend) / 5.0, 1)


def _months_before(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"
