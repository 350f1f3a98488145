"""Segments of a base with a known answer: three well-separated groups (big spenders who
talk, mid spenders who stream, small spenders who do little) must come back exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from steward.mining.clusters import segment_customers

# group -> (ARPU, data MB, voice minutes) at its centre
GROUPS = {
    "talkers": (300.0, 1_000.0, 2_000.0),
    "streamers": (80.0, 30_000.0, 100.0),
    "quiet": (15.0, 200.0, 50.0),
}


def blobs(per_group: int = 200, seed: int = 7) -> tuple[pa.Table, list[str]]:
    r = np.random.default_rng(seed)
    truth = [g for g in GROUPS for _ in range(per_group)]
    r.shuffle(truth)
    centre = np.array([GROUPS[g] for g in truth])
    values = centre * r.lognormal(0.0, 0.15, size=centre.shape)
    table = pa.table(
        {
            "msisdn": [f"138{i:08d}" for i in range(len(truth))],
            "arpu_3m": values[:, 0],
            "data_mb_30d": values[:, 1],
            "voice_minutes_30d": values[:, 2],
        }
    )
    return table, truth


def test_three_separated_groups_are_recovered_exactly() -> None:
    table, truth = blobs()
    result = segment_customers(table, k_range=(2, 6), seed=1)

    assert result.k == 3
    assert max(result.silhouettes, key=lambda k: result.silhouettes[k]) == 3
    segments = result.assignments.column("segment").to_pylist()
    assert adjusted_rand_score(truth, segments) == 1.0


def test_the_same_seed_gives_the_same_segments() -> None:
    table, _ = blobs()
    first = segment_customers(table, k_range=(2, 6), seed=3)
    again = segment_customers(table, k_range=(2, 6), seed=3)

    assert first.assignments.equals(again.assignments)
    assert first.profile.equals(again.profile)
    assert first.silhouettes == again.silhouettes


def test_segments_are_ranked_by_value_and_named_by_their_centroid() -> None:
    table, truth = blobs()
    result = segment_customers(table, k_range=(2, 6), seed=1)
    profile = {row["segment_name"]: row for row in result.profile.to_pylist()}

    assert list(profile) == [
        "high value · voice heavy",
        "mid value · data heavy",
        "low value · light use",
    ]
    talkers = profile["high value · voice heavy"]
    assert talkers["segment"] == 0
    assert talkers["subscribers"] == 200
    assert talkers["share"] == pytest.approx(1 / 3, abs=1e-5)
    assert talkers["arpu_3m"] == pytest.approx(300, rel=0.05)  # centroid in yuan, not z-scores
    assert profile["mid value · data heavy"]["data_mb_30d"] == pytest.approx(30_000, rel=0.05)
    named = dict(zip(truth, result.assignments.column("segment_name").to_pylist(), strict=True))
    assert named["streamers"] == "mid value · data heavy"
    assert result.assignments.column_names == ["msisdn", "segment", "segment_name"]


def test_a_missing_value_still_gets_a_segment() -> None:
    table, truth = blobs()
    data = table.column("data_mb_30d").to_pylist()
    data[0] = None
    table = table.set_column(2, "data_mb_30d", pa.array(data, pa.float64()))
    result = segment_customers(table, k_range=(3, 3), seed=1)

    segments = result.assignments.column("segment").to_pylist()
    assert segments[0] in (0, 1, 2)  # placed by its ARPU and voice, data at the median
    assert adjusted_rand_score(truth[1:], segments[1:]) == 1.0


def test_without_a_value_column_segments_are_named_by_usage_and_ranked_by_size() -> None:
    table, _ = blobs()
    table = table.slice(0, 500)
    result = segment_customers(
        table,
        columns=["data_mb_30d", "voice_minutes_30d"],
        value=None,
        k_range=(3, 3),
        labels={"data_mb_30d": "mobile data"},
    )
    sizes = result.profile.column("subscribers").to_pylist()
    names = result.profile.column("segment_name").to_pylist()

    assert sizes == sorted(sizes, reverse=True)
    assert "mobile data heavy" in names
    assert not any("value" in n for n in names)


def test_a_k_range_the_base_cannot_support_is_refused() -> None:
    table, _ = blobs(per_group=1)
    with pytest.raises(ValueError, match="cannot choose k"):
        segment_customers(table, k_range=(5, 8))
    with pytest.raises(ValueError, match="value column"):
        segment_customers(table, columns=["data_mb_30d"], k_range=(2, 2))
