"""Turn a foreign customer file into Steward interface files (R-DATA-1).

A mapping is a small YAML file (see ``docs/foreign-files.md``): how to read the foreign file,
which interface it becomes, and one rule per target field. :func:`apply_mapping` runs it as
one set-based DuckDB query and writes ``<interface>_<YYYYMMDD>.txt`` (``|``-delimited,
headerless, UTF-8, fields in schema order, NULL as empty) plus, if the mapping declares
catalogue rows, a ``product_<YYYYMMDD>.txt``. The normal ingest then validates and loads them.

The mapping converts; it does not judge (R-DATA-2 belongs to ingest). A value no rule can
convert is written unchanged, so that ingest's validator sets its row aside with the line
number; the report counts such values per field. One output line per source record, in source
order: output line ``k`` is source record ``k + 1`` when the source has a header line.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from steward.ingest.mapping.config import (
    MAX_SHOWN_VALUE,
    TOP_UNMAPPED,
    ColumnRule,
    ConstantRule,
    Mapping,
    MappingError,
    MonthsBeforeAsOfRule,
    SourceFormat,
    SurrogateMsisdnRule,
    ValueType,
)
from steward.ingest.schemas import INTERFACES, PRODUCT, file_name_for

# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class UnmappedValues:
    """Source values of one field that no value map entry or conversion took."""

    count: int
    top: list[tuple[str, int]]


@dataclass
class MappingReport:
    """What a mapping run did. Source record = output line + ``line_offset``."""

    target: str
    source: str
    as_of: date
    rows_read: int
    rows_written: int
    files_written: list[str]
    line_offset: int
    # Per field with a value map or conversion: values passed through unconverted.
    unmapped: dict[str, UnmappedValues]
    surrogate_collisions: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unmapped_total(self) -> int:
        return sum(u.count for u in self.unmapped.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["unmapped"] = {
            name: {"count": u.count, "top": [{"value": v, "rows": n} for v, n in u.top]}
            for name, u in self.unmapped.items()
        }
        data["unmapped_total"] = self.unmapped_total
        data["seconds"] = round(self.seconds, 3)
        return data


# --------------------------------------------------------------------------- SQL


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Params:
    """Collects query parameters so no config or source text is pasted into SQL."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"CAST(${name} AS VARCHAR)" if isinstance(value, str) else f"${name}"


_TRIM = "trim({v}, ' ' || chr(9))"
_TRUE = "('1', 'yes', 'y', 'true', 't')"
_FALSE = "('0', 'no', 'n', 'false', 'f')"


def _conversion(rule: ColumnRule, v: str, p: _Params) -> tuple[str, str] | None:
    """(condition the value converts, converted value) for the rule's type; None for text."""
    t = _TRIM.format(v=v)
    if rule.type is ValueType.BOOL:
        return (
            f"lower({t}) IN {_TRUE} OR lower({t}) IN {_FALSE}",
            f"CASE WHEN lower({t}) IN {_TRUE} THEN '1' ELSE '0' END",
        )
    if rule.type is ValueType.INT:
        return (
            f"regexp_full_match({t}, '[+-]?[0-9]{{1,18}}')",
            f"CAST(CAST({t} AS BIGINT) AS VARCHAR)",
        )
    if rule.type is ValueType.FLOAT:
        return (f"regexp_full_match({t}, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)')", t)
    if rule.type is ValueType.DATE:
        parsed = (
            f"TRY_CAST(TRY_STRPTIME({t}, {p(rule.date_format)}) AS DATE)"
            if rule.date_format
            else f"TRY_CAST({t} AS DATE)"
        )
        return (f"{parsed} IS NOT NULL", f"strftime({parsed}, '%Y-%m-%d')")
    return None


@dataclass(frozen=True)
class _Column:
    name: str
    expression: str
    unmapped: str | None = None  # condition: the value was passed through unconverted
    from_source: bool = False  # may carry arbitrary source text
    key: str | None = None  # a surrogate's source key


def _column_expressions(mapping: Mapping, p: _Params, as_of: date) -> list[_Column]:
    columns: list[_Column] = []
    for target in INTERFACES[mapping.target].fields:
        rule = mapping.fields.get(target.name)
        if rule is None:
            columns.append(_Column(target.name, "CAST(NULL AS VARCHAR)"))
        elif isinstance(rule, ConstantRule):
            columns.append(_Column(target.name, p(rule.constant)))
        elif isinstance(rule, ColumnRule):
            columns.append(_column_rule(target.name, rule, p))
        elif isinstance(rule, MonthsBeforeAsOfRule):
            v = f"NULLIF(src.{_ident(rule.months_before_as_of)}, '')"
            t = _TRIM.format(v=v)
            ok = f"regexp_full_match({t}, '[0-9]{{1,4}}')"
            shifted = f"CAST({p(as_of)} AS DATE) - to_months(CAST({t} AS INTEGER))"
            columns.append(
                _Column(
                    target.name,
                    f"CASE WHEN {ok} THEN strftime({shifted}, '%Y-%m-%d') ELSE {v} END",
                    unmapped=f"{v} IS NOT NULL AND NOT {ok}",
                    from_source=True,
                )
            )
        else:
            key = f"NULLIF(src.{_ident(rule.surrogate_msisdn)}, '')"
            width = 11 - len(rule.prefix)
            digits = (
                f"lpad(CAST(CAST('0x' || substr(md5({key}), 1, 15) AS BIGINT) % {10**width} "
                f"AS VARCHAR), {width}, '0')"
            )
            columns.append(_Column(target.name, f"{p(rule.prefix)} || {digits}", key=key))
    return columns


def _column_rule(name: str, rule: ColumnRule, p: _Params) -> _Column:
    v = f"NULLIF(src.{_ident(rule.column)}, '')"
    if rule.blank_as_null:
        v = f"CASE WHEN regexp_full_match({v}, '\\s*') THEN NULL ELSE {v} END"
    branches = [f"WHEN {v} IS NULL THEN {p(rule.default) if rule.default is not None else 'NULL'}"]
    misses: list[str] = []
    if rule.values:
        keys = ", ".join(p(key) for key in rule.values)
        looked_up = " ".join(
            f"WHEN {p(key)} THEN {p(val) if val is not None else 'NULL'}"
            for key, val in rule.values.items()
        )
        branches.append(f"WHEN {v} IN ({keys}) THEN CAST(CASE {v} {looked_up} END AS VARCHAR)")
        misses.append(f"{v} NOT IN ({keys})")
    conversion = _conversion(rule, v, p)
    if conversion is not None:
        converts, converted = conversion
        branches.append(f"WHEN {converts} THEN {converted}")
        misses.append(f"NOT ({converts})")
    expression = f"CASE {' '.join(branches)} ELSE {v} END"
    unmapped = f"{v} IS NOT NULL AND " + " AND ".join(misses) if misses else None
    return _Column(name, expression, unmapped=unmapped, from_source=True)


# --------------------------------------------------------------------------- source file


def _as_utf8(source: Path, encoding: str, scratch: Path) -> tuple[Path, int]:
    """The source as a UTF-8 file DuckDB can read, and its number of physical lines."""
    lines = 0
    last = b"\n"
    if encoding == "utf-8":
        with source.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 22), b""):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return source, lines + (last != b"\n")
    target = scratch / "source.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with source.open("rb") as stream, target.open("w", encoding="utf-8", newline="") as out:
        for chunk in iter(lambda: stream.read(1 << 22), b""):
            text = _decode(decoder, chunk, source, lines)
            lines += text.count("\n")
            last = text[-1:].encode() or last
            out.write(text)
        out.write(_decode(decoder, b"", source, lines, final=True))
    return target, lines + (last != b"\n")


def _decode(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    source: Path,
    lines: int,
    *,
    final: bool = False,
) -> str:
    try:
        return decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        line = lines + exc.object[: exc.start].count(b"\n") + 1
        bad = exc.object[exc.start : exc.end]
        raise MappingError(
            f"{source}: line {line}: bytes {bad!r} are not valid {exc.encoding}"
        ) from None


def _header(path: Path, fmt: SourceFormat, source: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        if fmt.quote:
            reader = csv.reader(stream, delimiter=fmt.delimiter, quotechar=fmt.quote)
        else:
            reader = csv.reader(stream, delimiter=fmt.delimiter, quoting=csv.QUOTE_NONE)
        first = next(reader, None)
    if fmt.columns is not None:
        return fmt.columns
    if first is None:
        raise MappingError(f"{source}: empty file, expected a header line")
    if len(set(first)) != len(first):
        duplicates = sorted({name for name in first if first.count(name) > 1})
        raise MappingError(f"{source}: duplicate column names in header: {duplicates}")
    return tuple(first)


def _duckdb_message(exc: duckdb.Error) -> str:
    lines = str(exc).splitlines()
    kept: list[str] = []
    for line in lines:
        if line.startswith("Possible fixes") or (kept and not line.strip()):
            break
        kept.append(line)
    return " / ".join(kept)


# --------------------------------------------------------------------------- run


def surrogate_msisdn(key: str, prefix: str = "154") -> str:
    """The surrogate MSISDN the mapping derives from ``key`` (the SQL does the same)."""
    width = 11 - len(prefix)
    digest = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:15], 16)
    return prefix + str(digest % 10**width).zfill(width)


def _resolve_as_of(mapping: Mapping, as_of: date | None) -> date:
    day = as_of or mapping.as_of.default
    if day is None:
        raise MappingError("no as-of day: give one (--as-of) or set as_of.default in the mapping")
    return day


def _product_lines(mapping: Mapping) -> list[str]:
    return [
        "|".join(row.get(name) or "" for name in PRODUCT.field_names) + "\n"
        for row in mapping.extra_products
    ]


@dataclass
class _Outputs:
    paths: list[Path] = field(default_factory=list)

    def part(self, final: Path) -> Path:
        return final.with_name(f".{final.name}.part")

    def commit(self) -> None:
        for final in self.paths:
            os.replace(self.part(final), final)

    def discard(self) -> None:
        for final in self.paths:
            self.part(final).unlink(missing_ok=True)


def _source_columns(mapping: Mapping) -> set[str]:
    used: set[str] = set()
    for rule in mapping.fields.values():
        if isinstance(rule, ColumnRule):
            used.add(rule.column)
        elif isinstance(rule, MonthsBeforeAsOfRule):
            used.add(rule.months_before_as_of)
        elif isinstance(rule, SurrogateMsisdnRule):
            used.add(rule.surrogate_msisdn)
    return used


def apply_mapping(
    mapping: Mapping,
    source: Path,
    out_dir: Path,
    *,
    as_of: date | None = None,
    overwrite: bool = False,
) -> MappingReport:
    """Write the interface file(s) the mapping makes of ``source`` into ``out_dir``.

    ``as_of`` is the snapshot day (file names, ``months_before_as_of``); it falls back to the
    mapping's ``as_of.default``. Existing output files are refused unless ``overwrite``.
    Files appear whole or not at all (written aside, then renamed).
    """
    started = time.perf_counter()
    day = _resolve_as_of(mapping, as_of)
    if not source.is_file():
        raise MappingError(f"{source}: no such file")
    out_dir.mkdir(parents=True, exist_ok=True)
    main_file = out_dir / file_name_for(mapping.target, day, suffix=".txt")
    outputs = _Outputs([main_file])
    if mapping.extra_products:
        outputs.paths.append(out_dir / file_name_for(PRODUCT.name, day, suffix=".txt"))
    existing = [p.name for p in outputs.paths if p.exists()]
    if existing and not overwrite:
        raise MappingError(f"{out_dir}: already holds {', '.join(existing)} (use overwrite)")

    fmt = mapping.source
    with tempfile.TemporaryDirectory(prefix="steward-map-") as scratch:
        csv_path, physical_lines = _as_utf8(source, fmt.encoding, Path(scratch))
        names = _header(csv_path, fmt, source)
        missing = sorted(_source_columns(mapping) - set(names))
        if missing:
            raise MappingError(
                f"{source}: no column(s) {', '.join(missing)} (it has: {', '.join(names)})"
            )
        try:
            report = _run(mapping, source, csv_path, names, outputs, day, scratch)
        except duckdb.Error as exc:
            outputs.discard()
            raise MappingError(f"{source}: {_duckdb_message(exc)}") from None
        except BaseException:
            outputs.discard()
            raise
    outputs.commit()

    if physical_lines != report.rows_read + report.line_offset:
        report.warnings.append(
            f"the source has {physical_lines} lines for {report.rows_read} records"
            f"{' and a header' if fmt.header else ''} (quoted values spanning lines, or "
            "blank lines): output line k is source record k+"
            f"{report.line_offset}, which is not always physical line k+{report.line_offset}"
        )
    report.seconds = time.perf_counter() - started
    return report


def _run(
    mapping: Mapping,
    source: Path,
    csv_path: Path,
    names: tuple[str, ...],
    outputs: _Outputs,
    day: date,
    scratch: str,
) -> MappingReport:
    fmt = mapping.source
    p = _Params()
    read = (
        f"read_csv({p(str(csv_path))}, auto_detect = false, header = {p(fmt.header)}, "
        f"columns = {p(dict.fromkeys(names, 'VARCHAR'))}, delim = {p(fmt.delimiter)}, "
        f"quote = {p(fmt.quote)}, escape = {p(fmt.quote)}, comment = '', skip = 0, "
        "encoding = 'utf-8')"
    )
    columns = _column_expressions(mapping, p, day)
    selected = (
        [f"{c.expression} AS {_ident(c.name)}" for c in columns]
        + [
            f"COALESCE({c.unmapped}, false) AS {_ident('__unmapped__' + c.name)}"
            for c in columns
            if c.unmapped is not None
        ]
        + [f"{c.key} AS {_ident('__key__' + c.name)}" for c in columns if c.key is not None]
    )
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET temp_directory = $dir", {"dir": scratch})
        con.execute(
            f"CREATE TABLE mapped AS SELECT {', '.join(selected)} FROM {read} AS src", p.values
        )
        rows = _scalar(con, "SELECT count(*) FROM mapped")

        unmapped = _unmapped(con, columns)
        warnings = _value_warnings(con, columns)
        collisions = _collisions(con, columns)

        flat = [
            f"regexp_replace({_ident(c.name)}, '\\r\\n?|\\n', ' ', 'g')"
            if c.from_source
            else _ident(c.name)
            for c in columns
        ]
        con.execute(
            f"COPY (SELECT {', '.join(flat)} FROM mapped) TO $path "
            "(FORMAT csv, HEADER false, DELIMITER '|', QUOTE '', ESCAPE '', NULLSTR '')",
            {"path": str(outputs.part(outputs.paths[0]))},
        )
    if mapping.extra_products:
        outputs.part(outputs.paths[1]).write_text("".join(_product_lines(mapping)), "utf-8")
    return MappingReport(
        target=mapping.target,
        source=str(source),
        as_of=day,
        rows_read=rows,
        rows_written=rows,
        files_written=[str(path) for path in outputs.paths],
        line_offset=1 if fmt.header else 0,
        unmapped=unmapped,
        surrogate_collisions=collisions,
        warnings=warnings,
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _unmapped(con: duckdb.DuckDBPyConnection, columns: list[_Column]) -> dict[str, UnmappedValues]:
    flagged = [c.name for c in columns if c.unmapped is not None]
    if not flagged:
        return {}
    counts_sql = ", ".join(f"count_if({_ident('__unmapped__' + n)})" for n in flagged)
    row = con.execute(f"SELECT {counts_sql} FROM mapped").fetchone()
    counts = [int(x or 0) for x in row] if row else [0] * len(flagged)
    result: dict[str, UnmappedValues] = {}
    for name, count in zip(flagged, counts, strict=True):
        top: list[tuple[str, int]] = []
        if count:
            top = [
                (_shown(str(value)), int(n))
                for value, n in con.execute(
                    f"SELECT {_ident(name)}, count(*) AS n FROM mapped "
                    f"WHERE {_ident('__unmapped__' + name)} GROUP BY 1 "
                    f"ORDER BY n DESC, 1 LIMIT {TOP_UNMAPPED}"
                ).fetchall()
            ]
        result[name] = UnmappedValues(count, top)
    return result


def _shown(value: str) -> str:
    return value if len(value) <= MAX_SHOWN_VALUE else value[: MAX_SHOWN_VALUE - 1] + "…"


def _value_warnings(con: duckdb.DuckDBPyConnection, columns: list[_Column]) -> list[str]:
    texts = [_ident(c.name) for c in columns if c.from_source]
    if not texts:
        return []
    piped = " OR ".join(f"contains(coalesce({t}, ''), '|')" for t in texts)
    broken = " OR ".join(f"regexp_matches(coalesce({t}, ''), '[\\r\\n]')" for t in texts)
    row = con.execute(f"SELECT count_if({piped}), count_if({broken}) FROM mapped").fetchone()
    with_pipe, with_break = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    warnings: list[str] = []
    if with_pipe:
        warnings.append(
            f"{with_pipe} rows carry '|' inside a value; written as is, ingest sets those lines "
            "aside for their field count"
        )
    if with_break:
        warnings.append(f"{with_break} rows had line breaks inside a value, written as spaces")
    return warnings


def _collisions(con: duckdb.DuckDBPyConnection, columns: list[_Column]) -> int:
    """Numbers shared by different source keys (ingest's duplicate-key check catches them)."""
    total = 0
    for c in columns:
        if c.key is not None:
            total += _scalar(
                con,
                f"SELECT count(DISTINCT {_ident('__key__' + c.name)}) - count(DISTINCT "
                f"{_ident(c.name)}) FROM mapped",
            )
    return total
