"""Two-proportion comparison: Newcombe's published intervals, the pooled z-test, invariants."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.evaluation.stats import ArmComparison, compare


def comparison(s1: int, n1: int, s2: int, n2: int, confidence: float = 0.95) -> ArmComparison:
    return compare(
        arm="target",
        n_arm=n1,
        successes_arm=s1,
        control="control",
        n_control=n2,
        successes_control=s2,
        confidence=confidence,
    )


# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10, recomputed from the
# paper's definition to 4 decimals.
@pytest.mark.parametrize(
    ("s1", "n1", "s2", "n2", "lift", "low", "high"),
    [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
        (0, 10, 0, 20, 0.0000, -0.1611, 0.2775),
        (0, 10, 0, 10, 0.0000, -0.2775, 0.2775),
        (10, 10, 0, 20, 1.0000, 0.6791, 1.0000),
        (10, 10, 0, 10, 1.0000, 0.6075, 1.0000),
    ],
)
def test_interval_matches_newcombes_hybrid_score_method(
    s1: int, n1: int, s2: int, n2: int, lift: float, low: float, high: float
) -> None:
    result = comparison(s1, n1, s2, n2)
    assert round(result.lift, 4) == lift
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (low, high)


def test_rates_and_counts_are_reported_and_serialise_to_json() -> None:
    result = comparison(56, 70, 48, 80)
    assert (result.rate_arm, result.rate_control) == (0.8, 0.6)
    shown = json.loads(json.dumps(result.to_dict()))
    assert shown == result.to_dict()
    assert {k: shown[k] for k in ("arm", "control", "n_arm", "successes_control")} == {
        "arm": "target",
        "control": "control",
        "n_arm": 70,
        "successes_control": 48,
    }
    assert shown["confidence"] == 0.95


def test_p_value_is_the_two_sided_pooled_z_test() -> None:
    # pooled rate 104/150; z = 0.2 / sqrt(p(1-p)(1/70 + 1/80)) = 2.6502
    assert comparison(56, 70, 48, 80).p_value == pytest.approx(0.008045, abs=1e-6)


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"), [(56, 70, 48, 80), (3, 40, 9, 41), (1, 5, 0, 9)])
def test_p_value_agrees_with_pearsons_chi_square(s1: int, n1: int, s2: int, n2: int) -> None:
    """The pooled z-test squared is Pearson's uncorrected chi-square of the 2 x 2 table."""
    table = [[s1, n1 - s1], [s2, n2 - s2]]
    total = n1 + n2
    columns = [s1 + s2, total - s1 - s2]
    chi2 = sum(
        (table[i][j] - n * columns[j] / total) ** 2 / (n * columns[j] / total)
        for i, n in enumerate((n1, n2))
        for j in range(2)
    )
    # P(chi-square with 1 degree of freedom > x) = erfc(sqrt(x / 2))
    expected = math.erfc(math.sqrt(chi2 / 2))
    assert comparison(s1, n1, s2, n2).p_value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"), [(0, 10, 0, 20), (7, 7, 30, 30)])
def test_p_value_is_one_when_both_arms_are_all_failures_or_all_successes(
    s1: int, n1: int, s2: int, n2: int
) -> None:
    assert comparison(s1, n1, s2, n2).p_value == 1.0


def test_a_higher_confidence_widens_the_interval() -> None:
    narrow = comparison(56, 70, 48, 80, confidence=0.90)
    wide = comparison(56, 70, 48, 80, confidence=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.lift < narrow.ci_high < wide.ci_high


def test_an_empty_arm_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"arm 'control' is empty \(n = 0\)"):
        comparison(3, 10, 0, 0)
    with pytest.raises(ValueError, match="arm 'target' is empty"):
        comparison(0, 0, 3, 10)


@pytest.mark.parametrize(("s1", "n1"), [(-1, 10), (11, 10)])
def test_successes_outside_zero_to_n_are_refused(s1: int, n1: int) -> None:
    with pytest.raises(ValueError, match=rf"arm 'target': successes = {s1} is outside 0..10"):
        comparison(s1, n1, 3, 10)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95.0, -0.5])
def test_a_confidence_outside_zero_and_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        comparison(3, 10, 4, 10, confidence=confidence)


@st.composite
def arms(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, 5_000))
    n2 = draw(st.integers(1, 5_000))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@given(arms(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_holds_the_lift_within_bounds_and_mirrors_when_arms_swap(
    counts: tuple[int, int, int, int], confidence: float
) -> None:
    s1, n1, s2, n2 = counts
    result = comparison(s1, n1, s2, n2, confidence)
    assert -1.0 <= result.ci_low <= result.lift <= result.ci_high <= 1.0
    assert 0.0 <= result.p_value <= 1.0
    swapped = comparison(s2, n2, s1, n1, confidence)
    assert swapped.lift == -result.lift
    assert swapped.ci_low == pytest.approx(-result.ci_high, abs=1e-12)
    assert swapped.ci_high == pytest.approx(-result.ci_low, abs=1e-12)
    assert swapped.p_value == pytest.approx(result.p_value, abs=1e-12)
