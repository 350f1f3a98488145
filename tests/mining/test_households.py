"""Households and multi-SIM owners from a small call graph with a known answer: three families
that call each other every day, noise between them and to numbers outside the operator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import pyarrow as pa
import pytest

from steward.lake.engine import DuckDBEngine
from steward.mining.households import call_graph, households, multi_sim

START = datetime(2026, 11, 1, 8, 0)
FAMILIES = {
    "A": ["13900000001", "13900000002", "13900000003"],
    "B": ["13900000011", "13900000012"],
    "C": ["13900000021", "13900000022", "13900000023", "13900000024"],
}
OUTSIDER = "13000000099"  # another operator's number: never a node


class Records:
    """Voice and SMS records as the operator delivers them: a call between two subscribers
    is written at both ends (the caller's ``mo``, the callee's ``mt``)."""

    def __init__(self, subscribers: set[str]) -> None:
        self.subscribers = subscribers
        self.voice: list[dict[str, Any]] = []
        self.sms: list[dict[str, Any]] = []

    def call(
        self, caller: str, callee: str, at: datetime, seconds: int = 180, cell: str = "5A0001"
    ) -> None:
        self.voice.append(_voice(caller, callee, at, "mo", seconds, cell))
        if callee in self.subscribers:
            self.voice.append(
                _voice(callee, caller, at + timedelta(seconds=1), "mt", seconds, cell)
            )

    def text(self, sender: str, to: str, at: datetime) -> None:
        self.sms.append({"msisdn": sender, "send_time": at, "direction": "mo", "other_party": to})
        if to in self.subscribers:
            self.sms.append(
                {"msisdn": to, "send_time": at, "direction": "mt", "other_party": sender}
            )

    def register(self, engine: DuckDBEngine) -> None:
        engine.register("voice", pa.Table.from_pylist(self.voice))
        if self.sms:
            engine.register("sms", pa.Table.from_pylist(self.sms))


def _voice(
    msisdn: str, other: str, at: datetime, direction: str, seconds: int, cell: str
) -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "start_time": at,
        "direction": direction,
        "duration_s": seconds,
        "other_party": other,
        "cell_id": cell,
        "roaming": "none",
    }


def days(n: int = 7) -> Iterator[datetime]:
    return (START + timedelta(days=d) for d in range(n))


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    e = DuckDBEngine(memory_limit="1GB")
    yield e
    e.close()


@pytest.fixture
def families(engine: DuckDBEngine) -> DuckDBEngine:
    """Every pair of each family talks twice a day, each side starting once; a few calls
    between families, and daily calls to an outsider."""
    numbers = {n for members in FAMILIES.values() for n in members}
    records = Records(numbers)
    for day in days():
        for members in FAMILIES.values():
            for x, y in combinations(members, 2):
                records.call(x, y, day)
                records.call(y, x, day + timedelta(hours=10), seconds=240)
                records.text(x, y, day + timedelta(hours=2))
        for members in FAMILIES.values():
            records.call(members[0], OUTSIDER, day + timedelta(hours=1), seconds=600)
    records.call(FAMILIES["A"][0], FAMILIES["B"][0], START + timedelta(hours=3))
    records.call(FAMILIES["B"][1], FAMILIES["C"][2], START + timedelta(days=2, hours=3))
    records.text(FAMILIES["C"][0], FAMILIES["A"][1], START + timedelta(days=4))
    records.register(engine)
    return engine


def test_families_are_recovered_exactly_despite_noise(families: DuckDBEngine) -> None:
    found = households(call_graph(families, "voice", "sms"))
    groups: dict[str, set[str]] = {}
    for row in found.to_pylist():
        groups.setdefault(row["household_id"], set()).add(row["msisdn"])
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, FAMILIES.values()))
    sizes = {row["msisdn"]: row["household_size"] for row in found.to_pylist()}
    assert sizes[FAMILIES["C"][3]] == 4
    assert all(0.8 <= c <= 1.0 for c in found["confidence"].to_pylist())


def test_household_id_is_the_lowest_member_number(families: DuckDBEngine) -> None:
    found = households(call_graph(families, "voice", "sms"))
    ids = {r["msisdn"]: r["household_id"] for r in found.to_pylist()}
    assert ids[FAMILIES["B"][1]] == "H" + FAMILIES["B"][0]


def test_outsiders_are_never_nodes_and_calls_recorded_twice_count_once(
    families: DuckDBEngine,
) -> None:
    edges = call_graph(families, "voice", "sms")
    ends = set(edges["msisdn_a"].to_pylist()) | set(edges["msisdn_b"].to_pylist())
    assert OUTSIDER not in ends
    row = next(
        r
        for r in edges.to_pylist()
        if (r["msisdn_a"], r["msisdn_b"]) == (FAMILIES["B"][0], FAMILIES["B"][1])
    )
    assert row["calls"] == 14  # two a day for a week, each written at both ends
    assert row["texts"] == 7
    assert row["days"] == 7
    assert row["talk_minutes"] == pytest.approx(7 * 7)
    assert row["mutual"]
    assert row["both_ways"]


def test_a_given_subscriber_list_decides_who_is_a_node_at_either_end(
    families: DuckDBEngine,
) -> None:
    families.register("base", pa.table({"msisdn": FAMILIES["A"]}))
    edges = call_graph(families, "voice", subscribers="base")
    ends = set(edges["msisdn_a"].to_pylist()) | set(edges["msisdn_b"].to_pylist())
    assert ends == set(FAMILIES["A"])  # B's first number rang A once: not in the list
    assert households(edges)["msisdn"].to_pylist() == FAMILIES["A"]


def test_a_one_sided_tie_is_no_household(engine: DuckDBEngine) -> None:
    """Calls only one number's records show — the other end never answers for them."""
    records = Records(set())
    for day in days():
        for _ in range(3):
            records.call("13900000001", "13900000002", day)
    records.call("13900000002", "13900000009", START)
    records.register(engine)
    edges = call_graph(engine, "voice")
    assert edges.num_rows == 1
    assert not edges["mutual"][0].as_py()
    assert households(edges).num_rows == 0
    assert households(edges, mutual_only=False).num_rows == 2


def edge_table(edges: list[tuple[str, str, float]]) -> pa.Table:
    return pa.table(
        {
            "msisdn_a": [min(a, b) for a, b, _ in edges],
            "msisdn_b": [max(a, b) for a, b, _ in edges],
            "weight": [w for _, _, w in edges],
            "mutual": [True] * len(edges),
        }
    )


def test_two_families_glued_by_a_weaker_tie_are_split_under_the_cap() -> None:
    left = [f"1390000010{i}" for i in range(4)]
    right = [f"1390000020{i}" for i in range(4)]
    ties = [
        (x, y, 20.0 + i)
        for group in (left, right)
        for i, (x, y) in enumerate(combinations(group, 2))
    ]
    found = households(edge_table([*ties, (left[0], right[0], 8.0)]), max_size=6)
    assert set(found["household_size"].to_pylist()) == {4}
    assert len(set(found["household_id"].to_pylist())) == 2


def test_a_hub_tied_equally_to_many_numbers_is_dissolved_not_cut_arbitrarily() -> None:
    hub = "13900000000"
    found = households(edge_table([(hub, f"1390000009{i}", 10.0) for i in range(9)]))
    assert found.num_rows == 0


def test_weak_and_missing_ties_lower_the_confidence() -> None:
    clique = [
        ("13900000001", "13900000002", 30.0),
        ("13900000001", "13900000003", 30.0),
        ("13900000002", "13900000003", 30.0),
    ]
    chain = [("13900000011", "13900000012", 4.0), ("13900000012", "13900000013", 4.0)]
    found = {
        r["msisdn"]: r["confidence"] for r in households(edge_table(clique + chain)).to_pylist()
    }
    assert min(found[n] for n in ("13900000001", "13900000002", "13900000003")) > 0.9
    assert max(found[n] for n in ("13900000011", "13900000012", "13900000013")) < 0.3


def test_no_strong_edges_give_an_empty_table_with_the_columns() -> None:
    found = households(edge_table([("13900000001", "13900000002", 0.5)]))
    assert found.num_rows == 0
    assert found.column_names == ["msisdn", "household_id", "household_size", "confidence"]


# --- multi-SIM -------------------------------------------------------------------------------

FRIENDS = [f"1380000{i:04d}" for i in range(20)]


def profile_rows(owners: dict[str, str]) -> pa.Table:
    return pa.table({"msisdn": list(owners), "customer_id": list(owners.values())})


@pytest.fixture
def owners(engine: DuckDBEngine) -> DuckDBEngine:
    """Customer P carries two phones that call the same friends from the same places; the
    family F shares one account (a family bundle) but each calls their own friends from
    their own workplaces, and they call each other; Q's number shares P's friends but not
    P's ID; company K has twelve lines that all call the same hotline."""
    accounts = {
        "13900000001": "P",
        "13900000002": "P",
        "13900000011": "F",
        "13900000012": "F",
        "13900000021": "Q",
        **{f"1391000{i:04d}": "K" for i in range(12)},
    }
    engine.register("profile", profile_rows(accounts))
    records = Records(set(accounts))
    for d, day in enumerate(days()):
        for i, friend in enumerate(FRIENDS[:8]):
            at = day + timedelta(minutes=10 * i)
            records.call("13900000001", friend, at, cell=f"5A{i % 3:04d}")
            records.call("13900000002", friend, at + timedelta(hours=4), cell=f"5A{i % 3:04d}")
            records.call("13900000021", friend, at + timedelta(hours=6), cell="5B0001")
        for i in range(6):
            at = day + timedelta(minutes=10 * i)
            records.call("13900000011", FRIENDS[8 + i], at, cell=f"5C{i % 3:04d}")
            records.call("13900000012", FRIENDS[14 + i], at, cell="5D0001")
        records.call("13900000011", "13900000012", day + timedelta(hours=9), cell="5E0001")
        for i in range(12):
            records.call(f"1391000{i:04d}", FRIENDS[0], day + timedelta(hours=d % 3, minutes=i))
    records.register(engine)
    return engine


def test_one_person_with_two_phones_is_flagged_with_reasons(owners: DuckDBEngine) -> None:
    pairs = {
        (r["msisdn_a"], r["msisdn_b"]): r for r in multi_sim(owners, "profile", "voice").to_pylist()
    }
    person = pairs[("13900000001", "13900000002")]
    assert person["is_multi_sim"]
    assert person["contact_overlap"] == 1.0
    assert person["cell_overlap"] == 1.0
    assert person["reasons"][0] == "same customer id P"
    assert any("shared top contacts" in reason for reason in person["reasons"])


def test_a_family_on_one_account_that_calls_each_other_is_not_one_person(
    owners: DuckDBEngine,
) -> None:
    pairs = {
        (r["msisdn_a"], r["msisdn_b"]): r for r in multi_sim(owners, "profile", "voice").to_pylist()
    }
    family = pairs[("13900000011", "13900000012")]
    assert family["calls_between"] == 7
    assert family["contact_overlap"] == 0.0
    assert not family["is_multi_sim"]


def test_only_numbers_of_one_id_are_candidates_and_company_accounts_are_skipped(
    owners: DuckDBEngine,
) -> None:
    pairs = multi_sim(owners, "profile", "voice")
    assert {r["customer_id"] for r in pairs.to_pylist()} == {"P", "F"}
    assert pairs.num_rows == 2
