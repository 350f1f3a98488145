"""Load a delivery of interface files into the lake: validate, quarantine, publish atomically.

A delivery is a folder of interface files (``schemas.py``). Each file is read into the
engine, checked in one set-based pass, its good rows staged as Parquet and its bad rows written
to a quarantine file with line, field and reason. Only when every file passed does the load
publish all staged parts in the caller's transaction: readers see the whole delivery or none
of it (R-DATA-2). Re-loading a file whose content is already published changes nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.db import utcnow
from steward.ingest import readers, validate
from steward.ingest.models import IngestFile, IngestLoad
from steward.ingest.report import FileReport, FileStatus, LoadReport, LoadStatus
from steward.ingest.schemas import (
    DATA_SUFFIXES,
    INTERFACES,
    FileName,
    FileNameError,
    Interface,
    parse_file_name,
)
from steward.lake.models import LakePartition
from steward.lake.service import Lake, StagedPartition, fsync_file

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestOptions:
    quarantine_root: Path
    max_bad_share: float = 0.5
    encoding: str = readers.AUTO
    vacuum_grace_s: float = 3600.0


class DeliveryError(ValueError):
    """The delivery as a whole cannot be loaded (no files, a misnamed file)."""


def ingest(
    session: Session,
    lake: Lake,
    source: Path,
    options: IngestOptions,
    progress: Progress | None = None,
) -> LoadReport:
    """Validate and load every interface file in ``source`` (a folder or one file).

    Adds the load's record and, if every file passed, the catalogue entries of its parts;
    the caller commits. Raises ``DeliveryError`` when the folder holds nothing loadable.
    """
    started = time.perf_counter()
    files = delivery_files(source)
    lake.vacuum(session, grace_s=options.vacuum_grace_s)
    load = _Load(session, lake, options, LoadReport(str(uuid.uuid4()), str(source)))
    try:
        for done, (path, name) in enumerate(files):
            if progress is not None:
                progress(path.name, done, len(files))
            load.read_file(path, name)
        load.finish()
    except BaseException:
        load.discard_staged()
        raise
    load.report.seconds = time.perf_counter() - started
    _record(session, load.report)
    _write_report_file(load.quarantine / "report.json", load.report)
    return load.report


def _write_report_file(path: Path, report: LoadReport) -> None:
    """The load's report beside its quarantine files, for the operator who has only files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")


def delivery_files(source: Path) -> list[tuple[Path, FileName]]:
    """The interface files of a delivery in load order: what others refer to comes first."""
    if not source.exists():
        raise DeliveryError(f"{source}: no such file or folder")
    candidates = [source] if source.is_file() else sorted(source.iterdir())
    data_files = [p for p in candidates if p.is_file() and p.suffix.lower() in DATA_SUFFIXES]
    if not data_files:
        raise DeliveryError(f"{source}: no interface files ({', '.join(DATA_SUFFIXES)})")
    named: list[tuple[Path, FileName]] = []
    errors: list[str] = []
    for path in data_files:
        try:
            named.append((path, parse_file_name(path)))
        except FileNameError as exc:
            errors.append(str(exc))
    if errors:
        raise DeliveryError("misnamed interface files: " + "; ".join(errors))
    seen: dict[tuple[str, date, str], str] = {}
    for path, name in named:
        slot = (name.interface.name, name.day, name.part_key)
        if slot in seen:
            raise DeliveryError(f"{path.name} and {seen[slot]} fill the same partition part")
        seen[slot] = path.name
    order = list(INTERFACES)
    return sorted(
        named, key=lambda pn: (order.index(pn[1].interface.name), pn[1].day, pn[1].part, pn[0].name)
    )


class _Load:
    """One load in progress: its staged parts and the engine tables it builds per file."""

    def __init__(
        self, session: Session, lake: Lake, options: IngestOptions, report: LoadReport
    ) -> None:
        self.session, self.lake, self.options, self.report = session, lake, options, report
        self.engine = lake.engine
        self.staged: list[StagedPartition] = []
        self.quarantine = options.quarantine_root / report.load_id

    def read_file(self, path: Path, name: FileName) -> None:
        facts = readers.inspect_file(path, self.options.encoding)
        file_report = FileReport(
            path.name,
            name.interface.name,
            name.day.isoformat(),
            name.part_key,
            facts.encoding,
            facts.sha256,
        )
        self.report.files.append(file_report)
        current = self.lake.current_part(self.session, name.interface.name, name.day, name.part_key)
        if current is not None and current.content_sha256 == facts.sha256:
            file_report.status = FileStatus.UNCHANGED
            file_report.message = "the same content is already published"
            return
        try:
            raw = readers.load_raw_fields(self.engine, path, name.interface, facts.encoding)
        except readers.UnreadableFileError as exc:
            file_report.status, file_report.message = FileStatus.REJECTED, str(exc)
            return
        self._validate(name, file_report, raw.native)
        self._quarantine_bad_rows(path, file_report, raw.raw_sql)
        if file_report.bad_share > self.options.max_bad_share:
            file_report.status = FileStatus.REJECTED
            file_report.message = (
                f"{file_report.bad_share:.0%} of its rows are bad, more than the allowed "
                f"{self.options.max_bad_share:.0%}: the file is rejected whole"
            )
            return
        self._stage_good_rows(name, file_report)

    def _validate(self, name: FileName, file_report: FileReport, native: frozenset[str]) -> None:
        interface = name.interface
        sql = validate.problems_sql(interface, name.day, native)
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE problems AS {sql}")
        typed_rows = validate.typed_rows_sql(interface, native)
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE typed_rows AS {typed_rows}")
        self.engine.execute(f"INSERT INTO problems {validate.duplicates_sql(interface)}")
        for field, target in interface.references.items():
            known = self._known_keys(INTERFACES[target])
            noun = "subscriber" if target == "profile" else target
            if known is None:
                self.engine.execute(
                    f"INSERT INTO problems SELECT line_no, {validate.literal(field)}, "
                    f"'reference', 'no {target} data is published or delivered to check "
                    f"against' FROM typed_rows"
                )
                continue
            key = INTERFACES[target].key[0]
            self.engine.execute(
                f"INSERT INTO problems {validate.reference_sql(field, known, key, noun)}"
            )
        counts = self.engine.query(
            "SELECT (SELECT count(*) FROM raw_fields), "
            "(SELECT count(DISTINCT line_no) FROM problems)"
        ).to_pylist()[0]
        read, bad = (int(v) for v in counts.values())
        file_report.rows_read, file_report.rows_quarantined = read, bad
        file_report.rows_loaded = read - bad
        file_report.by_reason = self._count_by("code")
        file_report.by_field = self._count_by("field")

    def _count_by(self, column: str) -> dict[str, int]:
        rows = self.engine.query(
            f"SELECT {column} AS k, count(*) AS n FROM problems GROUP BY 1 ORDER BY 2 DESC, 1"
        ).to_pylist()
        return {str(r["k"]): int(r["n"]) for r in rows}

    def _known_keys(self, interface: Interface) -> str | None:
        """Keys of ``interface`` as of its latest published day, plus this load's parts."""
        staged = [s for s in self.staged if s.table == interface.name]
        replaced = {(s.day, s.part_key) for s in staged}
        latest = self.session.scalar(
            select(LakePartition.part_date)
            .where(LakePartition.table_name == interface.name)
            .order_by(LakePartition.part_date.desc())
            .limit(1)
        )
        published: list[Path] = []
        if latest is not None:
            rows = self.session.scalars(
                select(LakePartition).where(
                    LakePartition.table_name == interface.name,
                    LakePartition.part_date == latest,
                )
            )
            published = [
                self.lake.root / r.path for r in rows if (r.part_date, r.part_key) not in replaced
            ]
        files = published + [s.path for s in staged]
        if not files:
            return None
        key = validate.column(interface.key[0])
        return f"(SELECT DISTINCT {key} FROM {self.engine.scan_parquet(files)})"

    def _quarantine_bad_rows(self, path: Path, file_report: FileReport, raw_sql: str) -> None:
        if file_report.rows_quarantined == 0:
            return
        self.quarantine.mkdir(parents=True, exist_ok=True)
        target = self.quarantine / f"{path.name}.quarantine.csv"
        self.engine.execute(
            f"""
            COPY (
              SELECT {validate.literal(path.name)} AS file, p.line_no AS line, p.field,
                     p.code, p.reason, {raw_sql} AS raw
              FROM problems p JOIN raw_fields r USING (line_no)
              ORDER BY p.line_no, p.field
            ) TO {validate.literal(target.as_posix())} (HEADER, DELIMITER ',')
            """
        )
        file_report.quarantine_file = str(target)

    def _stage_good_rows(self, name: FileName, file_report: FileReport) -> None:
        interface = name.interface
        target = self.lake.stage_path(interface.name, name.day, name.part_key, self.report.load_id)
        columns = ", ".join(validate.column(f) for f in interface.field_names)
        self.engine.execute(
            f"""
            COPY (
              SELECT {columns} FROM typed_rows
              WHERE line_no NOT IN (SELECT line_no FROM problems)
            ) TO {validate.literal(target.as_posix())} (FORMAT parquet, COMPRESSION zstd)
            """
        )
        fsync_file(target)
        self.staged.append(
            StagedPartition(
                interface.name,
                name.day,
                name.part_key,
                target,
                file_report.rows_loaded,
                file_report.sha256,
            )
        )

    def finish(self) -> None:
        rejected = [f for f in self.report.files if f.status is FileStatus.REJECTED]
        if rejected:
            self.report.status = LoadStatus.REJECTED
            names = ", ".join(f.file for f in rejected)
            self.report.message = f"nothing was published: rejected file(s) {names}"
            for file_report in self.report.files:
                if file_report.status is FileStatus.LOADED:
                    file_report.status = FileStatus.NOT_LOADED
            self.discard_staged()
            return
        self.lake.publish(self.session, self.staged, self.report.load_id)
        loaded = sum(1 for f in self.report.files if f.status is FileStatus.LOADED)
        self.report.message = f"published {loaded} file(s), {self.report.rows_loaded} rows"

    def discard_staged(self) -> None:
        for part in self.staged:
            part.path.unlink(missing_ok=True)
        self.staged.clear()


def _record(session: Session, report: LoadReport) -> None:
    session.add(
        IngestLoad(
            load_id=report.load_id,
            source=report.source,
            status=report.status.value,
            message=report.message,
            finished_at=utcnow(),
            report=report.to_dict(),
        )
    )
    session.flush()
    for f in report.files:
        session.add(
            IngestFile(
                load_id=report.load_id,
                file_name=f.file,
                table_name=f.interface,
                content_sha256=f.sha256,
                status=f.status.value,
                rows_read=f.rows_read,
                rows_loaded=f.rows_loaded,
                rows_quarantined=f.rows_quarantined,
            )
        )
    session.flush()


def late_interfaces(session: Session, lake: Lake, as_of: date) -> list[dict[str, object]]:
    """Daily interfaces whose file for ``as_of`` has not been published (a late delivery).

    Daily record files (voice, data, …) are expected every day; the monthly bill on the first
    of its month; snapshots (profile, subscription, product) are judged by the last day seen.
    """
    late: list[dict[str, object]] = []
    for interface in INTERFACES.values():
        if interface.date_field is None or interface.name == "bill":
            continue
        last = lake.latest_day(session, interface.name, as_of)
        if last != as_of:
            late.append(
                {
                    "interface": interface.name,
                    "expected": as_of.isoformat(),
                    "last_published": last.isoformat() if last else None,
                }
            )
    return late
