"""Property: every delivered line ends in exactly one place — the lake or the quarantine —
and it is the quarantine exactly when the line was damaged."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward import db
from steward.ingest.service import IngestOptions, ingest
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from tests.ingest import factories as f

# A damage per field that the validator must catch, whatever else the row holds.
DAMAGES: dict[str, list[str]] = {
    "msisdn": ["", "23800000001", "1380000000", "138000000011", "13800000009"],
    "start_time": ["", "2026-11-02 00:00:00", "yesterday", "2026-11-01 24:00:00"],
    "direction": ["", "MO", "in"],
    "duration_s": ["", "-1", "86401", "1.5", "x"],
    "other_party": ["", "12", "abc", "+", "1" * 21],
    "cell_id": ["", "zz", "A1", "a1b2"],
    "roaming": ["", "yes", "None"],
    "charge": ["", "-0.01", "inf", "nan", "10000.5", "1,5"],
}
DAMAGE = st.one_of(
    st.none(),
    st.sampled_from([(field, value) for field, values in DAMAGES.items() for value in values]),
    st.just(("*", "13800000001|2026-11-01 10:00:00|mo|5|extra")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damages=st.lists(DAMAGE, min_size=1, max_size=30), seconds=st.integers(0, 59))
def test_each_line_is_loaded_or_quarantined_never_both_never_lost(
    damages: list[tuple[str, str] | None], seconds: int
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        f.basic_delivery(root / "in", subscribers=2)
        rows, lines = [], []
        for line_no, damage in enumerate(damages, start=1):
            row = f.voice(
                other_party=f"1390000{line_no:04d}", start_time=f"2026-11-01 08:00:{seconds:02d}"
            )
            if damage is not None and damage[0] != "*":
                row[damage[0]] = damage[1]
            rows.append(row)
            lines.append(damage[1] if damage and damage[0] == "*" else f.render("voice", row))
        (root / "in" / "voice_20261101.txt").write_text("\n".join(lines) + "\n")

        engine = db.make_engine(f"sqlite:///{root / 's.db'}")
        db.migrate(engine)
        lake = Lake(root / "lake", DuckDBEngine(memory_limit="512MB"))
        with db.transaction(db.session_factory(engine)) as session:
            report = ingest(
                session,
                lake,
                root / "in",
                IngestOptions(quarantine_root=root / "q", max_bad_share=1.0),
            )
            loaded = set(lake.read(session, "voice").column("other_party").to_pylist())
        lake.engine.close()
        engine.dispose()

        (voice,) = [r for r in report.files if r.interface == "voice"]
        bad_lines: set[int] = set()
        if voice.quarantine_file:
            with open(voice.quarantine_file, encoding="utf-8") as stream:
                bad_lines = {int(p["line"]) for p in csv.DictReader(stream)}
        expected_bad = {n for n, d in enumerate(damages, start=1) if d is not None}
        assert bad_lines == expected_bad
        expected_loaded = {
            r["other_party"] for n, r in enumerate(rows, start=1) if n not in expected_bad
        }
        assert loaded == expected_loaded
        assert voice.rows_read == len(damages)
        assert voice.rows_loaded + voice.rows_quarantined == voice.rows_read
