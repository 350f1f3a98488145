"""The tag compiler: the catalogue becomes one set-based query, the profile snapshot.

Tags that share a source and a window are computed in one pass (one GROUP BY over the
partitions of that window); the groups are joined to the subscriber base (the profile
snapshot); derived tags are computed last, level by level. Expressions are parsed with SQLGlot,
checked against the source's columns, and generated in the engine's dialect, so the same
catalogue can run on another engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import sqlglot
from sqlglot import exp

from steward.tags.schemas import SQL_TYPES, TagCatalogue, TagDefinition
from steward.tags.sources import SOURCES, Source, SourceKind

AS_OF = "as_of"
KEY = "msisdn"

# (source, window) -> a FROM-clause expression over its partitions, or None if it has none.
RelationResolver = Callable[[Source, TagDefinition], str | None]


class CatalogueError(ValueError):
    """A tag that cannot be compiled; the message names the tag and the reason."""


@dataclass(frozen=True)
class TagGroup:
    source: Source
    window: str
    tags: tuple[TagDefinition, ...]

    @property
    def alias(self) -> str:
        return f"g_{self.source.name}_{self.window}"


def groups(catalogue: TagCatalogue) -> list[TagGroup]:
    """Tags in one pass each, in catalogue order; derived tags are not in any group.

    A daily source is read once for all its windows: the group scans the longest window and
    each shorter window's aggregates take a FILTER on the day (as an analyst would write it by
    hand). Other sources group by (source, window).
    """
    found: dict[tuple[str, str], list[TagDefinition]] = {}
    for tag in catalogue.tags:
        source = SOURCES[tag.source]
        if source.kind is SourceKind.DERIVED:
            continue
        window = "days" if source.kind is SourceKind.DAILY else tag.window
        found.setdefault((tag.source, window), []).append(tag)
    result = []
    for (name, window), tags in found.items():
        if window == "days":
            window = max(tags, key=lambda t: t.window_length).window
        result.append(TagGroup(SOURCES[name], window, tuple(tags)))
    return result


def parse_expression(tag: TagDefinition, allowed: Mapping[str, object]) -> exp.Expr:
    """The tag's expression as a checked tree: known columns only, no subqueries."""
    try:
        tree: exp.Expr = sqlglot.parse_one(tag.expression, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise CatalogueError(f"tag {tag.name}: cannot parse {tag.expression!r}: {exc}") from None
    if tree.find(exp.Select, exp.Subquery, exp.Star) and not _is_count_star(tree):
        raise CatalogueError(f"tag {tag.name}: subqueries and * are not allowed")
    for column in tree.find_all(exp.Column):
        if column.table:
            raise CatalogueError(f"tag {tag.name}: write {column.name}, not {column.sql()}")
        name = column.name.lower()
        if name != AS_OF and name not in allowed:
            raise CatalogueError(
                f"tag {tag.name}: {column.name!r} is not a column of {tag.source} "
                f"(known: {', '.join(sorted(allowed))})"
            )
    aggregates = tree.find(exp.AggFunc) is not None
    source = SOURCES[tag.source]
    if source.many_rows and not aggregates:
        raise CatalogueError(
            f"tag {tag.name}: {tag.source} has many rows a subscriber; "
            "the expression must aggregate them"
        )
    if not source.many_rows and aggregates:
        raise CatalogueError(
            f"tag {tag.name}: {tag.source} has one row a subscriber; "
            "the expression must not aggregate"
        )
    return tree


def _is_count_star(tree: exp.Expr) -> bool:
    stars = list(tree.find_all(exp.Star))
    return (
        bool(stars)
        and all(isinstance(s.parent, exp.Count) for s in stars)
        and tree.find(exp.Select, exp.Subquery) is None
    )


def render(tree: exp.Expr, as_of: date, dialect: str) -> str:
    """The expression in ``dialect`` with the as-of date bound as a literal."""
    literal = exp.cast(exp.Literal.string(as_of.isoformat()), exp.DataType.build("DATE"))

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name.lower() == AS_OF:
            return literal.copy()
        return node

    return tree.copy().transform(bind).sql(dialect=dialect)


def derived_levels(catalogue: TagCatalogue) -> list[list[TagDefinition]]:
    """Derived tags in dependency levels: level n reads only tags of earlier levels."""
    derived = {t.name: t for t in catalogue.tags if t.source == "derived"}
    known = {t.name for t in catalogue.tags}
    deps: dict[str, set[str]] = {}
    for tag in derived.values():
        tree = parse_expression(tag, dict.fromkeys(known - {tag.name}))
        deps[tag.name] = {c.name.lower() for c in tree.find_all(exp.Column)} & set(derived)
    levels: list[list[TagDefinition]] = []
    placed: set[str] = set()
    while len(placed) < len(derived):
        ready = [derived[n] for n in derived if n not in placed and deps[n] <= placed]
        if not ready:
            cycle = sorted(set(derived) - placed)
            raise CatalogueError(f"derived tags depend on each other in a cycle: {cycle}")
        levels.append(ready)
        placed |= {t.name for t in ready}
    return levels


def check(catalogue: TagCatalogue) -> None:
    """Raise ``CatalogueError`` for the first tag that cannot compile."""
    for group in groups(catalogue):
        columns = _source_columns(group.source)
        for tag in group.tags:
            parse_expression(tag, columns)
    derived_levels(catalogue)


def _source_columns(source: Source) -> dict[str, object]:
    columns: dict[str, object] = dict(source.columns)
    if source.join is not None:
        columns.update(source.join[2])
    return columns


def snapshot_sql(
    catalogue: TagCatalogue, resolve: RelationResolver, as_of: date, dialect: str = "duckdb"
) -> str:
    """The SELECT that computes every tag for every subscriber of the base as of ``as_of``."""
    ctes: list[str] = []
    joined: list[str] = []
    base: TagGroup | None = None
    for group in groups(catalogue):
        widest = next(t for t in group.tags if t.window == group.window)
        relation = resolve(group.source, widest)
        ctes.append(f"{group.alias} AS ({_group_sql(group, relation, as_of, dialect)})")
        if group.source.name == "profile" and group.window == "snapshot":
            base = group
        else:
            joined.append(group.alias)
    if base is None:
        raise CatalogueError("the catalogue needs profile tags: the profile is the base")
    columns = [f'{base.alias}."{t.name}"' for t in base.tags]
    for group in groups(catalogue):
        if group is base:
            continue
        for tag in group.tags:
            columns.append(_with_default(f'{group.alias}."{tag.name}"', tag) + f' AS "{tag.name}"')
    joins = " ".join(f"LEFT JOIN {alias} USING ({KEY})" for alias in joined)
    ctes.append(f"level_0 AS (SELECT {KEY}, {', '.join(columns)} FROM {base.alias} {joins})")
    levels = derived_levels(catalogue)
    for number, level in enumerate(levels, start=1):
        known = {t.name: None for t in catalogue.tags}
        exprs = [
            f"CAST({render(parse_expression(t, known), as_of, dialect)} AS {SQL_TYPES[t.type]})"
            f' AS "{t.name}"'
            for t in level
        ]
        ctes.append(f"level_{number} AS (SELECT *, {', '.join(exprs)} FROM level_{number - 1})")
    last = f"level_{len(levels)}"
    ordered = ", ".join(f'"{t.name}"' for t in catalogue.tags)
    return f"WITH {', '.join(ctes)} SELECT {KEY}, {ordered} FROM {last}"


def _group_sql(group: TagGroup, relation: str | None, as_of: date, dialect: str) -> str:
    columns = _source_columns(group.source)
    exprs = [
        f"CAST({render(_within(parse_expression(t, columns), t, group, as_of), as_of, dialect)}"
        f' AS {SQL_TYPES[t.type]}) AS "{t.name}"'
        for t in group.tags
    ]
    if relation is None:  # no partitions: an empty group, its tags NULL or their default
        nulls = ", ".join(f'CAST(NULL AS {SQL_TYPES[t.type]}) AS "{t.name}"' for t in group.tags)
        return f"SELECT CAST(NULL AS VARCHAR) AS {KEY}, {nulls} WHERE FALSE"
    where = f" WHERE {group.source.row_filter}" if group.source.row_filter else ""
    select = f"SELECT {KEY}, {', '.join(exprs)} FROM {relation}{where}"
    return select + (f" GROUP BY {KEY}" if group.source.many_rows else "")


def _within(tree: exp.Expr, tag: TagDefinition, group: TagGroup, as_of: date) -> exp.Expr:
    """Restrict a shorter window's aggregates to its own days inside the group's scan."""
    longest = int(group.window[:-1]) if group.window[:-1].isdigit() else 0
    if group.source.time_column is None or tag.window_length >= longest:
        return tree
    first = as_of - timedelta(days=tag.window_length - 1)
    day = exp.cast(exp.column(group.source.time_column), exp.DataType.build("DATE"))
    condition = exp.GTE(
        this=day,
        expression=exp.cast(exp.Literal.string(first.isoformat()), exp.DataType.build("DATE")),
    )
    tree = tree.copy()
    for aggregate in list(tree.find_all(exp.AggFunc)):
        parent = aggregate.parent
        if isinstance(parent, exp.Filter):
            where = parent.expression
            where.set("this", exp.and_(where.this, condition.copy()))
        else:
            wrapped = exp.Filter(this=aggregate.copy(), expression=exp.Where(this=condition.copy()))
            if aggregate is tree:
                return wrapped
            aggregate.replace(wrapped)
    return tree


def _with_default(column: str, tag: TagDefinition) -> str:
    if tag.default is None:
        return column
    value = exp.convert(tag.default).sql(dialect="duckdb")
    return f"coalesce({column}, CAST({value} AS {SQL_TYPES[tag.type]}))"
