"""An external experiment file evaluated: every arm against the control arm (R-EVAL-5).

``steward evaluate experiment FILE --arm COLUMN --control VALUE --outcome COLUMN`` lands here.
DuckDB reads the file (CSV as text, so that the checks are ours, or Parquet) and the checks run
at the edge. A file with a row we cannot read as an arm and an outcome is rejected whole,
naming its first bad lines: an experiment evaluated without some of its rows misleads. The
arms are then counted in one GROUP BY and each is compared with the control by ``compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from steward.evaluation.stats import ArmComparison, compare
from steward.wording import N_, Refusal

SUCCESS = ("1", "true", "t", "yes", "y")
FAILURE = ("0", "false", "f", "no", "n")
ACCEPTED = "1/0, true/false, yes/no, y/n, t/f"
BLANKS = " \t\r\n"
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
PARQUET_READER = "read_parquet(?)"
# Every CSV field as text, so that the checks and their line numbers are ours; RFC 4180 quotes,
# which the line numbering assumes (see ``_csv_lines``).
CSV_READER = "read_csv(?, header = true, all_varchar = true, quote = '\"', escape = '\"')"
LINES_SHOWN = 10
ARMS_SHOWN = 20
VALUE_SHOWN = 40


class ExperimentError(Refusal):
    """An experiment file that cannot be evaluated as asked; the message says where and why
    (a ``Refusal``: its wording apart from its values)."""


@dataclass(frozen=True)
class ExperimentReport:
    """Every non-control arm of a file against its control, sorted by arm."""

    file: str
    rows: int
    arm_column: str
    outcome_column: str
    control: str
    comparisons: tuple[ArmComparison, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "arm_column": self.arm_column,
            "outcome_column": self.outcome_column,
            "control": self.control,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def evaluate_file(path: Path, *, arm: str, control: str, outcome: str) -> ExperimentReport:
    """Compare the success rate of every arm in an experiment file with the control's.

    ``path`` is a CSV file (UTF-8, with or without BOM, a header row) or a Parquet file
    (``.parquet``). ``arm`` and ``outcome`` name its columns; ``control`` is a value of the arm
    column. Arms are compared as trimmed text; an outcome is one of 1/0, true/false, yes/no,
    y/n, t/f, trimmed, in any case. Raises ``ExperimentError`` naming the file, the line (CSV,
    header = line 1) or row (Parquet) and the field, for a missing column, an empty arm, an
    outcome not understood (the whole file is rejected), or a control arm with no rows.
    """
    if arm == outcome:
        raise ExperimentError(
            N_("the arm and outcome columns must differ, both are %(column)r"), column=arm
        )
    control = control.strip(BLANKS)
    if not control:
        raise ExperimentError(N_("the control arm value is empty"))
    if not path.is_file():
        raise ExperimentError(N_("%(path)s: no such file"), path=path)
    if path.stat().st_size == 0:
        raise ExperimentError(N_("%(file)s: the file is empty"), file=path.name)
    with duckdb.connect() as con:
        _load(con, path, arm=arm, outcome=outcome)
        _reject_bad_rows(con, path, arm=arm, outcome=outcome)
        counts = _count_arms(con)
    return _report(path, counts, arm=arm, control=control, outcome=outcome)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literals(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _load(con: duckdb.DuckDBPyConnection, path: Path, *, arm: str, outcome: str) -> None:
    """Table ``delivered`` (arm_raw, outcome_raw) as text, its rowid the file's row order."""
    kind, reader = ("Parquet", PARQUET_READER) if _is_parquet(path) else ("CSV", CSV_READER)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()
        columns = [str(row[0]) for row in described]
        _require_columns(path, columns, [arm, outcome])
        con.execute(
            f"CREATE TEMP TABLE delivered AS SELECT "
            f"CAST({_column(arm)} AS VARCHAR) AS arm_raw, "
            f"CAST({_column(outcome)} AS VARCHAR) AS outcome_raw FROM {reader}",
            [str(path)],
        )
    except duckdb.Error as exc:
        # DuckDB's message: the reason, a blank line, then the reader's settings.
        reason = "; ".join(str(exc).strip().split("\n\n")[0].splitlines())
        raise ExperimentError(
            N_("%(file)s: cannot be read as %(kind)s: %(reason)s"),
            file=path.name,
            kind=kind,
            reason=reason,
        ) from exc
    blanks = _literals([BLANKS])
    con.execute(
        f"""
        CREATE TEMP VIEW checked AS
        SELECT rowid AS pos, arm_raw, outcome_raw,
          NULLIF(trim(arm_raw, {blanks}), '') AS arm,
          CASE WHEN lower(trim(outcome_raw, {blanks})) IN ({_literals(SUCCESS)}) THEN 1
               WHEN lower(trim(outcome_raw, {blanks})) IN ({_literals(FAILURE)}) THEN 0
          END AS success
        FROM delivered
        """
    )


def _require_columns(path: Path, columns: list[str], wanted: list[str]) -> None:
    missing = [name for name in wanted if name not in columns]
    if missing:
        where = "" if _is_parquet(path) else " line 1 (header),"
        hint = ""
        if len(columns) == 1 and not _is_parquet(path):
            hint = " (one column only: does every line have as many fields as the header?)"
        # several pieces and a list: the English as built, a wording of no catalogue (CLI only)
        raise ExperimentError(
            f"{path.name}:{where} no column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; "
            f"the columns are: {', '.join(repr(c) for c in columns)}{hint}"
        )


def _reject_bad_rows(con: duckdb.DuckDBPyConnection, path: Path, *, arm: str, outcome: str) -> None:
    bad = "arm IS NULL OR success IS NULL"
    found = con.execute(f"SELECT count(*) FROM checked WHERE {bad}").fetchone()
    count = int(found[0]) if found else 0
    if count == 0:
        return
    first = con.execute(
        f"SELECT pos, outcome_raw, arm IS NULL, success IS NULL FROM checked WHERE {bad} "
        f"ORDER BY pos LIMIT {LINES_SHOWN}"
    ).fetchall()
    places = _places(con, path, [int(row[0]) for row in first])
    problems = []
    for pos, outcome_raw, bad_arm, bad_outcome in first:
        if bad_arm:
            problems.append(f"{places[pos]}, field {arm!r}: the arm is empty")
        if bad_outcome:
            problems.append(f"{places[pos]}, field {outcome!r}: {_outcome_problem(outcome_raw)}")
    unit = "row" if _is_parquet(path) else "line"
    shown = f" (the first {len(first)} shown)" if count > len(first) else ""
    # a list of the lines at fault: the English as built (the CLI's), no catalogue wording
    raise ExperimentError(
        f"{path.name}: {count} {unit}{'' if count == 1 else 's'} not understood; the file is "
        f"rejected rather than evaluated without them{shown}:\n  " + "\n  ".join(problems)
    )


def _outcome_problem(value: str | None) -> str:
    if value is None or not value.strip(BLANKS):
        return "the outcome is empty"
    if len(value) > VALUE_SHOWN:
        value = value[:VALUE_SHOWN] + "…"
    return f"{value!r} is not an outcome (use {ACCEPTED})"


def _places(con: duckdb.DuckDBPyConnection, path: Path, positions: list[int]) -> dict[int, str]:
    """How to name the rows at these 0-based positions: CSV line, or Parquet row, numbers."""
    if _is_parquet(path):
        return {p: f"row {p + 1}" for p in positions}
    lines = _csv_lines(con, path, positions)
    if lines is None:
        return {p: f"data row {p + 1}" for p in positions}
    return {p: f"line {lines[p]}" for p in positions}


def _csv_lines(
    con: duckdb.DuckDBPyConnection, path: Path, positions: list[int]
) -> dict[int, int] | None:
    """The physical line each CSV record starts on (header = line 1), or None if unsure.

    DuckDB skips blank lines and a quoted field may span lines, so a record's number is not
    its line's. A line starts a record when it is not blank and an even number of quotes
    precede it (RFC 4180). If that does not account for exactly the records DuckDB read (a
    file with old Mac line ends, say), None: better "data row 7" than a wrong line number.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE record_lines AS
        WITH text AS (SELECT string_split(content, chr(10)) AS lines FROM read_text(?)),
        numbered AS (
          SELECT unnest(generate_series(1, len(lines))) AS line_no, unnest(lines) AS line
          FROM text
        ),
        marked AS (
          SELECT line_no, rtrim(line, chr(13)) = '' AS blank,
            coalesce(sum(length(line) - length(replace(line, '"', ''))) OVER (
              ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ), 0) % 2 = 1 AS quoted
          FROM numbered
        )
        SELECT line_no, row_number() OVER (ORDER BY line_no) - 2 AS pos
        FROM marked WHERE NOT blank AND NOT quoted
        """,
        [str(path)],
    )
    counted = con.execute(
        "SELECT (SELECT count(*) FROM record_lines WHERE pos >= 0), "
        "(SELECT count(*) FROM delivered)"
    ).fetchone()
    if counted is None or counted[0] != counted[1]:
        return None
    found = con.execute(
        "SELECT pos, line_no FROM record_lines WHERE list_contains(?, pos)", [positions]
    ).fetchall()
    return {int(pos): int(line_no) for pos, line_no in found}


def _count_arms(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Rows and successes per arm, counted in one set-based pass."""
    counted = con.execute("SELECT arm, count(*), sum(success) FROM checked GROUP BY arm").fetchall()
    return {str(arm): (int(n), int(successes)) for arm, n, successes in counted}


def _report(
    path: Path, counts: dict[str, tuple[int, int]], *, arm: str, control: str, outcome: str
) -> ExperimentReport:
    if not counts:
        raise ExperimentError(N_("%(file)s: no data rows, only a header"), file=path.name)
    if control not in counts:
        raise ExperimentError(
            N_(
                "%(file)s: field %(column)r: no row has the control arm %(control)r; "
                "the arms found are: %(arms)s"
            ),
            file=path.name,
            column=arm,
            control=control,
            arms=_arm_list(counts),
        )
    others = sorted(a for a in counts if a != control)
    if not others:
        raise ExperimentError(
            N_(
                "%(file)s: field %(column)r: every row is in the control arm %(control)r, "
                "there is no arm to compare with it"
            ),
            file=path.name,
            column=arm,
            control=control,
        )
    n_control, successes_control = counts[control]
    comparisons = tuple(
        compare(
            arm=name,
            n_arm=counts[name][0],
            successes_arm=counts[name][1],
            control=control,
            n_control=n_control,
            successes_control=successes_control,
        )
        for name in others
    )
    return ExperimentReport(
        file=path.name,
        rows=sum(n for n, _ in counts.values()),
        arm_column=arm,
        outcome_column=outcome,
        control=control,
        comparisons=comparisons,
    )


def _arm_list(counts: dict[str, tuple[int, int]]) -> str:
    arms = sorted(counts)
    shown = ", ".join(repr(a) for a in arms[:ARMS_SHOWN])
    return shown if len(arms) <= ARMS_SHOWN else f"{shown} … ({len(arms)} in all)"
