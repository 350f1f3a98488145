"""Loading deliveries: every check names line, field and reason; loads are all-or-nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from steward.ingest.models import IngestLoad
from steward.ingest.report import FileStatus, LoadReport, LoadStatus
from steward.ingest.service import DeliveryError, IngestOptions, ingest
from steward.lake.service import Lake
from tests.ingest import factories as f


def load(session: Session, lake: Lake, source: Path, tmp_path: Path, **options: Any) -> LoadReport:
    opts = IngestOptions(quarantine_root=tmp_path / "quarantine", vacuum_grace_s=0, **options)
    return ingest(session, lake, source, opts)


def quarantined(report: LoadReport, file: str) -> list[dict[str, str]]:
    (file_report,) = [r for r in report.files if r.file == file]
    assert file_report.quarantine_file is not None
    with open(file_report.quarantine_file, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_clean_delivery_is_published_whole(session: Session, lake: Lake, tmp_path: Path) -> None:
    numbers = f.basic_delivery(tmp_path / "in", subscribers=5)
    report = load(session, lake, tmp_path / "in", tmp_path)
    assert report.status is LoadStatus.PUBLISHED
    assert [r.status for r in report.files] == [FileStatus.LOADED] * 3
    assert report.rows_quarantined == 0
    voice = lake.read(session, "voice")
    assert sorted(voice.column("msisdn").to_pylist()) == numbers
    assert voice.schema.field("duration_s").type == pa.int64()
    assert voice.schema.field("start_time").type == pa.timestamp("us")
    assert session.get(IngestLoad, report.load_id) is not None
    written = json.loads((tmp_path / "quarantine" / report.load_id / "report.json").read_text())
    assert written["rows_loaded"] == report.rows_loaded


# One failing row per validation rule: (interface, row overrides, field, code, words in reason)
FAILING_ROWS: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("voice", {"msisdn": "23800000001"}, "msisdn", "format", "11-digit mobile number"),
    ("voice", {"msisdn": ""}, "msisdn", "required", "is required"),
    ("voice", {"duration_s": "ten"}, "duration_s", "type", "'ten' is not a valid int"),
    ("voice", {"duration_s": "-1"}, "duration_s", "range", "below the minimum 0"),
    ("voice", {"duration_s": "90000"}, "duration_s", "range", "above the maximum 86400"),
    ("voice", {"charge": "nan"}, "charge", "type", "not finite"),
    ("voice", {"direction": "in"}, "direction", "choice", "'in' is not one of mo/mt"),
    ("voice", {"start_time": "2026-11-01 25:00:00"}, "start_time", "type", "not a valid"),
    (
        "voice",
        {"start_time": "2026-10-31 23:59:59"},
        "start_time",
        "date",
        "not on the file's date 2026-11-01",
    ),
    ("voice", {"other_party": "call-me"}, "other_party", "format", "does not match"),
    ("voice", {"msisdn": "13800009999"}, "msisdn", "reference", "unknown subscriber"),
    ("profile", {"is_foreigner": "maybe"}, "is_foreigner", "type", "not a valid bool"),
    ("profile", {"birth_date": "2027-01-01"}, "birth_date", "date", "after the file's date"),
    ("profile", {"activation_date": "2026-02-30"}, "activation_date", "type", "not a valid"),
    ("profile", {"plan_id": "PLAN_UNKNOWN"}, "plan_id", "reference", "unknown product"),
    ("profile", {"city": "x" * 33}, "city", "length", "longer than 32"),
]


@pytest.mark.parametrize(("interface", "overrides", "field", "code", "words"), FAILING_ROWS)
def test_each_rule_quarantines_its_row_with_line_field_and_reason(
    session: Session,
    lake: Lake,
    tmp_path: Path,
    interface: str,
    overrides: dict[str, Any],
    field: str,
    code: str,
    words: str,
) -> None:
    folder = tmp_path / "in"
    f.write_text(folder, "product", [f.product()])
    good_profiles = [f.profile(f"1380000000{i}") for i in range(1, 5)]
    if interface == "profile":
        bad = f.profile("13800000009", **overrides)
        f.write_text(folder, "profile", [*good_profiles, bad])
        bad_line = 5
    else:
        f.write_text(folder, "profile", good_profiles)
        rows = [f.voice(f"1380000000{i}") for i in range(1, 5)]
        rows.insert(1, f.voice("13800000001", other_party="13911112222") | overrides)
        f.write_text(folder, "voice", rows)
        bad_line = 2
    report = load(session, lake, folder, tmp_path)
    assert report.status is LoadStatus.PUBLISHED
    file = f"{interface}_20261101.txt"
    problems = [p for p in quarantined(report, file) if p["field"] == field]
    assert problems, quarantined(report, file)
    assert problems[0]["line"] == str(bad_line)
    assert problems[0]["code"] == code
    assert words in problems[0]["reason"]
    assert problems[0]["raw"].startswith(
        f.render(interface, rows[1] if interface == "voice" else bad)[:11]
    )
    assert lake.read(session, interface).num_rows == 4


def test_a_repeated_key_keeps_the_first_row_and_names_it(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=2)
    f.write_text(folder, "voice", [f.voice(), f.voice("13800000002"), f.voice()])
    report = load(session, lake, folder, tmp_path)
    (problem,) = quarantined(report, "voice_20261101.txt")
    assert (problem["line"], problem["code"]) == ("3", "duplicate")
    assert "of line 1" in problem["reason"]
    assert lake.read(session, "voice").num_rows == 2


def test_a_line_with_the_wrong_number_of_fields_is_quarantined_whole(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=2)
    path = folder / "voice_20261101.txt"
    path.write_text(path.read_text() + "13800000001|2026-11-01 10:00:00|mo|5\n")
    report = load(session, lake, folder, tmp_path)
    (problem,) = quarantined(report, "voice_20261101.txt")
    assert (problem["line"], problem["field"]) == ("3", "*")
    assert problem["reason"] == "expected 8 fields, found 4"


def test_gbk_text_with_crlf_and_a_header_is_read_as_delivered(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.write_text(folder, "product", [f.product()], encoding="gbk", newline="\r\n", header=True)
    f.write_text(folder, "profile", [f.profile()], encoding="gbk")
    report = load(session, lake, folder, tmp_path)
    assert report.status is LoadStatus.PUBLISHED
    assert [r.encoding for r in report.files] == ["gb18030", "gb18030"]
    assert lake.read(session, "product").column("name_zh").to_pylist() == ["全球通128元套餐"]
    assert lake.read(session, "profile").column("handset_model").to_pylist() == ["华为 Mate 60"]


def test_a_line_that_is_not_valid_in_the_declared_encoding_is_quarantined(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.write_text(folder, "product", [f.product(), f.product(product_id="VAS_RING")])
    path = folder / "product_20261101.txt"
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace("全球通".encode(), b"\xff\xfe")
    path.write_bytes(b"\n".join(lines))
    report = load(session, lake, folder, tmp_path, encoding="utf-8")
    (problem,) = quarantined(report, "product_20261101.txt")
    assert (problem["line"], problem["reason"]) == ("2", "bytes are not valid utf-8 text")
    assert lake.read(session, "product").num_rows == 1


def test_parquet_files_pass_the_same_checks(session: Session, lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=2)
    (folder / "voice_20261101.txt").unlink()
    rows = [f.voice(), f.voice("13800000002", duration_s="-4")]
    table = pa.Table.from_pylist(rows).set_column(
        3, "duration_s", pa.array([int(r["duration_s"]) for r in rows])
    )
    f.write_parquet(folder, "voice", table)
    report = load(session, lake, folder, tmp_path)
    (problem,) = quarantined(report, "voice_20261101.parquet")
    assert (problem["line"], problem["field"], problem["code"]) == ("2", "duration_s", "range")


def test_a_parquet_file_missing_a_column_is_rejected_with_its_name(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=1)
    (folder / "voice_20261101.txt").unlink()
    f.write_parquet(folder, "voice", pa.Table.from_pylist([f.voice()]).drop_columns(["charge"]))
    report = load(session, lake, folder, tmp_path)
    assert report.status is LoadStatus.REJECTED
    (voice,) = [r for r in report.files if r.interface == "voice"]
    assert voice.message == "voice_20261101.parquet: missing column(s) charge"


def test_a_corrupt_parquet_file_is_rejected_with_its_name_not_a_crash(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=1)
    (folder / "voice_20261101.txt").unlink()
    (folder / "voice_20261101.parquet").write_bytes(b"PAR1 these bytes are not parquet")
    report = load(session, lake, folder, tmp_path)
    assert report.status is LoadStatus.REJECTED
    (voice,) = [r for r in report.files if r.interface == "voice"]
    assert voice.message.startswith("voice_20261101.parquet: not a readable Parquet file")


def test_a_mostly_bad_file_is_rejected_and_nothing_of_the_load_is_published(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=4)
    rows = [f.voice(f"1380000000{i}", direction="x") for i in range(1, 4)]
    f.write_text(folder, "voice", [*rows, f.voice()])
    report = load(session, lake, folder, tmp_path, max_bad_share=0.5)
    assert report.status is LoadStatus.REJECTED
    statuses = {r.file: r.status for r in report.files}
    assert statuses["voice_20261101.txt"] is FileStatus.REJECTED
    assert statuses["profile_20261101.txt"] is FileStatus.NOT_LOADED
    assert "75% of its rows are bad" in report.files[-1].message
    assert lake.summary(session) == []
    assert not list(lake.root.rglob("*.parquet"))
    assert len(quarantined(report, "voice_20261101.txt")) == 3


def test_reloading_the_same_files_adds_no_rows(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    f.basic_delivery(tmp_path / "in", subscribers=3)
    first = load(session, lake, tmp_path / "in", tmp_path)
    again = load(session, lake, tmp_path / "in", tmp_path)
    assert first.rows_loaded == 7
    assert [r.status for r in again.files] == [FileStatus.UNCHANGED] * 3
    assert lake.read(session, "voice").num_rows == 3


def test_a_corrected_file_replaces_its_part_and_keeps_other_parts(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=3)
    f.write_text(folder, "voice", [f.voice(other_party="10086")], part="002")
    load(session, lake, folder, tmp_path)
    f.write_text(
        folder, "voice", [f.voice(other_party="10010"), f.voice(other_party="10000")], part="002"
    )
    load(session, lake, folder / "voice_20261101_002.txt", tmp_path)
    parties = sorted(lake.read(session, "voice").column("other_party").to_pylist())
    assert parties == ["10000", "10010", "13900000002", "13900000002", "13900000002"]


def test_a_rejected_reload_leaves_the_published_partition_visible(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=2)
    load(session, lake, folder, tmp_path)
    f.write_text(folder, "voice", [f.voice(direction="?"), f.voice("13800000002", roaming="?")])
    report = load(session, lake, folder / "voice_20261101.txt", tmp_path)
    assert report.status is LoadStatus.REJECTED
    assert lake.read(session, "voice").num_rows == 2


def test_usage_of_a_delivery_without_any_profile_is_refused_by_reference(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    f.write_text(tmp_path / "in", "voice", [f.voice()])
    report = load(session, lake, tmp_path / "in", tmp_path)
    assert report.status is LoadStatus.REJECTED
    (problem,) = quarantined(report, "voice_20261101.txt")
    assert "no profile data is published or delivered" in problem["reason"]


def test_a_later_delivery_refers_to_subscribers_already_in_the_lake(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    f.basic_delivery(tmp_path / "first", subscribers=2)
    load(session, lake, tmp_path / "first", tmp_path)
    f.write_text(tmp_path / "second", "voice", [f.voice("13800000002")], part="late")
    report = load(session, lake, tmp_path / "second", tmp_path)
    assert report.status is LoadStatus.PUBLISHED
    assert report.rows_quarantined == 0


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("voice_2026-11-01.txt", "name must be <interface>_<YYYYMMDD>"),
        ("calls_20261101.txt", "unknown interface 'calls'"),
        ("voice_20261341.txt", "'20261341' is not a date"),
    ],
)
def test_a_misnamed_file_stops_the_delivery_before_anything_is_read(
    session: Session, lake: Lake, tmp_path: Path, name: str, words: str
) -> None:
    f.basic_delivery(tmp_path / "in")
    (tmp_path / "in" / name).write_text("x\n")
    with pytest.raises(DeliveryError, match=words):
        load(session, lake, tmp_path / "in", tmp_path)


def test_two_files_for_the_same_part_are_refused(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    f.basic_delivery(tmp_path / "in")
    f.write_text(tmp_path / "in", "voice", [f.voice()], suffix=".psv")
    with pytest.raises(DeliveryError, match="fill the same partition part"):
        load(session, lake, tmp_path / "in", tmp_path)


def test_an_empty_folder_is_a_clear_error(session: Session, lake: Lake, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    with pytest.raises(DeliveryError, match="no interface files"):
        load(session, lake, tmp_path / "in", tmp_path)


def test_a_parquet_column_of_another_type_is_checked_as_text(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    f.basic_delivery(folder, subscribers=2)
    (folder / "voice_20261101.txt").unlink()
    rows = [f.voice(), f.voice("13800000002", duration_s="ten")]
    f.write_parquet(folder, "voice", pa.Table.from_pylist(rows))  # every column a string
    report = load(session, lake, folder, tmp_path)
    (problem,) = quarantined(report, "voice_20261101.parquet")
    assert (problem["line"], problem["field"], problem["code"]) == ("2", "duration_s", "type")
    assert problem["raw"].startswith("13800000002|2026-11-01 09:15:00|mo|ten|")
    assert lake.read(session, "voice").column("duration_s").to_pylist() == [65]
