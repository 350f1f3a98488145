"""Uploaded lists of numbers (segments, opt-out lists): one number a line, checked set-based.

A header line ``msisdn`` is allowed; a bad line is reported with its line number and kept
out; a repeated number is counted once. The checked lines stay in the engine's temp table
``list_checked`` (line_no, value, problem, repeated) for the caller to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from steward.ingest import readers
from steward.ingest.schemas import MSISDN_PATTERN
from steward.lake.engine import AnalyticsEngine
from steward.wording import N_, Refusal

CHECKED = "list_checked"
GOOD = f"SELECT value AS msisdn FROM {CHECKED} WHERE problem IS NULL AND NOT repeated"
# What can be wrong with a line; the report keeps the English sentence (``problem``).
NOT_TEXT = N_("bytes are not valid %(encoding)s text")
NOT_A_NUMBER = N_("not an 11-digit mobile number")
PROBLEMS = (NOT_TEXT, NOT_A_NUMBER)


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
          CASE WHEN decode_error THEN '{NOT_TEXT % {"encoding": facts.encoding}}'
               WHEN NOT regexp_full_match(trim(line), '{MSISDN_PATTERN}')
               THEN '{NOT_A_NUMBER}'
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


def problem(text: str) -> Refusal:
    """A bad line's ``problem`` as its wording and values, for a page to show in the reader's
    language; the report itself keeps the English sentence, as the API returns it."""
    for template in PROBLEMS:
        found = _pattern(template).fullmatch(text)
        if found is not None:
            return Refusal(template, **found.groupdict())
    return Refusal(text)  # no values: shown as written


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The sentences ``template`` makes: each ``%(name)s`` any text, the rest as written."""
    parts = re.split(r"%\((\w+)\)s", template)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+)" for i, p in enumerate(parts))
    )
