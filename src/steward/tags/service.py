"""The tag library: load the catalogue, refresh the profile snapshot, describe a tag.

A refresh computes every tag for every subscriber as of a date in one engine query and
publishes the result as the lake table ``profile_snapshot`` (partition = the as-of date)
through the lake's catalogue: readers see the old snapshot or the new, never a half.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.lake.models import LakePartition
from steward.lake.service import Lake
from steward.tags import batch
from steward.tags.schemas import TagCatalogue, TagDefinition, TagType
from steward.tags.sources import Source, SourceKind

CATALOGUE = Path(__file__).with_name("catalogue.yaml")
SNAPSHOT_TABLE = "profile_snapshot"


class TagError(ValueError):
    """A tag request that cannot be served (unknown tag, no snapshot, no profile)."""


def load_catalogue(path: Path = CATALOGUE) -> TagCatalogue:
    """Read and check the catalogue; errors name the tag and the reason."""
    try:
        catalogue = TagCatalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise batch.CatalogueError(f"{path.name}: {exc}") from None
    batch.check(catalogue)
    return catalogue


def rule_types(catalogue: TagCatalogue) -> dict[str, str]:
    """The names and types a rule may use: every tag, plus ``msisdn``."""
    return {"msisdn": "category"} | {t.name: t.type.value for t in catalogue.tags}


@dataclass(frozen=True)
class RefreshReport:
    as_of: date
    subscribers: int
    tags: int
    seconds: float
    sources: dict[str, str]  # source/window -> days read

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "subscribers": self.subscribers,
            "tags": self.tags,
            "seconds": round(self.seconds, 3),
            "sources": self.sources,
        }


class _LakeResolver:
    """Finds the partitions each (source, window) reads for one as-of date."""

    def __init__(self, session: Session, lake: Lake, as_of: date) -> None:
        self.session, self.lake, self.as_of = session, lake, as_of
        self.read: dict[str, str] = {}

    def __call__(self, source: Source, tag: TagDefinition) -> str | None:
        first, last = self._days(source, tag)
        if first is None or last is None:
            return None
        files = self.lake.files(self.session, source.table, days=(first, last))
        label = f"{source.name}/{tag.window}"
        self.read[label] = f"{first}..{last}" if files else "none"
        if not files:
            return None
        relation = self.lake.engine.scan_parquet(files)
        if source.join is None:
            return relation
        return self._joined(relation, source)

    def _days(self, source: Source, tag: TagDefinition) -> tuple[date | None, date | None]:
        n = tag.window_length
        if source.kind is SourceKind.SNAPSHOT:
            day = self.lake.latest_day(self.session, source.table, self.as_of)
            return day, day
        if source.kind is SourceKind.DAILY:
            return self.as_of - timedelta(days=n - 1), self.as_of
        month = self.as_of.replace(day=1)
        return _months_before(month, n), month - timedelta(days=1)

    def _joined(self, relation: str, source: Source) -> str | None:
        assert source.join is not None
        table, key, columns = source.join
        day = self.lake.latest_day(self.session, table, self.as_of)
        files = self.lake.files(self.session, table, days=(day, day)) if day else []
        if not files:
            return None
        added = ", ".join(f'j."{c}"' for c in columns)
        return (
            f"(SELECT s.*, {added} FROM {relation} s "
            f"JOIN {self.lake.engine.scan_parquet(files)} j USING ({key}))"
        )


def _months_before(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def refresh(session: Session, lake: Lake, catalogue: TagCatalogue, as_of: date) -> RefreshReport:
    """Compute and publish the profile snapshot as of ``as_of`` (the caller commits)."""
    started = time.perf_counter()
    resolve = _LakeResolver(session, lake, as_of)
    if lake.latest_day(session, "profile", as_of) is None:
        raise TagError(f"no profile snapshot on or before {as_of}: load a profile file first")
    sql = batch.snapshot_sql(catalogue, resolve, as_of, dialect=lake.engine.dialect)
    rows = lake.write(session, SNAPSHOT_TABLE, as_of, "0", sql)
    return RefreshReport(
        as_of,
        rows,
        len(catalogue.tags),
        time.perf_counter() - started,
        dict(sorted(resolve.read.items())),
    )


def latest_snapshot(
    session: Session, lake: Lake, on_or_before: date | None = None
) -> tuple[date, str] | None:
    """(as-of date, FROM-expression) of the newest profile snapshot."""
    day = lake.latest_day(session, SNAPSHOT_TABLE, on_or_before or date.max)
    if day is None:
        return None
    return day, lake.engine.scan_parquet(lake.files(session, SNAPSHOT_TABLE, days=(day, day)))


def snapshot_dates(session: Session) -> list[date]:
    query = select(LakePartition.part_date).where(LakePartition.table_name == SNAPSHOT_TABLE)
    return sorted(session.scalars(query))


def distribution(session: Session, lake: Lake, tag: TagDefinition) -> dict[str, Any]:
    """How the tag's values fall in the latest snapshot: quantiles, or the top values."""
    latest = latest_snapshot(session, lake)
    if latest is None:
        return {"as_of": None}
    day, relation = latest
    column = f'"{tag.name}"'
    counts = lake.engine.query(
        f"SELECT count(*) AS subscribers, count({column}) AS with_value FROM {relation}"
    ).to_pylist()[0]
    result: dict[str, Any] = {"as_of": day.isoformat(), **counts}
    if tag.type in (TagType.INT, TagType.FLOAT, TagType.DATE):
        stats = lake.engine.query(
            f"SELECT min({column}) AS min, quantile_disc({column}, 0.25) AS p25, "
            f"median({column}) AS median, quantile_disc({column}, 0.75) AS p75, "
            f"max({column}) AS max FROM {relation}"
        ).to_pylist()[0]
        if tag.type is not TagType.DATE:
            stats["mean"] = (
                lake.engine.query(f"SELECT avg({column}) AS mean FROM {relation}")
                .column("mean")[0]
                .as_py()
            )
        result["stats"] = {k: _plain(v) for k, v in stats.items()}
    else:
        top = lake.engine.query(
            f"SELECT {column} AS value, count(*) AS subscribers FROM {relation} "
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20"
        ).to_pylist()
        result["top"] = [
            {"value": _plain(r["value"]), "subscribers": r["subscribers"]} for r in top
        ]
    return result


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
