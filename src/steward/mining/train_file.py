"""Bring your own table (issue 7 §3): a model from any customer file with a label column.

Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier: missing values and
categories handled natively, no scaling to get wrong) evaluated by stratified k-fold cross
validation — each fold's model never sees the rows it is scored on. The report gives the AUC
of each fold and their mean, and the columns that matter most by permutation importance on
the held-out rows (how much the AUC drops when the column is shuffled). A column that alone
nearly separates the label, or an AUC far above what such files reach, is flagged: it is
usually the label leaking in under another name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from steward.mining.tabular import Table, read_table

LEAK_AUC = 0.98  # one column this predictive is almost always the label in disguise
SUSPICIOUS_AUC = 0.95


@dataclass
class FileReport:
    file: str
    rows: int
    label: str
    positive: str
    positive_share: float
    model: str
    folds: int
    seed: int
    auc: float
    auc_folds: list[float]
    top_features: list[dict[str, float | str]]
    numeric: list[str]
    categorical: list[str]
    left_out: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_file(
    path: Path,
    *,
    label: str,
    id_column: str | None = None,
    source: Mapping[str, Any] | None = None,
    folds: int = 5,
    seed: int = 0,
    top: int = 10,
) -> FileReport:
    """Cross-validate a model of ``label`` on the file's other columns."""
    table = read_table(path, label=label, id_column=id_column, source=source)
    matrix, names, categorical = _matrix(table)
    folds = max(2, min(folds, int(table.label.sum()), int(len(table.label) - table.label.sum())))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores: list[float] = []
    importance = np.zeros(len(names))
    for train, test in split.split(matrix, table.label):
        model = _model(categorical, seed).fit(matrix[train], table.label[train])
        scores.append(
            float(roc_auc_score(table.label[test], model.predict_proba(matrix[test])[:, 1]))
        )
        drops = permutation_importance(
            model,
            matrix[test],
            table.label[test],
            scoring="roc_auc",
            n_repeats=3,
            random_state=seed,
        )
        importance += drops.importances_mean / folds
    ranked = sorted(zip(names, importance, strict=True), key=lambda p: -p[1])[:top]
    report = FileReport(
        file=path.name,
        rows=table.rows,
        label=label,
        positive=table.positive,
        positive_share=round(float(table.label.mean()), 4),
        model="HistGradientBoostingClassifier",
        folds=folds,
        seed=seed,
        auc=round(float(np.mean(scores)), 4),
        auc_folds=[round(s, 4) for s in scores],
        top_features=[{"column": n, "auc_drop": round(float(v), 4)} for n, v in ranked],
        numeric=list(table.numeric),
        categorical=list(table.categorical),
        left_out=table.left_out,
    )
    report.warnings = _warnings(table, matrix, names, categorical, report.auc)
    return report


def _matrix(table: Table) -> tuple[npt.NDArray[np.float64], list[str], list[bool]]:
    """One float column a file column: numbers as they are, categories as codes (NaN for a
    blank), so the trees split categories as categories."""
    columns = [table.numeric[n] for n in table.numeric]
    for name in table.categorical:
        values = table.categorical[name]
        levels = sorted({v for v in values if v != ""})
        code = {level: float(i) for i, level in enumerate(levels)}
        columns.append(np.array([code.get(v, np.nan) for v in values]))
    names = [*table.numeric, *table.categorical]
    categorical = [False] * len(table.numeric) + [True] * len(table.categorical)
    return np.column_stack(columns), names, categorical


def _model(categorical: list[bool], seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        categorical_features=np.array(categorical),
        learning_rate=0.05,
        max_iter=300,
        early_stopping=True,
        validation_fraction=0.15,
        random_state=seed,
    )


def _warnings(
    table: Table,
    matrix: npt.NDArray[np.float64],
    names: list[str],
    categorical: list[bool],
    auc: float,
) -> list[str]:
    found = []
    for i, name in enumerate(names):
        alone = _alone_auc(matrix[:, i], table.label, categorical[i])
        if alone >= LEAK_AUC:
            found.append(f"column {name!r} alone separates the label (AUC {alone:.3f}): a leak?")
    if auc >= SUSPICIOUS_AUC:
        found.append(f"AUC {auc:.3f} is far above what such files reach: look for leakage")
    return found


def _alone_auc(
    values: npt.NDArray[np.float64], label: npt.NDArray[np.int8], categorical: bool
) -> float:
    """How well one column ranks the label on its own, in either direction: a number by its
    value (a blank at the middle), a category by its share of positives."""
    if categorical:
        keys = np.where(np.isnan(values), -1.0, values)
        _, inverse = np.unique(keys, return_inverse=True)
        score = (np.bincount(inverse, weights=label) / np.bincount(inverse))[inverse]
    else:
        score = np.where(np.isnan(values), np.nanmedian(values), values)
    auc = float(roc_auc_score(label, score))
    return max(auc, 1.0 - auc)
