"""Recommendation on small bases whose answer is known: products A and B always taken
together, C and D independent of them; subscribers heavy in one habit each."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from steward.mining.recommend import (
    collaborative_scores,
    content_scores,
    learn_orientation,
    suitability,
)

HABITS = ("data_mb_30d", "voice_minutes_30d", "voice_roaming_days_30d", "arpu_3m")


def subscriptions(
    baskets: dict[str, list[str]], ended: dict[str, list[str]] | None = None
) -> pa.Table:
    rows = [(m, p, "active") for m, held in baskets.items() for p in held]
    rows += [(m, p, "ended") for m, held in (ended or {}).items() for p in held]
    return pa.table(
        {
            "msisdn": [r[0] for r in rows],
            "product_id": [r[1] for r in rows],
            "start_date": pa.array([None] * len(rows), pa.date32()),
            "end_date": pa.array([None] * len(rows), pa.date32()),
            "status": [r[2] for r in rows],
        }
    )


def number(i: int) -> str:
    return f"138{i:08d}"


def paired_base() -> dict[str, list[str]]:
    """30 hold A and B, 4 hold only A, 30 hold C (half of them D too), 2 hold nothing."""
    baskets = {number(i): ["A", "B"] for i in range(30)}
    baskets |= {number(i): ["A"] for i in range(30, 34)}
    baskets |= {number(i): ["C", "D"] if i % 2 else ["C"] for i in range(34, 64)}
    baskets |= {number(i): [] for i in range(64, 66)}
    return baskets


def habits(rows: dict[str, tuple[float, float, float, float]]) -> pa.Table:
    columns = {
        h: pa.array([v[i] for v in rows.values()], pa.float64()) for i, h in enumerate(HABITS)
    }
    return pa.table({"msisdn": pa.array(list(rows), pa.string()), **columns})


def typical_habits(
    people: list[str], seed: int = 1
) -> dict[str, tuple[float, float, float, float]]:
    r = np.random.default_rng(seed)
    return {
        m: (
            float(r.lognormal(7, 0.3)),
            float(r.lognormal(5, 0.3)),
            float(r.poisson(0.5)),
            float(r.lognormal(4, 0.2)),
        )
        for m in people
    }


ITEMS = pa.table(
    {
        "item_id": ["DATA", "VOICE", "ROAM", "FAMILY"],
        "category": ["data", "voice", "roaming", "family"],
        "fee": [20.0, 20.0, 20.0, 20.0],
    }
)


def test_b_is_recommended_to_holders_of_a_only() -> None:
    base = paired_base()
    scores = collaborative_scores(
        subscriptions(base), msisdn=list(base), items=["A", "B", "C", "D"]
    )

    b = scores.values[:, scores.item_id.index("B")]
    holds_a = np.array(["A" in held for held in base.values()])
    assert (b[holds_a] > 0).all()
    assert (b[~holds_a] == 0).all()
    assert scores.of(number(30), "B") > scores.of(number(30), "C")


def test_shrinkage_makes_a_rare_pairing_weaker_than_a_common_one() -> None:
    base = {number(i): ["A", "B"] for i in range(40)} | {
        number(i): ["E", "F"] for i in range(40, 42)
    }
    base |= {number(42): ["A"], number(43): ["E"]}
    scores = collaborative_scores(subscriptions(base), msisdn=list(base), items=["B", "F"])

    assert scores.of(number(42), "B") > scores.of(number(43), "F") > 0
    plain = collaborative_scores(
        subscriptions(base), msisdn=list(base), items=["B", "F"], shrinkage=0
    )
    assert plain.of(number(43), "F") == pytest.approx(2 / np.sqrt(3 * 2))


def test_ended_subscriptions_are_not_holdings() -> None:
    base = paired_base()
    ended = {number(40): ["A"]}
    scores = collaborative_scores(subscriptions(base, ended), msisdn=list(base), items=["B"])

    assert scores.of(number(40), "B") == 0


def test_a_data_heavy_subscriber_gets_the_data_offer_first_by_content() -> None:
    people = typical_habits([number(i) for i in range(60)])
    people["13900000001"] = (80_000.0, 150.0, 0.0, 55.0)  # data heavy
    people["13900000002"] = (1_100.0, 2_000.0, 0.0, 55.0)  # voice heavy
    people["13900000003"] = (1_100.0, 150.0, 12.0, 55.0)  # roams
    scores = content_scores(habits(people), ITEMS)

    def best(msisdn: str) -> str:
        return scores.item_id[int(np.argmax(scores.values[scores.msisdn.index(msisdn)]))]

    assert best("13900000001") == "DATA"
    assert best("13900000002") == "VOICE"
    assert best("13900000003") == "ROAM"
    assert scores.of("13900000001", "FAMILY") == pytest.approx(0.5)  # no orientation, same fee
    assert ((scores.values >= 0) & (scores.values <= 1)).all()


def test_a_dear_offer_suits_a_big_spender() -> None:
    people = typical_habits([number(i) for i in range(60)])
    people["13900000004"] = (1_100.0, 150.0, 0.0, 600.0)
    people["13900000005"] = (1_100.0, 150.0, 0.0, 8.0)
    items = pa.table(
        {"item_id": ["CHEAP", "DEAR"], "category": ["data", "data"], "fee": [5.0, 80.0]}
    )
    scores = content_scores(habits(people), items)

    assert scores.of("13900000004", "DEAR") > scores.of("13900000004", "CHEAP")
    assert scores.of("13900000005", "CHEAP") > scores.of("13900000005", "DEAR")


def test_orientation_learned_from_holders_points_data_packs_at_data_use() -> None:
    people = typical_habits([number(i) for i in range(80)])
    heavy = [number(i) for i in range(20)]
    for m in heavy:
        people[m] = (people[m][0] * 20, *people[m][1:])
    base = {m: ["DATA"] for m in heavy} | {number(i): ["VOICE"] for i in range(20, 40)}
    orientation = learn_orientation(subscriptions(base), habits(people), ITEMS)

    assert set(orientation) == {"data", "voice"}  # nobody holds ROAM or FAMILY
    assert max(orientation["data"], key=lambda h: orientation["data"][h]) == "data_mb_30d"
    assert orientation["voice"]["data_mb_30d"] < 0
    scores = content_scores(habits(people), ITEMS, orientation=orientation)
    assert scores.of(heavy[0], "DATA") > scores.of(heavy[0], "VOICE")


def test_suitability_keeps_the_top_k_unheld_offers_with_both_views() -> None:
    base = paired_base()
    items = pa.table(
        {
            "item_id": ["A", "B", "C", "D"],
            "category": ["voice", "data", "vas", "family"],
            "fee": [30.0, 20.0, 5.0, 10.0],
        }
    )
    people = habits(typical_habits(list(base)))
    table = suitability(subscriptions(base), people, items, weight=1.0, k=2)

    assert table.column_names == ["msisdn", "item_id", "suitability", "collaborative", "content"]
    rows = table.to_pylist()
    only_a = [r for r in rows if r["msisdn"] == number(30)]
    assert only_a[0]["item_id"] == "B"
    assert len(only_a) == 2
    assert not any(r["msisdn"] == number(0) and r["item_id"] in ("A", "B") for r in rows)
    assert len([r for r in rows if r["msisdn"] == number(0)]) == 2  # C and D are left
    for r in rows:
        assert 0 <= r["suitability"] <= 1
        assert r["suitability"] == pytest.approx(r["collaborative"])


def test_suitability_weighs_the_two_views() -> None:
    base = paired_base()
    people = habits(typical_habits(list(base)))
    items = pa.table({"item_id": ["B", "C"], "category": ["data", "voice"], "fee": [20.0, 20.0]})
    table = suitability(subscriptions(base), people, items, weight=0.3, k=2)

    for r in table.to_pylist():
        expected = 0.3 * r["collaborative"] + 0.7 * r["content"]
        assert r["suitability"] == pytest.approx(expected, abs=1e-5)
    with pytest.raises(ValueError, match="weight"):
        suitability(subscriptions(base), people, items, weight=1.5)


def test_suitability_of_nobody_is_an_empty_table() -> None:
    people = habits({})
    table = suitability(subscriptions(paired_base()), people, ITEMS)

    assert table.num_rows == 0
    assert table.column_names == ["msisdn", "item_id", "suitability", "collaborative", "content"]
