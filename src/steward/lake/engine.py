"""The analytics engine: a small interface with one implementation per engine (STYLE.md §6).

Callers speak SQL in the engine's dialect (built with SQLGlot where it must be portable) and
hand over Arrow tables; they never import an engine's own module. DuckDB is the default; a
Spark engine implements the same four methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa


class AnalyticsEngine(Protocol):
    """What Steward asks of an analytics engine."""

    dialect: str

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run ``sql`` and return its result as Arrow."""
        ...

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement for its effect (create a view, copy to a file)."""
        ...

    def register(self, name: str, data: pa.Table) -> None:
        """Make an Arrow table queryable under ``name``."""
        ...

    def scan_parquet(self, paths: Sequence[Path], *, row_number: bool = False) -> str:
        """A FROM-clause expression that reads these Parquet files as one table.

        With ``row_number`` it adds ``file_row_number``, the 0-based row within each file.
        """
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """The embedded engine: DuckDB in process, bounded memory, spills to the home directory."""

    dialect = "duckdb"

    def __init__(self, *, memory_limit: str = "4GB", temp_directory: Path | None = None) -> None:
        self.connection = duckdb.connect(":memory:")
        self.connection.execute(f"SET memory_limit = '{_safe_setting(memory_limit)}'")
        if temp_directory is not None:
            temp_directory.mkdir(parents=True, exist_ok=True)
            self.connection.execute(
                f"SET temp_directory = '{_quote_literal(temp_directory.as_posix())}'"
            )

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.connection.sql(sql, params=params).to_arrow_table()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.connection.execute(sql, params)

    def register(self, name: str, data: pa.Table) -> None:
        self.connection.register(name, data)

    def scan_parquet(self, paths: Sequence[Path], *, row_number: bool = False) -> str:
        files = ", ".join(f"'{_quote_literal(p.as_posix())}'" for p in paths)
        options = ", file_row_number = true" if row_number else ""
        return f"read_parquet([{files}], union_by_name = true, hive_partitioning = false{options})"

    def close(self) -> None:
        self.connection.close()


ENGINES: dict[str, type[DuckDBEngine]] = {"duckdb": DuckDBEngine}


def make_engine(
    name: str, *, memory_limit: str = "4GB", temp_directory: Path | None = None
) -> AnalyticsEngine:
    """The engine a settings string names; unknown names are refused with the known ones."""
    try:
        engine_type = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown analytics engine {name!r}; known: {sorted(ENGINES)}") from None
    return engine_type(memory_limit=memory_limit, temp_directory=temp_directory)


def _quote_literal(text: str) -> str:
    return text.replace("'", "''")


def _safe_setting(text: str) -> str:
    if not text.replace(".", "").isalnum():
        raise ValueError(f"bad engine setting {text!r}")
    return text
