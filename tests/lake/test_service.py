"""The lake shows only what the catalogue publishes, and vacuum spares young files."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from steward.lake.engine import make_engine
from steward.lake.service import Lake, StagedPartition

DAY = date(2026, 11, 1)


def stage(
    lake: Lake,
    table: str,
    rows: list[int],
    *,
    day: date = DAY,
    part: str = "0",
    load: str = "load-1",
) -> StagedPartition:
    path = lake.stage_path(table, day, part, load)
    pq.write_table(pa.table({"n": rows}), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return StagedPartition(table, day, part, path, len(rows), digest)


def test_staged_files_are_invisible_until_published(session: Session, lake: Lake) -> None:
    part = stage(lake, "voice", [1, 2, 3])
    assert lake.relation(session, "voice") is None
    assert lake.read(session, "voice").num_rows == 0
    lake.publish(session, [part], "load-1")
    assert lake.read(session, "voice").column("n").to_pylist() == [1, 2, 3]


def test_publishing_a_part_again_replaces_it(session: Session, lake: Lake) -> None:
    lake.publish(session, [stage(lake, "voice", [1, 2])], "load-1")
    lake.publish(session, [stage(lake, "voice", [7], load="load-2")], "load-2")
    lake.publish(session, [stage(lake, "voice", [9], part="b", load="load-2")], "load-2")
    assert sorted(lake.read(session, "voice").column("n").to_pylist()) == [7, 9]
    (summary,) = lake.summary(session)
    assert (summary.partitions, summary.rows) == (2, 2)


def test_views_name_each_published_table(session: Session, lake: Lake) -> None:
    lake.publish(session, [stage(lake, "voice", [1]), stage(lake, "sms", [1, 2])], "load-1")
    assert lake.create_views(session) == ["sms", "voice"]
    assert lake.engine.query("SELECT count(*) AS c FROM sms").to_pylist() == [{"c": 2}]


def test_vacuum_removes_old_unreferenced_files_and_spares_young_ones(
    session: Session, lake: Lake
) -> None:
    kept = stage(lake, "voice", [1])
    lake.publish(session, [kept], "load-1")
    orphan_old = stage(lake, "voice", [2], load="killed")
    hour_ago = time.time() - 3600
    os.utime(orphan_old.path, (hour_ago, hour_ago))
    orphan_young = stage(lake, "voice", [3], part="x", load="running")
    removed = lake.vacuum(session, grace_s=600)
    assert removed == [orphan_old.path]
    assert kept.path.exists()
    assert orphan_young.path.exists()


def test_an_unknown_engine_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown analytics engine 'spark'; known: \['duckdb'\]"):
        make_engine("spark")
