"""Uplift: whom a campaign changes, not who would have responded anyway (issue 7 §2, R-EVAL-5).

A campaign with a random control group answers, per subscriber, ``P(respond | offered) −
P(respond | not offered)``: the incremental response. Targeting by it leaves out the sure
things (who buy anyway) and the sleeping dogs (who leave when disturbed). Two estimators:

- **two-model**: one classifier on the treated, one on the control; uplift is the difference
  of their probabilities. Simple, but each model spends itself on the response, not on the
  difference, and the two errors add.
- **class transformation** (Jaskowski & Jaroszewicz, 2012): ``z = y·t + (1 − y)(1 − t)`` —
  1 for a treated responder or a control non-responder. With treated and control equally
  likely, ``P(z = 1 | x) = ½ + ½·uplift(x)``, so ``uplift = 2·P(z = 1 | x) − 1`` from one
  classifier. When the control share is not one half, rows are weighted ``½ / P(t)`` so the
  groups weigh the same and the identity holds again.

Evaluation by the Qini curve (Radcliffe): subscribers ranked by predicted uplift, at each cut
the incremental responders ``Y_t − Y_c · N_t / N_c`` among those ranked so far. The Qini
coefficient is the area between the curve and the random-targeting diagonal, divided by the
same area of the perfect ranking (treated responders first, control responders last): 0 is
random, 1 as good as the outcomes allow, negative worse than random.

The classifier is any scikit-learn one with ``predict_proba`` (default: gradient-boosted
trees); it is cloned, and seeded through ``random_state`` where it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


class UpliftMethod(StrEnum):
    TWO_MODEL = "two_model"
    CLASS_TRANSFORMATION = "class_transformation"


def default_classifier() -> HistGradientBoostingClassifier:
    """Shallow, slow-learning trees: uplift is a small difference, easily drowned in overfit."""
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=150, max_leaf_nodes=8, min_samples_leaf=50
    )


@dataclass
class UpliftModel:
    """An uplift estimator: ``fit`` on a campaign's target and control groups, ``predict``
    the incremental response probability of anyone."""

    method: UpliftMethod = UpliftMethod.CLASS_TRANSFORMATION
    classifier: Any = None  # a scikit-learn classifier; None: ``default_classifier()``
    seed: int = 0
    treated_share: float = field(default=float("nan"), init=False)
    _models: list[Any] = field(default_factory=list, init=False, repr=False)

    def fit(self, x: ArrayLike, *, treatment: ArrayLike, response: ArrayLike) -> UpliftModel:
        """``x`` features (rows = subscribers), ``treatment`` 1 for the target group and 0 for
        the control, ``response`` 1 for a responder."""
        features, t, y = _checked(x, treatment, response)
        self.treated_share = float(t.mean())
        if self.method is UpliftMethod.TWO_MODEL:
            treated = t == 1
            self._models = [
                self._classifier().fit(features[treated], y[treated]),
                self._classifier().fit(features[~treated], y[~treated]),
            ]
        else:
            z = (y * t + (1 - y) * (1 - t)).astype(np.int64)
            weight = np.where(t == 1, 0.5 / self.treated_share, 0.5 / (1 - self.treated_share))
            self._models = [self._classifier().fit(features, z, sample_weight=weight)]
        return self

    def predict(self, x: ArrayLike) -> FloatArray:
        """Predicted uplift, ``P(respond | treated) − P(respond | control)``, per row."""
        if not self._models:
            raise RuntimeError("fit the uplift model first")
        features = np.asarray(x, dtype=np.float64)
        if self.method is UpliftMethod.TWO_MODEL:
            treated, control = (_positive(m, features) for m in self._models)
            return treated - control
        return 2.0 * _positive(self._models[0], features) - 1.0

    def _classifier(self) -> Any:
        model = clone(self.classifier if self.classifier is not None else default_classifier())
        if "random_state" in model.get_params():
            model.set_params(random_state=self.seed)
        return model


def fit_uplift(
    x: ArrayLike,
    *,
    treatment: ArrayLike,
    response: ArrayLike,
    method: UpliftMethod | str = UpliftMethod.CLASS_TRANSFORMATION,
    classifier: Any = None,
    seed: int = 0,
) -> UpliftModel:
    """Fit an uplift model of ``method`` on a campaign's target and control groups."""
    model = UpliftModel(method=UpliftMethod(method), classifier=classifier, seed=seed)
    return model.fit(x, treatment=treatment, response=response)


@dataclass(frozen=True)
class QiniCurve:
    """Incremental responders against the share targeted, one point per distinct score
    (tied scores are targeted together), starting at (0, 0)."""

    targeted: FloatArray  # share of the population targeted, 0 to 1
    incremental: FloatArray  # incremental responders among them, as a share of the population


def qini_curve(uplift: ArrayLike, *, treatment: ArrayLike, response: ArrayLike) -> QiniCurve:
    """The Qini curve of a ranking by ``uplift`` (higher first) on a campaign's outcome."""
    score = np.asarray(uplift, dtype=np.float64)
    t = np.asarray(treatment, dtype=np.int64)
    y = np.asarray(response, dtype=np.int64)
    order = np.argsort(-score, kind="stable")
    n_t = np.cumsum(t[order])
    n_c = np.cumsum(1 - t[order])
    y_t = np.cumsum((y * t)[order])
    y_c = np.cumsum((y * (1 - t))[order])
    # Incremental responders so far; before the first control the control rate is unknown: 0.
    scaled = np.divide(y_c * n_t, n_c, out=np.zeros(len(order)), where=n_c > 0)
    gain = y_t - scaled
    last_of_tie = np.flatnonzero(np.r_[score[order][1:] != score[order][:-1], True])
    n = len(order)
    return QiniCurve(
        targeted=np.r_[0.0, (last_of_tie + 1) / n],
        incremental=np.r_[0.0, gain[last_of_tie] / n],
    )


def qini_coefficient(uplift: ArrayLike, *, treatment: ArrayLike, response: ArrayLike) -> float:
    """Area between the Qini curve and the random diagonal, over the perfect ranking's:
    0 random, 1 perfect, negative worse than random (module doc)."""
    t = np.asarray(treatment, dtype=np.int64)
    y = np.asarray(response, dtype=np.int64)
    perfect = y * t - y * (1 - t)  # treated responders first, control responders last
    best = _area_above_random(qini_curve(perfect, treatment=t, response=y))
    if best <= 0:
        return 0.0
    return _area_above_random(qini_curve(uplift, treatment=t, response=y)) / best


def _area_above_random(curve: QiniCurve) -> float:
    diagonal = curve.targeted * curve.incremental[-1]
    gap = curve.incremental - diagonal
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(curve.targeted)))


def _positive(model: Any, features: FloatArray) -> FloatArray:
    """Probability of class 1 (a model that saw one class only gives 0 or 1)."""
    proba = model.predict_proba(features)
    classes = list(model.classes_)
    if 1 not in classes:
        return np.zeros(len(features))
    return np.asarray(proba[:, classes.index(1)], dtype=np.float64)


def _checked(
    x: ArrayLike, treatment: ArrayLike, response: ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    features = np.asarray(x, dtype=np.float64)
    t = np.asarray(treatment).astype(np.int64)
    y = np.asarray(response).astype(np.int64)
    if features.ndim != 2 or not len(features) == len(t) == len(y):
        raise ValueError("features must be a matrix with one row per treatment and response")
    if not np.isin(t, (0, 1)).all() or not np.isin(y, (0, 1)).all():
        raise ValueError("treatment and response must be 0 or 1")
    if t.min() == t.max():
        raise ValueError("uplift needs both a target and a control group")
    return features, t, y
