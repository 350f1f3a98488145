"""Customer value (R-MINE-6): ARPU, expected remaining lifetime, and the handset-subsidy benefit.

ARPU is what a subscriber is billed a month, over the last complete months. Remaining lifetime
turns a churn model's probability into months: with a constant monthly hazard ``h`` the months
left (the current one included) are geometric with mean ``1 / h``. The two meet in the
subsidy decision: a subsidised handset is worth giving when the months it adds, at the new
ARPU, and the ARPU it adds, over the months the subscriber would have stayed anyway, pay for
the subsidy, the marketing and the channel's commission.

The arithmetic takes a number or numpy arrays (one subscriber at the counter, or the whole
base in a batch) and broadcasts.
"""

from __future__ import annotations

from datetime import date
from typing import overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from steward.lake.engine import AnalyticsEngine

FloatArray = npt.NDArray[np.float64]
Amount = float | FloatArray

ARPU_MONTHS = 3
LIFETIME_CAP_MONTHS = 60.0  # beyond five years a forecast of staying is not worth more


def arpu(
    engine: AnalyticsEngine, *, bills: str, as_of: date, months: int = ARPU_MONTHS
) -> pa.Table:
    """Mean monthly bill total over the ``months`` complete months before ``as_of``.

    ``bills`` is a FROM-expression with the bill interface columns (msisdn, bill_month, total).
    The month holding ``as_of`` is not complete and is left out: on 2026-11-01 or 2026-11-20
    with ``months=3`` the window is August to October. Several bills of one month add up; the
    mean is over the months billed, so a line a month old is not diluted by months before it
    existed (``months_billed`` tells how much history stands behind the figure).

    Columns: msisdn, arpu, months_billed.
    """
    return engine.query(f"{_arpu_sql(bills=bills, as_of=as_of, months=months)} ORDER BY msisdn")


def customer_value(
    engine: AnalyticsEngine,
    *,
    bills: str,
    churn: str,
    as_of: date,
    months: int = ARPU_MONTHS,
    horizon_months: float = 1.0,
    cap_months: float = LIFETIME_CAP_MONTHS,
) -> pa.Table:
    """ARPU, remaining lifetime and their product, the revenue still to come, per subscriber.

    ``churn`` is a FROM-expression with msisdn and churn_probability (over ``horizon_months``);
    a subscriber billed but not scored is left out. Undiscounted: a ranking of value, not a
    valuation. Columns: msisdn, arpu, months_billed, churn_probability, lifetime_months,
    lifetime_value.
    """
    scored = engine.query(
        f"""SELECT a.msisdn, a.arpu, a.months_billed, c.churn_probability
            FROM ({_arpu_sql(bills=bills, as_of=as_of, months=months)}) AS a
            JOIN {churn} AS c ON c.msisdn = a.msisdn
            WHERE c.churn_probability IS NOT NULL
            ORDER BY a.msisdn"""
    )
    probability = np.asarray(scored["churn_probability"].to_numpy(), dtype=np.float64)
    lifetime = remaining_lifetime(probability, horizon_months=horizon_months, cap_months=cap_months)
    spend = np.asarray(scored["arpu"].to_numpy(), dtype=np.float64)
    return scored.append_column("lifetime_months", pa.array(lifetime)).append_column(
        "lifetime_value", pa.array(spend * lifetime)
    )


@overload
def remaining_lifetime(
    churn_probability: float, *, horizon_months: float = ..., cap_months: float = ...
) -> float: ...


@overload
def remaining_lifetime(
    churn_probability: FloatArray, *, horizon_months: float = ..., cap_months: float = ...
) -> FloatArray: ...


def remaining_lifetime(
    churn_probability: Amount,
    *,
    horizon_months: float = 1.0,
    cap_months: float = LIFETIME_CAP_MONTHS,
) -> Amount:
    """Expected months a subscriber stays, the current month included, capped.

    ``churn_probability`` is the chance of leaving within ``horizon_months`` (a churn model's
    30-day score: 1; a 90-day one: 3). The monthly hazard is
    ``h = 1 − (1 − p) ** (1 / horizon_months)`` and, the hazard held constant, the months
    left are geometric with mean ``1 / h``; a subscriber certain to leave has 1 month, one who
    never leaves gets ``cap_months``.
    """
    p = np.asarray(churn_probability, dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("churn probabilities must lie between 0 and 1")
    if horizon_months <= 0 or cap_months < 1:
        raise ValueError("the horizon must be positive and the cap at least one month")
    hazard = 1.0 - (1.0 - p) ** (1.0 / horizon_months)
    months = 1.0 / np.maximum(hazard, 1.0 / cap_months)
    return _like(churn_probability, months)


# Numbers in, a number out; the overlap with the array form below is the point.
@overload
def subsidy_benefit(  # type: ignore[overload-overlap]
    *,
    lifetime_before: float,
    lifetime_after: float,
    arpu_before: float,
    arpu_after: float,
    subsidy: float,
    marketing: float = ...,
    commission: float = ...,
) -> float: ...


@overload
def subsidy_benefit(
    *,
    lifetime_before: Amount,
    lifetime_after: Amount,
    arpu_before: Amount,
    arpu_after: Amount,
    subsidy: Amount,
    marketing: Amount = ...,
    commission: Amount = ...,
) -> FloatArray: ...


def subsidy_benefit(
    *,
    lifetime_before: Amount,
    lifetime_after: Amount,
    arpu_before: Amount,
    arpu_after: Amount,
    subsidy: Amount,
    marketing: Amount = 0.0,
    commission: Amount = 0.0,
) -> Amount:
    """The benefit of a handset subsidy to the operator (R-MINE-6)::

        benefit = (lifetime_after − lifetime_before) × arpu_after
                + (arpu_after − arpu_before) × lifetime_before
                − (subsidy + marketing + commission)

    The first term is the revenue of the months the handset keeps the subscriber beyond
    those they would have stayed; the second the extra ARPU (a dearer plan with the handset)
    over the months they would have stayed anyway; the third what the offer costs: the
    subsidy, the marketing to make it, the commission of the channel that sells it.
    Lifetimes in months (``remaining_lifetime``), ARPU a month (``arpu``), costs in the same
    money. Numbers give a number; arrays broadcast and give an array. Positive: worth it.
    """
    values = [
        np.asarray(v, dtype=np.float64)
        for v in (lifetime_before, lifetime_after, arpu_before, arpu_after)
    ]
    before, after, spend_before, spend_after = values
    cost = np.asarray(subsidy, dtype=np.float64) + marketing + commission
    benefit = (after - before) * spend_after + (spend_after - spend_before) * before - cost
    scalar = all(np.ndim(v) == 0 for v in (*values, cost))
    return float(benefit) if scalar else np.asarray(benefit, dtype=np.float64)


def _arpu_sql(*, bills: str, as_of: date, months: int) -> str:
    if months < 1:
        raise ValueError("months must be at least 1")
    end = as_of.replace(day=1)
    first = _months_before(end, months)
    return f"""
        SELECT msisdn, avg(month_total) AS arpu, count(*) AS months_billed
        FROM (
            SELECT msisdn, bill_month, sum(total) AS month_total
            FROM {bills}
            WHERE msisdn IS NOT NULL
              AND bill_month >= DATE '{first.isoformat()}'
              AND bill_month < DATE '{end.isoformat()}'
            GROUP BY msisdn, bill_month
        ) AS monthly
        GROUP BY msisdn"""


def _like(template: Amount, result: FloatArray) -> Amount:
    """A number for a number, an array for an array."""
    return float(result) if np.ndim(template) == 0 else result


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)
