"""Writing interface files as operators deliver them: Parquet, or headerless ``|`` text.

Columns, order and types come from ``steward.ingest.schemas``, the same definitions the
platform validates against. A file is written one chunk at a time (one Parquet row group per
chunk), so memory does not grow with the number of subscribers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from steward.ingest.schemas import FieldType, Interface, file_name_for

ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.TEXT: pa.string(),
    FieldType.INT: pa.int64(),
    FieldType.FLOAT: pa.float64(),
    FieldType.BOOL: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("s"),
}
TEXT_ENCODINGS = ("utf-8", "gbk")
PARQUET_COMPRESSION = "zstd"
# A chunk's 100 k numbers fit one dictionary page, so the msisdn column stays dictionary-coded.
DICTIONARY_PAGE_LIMIT = 4 << 20


def arrow_schema(interface: Interface) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, ARROW_TYPES[f.type], nullable=not f.required) for f in interface.fields]
    )


def coded(dictionary: pa.Array, codes: npt.NDArray[np.integer[Any]]) -> pa.DictionaryArray:
    """Strings by code without materialising them (negative code: NULL).

    Parquet writes a dictionary column as is, which is both cheaper to build and to encode
    than the same strings taken one by one; readers see an ordinary string column.
    """
    indices = pa.array(codes.astype(np.int32), mask=codes < 0 if (codes < 0).any() else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def table_of(interface: Interface, columns: Mapping[str, Any]) -> pa.Table:
    """Assemble columns (Arrow or NumPy arrays) in the interface's field order and types.

    A dictionary-encoded column is kept as such when its values have the field's type.
    """
    fields = []
    arrays = []
    for f in arrow_schema(interface):
        values = columns[f.name]
        if isinstance(values, np.ndarray):
            values = pa.array(values, type=f.type)
        elif pa.types.is_dictionary(values.type):
            if values.type.value_type != f.type:
                raise TypeError(f"{interface.name}.{f.name}: {values.type} is not {f.type}")
        elif values.type != f.type:
            values = values.cast(f.type)
        fields.append(pa.field(f.name, values.type, nullable=f.nullable))
        arrays.append(values)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class InterfaceFile:
    """One delivered file, appended chunk by chunk."""

    def __init__(
        self, folder: Path, interface: Interface, day: date, text_encoding: str | None
    ) -> None:
        if text_encoding is not None and text_encoding not in TEXT_ENCODINGS:
            raise ValueError(f"text encoding must be one of {TEXT_ENCODINGS}, not {text_encoding}")
        self.interface = interface
        self.encoding = text_encoding
        suffix = ".parquet" if text_encoding is None else ".txt"
        self.path = folder / file_name_for(interface.name, day, suffix=suffix)
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._text: BinaryIO | None = None
        if text_encoding is not None:
            self._text = self.path.open("wb")

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.rows += table.num_rows
        if self._text is not None:
            self._text.write(_delimited(table, self.encoding or "utf-8"))
            return
        if self._parquet is None:
            self._parquet = _parquet_writer(self.path, table.schema)
        elif table.schema != self._parquet.schema:
            table = table.cast(self._parquet.schema)
        self._parquet.write_table(table, row_group_size=table.num_rows)

    def close(self) -> None:
        if self._text is None and self._parquet is None:
            self._parquet = _parquet_writer(self.path, arrow_schema(self.interface))
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.close()


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """Dictionary pages for coded columns only, statistics for non-text columns only: trying
    to dictionary-encode timestamps and taking min/max of strings cost more than they give.
    Without the stored Arrow schema, readers see dictionary columns as plain strings."""
    coded_columns = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    ranged = [
        f.name
        for f in schema
        if not pa.types.is_dictionary(f.type) and not pa.types.is_string(f.type)
    ]
    return pq.ParquetWriter(
        path,
        schema,
        compression=PARQUET_COMPRESSION,
        store_schema=False,
        use_dictionary=coded_columns or False,
        write_statistics=ranged or False,
        dictionary_pagesize_limit=DICTIONARY_PAGE_LIMIT,
    )


def _delimited(table: pa.Table, encoding: str) -> bytes:
    """Operator text layout: no header, ``|`` between fields, bools 1/0, NULL as empty."""
    columns = [
        column.cast(pa.int8())
        if column.type == pa.bool_()
        else column.cast(column.type.value_type)
        if pa.types.is_dictionary(column.type)
        else column
        for column in table.columns
    ]
    plain = pa.Table.from_arrays(columns, names=table.column_names)
    buffer = io.BytesIO()
    options = pa_csv.WriteOptions(include_header=False, delimiter="|", quoting_style="none")
    pa_csv.write_csv(plain, buffer, write_options=options)
    raw = buffer.getvalue()
    return raw if encoding == "utf-8" else raw.decode("utf-8").encode(encoding)


class Sink:
    """Writes on one background thread, in submission order, so generation of the next chunk
    overlaps encoding of the last (Arrow releases the GIL); at most ``depth`` writes wait."""

    def __init__(self, depth: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-writer")
        self._pending: list[Future[None]] = []
        self._depth = depth

    def submit(self, action: Callable[[], None]) -> None:
        self._pending.append(self._pool.submit(action))
        while len(self._pending) > self._depth:
            self._pending.pop(0).result()

    def drain(self) -> None:
        while self._pending:
            self._pending.pop(0).result()

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abandon(self) -> None:
        """Stop after a failure elsewhere: drop queued writes, keep the original error."""
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
