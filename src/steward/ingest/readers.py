"""Bring one interface file into the engine as text fields with their source line numbers.

Every reader produces the same relation, ``raw_fields``: ``line_no``, ``raw`` (the line as
delivered, for the quarantine file), ``field_error`` (a whole-line problem: wrong number of
fields, undecodable bytes) and one VARCHAR column per interface field, NULL when empty. The
validator then treats text and Parquet deliveries alike.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from steward.ingest.schemas import TEXT_SUFFIXES, FieldType, Interface
from steward.lake.engine import AnalyticsEngine

DELIMITER = "|"
BLOCK_BYTES = 32 * 1024 * 1024
AUTO = "auto"


class UnreadableFileError(Exception):
    """The whole file cannot be read as its interface (missing columns, unknown encoding)."""


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    encoding: str
    size_bytes: int


def inspect_file(path: Path, encoding: str = AUTO) -> FileFacts:
    """Hash the file and settle its text encoding: UTF-8 if it decodes, else GB18030 (GBK)."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = path.suffix.lower() in TEXT_SUFFIXES
    size = 0
    with path.open("rb") as stream:
        while block := stream.read(BLOCK_BYTES):
            digest.update(block)
            size += len(block)
            if utf8_ok and encoding == AUTO:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
    if encoding == AUTO:
        # GB18030 is a superset of GBK and GB2312, as operators' "GBK" files often are.
        encoding = "utf-8" if utf8_ok else "gb18030"
    return FileFacts(digest.hexdigest(), codecs.lookup(encoding).name, size)


@dataclass(frozen=True)
class RawFields:
    """What the validator needs to know of ``raw_fields``: the columns that already carry
    their field's type, and how to show a row as delivered (over alias ``r``)."""

    native: frozenset[str]
    raw_sql: str


def load_raw_fields(
    engine: AnalyticsEngine, path: Path, interface: Interface, encoding: str
) -> RawFields:
    """Create the ``raw_fields`` relation in ``engine`` from a text or Parquet file."""
    if path.suffix.lower() == ".parquet":
        return _load_parquet(engine, path, interface)
    _load_text(engine, path, interface, encoding)
    return RawFields(frozenset(), "r.raw")


def load_lines(engine: AnalyticsEngine, path: Path, encoding: str, table: str) -> None:
    """Create ``table`` (line_no, line, decode_error) from a text file, line numbers kept."""
    engine.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} (line_no BIGINT, line VARCHAR, decode_error BOOLEAN)"
    )
    for batch in _line_batches(path, encoding):
        engine.register("line_batch", batch)
        engine.execute(f"INSERT INTO {table} SELECT * FROM line_batch")
        engine.execute("DROP VIEW line_batch")


def _load_text(engine: AnalyticsEngine, path: Path, interface: Interface, encoding: str) -> None:
    load_lines(engine, path, encoding, "raw_lines")
    names = interface.field_names
    header = DELIMITER.join(names)
    columns = ",\n  ".join(
        f"CASE WHEN len(f) = {len(names)} THEN NULLIF(trim(f[{i + 1}]), '') END AS \"{name}\""
        for i, name in enumerate(names)
    )
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE raw_fields AS
        WITH split AS (
          SELECT line_no, line, decode_error, string_split(line, '{DELIMITER}') AS f
          FROM raw_lines
          WHERE line <> '' AND NOT (line_no = 1 AND line = '{header}')
        )
        SELECT line_no, line AS raw,
          CASE WHEN decode_error THEN 'bytes are not valid {encoding} text'
               WHEN len(f) <> {len(names)}
               THEN 'expected {len(names)} fields, found ' || len(f)
          END AS field_error,
          {columns}
        FROM split
        """
    )
    engine.execute("DROP TABLE raw_lines")


def _line_batches(
    path: Path, encoding: str, lines_per_batch: int = 1_000_000
) -> Iterator[pa.Table]:
    """Lines with 1-based numbers, decoded; a line that will not decode is flagged, not lost."""
    line_no = 1
    pending: list[bytes] = []
    with path.open("rb") as stream:
        tail = b""
        while block := stream.read(BLOCK_BYTES):
            block = tail + block
            cut = block.rfind(b"\n")
            if cut < 0:
                tail = block
                continue
            tail = block[cut + 1 :]
            pending.extend(block[:cut].split(b"\n"))
            while len(pending) >= lines_per_batch:
                yield _decode_batch(pending[:lines_per_batch], line_no, encoding)
                line_no += lines_per_batch
                pending = pending[lines_per_batch:]
        if tail:
            pending.append(tail)
    if pending:
        yield _decode_batch(pending, line_no, encoding)


def _decode_batch(lines: list[bytes], first_line: int, encoding: str) -> pa.Table:
    try:
        text = b"\n".join(lines).decode(encoding).split("\n")
        errors = [False] * len(text)
    except UnicodeDecodeError:
        text, errors = [], []
        for raw in lines:
            try:
                text.append(raw.decode(encoding))
                errors.append(False)
            except UnicodeDecodeError:
                text.append(raw.decode(encoding, errors="replace"))
                errors.append(True)
    text = [line.removesuffix("\r") for line in text]
    numbers = pa.array(range(first_line, first_line + len(text)), pa.int64())
    return pa.table({"line_no": numbers, "line": text, "decode_error": errors})


NATIVE_TYPES: dict[FieldType, Callable[[str], bool]] = {
    FieldType.TEXT: lambda t: t == "VARCHAR",
    FieldType.INT: lambda t: t in {"BIGINT", "INTEGER", "SMALLINT", "TINYINT"},
    FieldType.FLOAT: lambda t: t in {"DOUBLE", "FLOAT", "REAL"} or t.startswith("DECIMAL"),
    FieldType.BOOL: lambda t: t == "BOOLEAN",
    FieldType.DATE: lambda t: t == "DATE",
    FieldType.TIMESTAMP: lambda t: t.startswith("TIMESTAMP") and "TIME ZONE" not in t,
}


def _load_parquet(engine: AnalyticsEngine, path: Path, interface: Interface) -> RawFields:
    """Typed Parquet columns stay typed (no text round trip); others become text to check."""
    scan = engine.scan_parquet([path], row_number=True)
    try:
        described = engine.query(f"DESCRIBE SELECT * FROM {scan}").to_pylist()
    except duckdb.Error as exc:  # not Parquet at all, or cut short
        first = str(exc).splitlines()[0]
        raise UnreadableFileError(f"{path.name}: not a readable Parquet file ({first})") from None
    types = {row["column_name"]: str(row["column_type"]) for row in described}
    missing = [n for n in interface.field_names if n not in types]
    if missing:
        raise UnreadableFileError(f"{path.name}: missing column(s) {', '.join(missing)}")
    native = frozenset(
        f.name
        for f in interface.fields
        if NATIVE_TYPES[f.type](types[f.name]) and f.type is not FieldType.TEXT
    )
    columns = []
    for field in interface.fields:
        name = f'"{field.name}"'
        if field.name in native:
            columns.append(f"{name}")
        else:
            columns.append(f"NULLIF(trim(CAST({name} AS VARCHAR)), '') AS {name}")
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE raw_fields AS
        SELECT file_row_number + 1 AS line_no, CAST(NULL AS VARCHAR) AS field_error,
          {", ".join(columns)}
        FROM {scan}
        """
    )
    raw = " || '|' || ".join(
        f"coalesce(CAST(r.\"{n}\" AS VARCHAR), '')" for n in interface.field_names
    )
    return RawFields(native, raw)
