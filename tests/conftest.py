"""Real databases for every test: SQLite always, PostgreSQL (this machine's) as well.

Each database gets its schema from the migrations once per session; each test runs in a
transaction rolled back at its end. In CI a missing PostgreSQL fails the run; elsewhere the
PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from steward import db
from steward.lake.engine import DuckDBEngine
from steward.lake.service import Lake
from tests.postgres import POSTGRES_URL, unavailable

# The web app fixture (`api`: one user of every role) lives in its own module.
pytest_plugins = ["tests.web_fixtures"]


def _sqlite_engine(folder: Path) -> Engine:
    return db.make_engine(f"sqlite:///{(folder / 'steward.db').as_posix()}")


def _postgres_engine() -> Iterator[Engine]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        unavailable(exc)
    engine = db.make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of each kind, shared by the tests of a session."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path_factory.mktemp("sqlite"))
        db.migrate(engine)
        yield engine
        engine.dispose()
    else:
        for engine in _postgres_engine():
            db.migrate(engine)
            yield engine


@pytest.fixture
def session(database: Engine) -> Iterator[Session]:
    """A session whose work is rolled back when the test ends, commits included."""
    with database.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        outer.rollback()


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    engine = DuckDBEngine(memory_limit="1GB", temp_directory=tmp_path / "duck-tmp")
    yield Lake(tmp_path / "lake", engine)
    engine.close()
