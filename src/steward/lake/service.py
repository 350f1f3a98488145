"""The lake: Parquet partitions per table and date, made visible only through the catalogue.

A writer stages files under ``<table>/date=<day>/part=<key>/<load>.parquet``; nothing reads a
staged file until ``publish`` points the catalogue at it, inside the caller's transaction. So a
killed load leaves only unreferenced files, which ``vacuum`` removes later, and a re-load of the
same part replaces the catalogue row instead of adding rows.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.db import utcnow
from steward.lake.engine import AnalyticsEngine
from steward.lake.models import LakePartition

ENUM_MAX_VALUES = 1024


@dataclass(frozen=True)
class StagedPartition:
    """A written but not yet visible partition part."""

    table: str
    day: date
    part_key: str
    path: Path
    row_count: int
    content_sha256: str


@dataclass(frozen=True)
class TableSummary:
    table: str
    partitions: int
    rows: int
    first_day: date
    last_day: date

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "partitions": self.partitions,
            "rows": self.rows,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
        }


class Lake:
    """Parquet partitions under ``root`` read through an analytics engine."""

    def __init__(self, root: Path, engine: AnalyticsEngine, *, cache_tables: bool = False) -> None:
        self.root = root
        self.engine = engine
        # A long-running process (the API) keeps hot tables in engine memory; a one-shot
        # command reads Parquet directly rather than pay for loading what it reads once.
        self.cache_tables = cache_tables
        self._cached: dict[str, str] = {}

    def hot(self, relation: str, *, keep_text: tuple[str, ...] = ()) -> str:
        """``relation`` held in engine memory when caching is on (keyed by its files).

        Low-cardinality text columns (city, brand, plan …) become ENUMs whose values are in
        sorted order, so comparisons keep text semantics but run on small integers.
        """
        if not self.cache_tables:
            return relation
        if relation not in self._cached:
            name = f"hot_{hashlib.sha256(relation.encode()).hexdigest()[:16]}"
            self.engine.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS "
                f"SELECT {self._enum_columns(relation, name, keep_text)} FROM {relation}"
            )
            # Keep memory bounded: only the newest relations stay (snapshots are replaced).
            while len(self._cached) >= 2:
                stale = self._cached.pop(next(iter(self._cached)))
                self.engine.execute(f"DROP TABLE IF EXISTS {stale}")
            self._cached[relation] = name
        return self._cached[relation]

    def _enum_columns(self, relation: str, prefix: str, keep_text: tuple[str, ...]) -> str:
        described = self.engine.query(f"DESCRIBE SELECT * FROM {relation}").to_pylist()
        text = [
            r["column_name"]
            for r in described
            if r["column_type"] == "VARCHAR" and r["column_name"] not in keep_text
        ]
        if not text:
            return "*"
        distinct = self.engine.query(
            "SELECT "
            + ", ".join(f'approx_count_distinct("{c}") AS "{c}"' for c in text)
            + f" FROM {relation}"
        ).to_pylist()[0]
        casts: dict[str, str] = {}
        for column in (c for c in text if distinct[c] <= ENUM_MAX_VALUES):
            values = (
                self.engine.query(
                    f'SELECT DISTINCT "{column}" AS v FROM {relation} WHERE "{column}" IS NOT NULL '
                    "ORDER BY 1"
                )
                .column("v")
                .to_pylist()
            )
            if not values or len(values) > ENUM_MAX_VALUES:
                continue
            enum = f"{prefix}_{len(casts)}"
            members = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
            self.engine.execute(f"CREATE TYPE {enum} AS ENUM ({members})")
            casts[column] = f'CAST("{column}" AS {enum}) AS "{column}"'
        return ", ".join(casts.get(r["column_name"], f'"{r["column_name"]}"') for r in described)

    def stage_path(self, table: str, day: date, part_key: str, load_id: str) -> Path:
        """Where a load writes a part before publishing it; the folder exists on return."""
        folder = self.root / table / f"date={day.isoformat()}" / f"part={part_key}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{load_id}.parquet"

    def publish(self, session: Session, staged: Iterable[StagedPartition], load_id: str) -> None:
        """Point the catalogue at ``staged``; visible to readers when the caller commits."""
        for part in staged:
            row = session.get(LakePartition, (part.table, part.day, part.part_key))
            if row is None:
                row = LakePartition(
                    table_name=part.table, part_date=part.day, part_key=part.part_key
                )
                session.add(row)
            row.path = self._relative(part.path)
            row.row_count = part.row_count
            row.content_sha256 = part.content_sha256
            row.load_id = load_id
            row.published_at = utcnow()
        session.flush()

    def write(self, session: Session, table: str, day: date, part_key: str, query: str) -> int:
        """Write a query's result as a partition part and publish it (caller commits).

        For derived tables (snapshots, memberships) produced by the engine itself; returns
        the number of rows written.
        """
        load_id = str(uuid.uuid4())
        target = self.stage_path(table, day, part_key, load_id)
        literal = target.as_posix().replace("'", "''")
        self.engine.execute(f"COPY ({query}) TO '{literal}' (FORMAT parquet, COMPRESSION zstd)")
        fsync_file(target)
        rows = (
            self.engine.query(f"SELECT count(*) AS n FROM {self.engine.scan_parquet([target])}")
            .column("n")[0]
            .as_py()
        )
        digest = _sha256(target)
        self.publish(
            session, [StagedPartition(table, day, part_key, target, int(rows), digest)], load_id
        )
        return int(rows)

    def current_part(
        self, session: Session, table: str, day: date, part_key: str
    ) -> LakePartition | None:
        return session.get(LakePartition, (table, day, part_key))

    def files(
        self, session: Session, table: str, *, days: tuple[date, date] | None = None
    ) -> list[Path]:
        """The published files of ``table``, optionally only those of days in ``days``."""
        query = select(LakePartition.path).where(LakePartition.table_name == table)
        if days is not None:
            query = query.where(LakePartition.part_date.between(*days))
        paths = session.scalars(query.order_by(LakePartition.part_date, LakePartition.part_key))
        return [self.root / p for p in paths]

    def latest_day(self, session: Session, table: str, on_or_before: date) -> date | None:
        """The newest published day of ``table`` not after ``on_or_before``."""
        return session.scalar(
            select(func.max(LakePartition.part_date)).where(
                LakePartition.table_name == table, LakePartition.part_date <= on_or_before
            )
        )

    def relation(self, session: Session, table: str) -> str | None:
        """A FROM-clause expression over the published table, or None if it has no data."""
        files = self.files(session, table)
        return self.engine.scan_parquet(files) if files else None

    def read(self, session: Session, table: str) -> pa.Table:
        """The whole published table as Arrow (small tables and tests; big ones use SQL)."""
        relation = self.relation(session, table)
        if relation is None:
            return pa.table({})
        return self.engine.query(f"SELECT * FROM {relation}")

    def create_views(self, session: Session) -> list[str]:
        """Register one engine view per published table, named as the table."""
        names = list(session.scalars(select(LakePartition.table_name).distinct()))
        for name in names:
            relation = self.relation(session, name)
            self.engine.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM {relation}')
        return sorted(names)

    def summary(self, session: Session) -> list[TableSummary]:
        rows = session.execute(
            select(
                LakePartition.table_name,
                func.count(),
                func.sum(LakePartition.row_count),
                func.min(LakePartition.part_date),
                func.max(LakePartition.part_date),
            )
            .group_by(LakePartition.table_name)
            .order_by(LakePartition.table_name)
        )
        return [
            TableSummary(table, int(parts), int(total or 0), first, last)
            for table, parts, total, first, last in rows
        ]

    def vacuum(self, session: Session, *, grace_s: float) -> list[Path]:
        """Delete files no catalogue row points at and older than ``grace_s`` seconds.

        The grace keeps files a running load has staged but not yet published, and files a
        reader resolved just before a re-load replaced them.
        """
        referenced = {self.root / p for p in session.scalars(select(LakePartition.path))}
        cutoff = time.time() - grace_s
        removed: list[Path] = []
        for path in sorted(self.root.rglob("*.parquet")):
            if path not in referenced and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        self._remove_empty_folders()
        return removed

    def _remove_empty_folders(self) -> None:
        for folder in sorted(self.root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def fsync_file(path: Path) -> None:
    """Flush a staged file to disk before the catalogue may point at it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
