"""An independent check of delivered files against the interface definitions.

Reads Parquet or ``|``-delimited text back with pyarrow and applies every rule a field or an
interface declares: columns and types, required, choices, pattern, length, range, unique key,
the file's date, and references between files. Returns problems instead of raising, so a
test can show all of them at once.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from steward.ingest.schemas import FieldType, Interface, parse_file_name

ARROW_TYPES = {
    FieldType.TEXT: (pa.string(), pa.large_string()),
    FieldType.INT: (pa.int64(), pa.int32()),
    FieldType.FLOAT: (pa.float64(),),
    FieldType.BOOL: (pa.bool_(),),
    FieldType.DATE: (pa.date32(),),
}


def _count(flags: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.sum(flags).as_py() or 0)


def read_interface_file(path: Path, encoding: str = "utf-8") -> tuple[pa.Table, list[str]]:
    """The file as a typed table (text converted the way a loader would) and format problems."""
    interface = parse_file_name(path).interface
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        problems = []
        if tuple(table.column_names) != interface.field_names:
            problems.append(f"{path.name}: columns {table.column_names}")
        for f in interface.fields:
            typ = table.schema.field(f.name).type
            ok = (
                pa.types.is_timestamp(typ)
                if f.type == FieldType.TIMESTAMP
                else (typ in ARROW_TYPES[f.type])
            )
            if not ok:
                problems.append(f"{path.name}: {f.name} has type {typ}")
        return table, problems
    return _read_text(path, interface, encoding)


def _read_text(path: Path, interface: Interface, encoding: str) -> tuple[pa.Table, list[str]]:
    raw = path.read_bytes().decode(encoding).encode("utf-8")
    names = list(interface.field_names)
    table = pa_csv.read_csv(
        io.BytesIO(raw),
        read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=pa_csv.ParseOptions(delimiter="|", quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    problems: list[str] = []
    columns = []
    for f in interface.fields:
        text = table.column(f.name)
        empty = pc.equal(text, "")
        nullable = pc.if_else(empty, pa.scalar(None, pa.string()), text)
        if f.type == FieldType.TEXT:
            columns.append(nullable)
            continue
        shape = {
            FieldType.INT: r"^-?[0-9]+$",
            FieldType.FLOAT: r"^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$",
            FieldType.BOOL: r"^[01]$",
            FieldType.DATE: r"^\d{4}-\d{2}-\d{2}$",
            FieldType.TIMESTAMP: r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        }[f.type]
        bad = _count(pc.invert(pc.match_substring_regex(nullable, shape)))
        if bad:
            problems.append(f"{path.name}: {f.name}: {bad} values not shaped like {f.type}")
            columns.append(pa.nulls(len(text)))
            continue
        if f.type == FieldType.INT:
            columns.append(nullable.cast(pa.int64()))
        elif f.type == FieldType.FLOAT:
            columns.append(nullable.cast(pa.float64()))
        elif f.type == FieldType.BOOL:
            columns.append(pc.equal(nullable, "1"))
        elif f.type == FieldType.DATE:
            columns.append(pc.strptime(nullable, "%Y-%m-%d", "s").cast(pa.date32()))
        else:
            columns.append(pc.strptime(nullable, "%Y-%m-%d %H:%M:%S", "s"))
    return pa.Table.from_arrays(columns, names=names), problems


def check_table(table: pa.Table, interface: Interface, day: date, label: str) -> list[str]:
    """Every field and key rule of the interface, applied to one file's rows."""
    problems: list[str] = []
    for f in interface.fields:
        column = table.column(f.name)
        present = column.drop_null()
        if f.required and column.null_count:
            problems.append(f"{label}: {f.name}: {column.null_count} NULLs in a required field")
        if len(present) == 0:
            continue
        if f.choices:
            bad = len(present) - _count(pc.is_in(present, pa.array(f.choices)))
            if bad:
                problems.append(f"{label}: {f.name}: {bad} values outside {f.choices}")
        if f.pattern:
            hits = _count(pc.match_substring_regex(present, f.pattern))
            if hits != len(present):
                problems.append(f"{label}: {f.name}: {len(present) - hits} values miss {f.pattern}")
        if f.max_length is not None:
            longest = pc.max(pc.utf8_length(present)).as_py()
            if longest > f.max_length:
                problems.append(f"{label}: {f.name}: length {longest} > {f.max_length}")
        if f.min is not None and pc.min(present).as_py() < f.min:
            problems.append(f"{label}: {f.name}: below {f.min}")
        if f.max is not None and pc.max(present).as_py() > f.max:
            problems.append(f"{label}: {f.name}: above {f.max}")
    keys = table.select(list(interface.key))
    distinct = keys.group_by(list(interface.key)).aggregate([]).num_rows
    if distinct != table.num_rows:
        problems.append(f"{label}: {table.num_rows - distinct} duplicate keys {interface.key}")
    if interface.date_field:
        days = pc.unique(table.column(interface.date_field).cast(pa.date32())).to_pylist()
        if days and days != [day]:
            problems.append(f"{label}: {interface.date_field} has days {days[:5]}, not {day}")
    return problems


def validate_folder(folder: Path, encoding: str = "utf-8") -> tuple[dict[str, int], list[str]]:
    """Check every interface file in the folder; return rows per interface and problems."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    problems: list[str] = []
    tables: dict[Path, tuple[Interface, pa.Table]] = {}
    for path in files:
        name = parse_file_name(path)
        table, read_problems = read_interface_file(path, encoding)
        problems += read_problems
        problems += check_table(table, name.interface, name.day, path.name)
        tables[path] = (name.interface, table)
    keys = {
        target: pa.chunked_array(
            [t.column(i.key[0]) for i, t in tables.values() if i.name == target], pa.string()
        ).combine_chunks()
        for target in ("profile", "product")
    }
    rows: dict[str, int] = {}
    for path, (interface, table) in tables.items():
        rows[interface.name] = rows.get(interface.name, 0) + table.num_rows
        for column, target in interface.references.items():
            values = table.column(column).drop_null()
            missing = len(values) - _count(pc.is_in(values, keys[target]))
            if missing:
                problems.append(f"{path.name}: {missing} {column} values not in {target}")
    return rows, problems
