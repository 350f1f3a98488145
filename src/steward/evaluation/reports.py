"""Manual evaluation reports (R-EVAL-4): files analysts and planners upload about a campaign.

An upload is checked at the edge before anything is saved: a title, a file of an allowed
kind — by its extension *and* by its first bytes, so a renamed program is refused — at most
``MAX_BYTES``, and a campaign inside the uploader's district. A CSV is parsed too, and an
unreadable one is refused naming its line. The file is kept in the database with its SHA-256;
every upload and every download is audited.

Messages are English templates with their values apart (``ReportError``), so a page can show
them in the reader's language; the catalogue holds each of ``MESSAGES``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import audit, within
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign
from steward.evaluation.models import EvaluationReport
from steward.wording import N_, Refusal

MAX_BYTES = 10 * 1024 * 1024
MAX_TITLE = 200
MAX_SUMMARY = 4000
MAX_FILENAME = 255
# Who may upload (analysts evaluate, planners report on their campaigns) and who may read:
# the evaluation API's readers, approvers among them.
UPLOADERS = frozenset({Role.ANALYST, Role.PLANNER, Role.SYSTEM_ADMIN})
READERS = UPLOADERS | {Role.APPROVER}

# The English messages; pages translate them (evaluation.po holds each one).
EMPTY_TITLE = N_("Give the report a title.")
LONG_TITLE = N_("A title has at most %(limit)s characters.")
LONG_SUMMARY = N_("A summary has at most %(limit)s characters.")
NO_FILE = N_("Choose a file to upload.")
LONG_FILENAME = N_("A file name has at most %(limit)s characters.")
EMPTY_FILE = N_("The file is empty.")
TOO_BIG = N_("The file is larger than %(limit)s MB.")
BAD_TYPE = N_(
    "Only PDF, XLSX, DOCX, CSV, Markdown or text files can be uploaded, not “%(extension)s”."
)
BAD_CONTENT = N_("The file is named %(extension)s but its content is not a %(kind)s file.")
NOT_TEXT = N_("The file is not text: it must be UTF-8 or GB18030 without control characters.")
CSV_FIELDS = N_("CSV line %(line)s has %(found)s fields where the header has %(expected)s.")
CSV_UNREADABLE = N_("CSV line %(line)s cannot be read: %(problem)s.")
CSV_EMPTY = N_("The CSV file has no header line.")
NO_CAMPAIGN = N_("No campaign %(id)s in your district.")
NO_REPORT = N_("No evaluation report %(id)s for this campaign.")
NOT_ALLOWED = N_("Your role may not upload evaluation reports.")
MESSAGES = (
    EMPTY_TITLE,
    LONG_TITLE,
    LONG_SUMMARY,
    NO_FILE,
    LONG_FILENAME,
    EMPTY_FILE,
    TOO_BIG,
    BAD_TYPE,
    BAD_CONTENT,
    NOT_TEXT,
    CSV_FIELDS,
    CSV_UNREADABLE,
    CSV_EMPTY,
    NO_CAMPAIGN,
    NO_REPORT,
    NOT_ALLOWED,
)


class ReportError(Refusal):
    """An upload or download that cannot be honoured.

    ``field`` names the input at fault (title, summary, file, campaign, report, role);
    ``template`` is one of ``MESSAGES`` and ``params`` its values, so the message can be
    shown translated (a ``Refusal``); ``str()`` gives it in English, field first.
    """

    def __init__(self, field: str, template: str, **params: object) -> None:
        super().__init__(template, field=field, **params)
        self.args = (f"{field}: {self.args[0]}",)


class ReportNotFoundError(ReportError):
    """The campaign or the report is unknown, or outside the user's district."""


@dataclass(frozen=True)
class Kind:
    """An allowed kind of file: its name, media type, and the test its bytes must pass."""

    name: str
    media_type: str
    text: bool = False
    zip_member: str = ""  # an Office file is a ZIP holding this part
    magic: bytes = b""


PDF = Kind("PDF", "application/pdf", magic=b"%PDF-")
XLSX = Kind(
    "XLSX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    zip_member="xl/workbook.xml",
)
DOCX = Kind(
    "DOCX",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    zip_member="word/document.xml",
)
CSV = Kind("CSV", "text/csv", text=True)
MARKDOWN = Kind("Markdown", "text/markdown", text=True)
TEXT = Kind("text", "text/plain", text=True)
KINDS = {
    ".pdf": PDF,
    ".xlsx": XLSX,
    ".docx": DOCX,
    ".csv": CSV,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
}
ZIP_MAGIC = b"PK\x03\x04"
# Text may hold tabs, line and page breaks; any other control character means binary.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
ENCODINGS = ("utf-8-sig", "gb18030")  # what Chinese office tools write CSV and text in


def upload(
    session: Session,
    *,
    campaign_id: int,
    title: str,
    summary: str,
    filename: str,
    body: bytes,
    by: User,
) -> EvaluationReport:
    """Keep a checked report for the campaign and audit the upload; raise ``ReportError``
    (``ReportNotFoundError`` for a campaign outside ``by``'s district) with nothing saved."""
    if Role(by.role) not in UPLOADERS:
        raise ReportError("role", NOT_ALLOWED)
    campaign = _campaign(session, campaign_id, by)
    title, summary = _checked_text(title, summary)
    name = _safe_filename(filename)
    media_type = _checked_file(name, body)
    report = EvaluationReport(
        campaign_id=campaign.id,
        title=title,
        summary=summary,
        filename=name,
        media_type=media_type,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        uploaded_by=by.username,
    )
    session.add(report)
    session.flush()
    _audit(session, report, by, "evaluation.report.upload")
    return report


def for_campaign(session: Session, campaign_id: int, *, user: User) -> list[EvaluationReport]:
    """The campaign's reports, newest first, without their files."""
    campaign = _campaign(session, campaign_id, user)
    query = (
        select(EvaluationReport)
        .where(EvaluationReport.campaign_id == campaign.id)
        .order_by(EvaluationReport.uploaded_at.desc(), EvaluationReport.id.desc())
    )
    return list(session.scalars(query))


def download(session: Session, *, campaign_id: int, report_id: int, by: User) -> EvaluationReport:
    """The report with its file, audited as read by ``by``; ``ReportNotFoundError`` when the
    campaign is outside ``by``'s district or the report is not the campaign's."""
    campaign = _campaign(session, campaign_id, by)
    report = session.get(EvaluationReport, report_id)
    if report is None or report.campaign_id != campaign.id:
        raise ReportNotFoundError("report", NO_REPORT, id=report_id)
    _audit(session, report, by, "evaluation.report.download")
    return report


def _audit(session: Session, report: EvaluationReport, by: User, action: str) -> None:
    audit(
        session,
        actor=by.username,
        action=action,
        entity="evaluation_report",
        entity_id=str(report.id),
        detail=_detail(report),
    )


def download_headers(report: EvaluationReport) -> dict[str, str]:
    """The headers a download goes with: always an attachment (RFC 6266, an ASCII fallback
    and the UTF-8 name, so a Chinese file name survives), never sniffed — an uploaded text
    file holding HTML must not run as a page of ours."""
    name = report.filename
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
    }


def _campaign(session: Session, campaign_id: int, user: User) -> Campaign:
    campaign = campaigns.get(session, campaign_id)
    if campaign is None or not within(campaign.district, user.district):
        raise ReportNotFoundError("campaign", NO_CAMPAIGN, id=campaign_id)
    return campaign


def _detail(report: EvaluationReport) -> dict[str, object]:
    return {
        "campaign_id": report.campaign_id,
        "filename": report.filename,
        "size": report.size,
        "sha256": report.sha256,
    }


def _checked_text(title: str, summary: str) -> tuple[str, str]:
    title, summary = title.strip(), summary.strip()
    if not title:
        raise ReportError("title", EMPTY_TITLE)
    if len(title) > MAX_TITLE:
        raise ReportError("title", LONG_TITLE, limit=MAX_TITLE)
    if len(summary) > MAX_SUMMARY:
        raise ReportError("summary", LONG_SUMMARY, limit=MAX_SUMMARY)
    return title, summary


def _safe_filename(filename: str) -> str:
    """The file's own name: no folders (of either system), no control characters."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    name = "".join(c for c in unicodedata.normalize("NFC", name) if c.isprintable()).strip()
    if not name:
        raise ReportError("file", NO_FILE)
    if len(name) > MAX_FILENAME:
        raise ReportError("file", LONG_FILENAME, limit=MAX_FILENAME)
    return name


def _checked_file(name: str, body: bytes) -> str:
    """The media type of an allowed, readable file; else ``ReportError`` naming why."""
    extension = PurePosixPath(name).suffix.lower()
    kind = KINDS.get(extension)
    if kind is None:
        raise ReportError("file", BAD_TYPE, extension=extension or name)
    if not body:
        raise ReportError("file", EMPTY_FILE)
    if len(body) > MAX_BYTES:
        raise ReportError("file", TOO_BIG, limit=MAX_BYTES // (1024 * 1024))
    if kind.text:
        encoding = _text_encoding(body)
        if kind is CSV:
            _check_csv(body.decode(encoding))
        return f"{kind.media_type}; charset={encoding.removesuffix('-sig')}"
    if not _has_magic(kind, body):
        raise ReportError("file", BAD_CONTENT, extension=extension, kind=kind.name)
    return kind.media_type


def _has_magic(kind: Kind, body: bytes) -> bool:
    if kind.magic:
        return body.startswith(kind.magic)
    if not body.startswith(ZIP_MAGIC):
        return False
    try:  # only the archive's directory is read: no member is unpacked
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return kind.zip_member in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _text_encoding(body: bytes) -> str:
    """The encoding the text decodes in; refused when binary (a renamed PDF or program)."""
    if body.startswith((ZIP_MAGIC, PDF.magic)) or b"\x00" in body:
        raise ReportError("file", NOT_TEXT)
    for encoding in ENCODINGS:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if CONTROL.search(text):
            break
        return encoding
    raise ReportError("file", NOT_TEXT)


def _check_csv(text: str) -> None:
    """Every line of the CSV parses and has the header's number of fields."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ReportError("file", CSV_EMPTY)
        for row in reader:
            if row and len(row) != len(header):
                raise ReportError(
                    "file", CSV_FIELDS, line=reader.line_num, found=len(row), expected=len(header)
                )
    except csv.Error as exc:
        raise ReportError("file", CSV_UNREADABLE, line=reader.line_num, problem=str(exc)) from exc
