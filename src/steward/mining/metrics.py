"""The validation report of a model (R-MINE-1): what a business user signs off.

AUC (does it rank), lift by decile (how much richer in responders the top tenth is),
calibration (predicted against observed rate, decile by decile) and stability (the
population stability index of the scores against the previous version's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

F64 = npt.NDArray[np.float64]
DECILES = 10
PSI_BINS = 10


def report(label: npt.NDArray[np.bool_], score: F64) -> dict[str, Any]:
    """AUC, base rate, and lift and calibration by decile of ``score`` (highest first)."""
    y = label.astype(np.float64)
    both = 0 < y.sum() < len(y)
    order = np.argsort(-score, kind="stable")
    deciles = np.array_split(order, DECILES)
    base = float(y.mean()) if len(y) else 0.0
    rows = []
    for number, rows_of in enumerate(deciles, start=1):
        observed = float(y[rows_of].mean()) if len(rows_of) else 0.0
        rows.append(
            {
                "decile": number,
                "subscribers": len(rows_of),
                "predicted": round(float(score[rows_of].mean()), 6) if len(rows_of) else 0.0,
                "observed": round(observed, 6),
                "lift": round(observed / base, 3) if base else 0.0,
            }
        )
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "base_rate": round(base, 6),
        "auc": round(float(roc_auc_score(y, score)), 4) if both else None,
        "top_decile_lift": rows[0]["lift"] if rows else 0.0,
        "deciles": rows,
    }


def psi(expected: F64, actual: F64) -> float:
    """Population stability index of ``actual`` against ``expected`` (over the expected's
    deciles): under 0.1 stable, 0.1–0.25 drifting, above 0.25 a different population."""
    if len(expected) == 0 or len(actual) == 0:
        return 0.0
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, PSI_BINS + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    return round(float(np.sum((a - e) * np.log(a / e))), 4)
