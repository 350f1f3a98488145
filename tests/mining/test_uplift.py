"""Uplift on campaigns with a known answer: the offer lifts response by 25 points when
x0 > 0 and not at all otherwise, while x1 raises response whether offered or not (the sure
things a response model would chase). Both methods must rank the x0 > 0 segment first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.linear_model import LogisticRegression

from steward.mining.uplift import (
    UpliftMethod,
    fit_uplift,
    qini_coefficient,
    qini_curve,
)

LIFT = 0.25


@dataclass(frozen=True)
class Campaign:
    x: npt.NDArray[np.float64]
    treatment: npt.NDArray[np.int64]
    response: npt.NDArray[np.int64]
    true_uplift: npt.NDArray[np.float64]

    @property
    def helped(self) -> npt.NDArray[np.bool_]:
        return self.x[:, 0] > 0


def campaign(n: int, *, treated_share: float = 0.5, seed: int) -> Campaign:
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 4))
    treatment = (r.random(n) < treated_share).astype(np.int64)
    base = 0.15 + 0.10 * (x[:, 1] > 0)
    lift = np.where(x[:, 0] > 0, LIFT, 0.0)
    response = (r.random(n) < base + treatment * lift).astype(np.int64)
    return Campaign(x, treatment, response, lift)


def qini(c: Campaign, score: npt.NDArray[np.float64]) -> float:
    return qini_coefficient(score, treatment=c.treatment, response=c.response)


@pytest.mark.parametrize("method", list(UpliftMethod))
@pytest.mark.parametrize("treated_share", [0.5, 0.8])
def test_the_segment_treatment_helps_is_ranked_first(
    method: UpliftMethod, treated_share: float
) -> None:
    train = campaign(6000, treated_share=treated_share, seed=1)
    test = campaign(20000, treated_share=treated_share, seed=2)
    model = fit_uplift(
        train.x, treatment=train.treatment, response=train.response, method=method, seed=0
    )
    uplift = model.predict(test.x)
    top_half = np.argsort(-uplift)[: len(uplift) // 2]
    assert test.helped[top_half].mean() > 0.8
    oracle = qini(test, test.true_uplift)
    at_random = qini(test, np.random.default_rng(0).random(len(uplift)))
    by_response = qini(test, test.x[:, 1])  # ranking the sure things first earns nothing
    assert qini(test, uplift) > 0.6 * oracle
    assert abs(at_random) < 0.25 * oracle
    assert abs(by_response) < 0.25 * oracle


@pytest.mark.parametrize("method", list(UpliftMethod))
def test_the_uplift_is_the_size_of_the_lift_even_with_a_small_control_group(
    method: UpliftMethod,
) -> None:
    """With 80 % treated, class transformation without its weights would put the helped
    segment near 0.04 and the rest near −0.36; weighted, both sit at the truth."""
    train = campaign(8000, treated_share=0.8, seed=3)
    test = campaign(4000, seed=4)
    uplift = fit_uplift(
        train.x, treatment=train.treatment, response=train.response, method=method
    ).predict(test.x)
    assert uplift[test.helped].mean() == pytest.approx(LIFT, abs=0.06)
    assert uplift[~test.helped].mean() == pytest.approx(0.0, abs=0.06)


def test_the_same_seed_gives_the_same_model() -> None:
    c = campaign(3000, seed=5)
    first, second = (
        fit_uplift(c.x, treatment=c.treatment, response=c.response, seed=7).predict(c.x)
        for _ in range(2)
    )
    np.testing.assert_array_equal(first, second)


def test_any_scikit_learn_classifier_will_do() -> None:
    train, test = campaign(6000, seed=6), campaign(6000, seed=7)
    model = fit_uplift(
        np.c_[train.x, train.x[:, 0] > 0],
        treatment=train.treatment,
        response=train.response,
        method="two_model",
        classifier=LogisticRegression(),
    )
    uplift = model.predict(np.c_[test.x, test.x[:, 0] > 0])
    assert uplift[test.helped].mean() > uplift[~test.helped].mean() + 0.15


def test_qini_curve_by_hand() -> None:
    """Ranked: treated responder, control non-responder, treated non-responder, control
    responder. Incremental responders after each: 1, 1, 1, 1 − 1 × 2/2 = 0."""
    curve = qini_curve(
        np.array([0.9, 0.8, 0.1, 0.0]), treatment=np.array([1, 0, 1, 0]), response=[1, 0, 0, 1]
    )
    np.testing.assert_allclose(curve.targeted, [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.incremental, [0.0, 0.25, 0.25, 0.25, 0.0])


def test_tied_scores_are_targeted_together() -> None:
    curve = qini_curve(
        np.array([1.0, 1.0, 0.0, 0.0]), treatment=[1, 0, 1, 0], response=[1, 0, 0, 1]
    )
    np.testing.assert_allclose(curve.targeted, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(curve.incremental, [0.0, 0.25, 0.0])


def test_qini_coefficient_is_one_for_the_perfect_ranking_and_negative_reversed() -> None:
    c = campaign(2000, seed=8)
    perfect = (c.response * c.treatment - c.response * (1 - c.treatment)).astype(float)
    assert qini(c, perfect) == pytest.approx(1.0)
    assert qini(c, -perfect) < 0


def test_a_campaign_without_a_control_group_is_refused() -> None:
    c = campaign(100, seed=9)
    with pytest.raises(ValueError, match="control group"):
        fit_uplift(c.x, treatment=np.ones(100), response=c.response)
