"""Numbering and time slots: the invariants that make keys unique by construction."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.ingest.schemas import MSISDN_PATTERN, VOICE
from steward.synth.numbers import MAX_SUBSCRIBERS, cdf_of, msisdn_of, owners_of, times_of_day
from steward.synth.usage import VOICE_HOURS

from .validate import check_table, validate_folder


def test_msisdns_are_unique_valid_and_computable_for_any_index() -> None:
    first = msisdn_of(np.arange(3_000_000, dtype=np.int64), seed=1)
    assert (np.diff(np.sort(first)) > 0).all()
    far = np.array([MAX_SUBSCRIBERS - 1, 17_999_999, 12_345_678], dtype=np.int64)
    numbers = np.concatenate([first[:1000], msisdn_of(far, seed=1)])
    pattern = re.compile(MSISDN_PATTERN)
    assert all(pattern.match(str(n)) for n in numbers.tolist())
    # Any index alone gives the same number as in a batch: no table of all numbers needed.
    assert msisdn_of(np.array([2_999_999]), seed=1)[0] == first[-1]
    prefixes = {int(n) // 10**8 for n in first[:100_000].tolist()}
    assert prefixes <= {
        134,
        135,
        136,
        137,
        138,
        139,
        147,
        150,
        151,
        152,
        157,
        158,
        159,
        178,
        182,
        183,
        184,
        187,
        188,
        198,
    }
    assert len(prefixes) == 20


def test_another_seed_numbers_the_province_differently() -> None:
    index = np.arange(1000, dtype=np.int64)
    assert (msisdn_of(index, seed=1) != msisdn_of(index, seed=2)).mean() > 0.99


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 400), min_size=1, max_size=40),
    resolution=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_record_times_never_repeat_for_one_subscriber(
    counts: list[int], resolution: int, seed: int
) -> None:
    count = np.array(counts, dtype=np.int64)
    owner = owners_of(count)
    slot = times_of_day(np.random.default_rng(seed), owner, count, VOICE_HOURS, resolution)
    assert slot.min(initial=0) >= 0
    assert slot.max(initial=0) < 86_400 // resolution
    same = np.diff(owner) == 0
    assert (np.diff(slot)[same] > 0).all()


def test_a_full_day_of_records_still_fits() -> None:
    steps = 43_200
    count = np.array([steps, 3], dtype=np.int64)
    slot = times_of_day(np.random.default_rng(0), owners_of(count), count, cdf_of([1] * 24), 2)
    assert (slot[:steps] == np.arange(steps)).all()


def test_the_validator_catches_what_the_interfaces_forbid(tmp_path: Path) -> None:
    rows = {
        "msisdn": ["13800000000", "13800000000", "2380000000x"],
        "start_time": pa.array(np.array([1793491200, 1793491200, 1793577600], "datetime64[s]")),
        "direction": ["mo", "mo", "sideways"],
        "duration_s": [10, 10, -1],
        "other_party": ["10086", "10086", "10086"],
        "cell_id": ["5A00001", "5A00001", "5A00001"],
        "roaming": ["none", "none", "none"],
        "charge": [0.0, 0.0, 0.0],
    }
    table = pa.table(rows)
    problems = check_table(table, VOICE, date(2026, 11, 1), "voice")
    text = "\n".join(problems)
    for expected in ("duplicate keys", "msisdn", "direction", "below 0", "start_time has days"):
        assert expected in text
    folder = tmp_path / "delivery"
    folder.mkdir()
    pq.write_table(table, folder / "voice_20261101.parquet")
    _, found = validate_folder(folder)
    assert any("not in profile" in p for p in found)
