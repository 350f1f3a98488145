"""Segments: define by rule, list or combination; trial-count; snapshot membership (R-SEG-1).

Every segment reads the profile snapshot: a rule is compiled by the rule language into the
engine's SQL (no user text reaches the engine raw), a list is joined to it, a combination is
the set algebra of its operands. Counting is one grouped scan of the snapshot.
"""

from __future__ import annotations

import csv
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.db import utcnow
from steward.ingest import numbers
from steward.lake.service import Lake
from steward.rules import parse_rule, to_sql
from steward.segments.models import CombineOp, Segment, SegmentKind
from steward.segments.schemas import CountResult, ListImportReport, SegmentCreate
from steward.tags import service as tags_service
from steward.tags.schemas import TagCatalogue
from steward.wording import N_, Refusal

LIST_TABLE = "segment_list"
MEMBER_TABLE = "segment_member"
SAMPLE_SIZE = 5
BREAKDOWNS = ("city", "brand", "vip_level")
SET_OPERATORS = {
    CombineOp.UNION: "UNION",
    CombineOp.INTERSECT: "INTERSECT",
    CombineOp.MINUS: "EXCEPT",
}


class SegmentError(Refusal):
    """A segment request that cannot be served; the message says why (a ``Refusal``: its
    wording apart from its values)."""


def condition_sql(text: str, catalogue: TagCatalogue, dialect: str) -> str:
    """The rule as a checked SQL condition; raises ``RuleError`` with position and hints."""
    return to_sql(parse_rule(text, tags_service.rule_types(catalogue)), dialect=dialect)


def _snapshot(session: Session, lake: Lake, as_of: date | None) -> tuple[date, str]:
    latest = tags_service.latest_snapshot(session, lake, as_of)
    if latest is None:
        if as_of is not None:
            raise SegmentError(
                N_("no profile snapshot on or before %(day)s: run steward tags refresh first"),
                day=as_of,
            )
        raise SegmentError(N_("no profile snapshot: run steward tags refresh first"))
    day, relation = latest
    return day, lake.hot(relation, keep_text=("msisdn",))


def _scoped(rows: str, scope: str | None, catalogue: TagCatalogue, lake: Lake) -> str:
    """Rows limited to a user's district (a rule from the auth domain), if any."""
    if scope is None:
        return rows
    return f"SELECT * FROM ({rows}) WHERE {condition_sql(scope, catalogue, lake.engine.dialect)}"


def trial_count(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    *,
    rule: str,
    as_of: date | None = None,
    scope: str | None = None,
) -> CountResult:
    """Count a rule before saving it (试算): total, by city / brand / VIP, masked sample.

    ``scope`` (a rule) limits the count to what the caller may see: their district.
    """
    condition = condition_sql(rule, catalogue, lake.engine.dialect)
    day, snapshot = _snapshot(session, lake, as_of)
    rows = f"SELECT * FROM {snapshot} WHERE {condition}"
    return count_rows(lake, day, _scoped(rows, scope, catalogue, lake))


def count(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    segment: Segment,
    as_of: date | None = None,
    scope: str | None = None,
) -> CountResult:
    day, snapshot = _snapshot(session, lake, as_of)
    return count_rows(
        lake,
        day,
        _scoped(rows_sql(session, lake, catalogue, segment, snapshot), scope, catalogue, lake),
    )


def count_rows(lake: Lake, day: date, rows: str) -> CountResult:
    """Total, breakdowns and masked sample of the snapshot rows that ``rows`` selects."""
    started = time.perf_counter()
    dims = ", ".join(BREAKDOWNS)
    # One grouping by all breakdowns at once (a few hundred groups), rolled up here.
    grouped = lake.engine.query(
        f"SELECT {dims}, count(*) AS n FROM ({rows}) GROUP BY ALL"
    ).to_pylist()
    total = sum(int(r["n"]) for r in grouped)
    breakdown: dict[str, dict[str, int]] = {d: {} for d in BREAKDOWNS}
    for r in grouped:
        for dim in BREAKDOWNS:
            key = str(r[dim])
            breakdown[dim][key] = breakdown[dim].get(key, 0) + int(r["n"])
    # The first members in snapshot order: the engine keeps insertion order, so the sample
    # is stable, and it costs no sort (a hash order doubled the count's time at 18 M).
    sample = lake.engine.query(
        f"SELECT msisdn, {dims} FROM ({rows}) LIMIT {SAMPLE_SIZE}"
    ).to_pylist()
    return CountResult(
        as_of=day,
        total=int(total),
        by_city=_sorted(breakdown["city"]),
        by_brand=_sorted(breakdown["brand"]),
        by_vip_level=_sorted(breakdown["vip_level"]),
        sample=[r | {"msisdn": mask(r["msisdn"])} for r in sample],
        seconds=round(time.perf_counter() - started, 4),
    )


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def mask(msisdn: str) -> str:
    """138****0001: the front line sees one customer at a time (R-DATA-5)."""
    return msisdn[:3] + "****" + msisdn[-4:] if len(msisdn) >= 8 else "****"


def rows_sql(
    session: Session, lake: Lake, catalogue: TagCatalogue, segment: Segment, snapshot: str
) -> str:
    """The snapshot rows of the segment's members."""
    if segment.kind == SegmentKind.RULE and segment.rule is not None:
        condition = condition_sql(segment.rule, catalogue, lake.engine.dialect)
        return f"SELECT * FROM {snapshot} WHERE {condition}"
    members = members_sql(session, lake, catalogue, segment, snapshot)
    return f"SELECT s.* FROM {snapshot} s SEMI JOIN ({members}) m USING (msisdn)"


def members_sql(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    segment: Segment,
    snapshot: str,
    _path: tuple[int, ...] = (),
) -> str:
    """The msisdns of the segment's members (a list's unknown numbers included)."""
    if segment.id in _path:
        raise SegmentError(N_("segment %(name)r contains itself"), name=segment.name)
    if segment.kind == SegmentKind.RULE and segment.rule is not None:
        condition = condition_sql(segment.rule, catalogue, lake.engine.dialect)
        return f"SELECT msisdn FROM {snapshot} WHERE {condition}"
    if segment.kind == SegmentKind.LIST:
        files = lake.files(session, LIST_TABLE)
        files = [f for f in files if f.parent.name == f"part=s{segment.id}"]
        if not files:
            return "SELECT CAST(NULL AS VARCHAR) AS msisdn WHERE FALSE"
        return f"SELECT DISTINCT msisdn FROM {lake.engine.scan_parquet(files)}"
    operator = SET_OPERATORS[CombineOp(segment.combine_op or CombineOp.UNION)]
    parts = []
    for operand_id in segment.operands or []:
        operand = session.get(Segment, operand_id)
        if operand is None:
            raise SegmentError(
                N_("segment %(name)r names missing segment %(id)s"),
                name=segment.name,
                id=operand_id,
            )
        inner = members_sql(session, lake, catalogue, operand, snapshot, (*_path, segment.id))
        parts.append(f"({inner})")
    return f" {operator} ".join(parts)


def create(
    session: Session, catalogue: TagCatalogue, *, segment_in: SegmentCreate, by: str
) -> Segment:
    """Save a rule or combination segment; the rule is checked before it is saved."""
    _check_name_free(session, segment_in.name)
    if segment_in.rule is not None:
        parse_rule(segment_in.rule, tags_service.rule_types(catalogue))
    for operand_id in segment_in.operands or []:
        if session.get(Segment, operand_id) is None:
            raise SegmentError(N_("no segment %(id)s to combine"), field="operands", id=operand_id)
    segment = Segment(
        name=segment_in.name,
        description=segment_in.description,
        kind=segment_in.kind.value,
        rule=segment_in.rule,
        combine_op=segment_in.combine.value if segment_in.combine else None,
        operands=segment_in.operands,
        owner=by,
    )
    session.add(segment)
    session.flush()
    return segment


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(Segment.id).where(Segment.name == name)) is not None:
        raise SegmentError(N_("a segment named %(name)r exists already"), field="name", name=name)


def get(session: Session, segment_id: int) -> Segment | None:
    return session.get(Segment, segment_id)


def list_all(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.id)))


def import_list(
    session: Session,
    lake: Lake,
    *,
    name: str,
    path: Path,
    description: str = "",
    by: str,
    dry_run: bool = False,
) -> ListImportReport:
    """Save a static list of numbers as a segment; report bad lines and unknown numbers.

    One number a line (a header line ``msisdn`` is allowed); a bad line is reported with its
    line number and kept out; an unknown number (not in the latest snapshot) is reported but
    kept, since the list may predate it. Nothing is saved when no line is good.
    """
    if not dry_run:
        _check_name_free(session, name)
    checked = numbers.check_number_list(lake.engine, path)
    unknown, unknown_sample = _unknown_numbers(session, lake)
    report = ListImportReport(
        segment_id=None,
        lines=checked.lines,
        accepted=checked.accepted,
        duplicates=checked.duplicates,
        bad_lines=checked.bad_lines,
        unknown_numbers=unknown,
        unknown_sample=unknown_sample,
    )
    if dry_run or report.accepted == 0:
        return report
    segment = Segment(
        name=name,
        description=description,
        kind=SegmentKind.LIST.value,
        list_size=report.accepted,
        owner=by,
    )
    session.add(segment)
    session.flush()
    _stage_list(session, lake, segment)
    report.segment_id = segment.id
    return report


def _unknown_numbers(session: Session, lake: Lake) -> tuple[int, list[str]]:
    latest = tags_service.latest_snapshot(session, lake)
    good = f"SELECT DISTINCT msisdn FROM ({numbers.GOOD})"
    if latest is None:
        known = "SELECT CAST(NULL AS VARCHAR) AS msisdn WHERE FALSE"
    else:
        known = f"SELECT msisdn FROM {latest[1]}"
    rows = (
        lake.engine.query(
            f"SELECT msisdn FROM ({good}) ANTI JOIN ({known}) k USING (msisdn) ORDER BY msisdn"
        )
        .column("msisdn")
        .to_pylist()
    )
    return len(rows), [mask(str(m)) for m in rows[:10]]


def _stage_list(session: Session, lake: Lake, segment: Segment) -> None:
    query = f"{numbers.GOOD} ORDER BY line_no"
    lake.write(session, LIST_TABLE, utcnow().date(), f"s{segment.id}", query)


def snapshot_members(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    segment: Segment,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Write the segment's members as of a date to the lake (table ``segment_member``)."""
    day, snapshot = _snapshot(session, lake, as_of)
    members = members_sql(session, lake, catalogue, segment, snapshot)
    query = (
        f"SELECT m.msisdn, {segment.id} AS segment_id, DATE '{day.isoformat()}' AS as_of "
        f"FROM ({members}) m SEMI JOIN {snapshot} s USING (msisdn) ORDER BY m.msisdn"
    )
    rows = lake.write(session, MEMBER_TABLE, day, f"s{segment.id}", query)
    return {"segment_id": segment.id, "as_of": day, "members": rows}


def write_count_csv(result: CountResult, rule: str, path: Path) -> None:
    """The trial count as rows (dimension, value, subscribers) for Excel: UTF-8 with a BOM so
    Chinese text opens correctly."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["dimension", "value", "subscribers"])
        writer.writerow(["rule", rule, ""])
        writer.writerow(["as_of", result.as_of.isoformat(), ""])
        writer.writerow(["total", "", result.total])
        for dimension, counts in (
            ("city", result.by_city),
            ("brand", result.by_brand),
            ("vip_level", result.by_vip_level),
        ):
            for value, subscribers in counts.items():
                writer.writerow([dimension, value, subscribers])
