"""The schema comes from the migrations, on SQLite and PostgreSQL alike, both ways."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from steward import db
from steward.settings import Settings


def test_migrations_create_every_table(database: Engine) -> None:
    tables = set(inspect(database).get_table_names())
    assert {"lake_partition", "ingest_load", "ingest_file", "alembic_version"} <= tables


def test_migrations_go_down_and_up_again(database: Engine) -> None:
    db.migrate_down(database, "base")
    assert set(inspect(database).get_table_names()) <= {"alembic_version"}
    db.migrate(database)
    assert "lake_partition" in inspect(database).get_table_names()


def test_settings_default_to_sqlite_and_lake_in_home(tmp_path: object) -> None:
    settings = Settings(home="somewhere")
    assert settings.database_url == "sqlite:///somewhere/steward.db"
    assert settings.lake.as_posix() == "somewhere/lake"


def test_settings_name_the_postgres_driver() -> None:
    settings = Settings(database_url="postgresql://u@h:5432/d")
    assert settings.database_url == "postgresql+psycopg://u@h:5432/d"
