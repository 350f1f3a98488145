"""Engines for the rule tests: an in-memory DuckDB, and this machine's PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import duckdb
import pytest
from sqlalchemy import Connection, create_engine

POSTGRES_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} unavailable: {exc}")
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()
        engine.dispose()
