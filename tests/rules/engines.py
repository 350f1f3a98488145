"""Run a rule the three ways it runs in production: Python online, DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, text

from steward.rules import Rule, TagType, parse_rule, to_python, to_sql
from steward.rules.to_sql import SQL_TYPES

ARROW_TYPES = {
    TagType.BOOL: pa.bool_(),
    TagType.INT: pa.int64(),
    TagType.FLOAT: pa.float64(),
    TagType.CATEGORY: pa.string(),
    TagType.DATE: pa.date32(),
}
POSTGRES_TYPES = {**SQL_TYPES, TagType.FLOAT: "DOUBLE PRECISION", TagType.CATEGORY: "TEXT"}

Profile = Mapping[str, Any]


def profiles_table(catalogue: Mapping[str, TagType], profiles: Sequence[Profile]) -> pa.Table:
    columns = {"row__": pa.array(range(len(profiles)), pa.int64())}
    for name, kind in catalogue.items():
        columns[name] = pa.array([p.get(name) for p in profiles], ARROW_TYPES[kind])
    return pa.table(columns)


def run_duckdb(
    connection: duckdb.DuckDBPyConnection,
    rule: Rule,
    table: pa.Table,
    *,
    as_of: date | None = None,
) -> list[bool | None]:
    """The rule's SQL over every row of ``table``, in row order."""
    connection.register("profiles", table)
    try:
        sql = f"SELECT ({to_sql(rule, 'duckdb', as_of=as_of)}) AS r FROM profiles ORDER BY row__"
        return [row[0] for row in connection.execute(sql).fetchall()]
    finally:
        connection.unregister("profiles")


def run_duckdb_many(
    connection: duckdb.DuckDBPyConnection, rules: Sequence[Rule], table: pa.Table
) -> list[list[bool | None]]:
    """Many rules over ``table`` in one query: one result list per rule."""
    connection.register("profiles", table)
    try:
        columns = ", ".join(f"({to_sql(rule)}) AS r{i}" for i, rule in enumerate(rules))
        rows = connection.execute(f"SELECT {columns} FROM profiles ORDER BY row__").fetchall()
        return [list(column) for column in zip(*rows, strict=True)]
    finally:
        connection.unregister("profiles")


def run_python(rule: Rule, profiles: Sequence[Profile], *, as_of: date | None = None) -> list[Any]:
    evaluate = to_python(rule, as_of=as_of)
    return [evaluate(profile) for profile in profiles]


def create_postgres_profiles(
    connection: Connection,
    catalogue: Mapping[str, TagType],
    profiles: Sequence[Profile],
    *,
    table: str = "profiles",
    text_collation: str | None = None,
) -> None:
    """A temporary table ``table`` holding ``profiles``, one column per tag.

    ``text_collation`` gives the text columns a locale's order, as a production database may.
    """
    collate = f' COLLATE "{text_collation}"' if text_collation else ""
    columns = ", ".join(
        f'"{name}" {POSTGRES_TYPES[kind]}{collate if kind is TagType.CATEGORY else ""}'
        for name, kind in catalogue.items()
    )
    connection.execute(text(f"CREATE TEMP TABLE {table} (row__ BIGINT, {columns})"))
    names = ", ".join(f'"{name}"' for name in catalogue)
    params = ", ".join(f":p{i}" for i in range(len(catalogue)))
    insert = text(f"INSERT INTO {table} (row__, {names}) VALUES (:row, {params})")
    rows = [
        {"row": index, **{f"p{i}": p.get(name) for i, name in enumerate(catalogue)}}
        for index, p in enumerate(profiles)
    ]
    connection.execute(insert, rows)


def run_postgres(
    connection: Connection, rule: Rule, *, table: str = "profiles", as_of: date | None = None
) -> list[bool | None]:
    """The rule's SQL over the table, in row order.

    The SQL goes to the driver as it is: SQLAlchemy's ``text()`` would read ``:name`` and
    psycopg ``%`` inside the rule's text literals as parameters. It runs in a savepoint, so a
    rule the engine refuses leaves the connection's transaction (and its TEMP tables) usable
    for the next one: an aborted transaction would fail every later query, and a Hypothesis
    replay of the first failure with it (a FlakyFailure instead of the engine's error).
    """
    sql = f"SELECT ({to_sql(rule, 'postgres', as_of=as_of)}) AS r FROM {table} ORDER BY row__"
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("SAVEPOINT steward_rule")
    try:
        rows = raw.execute(sql).fetchall()
    except BaseException:
        raw.execute("ROLLBACK TO SAVEPOINT steward_rule")
        raise
    raw.execute("RELEASE SAVEPOINT steward_rule")
    return [row[0] for row in rows]


def run_both(
    connection: duckdb.DuckDBPyConnection,
    text_: str,
    catalogue: Mapping[str, TagType],
    profile: Profile,
    *,
    as_of: date | None = None,
) -> tuple[Any, Any]:
    """(Python's answer, DuckDB's answer) for one rule text and one profile."""
    rule = parse_rule(text_, catalogue)
    table = profiles_table(catalogue, [profile])
    return run_python(rule, [profile], as_of=as_of)[0], run_duckdb(
        connection, rule, table, as_of=as_of
    )[0]
