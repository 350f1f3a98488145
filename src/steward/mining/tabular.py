"""Any customer table with a label column, read and made ready for a model.

An analyst's file is messy: numbers with blanks (IBM's Telco file has eleven empty
``TotalCharges``), yes/no text, ids. Each column is read as text (DuckDB's CSV reader, with
the delimiter and encoding of an ingest mapping's ``source`` when given) and typed by what it
holds: a column whose filled values all read as numbers is numeric (blanks become missing),
a text column with a few dozen values is categorical, anything else — an id, free text — is
left out and named in the report. The label must have exactly two values.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

MAX_LEVELS = 50  # more distinct texts than this is an id or free text, not a category
POSITIVE_WORDS = ("yes", "y", "true", "1", "churn", "churned", "是")


class TableError(ValueError):
    """A table that cannot be modelled; the message names the file and column."""


@dataclass
class Table:
    """The modelling view of a file: numeric and categorical columns, the label as 0/1."""

    path: Path
    rows: int
    numeric: dict[str, npt.NDArray[np.float64]]
    categorical: dict[str, npt.NDArray[np.str_]]
    label: npt.NDArray[np.int8]
    positive: str  # the label's value counted as 1
    left_out: dict[str, str] = field(default_factory=dict)  # column -> why

    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def read_table(
    path: Path,
    *,
    label: str,
    id_column: str | None = None,
    source: Mapping[str, Any] | None = None,
) -> Table:
    """Read ``path`` (CSV or Parquet) and type its columns; ``source`` is an ingest mapping's
    ``source`` section (delimiter, encoding, header, quote)."""
    raw = _read_text(path, source or {})
    if label not in raw:
        raise TableError(f"{path.name}: no label column {label!r} (columns: {', '.join(raw)})")
    if id_column is not None and id_column not in raw:
        raise TableError(f"{path.name}: no id column {id_column!r}")
    values, positive = _label(path, label, raw.pop(label))
    table = Table(path, len(values), {}, {}, values, positive)
    if id_column is not None:
        raw.pop(id_column)
        table.left_out[id_column] = "the id"
    for name, column in raw.items():
        _type(table, name, column)
    if not table.columns():
        raise TableError(f"{path.name}: no column left to learn from")
    return table


def _read_text(path: Path, source: Mapping[str, Any]) -> dict[str, npt.NDArray[np.str_]]:
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    connection = duckdb.connect()
    scratch = Path(tempfile.mkdtemp(prefix="steward-table-"))
    try:
        if path.suffix.lower() == ".parquet":
            relation = connection.sql(f"SELECT * FROM read_parquet('{_quoted(path)}')")
            names = relation.columns
            cast = ", ".join(f'CAST("{n}" AS VARCHAR) AS "{n}"' for n in names)
            relation = connection.sql(f"SELECT {cast} FROM read_parquet('{_quoted(path)}')")
        else:
            text_path = _utf8(path, str(source.get("encoding", "utf-8")), scratch)
            options = _csv_options(source)
            relation = connection.sql(
                f"SELECT * FROM read_csv('{_quoted(text_path)}', all_varchar = true{options})"
            )
        table = relation.to_arrow_table()
    except duckdb.Error as exc:
        raise TableError(f"{path.name}: cannot be read: {exc}") from None
    finally:
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if table.num_rows < 20:
        raise TableError(f"{path.name}: {table.num_rows} rows is too few to learn from")
    return {
        name: np.array([("" if v is None else str(v).strip()) for v in table[name].to_pylist()])
        for name in table.column_names
    }


def _quoted(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def _csv_options(source: Mapping[str, Any]) -> str:
    found = ""
    if "delimiter" in source:
        found += f", delim = '{source['delimiter']}'"
    if "header" in source:
        found += f", header = {str(bool(source['header'])).lower()}"
    if "quote" in source:
        found += f", quote = '{source['quote']}'"
    return found


def _utf8(path: Path, encoding: str, scratch: Path) -> Path:
    """The file as UTF-8 (GBK and the like are decoded by Python's codecs, which know them)."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return path
    try:
        text = path.read_bytes().decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise TableError(f"{path.name}: not readable as {encoding}: {exc}") from None
    copy = scratch / "table.csv"
    copy.write_text(text, encoding="utf-8")
    return copy


def _label(path: Path, name: str, column: npt.NDArray[np.str_]) -> tuple[npt.NDArray[np.int8], str]:
    filled = column[column != ""]
    if len(filled) < len(column):
        raise TableError(
            f"{path.name}: label {name!r} is empty on {len(column) - len(filled)} rows"
        )
    levels, counts = np.unique(filled, return_counts=True)
    if len(levels) != 2:
        shown = ", ".join(map(str, levels[:5]))
        raise TableError(
            f"{path.name}: label {name!r} must have two values, has {len(levels)}: {shown}"
        )
    words = [str(level).lower() for level in levels]
    named = [i for i, word in enumerate(words) if word in POSITIVE_WORDS]
    positive = str(levels[named[0]] if len(named) == 1 else levels[int(np.argmin(counts))])
    return (column == positive).astype(np.int8), positive


def _type(table: Table, name: str, column: npt.NDArray[np.str_]) -> None:
    filled = column[column != ""]
    if len(filled) == 0:
        table.left_out[name] = "empty"
        return
    numbers = _numbers(column)
    if numbers is not None:
        table.numeric[name] = numbers
        return
    levels = np.unique(filled)
    if len(levels) <= MAX_LEVELS:
        table.categorical[name] = column
    else:
        table.left_out[name] = f"text with {len(levels)} distinct values (an id or free text)"


def _numbers(column: npt.NDArray[np.str_]) -> npt.NDArray[np.float64] | None:
    values = np.full(len(column), np.nan)
    for i, text in enumerate(column):
        if text == "":
            continue
        try:
            values[i] = float(text)
        except ValueError:
            return None
    return values
