"""Association rules on a base whose answer is known: A and B always taken together, C and
D held independently of each other, E with half of the A+B holders, F rare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from steward.lake.engine import DuckDBEngine
from steward.mining.association import association_rules

COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "subscribers"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    duck = DuckDBEngine(memory_limit="1GB", temp_directory=tmp_path / "duck-tmp")
    yield duck
    duck.close()


def base() -> pa.Table:
    """80 subscribers, all on plan P. C on even numbers, D on numbers whose half is even:
    exactly independent (each 1/2, both 1/4). A and B on the first 20, E on the first 10,
    F on two odd numbers that hold D."""
    rows: list[tuple[str, str, str]] = []
    for i in range(80):
        msisdn = f"138{i:08d}"
        held = ["P"]
        held += ["C"] if i % 2 == 0 else []
        held += ["D"] if (i // 2) % 2 == 0 else []
        held += ["A", "B"] if i < 20 else []
        held += ["E"] if i < 10 else []
        held += ["F"] if i in (1, 5) else []
        rows += [(msisdn, p, "active") for p in held]
        if i >= 20:
            rows.append((msisdn, "A", "ended"))  # an old subscription is not in the basket
    rows.append(("13800000000", "C", "active"))  # a duplicate row counts once
    return pa.table(
        {
            "msisdn": [r[0] for r in rows],
            "product_id": [r[1] for r in rows],
            "status": [r[2] for r in rows],
        }
    )


def rule(rules: pa.Table, antecedent: list[str], consequent: str) -> dict[str, object] | None:
    for row in rules.to_pylist():
        if row["antecedent"] == antecedent and row["consequent"] == consequent:
            return row
    return None


def test_a_pair_always_taken_together_has_confidence_one_and_lift_above_one(
    engine: DuckDBEngine,
) -> None:
    rules = association_rules(engine, subscriptions=base(), min_support=0.05)

    a_to_b = rule(rules, ["A"], "B")
    assert a_to_b is not None
    assert a_to_b["confidence"] == 1.0
    assert a_to_b["lift"] == pytest.approx(80 / 20)
    assert a_to_b["support"] == pytest.approx(20 / 80)
    assert a_to_b["subscribers"] == 20
    assert rule(rules, ["B"], "A") is not None


def test_an_independent_pair_has_lift_one(engine: DuckDBEngine) -> None:
    rules = association_rules(engine, subscriptions=base(), min_support=0.05)

    c_to_d = rule(rules, ["C"], "D")
    assert c_to_d is not None
    assert c_to_d["confidence"] == pytest.approx(0.5)
    assert c_to_d["lift"] == pytest.approx(1.0)
    a_to_plan = rule(rules, ["A"], "P")  # everyone holds P: holding A tells nothing
    assert a_to_plan is not None
    assert a_to_plan["confidence"] == 1.0
    assert a_to_plan["lift"] == pytest.approx(1.0)


def test_rules_come_strongest_lift_first_in_the_promised_shape(engine: DuckDBEngine) -> None:
    rules = association_rules(engine, subscriptions=base(), min_support=0.05)

    assert rules.column_names == COLUMNS
    assert rules.schema.field("antecedent").type == pa.list_(pa.string())
    lifts = rules.column("lift").to_pylist()
    assert lifts == sorted(lifts, reverse=True)


def test_thresholds_drop_rare_and_weak_rules(engine: DuckDBEngine) -> None:
    loose = association_rules(engine, subscriptions=base(), min_support=0.02)
    strict = association_rules(engine, subscriptions=base(), min_support=0.05, min_confidence=0.6)

    assert rule(loose, ["F"], "C") is None  # 1 and 5 are odd: F never with C
    assert rule(loose, ["F"], "D") is not None  # 2 subscribers = 2.5 % support
    assert rule(strict, ["F"], "D") is None
    assert rule(strict, ["C"], "D") is None  # confidence 0.5
    assert all(c >= 0.6 for c in strict.column("confidence").to_pylist())
    assert all(s >= 0.05 for s in strict.column("support").to_pylist())


def test_triples_have_a_two_product_antecedent(engine: DuckDBEngine) -> None:
    pairs = association_rules(engine, subscriptions=base(), min_support=0.05)
    triples = association_rules(engine, subscriptions=base(), min_support=0.05, max_length=3)

    assert all(len(a) == 1 for a in pairs.column("antecedent").to_pylist())
    ab_to_e = rule(triples, ["A", "B"], "E")
    assert ab_to_e is not None
    assert ab_to_e["confidence"] == pytest.approx(10 / 20)
    assert ab_to_e["lift"] == pytest.approx((10 / 20) / (10 / 80))
    a_e_to_b = rule(triples, ["A", "E"], "B")
    assert a_e_to_b is not None
    assert a_e_to_b["confidence"] == 1.0
    assert rule(triples, ["A"], "B") is not None  # pairs are kept


def test_reads_a_relation_the_engine_names(engine: DuckDBEngine, tmp_path: Path) -> None:
    path = tmp_path / "subscription_20250101.parquet"
    pq.write_table(base(), path)
    rules = association_rules(engine, subscriptions=engine.scan_parquet([path]), min_support=0.05)

    a_to_b = rule(rules, ["A"], "B")
    assert a_to_b is not None
    assert a_to_b["lift"] == pytest.approx(4.0)


def test_no_active_subscriptions_give_no_rules(engine: DuckDBEngine) -> None:
    empty = base().filter(pc.equal(base()["status"], "ended"))
    rules = association_rules(engine, subscriptions=empty)

    assert rules.num_rows == 0
    assert rules.column_names == COLUMNS


def test_bad_thresholds_are_refused(engine: DuckDBEngine) -> None:
    with pytest.raises(ValueError, match="max_length"):
        association_rules(engine, subscriptions=base(), max_length=4)
    with pytest.raises(ValueError, match="min_support"):
        association_rules(engine, subscriptions=base(), min_support=0)
