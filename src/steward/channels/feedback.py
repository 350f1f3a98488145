"""Feedback files: what channels Steward does not drive report back about its contacts.

A partner's call centre, a hall or an SMS gateway's daily report sends a file of state changes
(docs/feedback-files.md). It passes the same gate as an interface file (R-EVAL-2, issue §6):
every row is checked in set-based passes in the analytics engine, each bad row is named by
line, field and reason and written to quarantine, and the good rows reach the contact ledger
only if the share of bad ones stays within the limit — all or nothing. A row the ledger holds
already is skipped, so importing a file twice appends nothing the second time.

What the appended rows say the customer did (an answer, an order, a call not reached) then
goes through the cross-channel rules (R-CHAN-5) in one set-based pass, as an outcome on the
contact's own channel does: a partner's "accepted" call cancels the same campaign's pending
SMS of the subscriber. A second import appends nothing, so it cancels nothing more.
"""

from __future__ import annotations

import codecs
import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.channels import crosschannel
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import CONTACT_FIELDS, SCHEMA, append
from steward.db import utcnow
from steward.ingest import readers
from steward.ingest.schemas import Field
from steward.ingest.validate import Check, column, field_checks, literal
from steward.lake.engine import AnalyticsEngine
from steward.lake.service import Lake
from steward.wording import N_, Refusal

FEEDBACK_STATES = (State.DELIVERED, State.FAILED, State.ANSWERED, State.ORDERED, State.CANCELLED)
ANSWERS = ("accepted", "rejected", "considering", "call_back", "unsubscribed")
FILE_COLUMNS = ("contact_key", "state", "at", "detail")
REQUIRED_COLUMNS = ("contact_key", "state", "at")
SUFFIXES = (".csv", ".parquet")
DETAIL_LENGTH = 200
SOURCE_LENGTH = 32  # contact_event.source
ERRORS_SHOWN = 100
# A partner's clock may run a little ahead of ours; beyond this a moment is in the future.
CLOCK_SKEW = timedelta(minutes=5)
KEYS_PER_QUERY = 10_000  # below every database's limit of bound parameters
# What a row says happened, for the cross-channel rules: (state, detail) -> outcome; an
# ``answered`` row's detail is the answer, any ``ordered`` or ``failed`` row counts.
OUTCOMES: dict[tuple[str, str | None], crosschannel.Outcome] = {
    (State.ANSWERED.value, "accepted"): crosschannel.Outcome.ACCEPTED,
    (State.ANSWERED.value, "rejected"): crosschannel.Outcome.REJECTED,
    (State.ANSWERED.value, "considering"): crosschannel.Outcome.CONSIDERING,
    (State.ANSWERED.value, "call_back"): crosschannel.Outcome.CALL_BACK,
    (State.ANSWERED.value, "unsubscribed"): crosschannel.Outcome.UNSUBSCRIBED,
    (State.ORDERED.value, None): crosschannel.Outcome.ORDERED,
    (State.FAILED.value, None): crosschannel.Outcome.NOT_REACHED,
}

FIELDS = (
    Field("contact_key", max_length=64),
    Field("state", choices=tuple(s.value for s in FEEDBACK_STATES)),
    Field("detail", required=False, max_length=DETAIL_LENGTH),
)

# One CSV field within one line (RFC 4180 quoting; a quote inside an unquoted field is text).
CSV_FIELD = r'("(?:[^"]|"")*"|[^,"][^,]*|)'
ISO_TIMESTAMP = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
ZONE_SUFFIX = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"

# The engine's tables of one import, dropped when it ends.
TABLES = "fb_lines fb_raw fb_problems fb_typed fb_ledger fb_first fb_present fb_candidates"


class FeedbackStatus(StrEnum):
    APPENDED = "appended"
    REJECTED = "rejected"  # too many bad rows, or the file cannot be read: nothing appended
    NOTHING_TO_DO = "nothing_to_do"  # every good row is in the ledger already (or none)


@dataclass
class FeedbackReport:
    """What an import tells its operator; ``errors`` holds the first problems, the
    quarantine file all of them."""

    file: str
    import_id: str
    encoding: str | None = None
    rows: int = 0
    appended: int = 0
    already_present: int = 0
    bad: int = 0
    cancelled_elsewhere: int = 0  # pending contacts of other channels the rules cancelled
    errors: list[dict[str, Any]] = field(default_factory=list)
    quarantine: str | None = None
    status: FeedbackStatus = FeedbackStatus.NOTHING_TO_DO
    message: str = ""

    @property
    def bad_share(self) -> float:
        return self.bad / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"status": self.status.value}


class FeedbackFileError(Refusal):
    """The import cannot start: no such file, an unknown kind of file, a bad argument."""


def import_feedback(
    session: Session,
    lake: Lake,
    *,
    path: Path,
    source: str,
    max_bad_share: float,
    quarantine_root: Path | None = None,
) -> FeedbackReport:
    """Check a feedback file and append its good rows to the contact ledger, or nothing.

    ``source`` goes into every appended row's ``source`` (who sent the file). A file whose
    share of bad rows exceeds ``max_bad_share`` is rejected whole. Bad rows and the report go
    to ``<quarantine_root>/<import_id>/`` as for interface files; the root defaults to the
    ``quarantine`` folder beside the lake (``Settings.quarantine_path`` by default). The
    caller commits. Raises ``FeedbackFileError`` when the import cannot start.
    """
    _check_arguments(path, source, max_bad_share)
    report = FeedbackReport(path.name, str(uuid.uuid4()))
    folder = (quarantine_root or lake.root.parent / "quarantine") / report.import_id
    run = _Import(session, lake.engine, report, folder)
    try:
        run.read(path)
        run.validate()
        run.settle(max_bad_share, source)
    except readers.UnreadableFileError as exc:
        report.status, report.message = FeedbackStatus.REJECTED, str(exc)
    finally:
        run.drop_tables()
    _write_report(folder / "report.json", report)
    return report


def _check_arguments(path: Path, source: str, max_bad_share: float) -> None:
    if not path.is_file():
        raise FeedbackFileError(N_("%(path)s: no such file"), field="path", path=path)
    if path.suffix.lower() not in SUFFIXES:
        raise FeedbackFileError(
            N_("%(name)s: expected one of %(suffixes)s"),
            field="path",
            name=path.name,
            suffixes=", ".join(SUFFIXES),
        )
    if not source.strip() or len(source) > SOURCE_LENGTH:
        raise FeedbackFileError(
            N_("source must be 1 to %(limit)s characters"), field="source", limit=SOURCE_LENGTH
        )
    if not 0.0 <= max_bad_share <= 1.0:
        raise FeedbackFileError(N_("max_bad_share must lie between 0 and 1"), field="max_bad_share")


def _write_report(path: Path, report: FeedbackReport) -> None:
    """The report beside the quarantine file, for the operator who has only files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")


class _Import:
    """One import in progress: the engine tables it builds, step by step."""

    def __init__(
        self, session: Session, engine: AnalyticsEngine, report: FeedbackReport, folder: Path
    ) -> None:
        self.session, self.engine, self.report, self.folder = session, engine, report, folder

    def read(self, path: Path) -> None:
        """Build ``fb_raw``: line_no, raw, field_error, the four columns as text, ``at_value``."""
        if path.suffix.lower() == ".parquet":
            _read_parquet(self.engine, path)
        else:
            self.report.encoding = _text_encoding(path)
            _read_csv(self.engine, path, self.report.encoding)

    def validate(self) -> None:
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE fb_problems AS {_field_problems()}")
        self.engine.execute(
            """
            CREATE OR REPLACE TEMP TABLE fb_typed AS
            SELECT line_no, contact_key, state, at_value AS "at", detail FROM fb_raw
            WHERE field_error IS NULL AND line_no NOT IN (SELECT line_no FROM fb_problems)
            """
        )
        self._load_ledger()
        self.engine.execute(f"INSERT INTO fb_problems {DUPLICATES}")
        self.engine.execute(f"INSERT INTO fb_problems {UNKNOWN_CONTACTS}")
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE fb_present AS {PRESENT}")
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE fb_candidates AS {CANDIDATES}")
        self.engine.execute(f"INSERT INTO fb_problems {_transition_problems()}")

    def _load_ledger(self) -> None:
        """The ledger rows of the file's contacts, read once, as ``fb_ledger`` and the
        contacts' fields from their first rows as ``fb_first``."""
        keys = self.engine.query("SELECT DISTINCT contact_key FROM fb_typed")
        ledger = _ledger_rows(self.session, keys.column("contact_key").to_pylist())
        self.engine.register("fb_ledger_arrow", ledger)
        try:
            self.engine.execute(
                """
                CREATE OR REPLACE TEMP TABLE fb_ledger AS
                SELECT * REPLACE (make_timestamp(epoch_us("at")) AS "at") FROM fb_ledger_arrow
                """
            )
        finally:
            self.engine.execute("DROP VIEW fb_ledger_arrow")
        self.engine.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE fb_first AS
            SELECT {", ".join(CONTACT_FIELDS)} FROM fb_ledger
            QUALIFY row_number() OVER (PARTITION BY contact_key ORDER BY id) = 1
            """
        )

    def settle(self, max_bad_share: float, source: str) -> None:
        """Count, quarantine, and append the good rows unless too many are bad."""
        report = self.report
        counts = self.engine.query(COUNTS).to_pylist()[0]
        report.rows, report.bad = int(counts["rows"]), int(counts["bad"])
        report.already_present = int(counts["present"])
        errors = self.engine.query(ERRORS).to_pylist()
        report.errors = [{"file": report.file} | e for e in errors]
        self._quarantine()
        if report.bad_share > max_bad_share:
            report.status = FeedbackStatus.REJECTED
            report.message = (
                f"{report.bad_share:.0%} of its rows are bad, more than the allowed "
                f"{max_bad_share:.0%}: nothing was appended"
            )
            return
        report.appended = append(self.session, self._good_rows(source))
        if report.appended:
            report.status = FeedbackStatus.APPENDED
            report.cancelled_elsewhere = crosschannel.apply_outcomes(self.session, self._outcomes())
        report.message = (
            f"appended {report.appended} row(s); {report.already_present} already in the "
            f"ledger; {report.bad} bad"
        )
        if report.cancelled_elsewhere:
            report.message += (
                f"; {report.cancelled_elsewhere} pending contact(s) of other channels "
                "cancelled by the cross-channel rules"
            )

    def _quarantine(self) -> None:
        if self.report.bad == 0:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{self.report.file}.quarantine.csv"
        self.engine.execute(
            f"""
            COPY (
              SELECT {literal(self.report.file)} AS file, p.line_no AS line, p.field, p.code,
                     p.reason, r.raw
              FROM fb_problems p JOIN fb_raw r USING (line_no)
              ORDER BY p.line_no, p.field, p.code
            ) TO {literal(target.as_posix())} (HEADER, DELIMITER ',')
            """
        )
        self.report.quarantine = str(target)

    def _good_rows(self, source: str) -> Iterator[dict[str, Any]]:
        """The rows to append, in the order they happened; ``at`` as UTC moments."""
        table = self.engine.query(GOOD_ROWS)
        at = table.schema.get_field_index("at")
        table = table.set_column(at, "at", table.column(at).cast(pa.timestamp("us", tz="UTC")))
        for batch in table.to_batches():
            for row in batch.to_pylist():
                yield row | {"source": source}

    def _outcomes(self) -> list[tuple[str, crosschannel.Outcome]]:
        """(contact key, outcome) of the appended rows that report an outcome."""
        rows = self.engine.query(APPENDED_OUTCOMES).to_pylist()
        found = [(str(r["contact_key"]), OUTCOMES.get((r["state"], r["detail"]))) for r in rows]
        return [(key, outcome) for key, outcome in found if outcome is not None]

    def drop_tables(self) -> None:
        for table in TABLES.split():
            self.engine.execute(f"DROP TABLE IF EXISTS {table}")


def _text_encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as UTF-8, else GB18030 (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as stream:
            while block := stream.read(readers.BLOCK_BYTES):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _read_csv(engine: AnalyticsEngine, path: Path, encoding: str) -> None:
    readers.load_lines(engine, path, encoding, "fb_lines")
    header = _header(engine, path)
    width = len(header)
    fields = f"regexp_extract_all(line || ',', {literal(CSV_FIELD + ',')}, 1)"
    values = [
        f"CASE WHEN ok THEN {_unquoted(f'f[{header.index(name) + 1}]')} END AS {column(name)}"
        if name in header
        else f"CAST(NULL AS VARCHAR) AS {column(name)}"
        for name in FILE_COLUMNS
    ]
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE fb_raw AS
        WITH split AS (
          SELECT line_no, line, decode_error, {fields} AS f,
                 regexp_full_match(line, {literal(f"{CSV_FIELD}(,{CSV_FIELD})*")}) AS well_formed
          FROM fb_lines WHERE line_no > 1 AND trim(line) <> ''
        ), checked AS (
          SELECT *, NOT decode_error AND well_formed AND len(f) = {width} AS ok FROM split
        ), fields AS (
          SELECT line_no, line AS raw,
            CASE WHEN decode_error THEN 'bytes are not valid {encoding} text'
                 WHEN NOT well_formed THEN 'a quoted field is not closed, or text follows it'
                 WHEN len(f) <> {width} THEN 'expected {width} fields, found ' || len(f)
            END AS field_error,
            {", ".join(values)}
          FROM checked
        )
        SELECT *, {_parsed_at(column("at"))} AS at_value FROM fields
        """
    )


def _header(engine: AnalyticsEngine, path: Path) -> list[str]:
    """The header's column names; refuses a file without the required ones."""
    first = engine.query("SELECT line FROM fb_lines WHERE line_no = 1").to_pylist()
    line = str(first[0]["line"]).removeprefix("\ufeff") if first else ""
    names = [name.strip().lower() for name in next(csv.reader([line]), [])]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise readers.UnreadableFileError(
            f"{path.name}: column(s) {', '.join(repeated)} named twice"
        )
    _refuse_missing(path, names, " in the header (line 1)")
    return names


def _refuse_missing(path: Path, names: list[str], where: str = "") -> None:
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        raise readers.UnreadableFileError(
            f"{path.name}: missing column(s) {', '.join(missing)}{where}"
        )


def _unquoted(value: str) -> str:
    text = f"CASE WHEN starts_with({value}, '\"') THEN replace({value}[2:-2], '\"\"', '\"') "
    return f"NULLIF(trim({text}ELSE {value} END), '')"


def _parsed_at(value: str) -> str:
    """An ISO timestamp as a naive UTC TIMESTAMP: with a zone, the moment it names; without,
    taken as UTC (never as the engine's local time zone)."""
    return (
        f"CASE WHEN NOT regexp_full_match({value}, {literal(ISO_TIMESTAMP)}) THEN NULL "
        f"WHEN regexp_matches({value}, {literal(ZONE_SUFFIX)}) "
        f"THEN make_timestamp(epoch_us(TRY_CAST({value} AS TIMESTAMPTZ))) "
        f"ELSE TRY_CAST({value} AS TIMESTAMP) END"
    )


def _read_parquet(engine: AnalyticsEngine, path: Path) -> None:
    scan = engine.scan_parquet([path], row_number=True)
    described = engine.query(f"DESCRIBE SELECT * FROM {scan}").to_pylist()
    types = {str(row["column_name"]).lower(): str(row["column_type"]) for row in described}
    _refuse_missing(path, list(types))
    names = {str(row["column_name"]).lower(): str(row["column_name"]) for row in described}
    text = {
        n: f"NULLIF(trim(CAST({column(names[n])} AS VARCHAR)), '')" if n in names else "NULL"
        for n in FILE_COLUMNS
    }
    at_type, at = types["at"], column(names["at"])
    if at_type == "TIMESTAMP WITH TIME ZONE":
        at_value = f"make_timestamp(epoch_us({at}))"
    elif at_type.startswith("TIMESTAMP"):
        at_value = f"CAST({at} AS TIMESTAMP)"
    else:
        at_value = _parsed_at(text["at"])
    raw = " || ',' || ".join(f"coalesce({text[n]}, '')" for n in FILE_COLUMNS)
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE fb_raw AS
        SELECT file_row_number + 1 AS line_no, {raw} AS raw,
               CAST(NULL AS VARCHAR) AS field_error,
               {", ".join(f"CAST({text[n]} AS VARCHAR) AS {column(n)}" for n in FILE_COLUMNS)},
               {at_value} AS at_value
        FROM {scan}
        """
    )


def _field_checks() -> list[Check]:
    """Each row on its own: the ingest rules for text fields, then ``at`` and ``detail``."""
    checks = [c for f in FIELDS for c in field_checks(f, utcnow().date())]
    latest = (utcnow() + CLOCK_SKEW).replace(tzinfo=None).isoformat(sep=" ")
    shown_at = "'''' || left(\"at\", 40) || ''''"
    answers = ", ".join(literal(a) for a in ANSWERS)
    return [
        *checks,
        Check("at", "required", '"at" IS NULL', "'is required'"),
        Check(
            "at",
            "type",
            '"at" IS NOT NULL AND at_value IS NULL',
            f"{shown_at} || ' is not an ISO timestamp (YYYY-MM-DDTHH:MM[:SS[.ffffff]][zone])'",
        ),
        Check("at", "range", f"at_value > TIMESTAMP {literal(latest)}", "'lies in the future'"),
        Check(
            "detail",
            "required",
            "state = 'answered' AND detail IS NULL",
            f"'''answered'' needs the answer: one of {'/'.join(ANSWERS)}'",
        ),
        Check(
            "detail",
            "choice",
            f"state = 'answered' AND detail NOT IN ({answers})",
            f"'''' || left(detail, 40) || ''' is not one of {'/'.join(ANSWERS)}'",
        ),
        Check(
            "detail",
            "required",
            "state = 'failed' AND detail IS NULL",
            "'''failed'' needs a reason'",
        ),
    ]


def _field_problems() -> str:
    """One row per problem (line_no, field, code, reason) over ``fb_raw``, in one pass."""
    cases = ",\n      ".join(
        f"CASE WHEN coalesce({c.failing}, FALSE) THEN "
        f"{{'field': {literal(c.field)}, 'code': {literal(c.code)}, 'reason': {c.reason}}} END"
        for c in _field_checks()
    )
    return f"""
    SELECT line_no, p.field, p.code, p.reason FROM (
      SELECT line_no, unnest(list_filter([
      {cases}
      ], lambda x: x IS NOT NULL)) AS p
      FROM fb_raw WHERE field_error IS NULL
    )
    UNION ALL
    SELECT line_no, '*', 'line', field_error FROM fb_raw WHERE field_error IS NOT NULL
    """


ROW_KEY = 'contact_key, state, "at", detail'

DUPLICATES = f"""
    SELECT line_no, '*', 'duplicate', 'repeats line ' || first_line FROM (
      SELECT line_no, min(line_no) OVER (PARTITION BY {ROW_KEY}) AS first_line FROM fb_typed
    ) WHERE line_no <> first_line
"""

UNKNOWN_CONTACTS = """
    SELECT t.line_no, 'contact_key', 'reference',
           'no contact ''' || left(t.contact_key, 40) || ''' in the ledger'
    FROM fb_typed t ANTI JOIN fb_first f USING (contact_key)
"""

# A good row the ledger holds already (same contact, state, moment and detail): skipped.
PRESENT = """
    SELECT t.* FROM fb_typed t
    WHERE t.line_no NOT IN (SELECT line_no FROM fb_problems)
      AND EXISTS (
        SELECT 1 FROM fb_ledger l
        WHERE l.contact_key = t.contact_key AND l.state = t.state AND l."at" = t."at"
          AND l.detail IS NOT DISTINCT FROM t.detail
      )
"""

# The rows still to judge against the ledger's rules, and then to append.
CANDIDATES = """
    SELECT * FROM fb_typed
    WHERE line_no NOT IN (SELECT line_no FROM fb_problems)
      AND line_no NOT IN (SELECT line_no FROM fb_present)
"""

# The customer was reached (crosschannel.REACHED, which cancels no such contact either).
REACHED = " + ".join(f"n_{s.value}" for s in crosschannel.REACHED) + " > 0"

# What the ledger allows, first broken rule reported: (condition, reason). ``n_<state>``
# counts the contact's rows in that state: in the ledger and accepted earlier in the file.
TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("n_cancelled > 0", "'the contact was cancelled: nothing may follow'"),
    ("n_failed > 0", "'the contact failed already: nothing may follow'"),
    ("n_held_back > 0", "'the contact was held back (control group), never contacted'"),
    (
        f"state = 'cancelled' AND {REACHED}",
        "'the contact was reached already: too late to cancel'",
    ),
    (
        "state <> 'cancelled' AND n_sent = 0",
        "'''' || state || ''' needs a sent contact, and this one was never sent'",
    ),
    ("state = 'delivered' AND n_delivered > 0", "'the contact was delivered already'"),
    (f"state = 'failed' AND {REACHED}", "'the contact was reached already: it cannot fail now'"),
    ("state = 'ordered' AND n_ordered > 0", "'the contact has ordered already (one order)'"),
)


def _transition_problems() -> str:
    """Rows the ledger does not allow (e.g. ``ordered`` twice), each judged against the
    contact's ledger rows and the rows of the file accepted before it (by ``at``, then line).

    A recursive query walks every contact's rows in step: step k of all contacts at once,
    so the passes number the most rows one contact has in the file, not the file's rows.
    """
    in_ledger = ", ".join(f"count(*) FILTER (WHERE state = '{s}') AS n_{s}" for s in State)
    first = ", ".join(f"coalesce(l.n_{s}, 0) AS n_{s}" for s in State)
    after = ", ".join(
        f"w.n_{s} + CAST(w.reason IS NULL AND w.state = '{s}' AS INTEGER) AS n_{s}"
        if s in FEEDBACK_STATES
        else f"w.n_{s}"
        for s in State
    )
    reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for c, r in TRANSITIONS) + " END AS reason"
    return f"""
    WITH RECURSIVE
    ledger AS (SELECT contact_key, {in_ledger} FROM fb_ledger GROUP BY contact_key),
    steps AS (
      SELECT line_no, contact_key, state,
             row_number() OVER (PARTITION BY contact_key ORDER BY "at", line_no) AS step
      FROM fb_candidates
    ),
    walk AS (
      SELECT *, {reason} FROM (
        SELECT s.*, {first} FROM steps s LEFT JOIN ledger l USING (contact_key)
        WHERE s.step = 1
      )
      UNION ALL
      SELECT *, {reason} FROM (
        SELECT s.*, {after}
        FROM walk w JOIN steps s ON s.contact_key = w.contact_key AND s.step = w.step + 1
      )
    )
    SELECT line_no, 'state', 'transition', reason FROM walk WHERE reason IS NOT NULL
    """


COUNTS = """
    SELECT (SELECT count(*) FROM fb_raw) AS rows,
           (SELECT count(DISTINCT line_no) FROM fb_problems) AS bad,
           (SELECT count(*) FROM fb_present) AS present
"""

ERRORS = f"""
    SELECT line_no AS line, field, code, reason FROM fb_problems
    ORDER BY line_no, field, code LIMIT {ERRORS_SHOWN}
"""

GOOD_ROWS = f"""
    SELECT c.state, c."at", c.detail, {", ".join(f"f.{n}" for n in CONTACT_FIELDS)}
    FROM fb_candidates c JOIN fb_first f USING (contact_key)
    WHERE c.line_no NOT IN (SELECT line_no FROM fb_problems)
    ORDER BY c."at", c.line_no
"""

# The appended rows that may carry an outcome; the detail of an order or a failure is a
# reference or a reason, not an answer, so it is left out of the lookup.
APPENDED_OUTCOMES = """
    SELECT contact_key, state, CASE WHEN state = 'answered' THEN detail END AS detail
    FROM fb_candidates
    WHERE line_no NOT IN (SELECT line_no FROM fb_problems)
      AND state IN ('answered', 'ordered', 'failed')
"""

LEDGER_COLUMNS = ("id", "state", "at", "detail", *CONTACT_FIELDS)


def _ledger_rows(session: Session, keys: list[str]) -> pa.Table:
    """Every ledger row of these contacts, one query per ``KEYS_PER_QUERY`` keys."""
    schema = pa.schema([SCHEMA.field(n) for n in LEDGER_COLUMNS])
    parts = [schema.empty_table()]
    query = select(*(getattr(ContactEvent, n) for n in LEDGER_COLUMNS))
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        rows = session.execute(query.where(ContactEvent.contact_key.in_(chunk))).all()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in LEDGER_COLUMNS]
        parts.append(
            pa.table(
                {f.name: pa.array(c, type=f.type) for f, c in zip(schema, columns, strict=True)},
                schema=schema,
            )
        )
    return pa.concat_tables(parts)
