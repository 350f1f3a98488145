"""A logistic model kept as plain numbers: fitted by scikit-learn, stored as JSON, scored
with NumPy over Arrow columns, and explained exactly.

Why linear: the registry must store, reload and score a version on 18 million subscribers
in minutes, and the customer view must say *why* a subscriber is at risk. A logistic model's
log-odds is a sum, so each feature's contribution is its term in that sum against the
average subscriber — the top reasons need no approximation. Numbers are standardised and
capped; categories are one-hot over the values seen in training (others count as none).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.linear_model import LogisticRegression

F64 = npt.NDArray[np.float64]
MAX_CATEGORIES = 30  # the most frequent values of a category get a coefficient each
CLIP = 5.0  # standardised numbers are capped: one wild value cannot dominate a score


@dataclass
class LinearModel:
    numeric: list[str]
    means: list[float]
    scales: list[float]
    categorical: dict[str, list[str]]  # column -> the values that have a coefficient
    coefficients: list[float]  # numeric first, then each category's values in order
    intercept: float
    shares: list[float]  # each category value's share in training: the average subscriber

    @property
    def terms(self) -> list[str]:
        names = list(self.numeric)
        for column, values in self.categorical.items():
            names += [f"{column}={v}" for v in values]
        return names

    def matrix(self, table: pa.Table) -> F64:
        """The design matrix of ``table``: standardised numbers, then one-hot categories."""
        parts: list[F64] = []
        for name, mean, scale in zip(self.numeric, self.means, self.scales, strict=True):
            x = _numbers(table, name)
            x = np.where(np.isnan(x), mean, x)
            parts.append(np.clip((x - mean) / scale, -CLIP, CLIP))
        for column, values in self.categorical.items():
            codes, words = _codes(table, column)
            position = {w: i for i, w in enumerate(words)}
            parts += [(codes == position.get(v, -2)).astype(np.float64) for v in values]
        if not parts:
            return np.zeros((table.num_rows, 0))
        return np.column_stack(parts)

    def log_odds(self, table: pa.Table) -> F64:
        log_odds: F64 = self.matrix(table) @ np.asarray(self.coefficients) + self.intercept
        return log_odds

    def predict(self, table: pa.Table) -> F64:
        return 1.0 / (1.0 + np.exp(-self.log_odds(table)))

    def reasons(self, table: pa.Table, top: int = 3) -> pa.Array:
        """Each row's features that raise its log-odds most above the training average,
        comma-separated, strongest first (empty when none does)."""
        x = self.matrix(table)
        baseline = np.asarray([0.0] * len(self.numeric) + self.shares)
        contribution = (x - baseline) * np.asarray(self.coefficients)
        order = np.argsort(-contribution, axis=1)[:, :top]
        raises = np.take_along_axis(contribution, order, axis=1) > 0
        names = np.asarray(self.terms, dtype=str)[order]
        text = np.full(len(order), "", dtype=names.dtype)
        for k in range(order.shape[1]):  # sorted: once one does not raise, none after does
            piece = np.where(raises[:, k], names[:, k], "")
            comma = np.where((text != "") & (piece != ""), ",", "")
            text = np.char.add(np.char.add(text, comma), piece)
        return pa.array(text, pa.string())

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LinearModel:
        document: dict[str, Any] = json.loads(data)
        return cls(**document)


def fit(
    table: pa.Table,
    label: npt.NDArray[np.bool_],
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    seed: int,
    c: float = 1.0,
) -> LinearModel:
    """A regularised logistic regression of ``label`` on the named columns of ``table``."""
    means, scales = [], []
    for name in numeric:
        x = _numbers(table, name)
        mean = float(np.nanmean(x)) if np.isfinite(x).any() else 0.0
        spread = float(np.nanstd(x)) if np.isfinite(x).any() else 0.0
        means.append(mean)
        scales.append(spread if spread > 1e-9 else 1.0)
    values = {column: _frequent(*_codes(table, column)) for column in categorical}
    model = LinearModel(list(numeric), means, scales, values, [], 0.0, [])
    x = model.matrix(table)
    estimator = LogisticRegression(C=c, max_iter=500, random_state=seed)
    estimator.fit(x, label.astype(np.int64))
    model.coefficients = [float(v) for v in estimator.coef_[0]]
    model.intercept = float(estimator.intercept_[0])
    model.shares = [float(v) for v in x[:, len(numeric) :].mean(axis=0)]
    return model


def _numbers(table: pa.Table, name: str) -> F64:
    column = pc.cast(table.column(name), pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _codes(table: pa.Table, name: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """The column as dictionary codes (-1 for missing) and its words: comparing integers
    is what makes one-hot encoding of millions of rows cheap."""
    column = pc.cast(table.column(name), pa.string()).combine_chunks()
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [str(w) for w in encoded.dictionary.to_pylist()]


def _frequent(codes: npt.NDArray[np.int64], words: list[str]) -> list[str]:
    """The most frequent non-empty values, most frequent first (ties by value)."""
    counts = np.bincount(codes[codes >= 0], minlength=len(words))
    ranked = sorted((-int(n), w) for n, w in zip(counts, words, strict=True) if w != "" and n)
    return [w for _, w in ranked[:MAX_CATEGORIES]]
