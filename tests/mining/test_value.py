"""Customer value (R-MINE-6): ARPU over complete months, lifetime from a churn probability,
and the handset-subsidy formula on hand-worked numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from steward.lake.engine import DuckDBEngine
from steward.mining.value import arpu, customer_value, remaining_lifetime, subsidy_benefit


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    duck = DuckDBEngine(memory_limit="1GB")
    yield duck
    duck.close()


def bills(*rows: tuple[str, date, float]) -> pa.Table:
    return pa.table(
        {
            "msisdn": [r[0] for r in rows],
            "bill_month": pa.array([r[1] for r in rows], type=pa.date32()),
            "total": [r[2] for r in rows],
        }
    )


def test_subsidy_benefit_on_a_hand_worked_example() -> None:
    """(16 − 10) × 60 + (60 − 50) × 10 − (300 + 20 + 30) = 360 + 100 − 350 = 110."""
    benefit = subsidy_benefit(
        lifetime_before=10.0,
        lifetime_after=16.0,
        arpu_before=50.0,
        arpu_after=60.0,
        subsidy=300.0,
        marketing=20.0,
        commission=30.0,
    )
    assert isinstance(benefit, float)
    assert benefit == pytest.approx(110.0)


def test_subsidy_benefit_is_negative_when_the_handset_buys_nothing() -> None:
    benefit = subsidy_benefit(
        lifetime_before=12.0, lifetime_after=12.0, arpu_before=80.0, arpu_after=80.0, subsidy=500.0
    )
    assert benefit == pytest.approx(-500.0)


def test_subsidy_benefit_broadcasts_over_a_base_with_one_offer() -> None:
    before = np.array([10.0, 20.0, 5.0])
    benefit = subsidy_benefit(
        lifetime_before=before,
        lifetime_after=before + 6.0,
        arpu_before=np.array([50.0, 30.0, 100.0]),
        arpu_after=np.array([60.0, 30.0, 90.0]),
        subsidy=300.0,
        marketing=20.0,
        commission=30.0,
    )
    # 6×60 + 10×10 − 350 = 110;  6×30 + 0 − 350 = −170;  6×90 − 10×5 − 350 = 140
    np.testing.assert_allclose(benefit, [110.0, -170.0, 140.0])


def test_lifetime_is_one_over_the_monthly_hazard_capped() -> None:
    assert remaining_lifetime(0.1) == pytest.approx(10.0)
    assert remaining_lifetime(1.0) == pytest.approx(1.0)
    assert remaining_lifetime(0.0) == pytest.approx(60.0)
    assert remaining_lifetime(0.0, cap_months=24) == pytest.approx(24.0)
    # A 90-day probability of 1 − 0.9³ is a monthly hazard of 0.1.
    assert remaining_lifetime(1 - 0.9**3, horizon_months=3) == pytest.approx(10.0)
    months = remaining_lifetime(np.array([0.5, 0.25, 0.001]))
    np.testing.assert_allclose(months, [2.0, 4.0, 60.0])


def test_a_probability_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        remaining_lifetime(np.array([0.2, 1.5]))


def test_arpu_is_the_mean_of_the_complete_months_before_the_day(engine: DuckDBEngine) -> None:
    engine.register(
        "bills",
        bills(
            ("13900000001", date(2026, 7, 1), 999.0),  # before the window
            ("13900000001", date(2026, 8, 1), 40.0),
            ("13900000001", date(2026, 9, 1), 50.0),
            ("13900000001", date(2026, 10, 1), 45.0),
            ("13900000001", date(2026, 10, 1), 15.0),  # a second bill of October adds up
            ("13900000001", date(2026, 11, 1), 999.0),  # November is not over
            ("13900000002", date(2026, 10, 1), 30.0),  # a new line: one month of history
        ),
    )
    rows = arpu(engine, bills="bills", as_of=date(2026, 11, 20), months=3).to_pylist()
    assert rows == [
        {"msisdn": "13900000001", "arpu": pytest.approx(50.0), "months_billed": 3},
        {"msisdn": "13900000002", "arpu": pytest.approx(30.0), "months_billed": 1},
    ]


def test_customer_value_is_arpu_times_remaining_lifetime(engine: DuckDBEngine) -> None:
    engine.register(
        "bills",
        bills(("13900000001", date(2026, 10, 1), 50.0), ("13900000002", date(2026, 10, 1), 80.0)),
    )
    engine.register(
        "churn",
        pa.table({"msisdn": ["13900000001", "13900000002"], "churn_probability": [0.1, 0.5]}),
    )
    rows = customer_value(
        engine, bills="bills", churn="churn", as_of=date(2026, 11, 1), months=1
    ).to_pylist()
    assert [(r["msisdn"], r["lifetime_months"], r["lifetime_value"]) for r in rows] == [
        ("13900000001", pytest.approx(10.0), pytest.approx(500.0)),
        ("13900000002", pytest.approx(2.0), pytest.approx(160.0)),
    ]
