"""The delivered files: names, schema conformance, references, determinism, text formats."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from steward.ingest.schemas import INTERFACES
from steward.synth import generate
from steward.synth.service import bill_months

from .conftest import DAYS, SUBSCRIBERS, Province
from .validate import read_interface_file, validate_folder


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_every_file_conforms_to_its_interface(province: Province) -> None:
    rows, problems = validate_folder(province.out)
    assert problems == []
    assert set(rows) == set(INTERFACES)
    assert rows == province.summary.rows


def test_files_are_named_per_interface_and_day(province: Province) -> None:
    names = sorted(p.name for p in province.out.iterdir())
    daily = ["voice", "data", "sms", "recharge", "balance", "complaint", "contact"]
    expected = [
        *(f"bill_2026{m:02d}01.parquet" for m in range(5, 12)),
        "product_20261101.parquet",
        "profile_20261101.parquet",
        "subscription_20261101.parquet",
        *(f"{name}_2026110{d}.parquet" for name in daily for d in (1, 2)),
    ]
    assert names == sorted(expected)
    assert sorted(province.summary.files) == names


def test_snapshots_hold_every_subscriber_once_and_daily_files_one_balance_each(
    province: Province,
) -> None:
    assert province.summary.rows["profile"] == SUBSCRIBERS
    assert province.summary.rows["balance"] == SUBSCRIBERS * DAYS
    assert province.summary.rows["bill"] == SUBSCRIBERS * 7
    assert pq.read_metadata(province.truth / "subscribers.parquet").num_rows == SUBSCRIBERS


def test_bill_months_cover_six_months_before_and_every_month_touched() -> None:
    history = [date(2026, m, 1) for m in range(5, 11)]
    start = date(2026, 11, 1)
    assert bill_months(start, 1) == [*history, date(2026, 11, 1)]
    assert bill_months(start, 45) == [*history, date(2026, 11, 1), date(2026, 12, 1)]
    assert bill_months(date(2027, 1, 31), 2)[-3:] == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert bill_months(date(2027, 1, 31), 2)[0] == date(2026, 7, 1)


def test_same_seed_writes_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    runs = [
        generate(subscribers=1_500, days=1, seed=seed, out=tmp_path / name, chunk_size=600)
        for name, seed in (("a", 5), ("b", 5), ("c", 6))
    ]
    a, b, c = (_digests(s.out) for s in runs)
    assert a == b
    assert _digests(runs[0].truth_out) == _digests(runs[1].truth_out)
    changed = {name for name in a if a[name] != c[name]}
    assert changed == set(a) - {"product_20261101.parquet"}


def test_several_chunks_across_a_year_end_conform_and_keep_households_together(
    tmp_path: Path,
) -> None:
    summary = generate(
        subscribers=2_500,
        days=2,
        seed=3,
        out=tmp_path / "out",
        chunk_size=700,
        start=date(2026, 12, 31),
    )
    _, problems = validate_folder(summary.out)
    assert problems == []
    bills = sorted(name for name in summary.files if name.startswith("bill_"))
    assert bills[-3:] == ["bill_20261101.parquet", "bill_20261201.parquet", "bill_20270101.parquet"]
    assert bills[0] == "bill_20260601.parquet"
    assert "voice_20270101.parquet" in summary.files
    truth = pq.read_table(summary.truth_out / "subscribers.parquet").to_pydict()
    heads = {int(h[1:]) for h in truth["household_id"]}
    # A household starts at one of its own members and never crosses a chunk boundary.
    members = dict(zip(truth["household_id"], truth["household_size"], strict=False))
    for head in heads:
        size = members[f"H{head:09d}"]
        assert head // 700 == (head + size - 1) // 700


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_text_delivery_reads_back_with_the_same_rows(tmp_path: Path, encoding: str) -> None:
    text = generate(subscribers=400, days=1, seed=2, out=tmp_path / "txt", text_encoding=encoding)
    parquet = generate(subscribers=400, days=1, seed=2, out=tmp_path / "pq")
    rows, problems = validate_folder(text.out, encoding=encoding)
    assert problems == []
    assert rows == parquet.rows
    assert all(p.suffix == ".txt" for p in text.out.iterdir())
    raw = (text.out / "product_20261101.txt").read_bytes()
    assert "全球通".encode(encoding) in raw
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    first = raw.decode(encoding).splitlines()[0]
    assert first == "PLAN_GT_58|全球通畅享套餐58元|GoTone Enjoy 58|plan|voice|58|gotone"
    for name in ("profile_20261101", "voice_20261101", "subscription_20261101"):
        from_text, _ = read_interface_file(text.out / f"{name}.txt", encoding)
        from_parquet, _ = read_interface_file(parquet.out / f"{name}.parquet")
        assert from_text.num_rows == from_parquet.num_rows
        for column in from_parquet.column_names:
            assert from_text.column(column).to_pylist() == from_parquet.column(column).to_pylist()


def test_text_booleans_are_digits_and_nulls_empty(tmp_path: Path) -> None:
    summary = generate(subscribers=300, days=1, seed=4, out=tmp_path / "t", text_encoding="utf-8")
    lines = (summary.out / "profile_20261101.txt").read_text(encoding="utf-8").splitlines()
    fields = [line.split("|") for line in lines]
    assert len(fields) == 300
    names = INTERFACES["profile"].field_names
    assert all(len(f) == len(names) for f in fields)
    for flag in ("is_foreigner", "is_blacklisted", "is_data_card", "optout_sms"):
        assert {f[names.index(flag)] for f in fields} <= {"0", "1"}
    assert "" in {f[names.index("contract_end")] for f in fields}


def test_arguments_are_checked(tmp_path: Path) -> None:
    for bad in ({"subscribers": 0}, {"days": 0}, {"seed": -1}, {"text_encoding": "latin-1"}):
        kwargs = {"subscribers": 10, "days": 1, "seed": 1, "out": tmp_path / "x", **bad}
        with pytest.raises(ValueError, match="must"):
            generate(**kwargs)  # type: ignore[arg-type]


def test_progress_counts_every_chunk_of_every_day(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        subscribers=1_000,
        days=2,
        seed=1,
        out=tmp_path / "p",
        chunk_size=400,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(i, 6) for i in range(1, 7)]


def test_summary_serialises(province: Province) -> None:
    data = province.summary.to_dict()
    assert data["total_rows"] == sum(data["rows"].values())
    assert data["start"] == "2026-11-01"
    assert data["truth_out"].endswith("delivery.truth")
