"""Engines for the rule tests: an in-memory DuckDB, and this machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from sqlalchemy import Connection, create_engine

from tests.postgres import POSTGRES_URL, unavailable


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Connection]:
    """One PostgreSQL connection, so the tests' TEMP tables live until the module ends."""
    engine = create_engine(POSTGRES_URL)
    try:
        connection = engine.connect()
    except Exception as exc:
        engine.dispose()
        unavailable(exc)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()
        engine.dispose()
