"""The schema comes from the migrations, on SQLite and PostgreSQL alike, both ways."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

import steward
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


def test_the_models_say_what_the_migrations_made(database: Engine) -> None:
    """Every table, column, index and constraint a model declares is the migrations' own,
    and the reverse: a model that drifts from the schema fails here, not in production."""
    import_every_model()
    with database.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        drift = [d for d in compare_metadata(context, db.Base.metadata) if not _ours(d)]
    assert drift == [], drift


def import_every_model() -> None:
    """The models register on ``db.Base`` when imported: import every domain's."""
    for module in pkgutil.walk_packages(steward.__path__, "steward."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)


def _ours(difference: object) -> bool:
    """Alembic's own bookkeeping table is the migrations' and no model's."""
    return "alembic_version" in repr(difference)
