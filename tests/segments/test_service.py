"""Segments: trial counts, rule / list / combination segments, membership snapshots."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.rules import RuleError
from steward.segments import service
from steward.segments.schemas import SegmentCreate
from steward.tags import service as tags_service
from steward.tags.schemas import TagCatalogue
from tests.tags import factories as f

AS_OF = date(2026, 11, 30)
PEOPLE = [
    # msisdn, city, brand, vip, prepaid
    ("13800000001", "lanzhou", "gotone", "gold", False),
    ("13800000002", "lanzhou", "gotone", "none", False),
    ("13800000003", "tianshui", "mzone", "none", True),
    ("13800000004", "tianshui", "easyown", "silver", True),
    ("13800000005", "jiuquan", "gotone", "none", True),
]


@pytest.fixture
def catalogue() -> TagCatalogue:
    return tags_service.load_catalogue()


@pytest.fixture
def province(session: Session, lake: Lake, catalogue: TagCatalogue) -> Lake:
    rows = [
        f.profile(m, city=c, brand=b, vip_level=v, payment_type="prepaid" if p else "postpaid")
        for m, c, b, v, p in PEOPLE
    ]
    f.publish(session, lake, "profile", date(2026, 11, 1), rows)
    tags_service.refresh(session, lake, catalogue, AS_OF)
    return lake


def test_a_trial_count_breaks_down_by_city_brand_and_vip(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    result = service.trial_count(
        session, province, catalogue, rule="brand = 'gotone' OR vip_level = 'silver'"
    )
    assert result.total == 4
    assert result.as_of == AS_OF
    assert result.by_city == {"lanzhou": 2, "jiuquan": 1, "tianshui": 1}
    assert result.by_brand == {"gotone": 3, "easyown": 1}
    assert result.by_vip_level == {"none": 2, "gold": 1, "silver": 1}
    assert len(result.sample) == 4
    assert all("****" in r["msisdn"] for r in result.sample)


def test_a_rule_with_an_unknown_tag_is_refused_with_a_suggestion(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(RuleError) as caught:
        service.trial_count(session, province, catalogue, rule="brnd = 'gotone'")
    assert "brand" in caught.value.suggestions


def test_an_injection_attempt_never_reaches_the_engine_as_sql(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    for attack in [
        "brand = 'x'; DROP TABLE segment",
        "brand = 'x' OR 1=1 --",
        "msisdn IN (SELECT msisdn FROM profile_snapshot)",
    ]:
        with pytest.raises(RuleError):
            service.trial_count(session, province, catalogue, rule=attack)
    result = service.trial_count(session, province, catalogue, rule="brand = 'x'' OR ''1''=''1'")
    assert result.total == 0


def test_combinations_are_set_algebra_of_their_operands(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    def rule(name: str, text: str) -> int:
        return service.create(
            session, catalogue, by="t", segment_in=SegmentCreate(name=name, rule=text)
        ).id

    gotone, prepaid = (
        rule("gotone", "brand = 'gotone'"),
        rule("prepaid", "payment_type = 'prepaid'"),
    )
    expected = {"union": 5, "intersect": 1, "minus": 2}
    for op, total in expected.items():
        segment = service.create(
            session,
            catalogue,
            by="t",
            segment_in=SegmentCreate(
                name=f"gotone {op} prepaid", combine=op, operands=[gotone, prepaid]
            ),
        )
        assert service.count(session, province, catalogue, segment).total == total, op


def test_a_list_reports_bad_lines_duplicates_and_unknown_numbers(
    session: Session, province: Lake, catalogue: TagCatalogue, tmp_path: Path
) -> None:
    path = tmp_path / "vip.txt"
    path.write_text(
        "msisdn\n13800000001\n1380000000X\n13800000003\n13800000001\n\n13899999999\n 13800000005 \n"
    )
    report = service.import_list(session, province, name="vip list", path=path, by="t")
    assert (report.lines, report.accepted, report.duplicates) == (6, 4, 1)
    assert report.bad_lines == [
        {"line": 3, "value": "1380000000X", "problem": "not an 11-digit mobile number"}
    ]
    assert report.unknown_numbers == 1
    assert report.unknown_sample == ["138****9999"]
    assert report.segment_id is not None
    segment = service.get(session, report.segment_id)
    assert segment is not None
    assert service.count(session, province, catalogue, segment).total == 3


def test_a_list_with_no_good_line_saves_nothing(
    session: Session, province: Lake, catalogue: TagCatalogue, tmp_path: Path
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("hello\nworld\n")
    report = service.import_list(session, province, name="bad", path=path, by="t")
    assert report.accepted == 0
    assert report.segment_id is None
    assert service.list_all(session) == []


def test_a_membership_snapshot_lands_in_the_lake(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    segment = service.create(
        session,
        catalogue,
        by="t",
        segment_in=SegmentCreate(name="lanzhou", rule="city = 'lanzhou'"),
    )
    result = service.snapshot_members(session, province, catalogue, segment)
    assert result["members"] == 2
    members = province.read(session, service.MEMBER_TABLE)
    assert sorted(members.column("msisdn").to_pylist()) == ["13800000001", "13800000002"]


def test_names_are_unique_and_operands_must_exist(
    session: Session, province: Lake, catalogue: TagCatalogue
) -> None:
    first = service.create(
        session, catalogue, by="t", segment_in=SegmentCreate(name="a", rule="TRUE")
    )
    with pytest.raises(service.SegmentError, match="exists already"):
        service.create(session, catalogue, by="t", segment_in=SegmentCreate(name="a", rule="TRUE"))
    with pytest.raises(service.SegmentError, match="no segment 999999"):
        service.create(
            session,
            catalogue,
            by="t",
            segment_in=SegmentCreate(name="b", combine="union", operands=[first.id, 999_999]),
        )


def test_counting_without_a_snapshot_says_what_to_do(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(service.SegmentError, match="run steward tags refresh first"):
        service.trial_count(session, lake, catalogue, rule="TRUE")


@pytest.mark.parametrize(
    "rule",
    [
        "brand = 'gotone'",
        "brand = 'nosuch'",
        "brand < 'h'",
        "city >= 'm'",
        "city LIKE 'lan%' OR brand IN ('mzone', 'nosuch')",
        "lower(vip_level) <> 'none'",
        "brand BETWEEN 'f' AND 'n' AND NOT dnd_vip_silver",
        "county IS NULL",
    ],
)
def test_the_in_memory_snapshot_counts_exactly_as_the_parquet_one(
    session: Session, province: Lake, catalogue: TagCatalogue, rule: str
) -> None:
    hot = Lake(province.root, province.engine, cache_tables=True)
    cold_count = service.trial_count(session, province, catalogue, rule=rule)
    hot_count = service.trial_count(session, hot, catalogue, rule=rule)
    assert hot_count.model_dump(exclude={"seconds"}) == cold_count.model_dump(exclude={"seconds"})


def test_a_trial_count_exports_to_a_csv_excel_opens(
    session: Session, province: Lake, catalogue: TagCatalogue, tmp_path: Path
) -> None:
    result = service.trial_count(session, province, catalogue, rule="brand = 'gotone'")
    path = tmp_path / "count.csv"
    service.write_count_csv(result, "brand = 'gotone'", path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[3] == "total,,3"
    assert "city,lanzhou,2" in lines
