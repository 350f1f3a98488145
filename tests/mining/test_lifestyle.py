"""Students, migrant workers and handset upgrades from a handful of subscribers whose answer
is known: where they are by night and by weekday, where their ID card is from, how old their
handset is against how often they have changed it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from steward.lake.engine import DuckDBEngine
from steward.mining.lifestyle import (
    campus_plan_ids,
    lifestyle,
    migrants,
    students,
    upgrade_potential,
)

AS_OF = date(2026, 11, 9)
MONDAY = datetime(2026, 11, 2)
CAMPUS = "PLAN_MZ_CAMPUS_29"


def person(
    msisdn: str,
    age: int,
    *,
    city: str = "lanzhou",
    id_region: str | None = None,
    plan: str = "PLAN_MZ_18",
    data_card: bool = False,
    brand: str = "mzone",
    handset_days: int | None = 400,
    network: str = "5g",
) -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "birth_date": AS_OF - timedelta(days=round(age * 365.25) + 30),
        "city": city,
        "id_region": id_region or city,
        "plan_id": plan,
        "is_data_card": data_card,
        "brand": brand,
        "handset_since": None if handset_days is None else AS_OF - timedelta(days=handset_days),
        "handset_network": network,
    }


def whereabouts(
    msisdn: str, night: str, day: str, *, away: str | None = None, away_days: int = 0
) -> list[dict[str, Any]]:
    """A week of records: two at night in ``night``, three on weekday daytimes in ``day``;
    on the first ``away_days`` days everything happens at ``away``, roaming."""
    rows = []
    for d in range(7):
        start = MONDAY + timedelta(days=d)
        gone = away is not None and d < away_days
        slots = [(night, 23), (night, 6)] + ([(day, 10), (day, 13), (day, 15)] if d < 5 else [])
        for cell, hour in slots:
            rows.append(
                {
                    "msisdn": msisdn,
                    "start_time": start + timedelta(hours=hour),
                    "cell_id": away if gone else cell,
                    "roaming": "domestic" if gone else "none",
                }
            )
    return rows


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    e = DuckDBEngine(memory_limit="1GB")
    yield e
    e.close()


@pytest.fixture
def town(engine: DuckDBEngine) -> DuckDBEngine:
    people = [
        person("13900000001", 20),  # lives on campus: same cell day and night
        person("13900000002", 20, plan=CAMPUS),  # campus plan, no records this week
        person("13900000003", 20),  # young worker: home by night, work by day
        person("13900000004", 45),  # stays home all day, but far from student age
        person("13900000005", 20, data_card=True),  # a MiFi on a desk
        person("13900000011", 30, id_region="xian"),  # migrant, lives alone
        person("13900000012", 30, id_region="xian"),  # moved here with a family of four
        person("13900000013", 30, id_region="xian"),  # family of four here, and a second city
        person("13900000014", 30),  # local
        person("13900000015", 20, id_region="chengdu"),  # student from elsewhere
        person("13900000016", 70, id_region="xian"),  # retired here
    ]
    records = [
        *whereabouts("13900000001", "CAFE01", "CAFE01"),
        *whereabouts("13900000003", "A00001", "B00001"),
        *whereabouts("13900000004", "A00002", "A00002"),
        *whereabouts("13900000005", "A00003", "A00003"),
        *whereabouts("13900000011", "A00011", "B00011"),
        *whereabouts("13900000012", "A00012", "B00012"),
        *whereabouts("13900000013", "A00013", "B00013", away="C00013", away_days=3),
        *whereabouts("13900000014", "A00014", "B00014"),
        *whereabouts("13900000015", "CAFE02", "CAFE02"),
        *whereabouts("13900000016", "A00016", "A00016"),
    ]
    engine.register("profile", pa.Table.from_pylist(people))
    engine.register("voice", pa.Table.from_pylist(records))
    engine.register(
        "found",
        pa.table(
            {
                "msisdn": ["13900000012", "13900000013"],
                "household_id": ["H13900000012", "H13900000013"],
                "household_size": [4, 4],
            }
        ),
    )
    return engine


def flags(table: pa.Table, column: str) -> set[str]:
    return {r["msisdn"] for r in table.to_pylist() if r[column]}


def test_students_live_in_one_place_or_hold_a_campus_plan(town: DuckDBEngine) -> None:
    found = students(town, profile="profile", voice="voice", as_of=AS_OF, campus_plans=[CAMPUS])
    assert flags(found, "is_student_likely") == {"13900000001", "13900000002", "13900000015"}
    assert flags(found, "stays_put") >= {"13900000001", "13900000004"}
    assert "13900000003" not in flags(found, "stays_put")


def test_without_the_campus_plan_only_the_cell_pattern_speaks(town: DuckDBEngine) -> None:
    found = students(town, profile="profile", voice="voice", as_of=AS_OF)
    assert flags(found, "is_student_likely") == {"13900000001", "13900000015"}


def test_migrants_come_from_elsewhere_and_live_alone_or_keep_a_second_city(
    town: DuckDBEngine,
) -> None:
    found = migrants(
        town,
        profile="profile",
        voice="voice",
        as_of=AS_OF,
        campus_plans=[CAMPUS],
        households="found",
    )
    assert flags(found, "is_migrant_likely") == {"13900000011", "13900000013"}
    assert flags(found, "two_cities") == {"13900000013"}
    assert flags(found, "id_elsewhere") == {
        "13900000011",
        "13900000012",
        "13900000013",
        "13900000015",
        "13900000016",
    }


def test_a_cell_map_finds_the_second_city_without_roaming(
    engine: DuckDBEngine,
) -> None:
    engine.register("profile", pa.Table.from_pylist([person("13900000021", 35, id_region="xian")]))
    week = whereabouts("13900000021", "A00021", "B00021")
    for row in week[:10]:
        row["cell_id"] = "D00021"  # the first two days in Tianshui, not roaming
    engine.register("voice", pa.Table.from_pylist(week))
    engine.register("family", pa.table({"msisdn": ["13900000021"], "household_size": [5]}))
    cells = {"A00021": "lanzhou", "B00021": "lanzhou", "D00021": "tianshui"}
    engine.register("cells", pa.table({"cell_id": list(cells), "city": list(cells.values())}))

    def found(cell_cities: str | None) -> pa.Table:
        return migrants(
            engine,
            profile="profile",
            voice="voice",
            as_of=AS_OF,
            households="family",
            cell_cities=cell_cities,
        )

    assert not found(None)["is_migrant_likely"][0].as_py()
    mapped = found("cells")
    assert mapped["two_cities"][0].as_py()
    assert mapped["is_migrant_likely"][0].as_py()


@pytest.fixture
def handsets(engine: DuckDBEngine) -> DuckDBEngine:
    """Two owners whose history shows their cycle (a year; 800 days), a third of their
    cohort with no history, one unknown handset, and a cohort with no history at all."""
    engine.register(
        "profile",
        pa.Table.from_pylist(
            [
                person("13900000031", 40, handset_days=500, network="4g"),
                person("13900000032", 40, handset_days=200),
                person("13900000033", 40, handset_days=291),
                person("13900000034", 40, handset_days=None),
                person("13900000041", 40, brand="easyown", handset_days=100),
                person("13900000042", 40, brand="easyown", handset_days=300),
            ]
        ),
    )
    engine.register(
        "history",
        pa.table(
            {
                "msisdn": ["13900000031", "13900000031", "13900000032"],
                "handset_since": [
                    AS_OF - timedelta(days=865),
                    AS_OF - timedelta(days=1230),
                    AS_OF - timedelta(days=1000),
                ],
            }
        ),
    )
    return engine


def test_a_handset_older_than_its_owners_cycle_is_due(handsets: DuckDBEngine) -> None:
    found = upgrade_potential(
        handsets, profile="profile", history="history", as_of=AS_OF, min_cohort=2
    )
    rows = {r["msisdn"]: r for r in found.to_pylist()}
    assert rows["13900000031"]["cycle_source"] == "own"
    assert rows["13900000031"]["cycle_days"] == 365
    assert rows["13900000031"]["upgrade_potential"] == 1.0
    assert rows["13900000031"]["network_upgrade"]
    assert rows["13900000032"]["cycle_days"] == 800
    assert rows["13900000032"]["upgrade_potential"] == 0.25
    assert not rows["13900000032"]["network_upgrade"]


def test_without_own_history_the_cohort_decides(handsets: DuckDBEngine) -> None:
    found = upgrade_potential(
        handsets, profile="profile", history="history", as_of=AS_OF, min_cohort=2
    )
    rows = {r["msisdn"]: r for r in found.to_pylist()}
    assert rows["13900000033"]["cycle_source"] == "cohort"
    assert rows["13900000033"]["cycle_days"] == pytest.approx((365 + 800) / 2)
    assert rows["13900000033"]["upgrade_potential"] == pytest.approx(0.5, abs=0.001)
    assert rows["13900000034"]["upgrade_potential"] is None
    # No one in the cohort has history: twice its median handset age (200 days) is the cycle.
    assert rows["13900000041"]["cycle_source"] == "cohort_age"
    assert rows["13900000041"]["upgrade_potential"] == 0.25
    assert rows["13900000042"]["upgrade_potential"] == 0.75


def test_the_combined_table_has_one_row_per_subscriber(town: DuckDBEngine) -> None:
    found = lifestyle(
        town,
        profile="profile",
        voice="voice",
        as_of=AS_OF,
        campus_plans=[CAMPUS],
        households="found",
    )
    assert found.column_names == [
        "msisdn",
        "is_student_likely",
        "is_migrant_likely",
        "upgrade_potential",
    ]
    assert found.num_rows == 11
    row = next(r for r in found.to_pylist() if r["msisdn"] == "13900000011")
    assert row["is_migrant_likely"]
    assert not row["is_student_likely"]
    assert 0.0 <= row["upgrade_potential"] <= 1.0


def test_campus_plans_are_found_by_name(engine: DuckDBEngine) -> None:
    engine.register(
        "products",
        pa.table(
            {
                "product_id": [CAMPUS, "PLAN_MZ_18", "VAS_CAMPUS_NEWS", "PLAN_X"],
                "name_zh": ["动感地带校园卡29元", "动感地带潮玩卡18元", "校园资讯", "学生专享卡"],
                "name_en": ["M-Zone Campus 29", "M-Zone Play 18", "Campus news", "Youth"],
                "kind": ["plan", "plan", "vas", "plan"],
            }
        ),
    )
    assert campus_plan_ids(engine, "products") == [CAMPUS, "PLAN_X"]
