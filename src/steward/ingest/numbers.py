"""Uploaded lists of numbers (segments, opt-out lists): one number a line, checked set-based.

A header line ``msisdn`` is allowed; a bad line is reported with its line number and kept
out; a repeated number is counted once. The checked lines stay in the engine's temp table
``list_checked`` (line_no, value, problem, repeated) for the caller to use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.ingest import readers
from steward.ingest.schemas import MSISDN_PATTERN
from steward.lake.engine import AnalyticsEngine

CHECKED = "list_checked"
GOOD = f"SELECT value AS msisdn FROM {CHECKED} WHERE problem IS NULL AND NOT repeated"


@dataclass
class NumberList:
    lines: int
    accepted: int
    duplicates: int
    bad_lines: list[dict[str, Any]] = field(default_factory=list)  # the first 1000


def check_number_list(engine: AnalyticsEngine, path: Path) -> NumberList:
    """Read and check a list of numbers; the good ones are ``GOOD``'s rows afterwards."""
    facts = readers.inspect_file(path)
    readers.load_lines(engine, path, facts.encoding, "list_lines")
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {CHECKED} AS
        SELECT line_no, trim(line) AS value,
          CASE WHEN decode_error THEN 'bytes are not valid {facts.encoding} text'
               WHEN NOT regexp_full_match(trim(line), '{MSISDN_PATTERN}')
               THEN 'not an 11-digit mobile number'
          END AS problem,
          row_number() OVER (PARTITION BY trim(line) ORDER BY line_no) > 1 AS repeated
        FROM list_lines
        WHERE trim(line) <> '' AND NOT (line_no = 1 AND lower(trim(line)) = 'msisdn')
        """
    )
    bad = engine.query(
        f"SELECT line_no AS line, left(value, 40) AS value, problem FROM {CHECKED} "
        "WHERE problem IS NOT NULL ORDER BY line_no LIMIT 1000"
    ).to_pylist()
    totals = engine.query(
        "SELECT count(*) AS lines, count(*) FILTER (WHERE problem IS NULL AND NOT repeated) "
        "AS accepted, count(*) FILTER (WHERE problem IS NULL AND repeated) AS duplicates "
        f"FROM {CHECKED}"
    ).to_pylist()[0]
    return NumberList(bad_lines=bad, **{k: int(v) for k, v in totals.items()})
