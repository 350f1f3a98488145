"""A load killed half-way leaves nothing visible: readers still see the lake as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from steward import db
from steward.ingest.models import IngestLoad
from steward.lake.engine import DuckDBEngine
from steward.lake.models import LakePartition
from steward.lake.service import Lake
from tests.ingest import factories as f

PARTS = 40


def big_delivery(folder: Path) -> None:
    numbers = f.basic_delivery(folder, subscribers=500)
    for part in range(PARTS):
        rows = [
            f.voice(n, start_time=f"2026-11-01 {h:02d}:{m:02d}:00")
            for n in numbers
            for h in range(0, 24, 2)
            for m in range(0, 60, 15)
        ]
        f.write_text(folder, "voice", rows, part=f"{part:03d}")


def steward(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"STEWARD_HOME": str(home), "STEWARD_LAKE_VACUUM_GRACE_S": "0"}
    home.mkdir(parents=True, exist_ok=True)
    with (home / "stderr.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "steward.cli", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def stderr_of(home: Path) -> str:
    return (home / "stderr.log").read_text(errors="replace")


def kill_when_staging_started(process: subprocess.Popen[bytes], lake_root: Path) -> None:
    deadline = time.monotonic() + 120
    while not list(lake_root.rglob("voice/**/*.parquet")):
        assert process.poll() is None, "the load ended before it could be killed"
        assert time.monotonic() < deadline, "the load never started staging"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_a_killed_load_publishes_nothing_and_its_files_are_vacuumed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    big_delivery(tmp_path / "in")
    process = steward(home, "ingest", str(tmp_path / "in"))
    kill_when_staging_started(process, home / "lake")
    assert process.returncode == -signal.SIGKILL

    engine = db.make_engine(f"sqlite:///{(home / 'steward.db').as_posix()}")
    sessions = db.session_factory(engine)
    with db.transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(LakePartition)) == 0
        assert session.scalar(select(func.count()).select_from(IngestLoad)) == 0
        lake = Lake(home / "lake", DuckDBEngine(memory_limit="1GB"))
        assert lake.summary(session) == []
        assert lake.vacuum(session, grace_s=0)
    assert not list((home / "lake").rglob("*.parquet"))

    rerun = steward(home, "ingest", str(tmp_path / "in"))
    assert rerun.wait(timeout=300) == 0, stderr_of(home)
    with db.transaction(sessions) as session:
        voice = lake.read(session, "voice")
        assert voice.num_rows == PARTS * 500 * 12 * 4 + 500  # and the basic day file
    lake.engine.close()
    engine.dispose()
