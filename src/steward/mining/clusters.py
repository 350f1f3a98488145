"""Customer segments by value and usage (R-MINE-7, issue 7 §2 "Segmentation").

Subscribers are clustered on a few numeric columns (ARPU, data MB, voice minutes, …) with
k-means. Usage and spend are heavy-tailed — a few subscribers use a hundred times the median
— so each column is put on a signed log scale and standardised first; otherwise the biggest
users would each get a cluster and everyone else would share one. A base of millions is
cheap because the centroids are learnt on a seeded sample (MiniBatchKMeans; a few hundred
thousand subscribers place them as well as all would) and then every subscriber joins the
nearest. The number of segments is the k in a range with the best silhouette (how much
closer each subscriber is to its own segment than to the next), measured on a smaller seeded
sample, since the silhouette costs n² distances. Everything is seeded: the same table and
seed give the same segments.

Segments are numbered by value, 0 the most valuable (by size when no value column is named),
and each is described by its centroid in the columns' own units and a readable name built
from where the centroid stands: value level first, then the usage it is heavy in, e.g.
"high value · data heavy", "low value · light use".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

HIGH = 0.5  # standard deviations from the base's mean that make a level "high" (or "low")
DEFAULT_LABELS: dict[str, str] = {
    "data_mb_30d": "data",
    "voice_minutes_30d": "voice",
    "sms_sent_30d": "SMS",
    "voice_roaming_days_30d": "roaming",
    "data_roaming_days_30d": "roaming data",
    "bill_vas_fee_3m": "VAS",
    "recharge_amount_90d": "recharge",
}


@dataclass(frozen=True)
class Segmentation:
    """Each subscriber's segment, and each segment's size, centroid and name.

    ``assignments``: (msisdn, segment, segment_name). ``profile``: (segment, segment_name,
    subscribers, share, then one column per clustering column: the centroid mapped back to
    the column's units — from the log scale, so a typical member's value, not the mean).
    ``silhouettes``: the sampled silhouette of every k tried.
    """

    assignments: pa.Table
    profile: pa.Table
    k: int
    silhouettes: dict[int, float]


def segment_customers(
    customers: pa.Table,
    *,
    columns: Sequence[str] | None = None,
    value: str | None = "arpu_3m",
    k_range: tuple[int, int] = (2, 8),
    fit_sample: int = 200_000,
    silhouette_sample: int = 5_000,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> Segmentation:
    """Cluster ``customers`` (msisdn and numeric columns, one row a subscriber) into the k
    of ``k_range`` (inclusive) with the best silhouette.

    ``columns`` default to every numeric column; ``value`` names the one that ranks and
    names segments by value (None: none does); ``labels`` give short names for columns in
    segment names (default ``DEFAULT_LABELS``, else the column's own name). Centroids are
    fitted on ``fit_sample`` subscribers, k chosen on ``silhouette_sample`` of them.
    """
    names = _columns(customers, columns, value)
    raw = np.column_stack([_floats(customers, n) for n in names])
    scaler = StandardScaler()
    scaled: F64 = scaler.fit_transform(_fill(_signed_log(raw)))
    k, model, silhouettes = _best_k(scaled, k_range, (fit_sample, silhouette_sample), seed)
    nearest: I64 = model.predict(scaled)
    centres: F64 = model.cluster_centers_
    order = _rank(centres, nearest, None if value is None else names.index(value))
    centres = centres[order]
    segment = np.argsort(order)[nearest]
    titles = _titles(centres, names, value, {**DEFAULT_LABELS, **(labels or {})})
    original = _inverse_signed_log(scaler.inverse_transform(centres))
    return Segmentation(
        assignments=pa.table(
            {
                "msisdn": customers.column("msisdn").cast(pa.string()),
                "segment": pa.array(segment, pa.int32()),
                "segment_name": pa.array(titles, pa.string()).take(pa.array(segment)),
            }
        ),
        profile=_profile(segment, titles, names, original),
        k=k,
        silhouettes=silhouettes,
    )


def _columns(customers: pa.Table, columns: Sequence[str] | None, value: str | None) -> list[str]:
    if columns is None:
        names = [f.name for f in customers.schema if f.name != "msisdn" and _numeric(f.type)]
    else:
        missing = [c for c in columns if c not in customers.column_names]
        if missing:
            raise ValueError(f"no column {', '.join(missing)} in the customer table")
        names = list(columns)
    if not names:
        raise ValueError("no numeric column to cluster on")
    if value is not None and value not in names:
        raise ValueError(f"value column {value!r} is not among the clustering columns {names}")
    return names


def _best_k(
    scaled: F64, k_range: tuple[int, int], samples: tuple[int, int], seed: int
) -> tuple[int, MiniBatchKMeans, dict[int, float]]:
    """Fit every k of the range on the same seeded sample and score each on a part of it;
    the best silhouette wins, the smaller k on a tie."""
    low, high = k_range
    high = min(high, len(scaled) - 1)
    if low < 2 or high < low:
        raise ValueError(f"cannot choose k in {k_range} for {len(scaled)} subscribers")
    rows = np.random.default_rng(seed).permutation(len(scaled))
    fit, scored = scaled[rows[: samples[0]]], scaled[rows[: samples[1]]]
    best: tuple[float, int, MiniBatchKMeans] | None = None
    silhouettes: dict[int, float] = {}
    for k in range(low, high + 1):
        model = _kmeans(k, seed).fit(fit)
        silhouettes[k] = _silhouette(scored, model.predict(scored), seed)
        if best is None or silhouettes[k] > best[0]:
            best = (silhouettes[k], k, model)
    assert best is not None  # the range holds at least one k
    return best[1], best[2], {k: round(v, 6) for k, v in silhouettes.items()}


def _kmeans(k: int, seed: int) -> MiniBatchKMeans:
    return MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=seed)


def _silhouette(points: F64, labels: I64, seed: int) -> float:
    if not 2 <= len(np.unique(labels)) < len(points):  # too few points to tell clusters apart
        return -1.0
    return float(silhouette_score(points, labels, random_state=seed))


def _rank(centres: F64, labels: I64, value: int | None) -> I64:
    """Cluster indices in segment order: by value, most valuable first, else by size."""
    key = -centres[:, value] if value is not None else -np.bincount(labels, minlength=len(centres))
    order: I64 = np.argsort(key, kind="stable")
    return order


def _titles(
    centres: F64, names: list[str], value: str | None, labels: Mapping[str, str]
) -> list[str]:
    """A readable name per segment; a name two segments would share gets a number."""
    titles = [_title(centre, names, value, labels) for centre in centres]
    seen: dict[str, int] = {}
    result = []
    for title in titles:
        seen[title] = seen.get(title, 0) + 1
        result.append(title if titles.count(title) == 1 else f"{title} ({seen[title]})")
    return result


def _title(centre: F64, names: list[str], value: str | None, labels: Mapping[str, str]) -> str:
    """Value level, then the (at most two) usages the segment is heaviest in; failing those,
    the ones it is lightest in."""
    parts = []
    if value is not None:
        level = centre[names.index(value)]
        parts.append(
            "high value" if level > HIGH else "low value" if level < -HIGH else "mid value"
        )
    usage = sorted(
        ((float(z), labels.get(n, n)) for z, n in zip(centre, names, strict=True) if n != value),
        reverse=True,
    )
    heavy = [label for z, label in usage if z > HIGH][:2]
    light = [label for z, label in reversed(usage) if z < -HIGH][:2]
    if heavy:
        parts.append(" & ".join(heavy) + " heavy")
    elif usage and len(light) == len(usage):
        parts.append("light use")
    elif light:
        parts.append("light " + " & ".join(light))
    elif usage:
        parts.append("average use")
    return " · ".join(parts)


def _profile(segment: I64, titles: list[str], names: list[str], original: F64) -> pa.Table:
    counts = np.bincount(segment, minlength=len(titles))
    columns: dict[str, pa.Array] = {
        "segment": pa.array(np.arange(len(titles)), pa.int32()),
        "segment_name": pa.array(titles, pa.string()),
        "subscribers": pa.array(counts, pa.int64()),
        "share": pa.array(np.round(counts / max(len(segment), 1), 6)),
    }
    for i, name in enumerate(names):
        columns[name] = pa.array(np.round(original[:, i], 4))
    return pa.table(columns)


def _fill(values: F64) -> F64:
    """A missing value at its column's median: it pulls the subscriber to no segment."""
    known = ~np.isnan(values)
    medians = [
        float(np.median(col[ok])) if ok.any() else 0.0
        for col, ok in zip(values.T, known.T, strict=True)
    ]
    filled: F64 = np.where(known, values, np.array(medians))
    return filled


def _signed_log(values: F64) -> F64:
    result: F64 = np.sign(values) * np.log1p(np.abs(values))
    return result


def _inverse_signed_log(values: F64) -> F64:
    result: F64 = np.sign(values) * np.expm1(np.abs(values))
    return result


def _numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def _floats(table: pa.Table, column: str) -> F64:
    values: F64 = pc.cast(table.column(column), pa.float64()).to_numpy(zero_copy_only=False)
    return values
