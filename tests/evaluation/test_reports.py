"""Manual evaluation reports (R-EVAL-4): checked at the edge, kept byte for byte, audited."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import AuditEntry, Role, User
from steward.campaigns.models import Campaign
from steward.evaluation import reports
from steward.evaluation.models import EvaluationReport

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CSV = "城市,接触数,订购数\n兰州,120,8\n天水,80,3\n".encode()


def office(*members: str) -> bytes:
    """A ZIP holding ``members``: how XLSX and DOCX files are made."""
    found = io.BytesIO()
    with zipfile.ZipFile(found, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for member in members:
            archive.writestr(member, "<x/>")
    return found.getvalue()


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    def user(name: str, role: Role, district: str = "province") -> User:
        return auth.create_user(
            session,
            username=name,
            password="a long password",
            role=role,
            district=district,
            by="test",
        )

    return {
        "analyst": user("analyst", Role.ANALYST),
        "planner": user("lz.planner", Role.PLANNER, "lanzhou"),
        "approver": user("approver", Role.APPROVER),
        "agent": user("agent", Role.AGENT),
    }


def campaign(session: Session, district: str = "lanzhou") -> int:
    day = date(2026, 12, 2)
    found = Campaign(
        name=f"data pack {district}",
        kind="marketing",
        status="running",
        segment_ids=[],
        offer_ids=[1],
        channels=["sms"],
        waves=[],
        control_share=0.1,
        priority=50,
        expected_rate=0.02,
        success_rule={"event": "order", "within_days": 7},
        budget=[],
        start_date=day,
        end_date=day,
        owner="planner",
        district=district,
    )
    session.add(found)
    session.flush()
    return found.id


def upload(
    session: Session,
    by: User,
    campaign_id: int,
    *,
    filename: str = "评估.pdf",
    body: bytes = PDF,
    title: str = "冬季流量包评估",
    summary: str = "",
) -> EvaluationReport:
    return reports.upload(
        session,
        campaign_id=campaign_id,
        title=title,
        summary=summary,
        filename=filename,
        body=body,
        by=by,
    )


def audited(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_report_comes_back_byte_for_byte_with_its_digest_and_both_ways_audited(
    session: Session, people: dict[str, User]
) -> None:
    campaign_id = campaign(session)
    saved = upload(session, people["analyst"], campaign_id, summary="订购率高于对照组 2 个百分点")
    assert (saved.filename, saved.media_type, saved.size) == (
        "评估.pdf",
        "application/pdf",
        len(PDF),
    )
    assert saved.sha256 == hashlib.sha256(PDF).hexdigest()
    session.expire_all()  # read back from the database, not the identity map

    (listed,) = reports.for_campaign(session, campaign_id, user=people["approver"])
    assert (listed.title, listed.summary) == ("冬季流量包评估", "订购率高于对照组 2 个百分点")
    fetched = reports.download(
        session, campaign_id=campaign_id, report_id=saved.id, by=people["approver"]
    )
    assert fetched.body == PDF
    assert hashlib.sha256(fetched.body).hexdigest() == fetched.sha256

    (up,) = audited(session, "evaluation.report.upload")
    (down,) = audited(session, "evaluation.report.download")
    assert (up.actor, up.entity, up.entity_id) == ("analyst", "evaluation_report", str(saved.id))
    assert down.actor == "approver"
    assert (
        up.detail
        == down.detail
        == {
            "campaign_id": campaign_id,
            "filename": "评估.pdf",
            "size": len(PDF),
            "sha256": saved.sha256,
        }
    )


def test_office_csv_markdown_and_text_files_are_taken_with_their_media_type(
    session: Session, people: dict[str, User]
) -> None:
    campaign_id = campaign(session)
    cases = {
        "数据.xlsx": (office("xl/workbook.xml"), reports.XLSX.media_type),
        "报告.DOCX": (office("word/document.xml"), reports.DOCX.media_type),
        "明细.csv": (CSV, "text/csv; charset=utf-8"),
        "gbk.csv": ("城市,订购\r\n兰州,8\r\n".encode("gb18030"), "text/csv; charset=gb18030"),
        "notes.md": ("# 结论\n\n- 有效\n".encode(), "text/markdown; charset=utf-8"),
        "notes.txt": (b"\xef\xbb\xbfplain\ttext\n", "text/plain; charset=utf-8"),
    }
    for name, (body, media_type) in cases.items():
        assert upload(session, people["analyst"], campaign_id, filename=name, body=body).media_type
        saved = upload(session, people["planner"], campaign_id, filename=name, body=body)
        assert saved.media_type == media_type, name
    assert len(reports.for_campaign(session, campaign_id, user=people["analyst"])) == 12


def test_a_file_name_keeps_only_its_own_name(session: Session, people: dict[str, User]) -> None:
    saved = upload(
        session, people["analyst"], campaign(session), filename="C:\\Users\\张\\..\\评估\x07.pdf"
    )
    assert saved.filename == "评估.pdf"


TOO_BIG = b"a,b\n" + b"1,2\n" * (reports.MAX_BYTES // 4)


@pytest.mark.parametrize(
    ("filename", "body", "title", "field", "template", "params"),
    [
        ("tool.exe", b"MZ\x90\x00", "t", "file", reports.BAD_TYPE, {"extension": ".exe"}),
        ("report", PDF, "t", "file", reports.BAD_TYPE, {"extension": "report"}),
        (
            "report.pdf",
            office("word/document.xml"),
            "t",
            "file",
            reports.BAD_CONTENT,
            {"extension": ".pdf", "kind": "PDF"},
        ),
        (
            "numbers.xlsx",
            office("word/document.xml"),
            "t",
            "file",
            reports.BAD_CONTENT,
            {"extension": ".xlsx", "kind": "XLSX"},
        ),
        (
            "letter.docx",
            b"PK\x03\x04 not a zip at all",
            "t",
            "file",
            reports.BAD_CONTENT,
            {"extension": ".docx", "kind": "DOCX"},
        ),
        ("notes.txt", PDF + b"\x00\x01", "t", "file", reports.NOT_TEXT, {}),
        ("data.csv", office("xl/workbook.xml"), "t", "file", reports.NOT_TEXT, {}),
        ("notes.md", b"\xff\xfe\x00\x00", "t", "file", reports.NOT_TEXT, {}),
        ("big.csv", TOO_BIG, "t", "file", reports.TOO_BIG, {"limit": 10}),
        ("empty.pdf", b"", "t", "file", reports.EMPTY_FILE, {}),
        ("", PDF, "t", "file", reports.NO_FILE, {}),
        ("r.pdf", PDF, "  \n ", "title", reports.EMPTY_TITLE, {}),
        ("r.pdf", PDF, "长" * 201, "title", reports.LONG_TITLE, {"limit": 200}),
        (
            "data.csv",
            "城市,订购\n兰州,8\n天水,3,多余\n".encode(),
            "t",
            "file",
            reports.CSV_FIELDS,
            {"line": 3, "found": 3, "expected": 2},
        ),
        ("data.csv", b"", "t", "file", reports.EMPTY_FILE, {}),
    ],
)
def test_a_bad_upload_is_refused_naming_its_field_and_nothing_is_saved(
    session: Session,
    people: dict[str, User],
    filename: str,
    body: bytes,
    title: str,
    field: str,
    template: str,
    params: dict[str, object],
) -> None:
    campaign_id = campaign(session)
    with pytest.raises(reports.ReportError) as refused:
        upload(session, people["analyst"], campaign_id, filename=filename, body=body, title=title)
    assert (refused.value.field, refused.value.template) == (field, template)
    assert refused.value.params == params
    assert str(refused.value).startswith(f"{field}: ")
    assert session.scalar(select(func.count()).select_from(EvaluationReport)) == 0
    assert audited(session, "evaluation.report.upload") == []


def test_an_unreadable_csv_is_refused_naming_its_line(
    session: Session, people: dict[str, User]
) -> None:
    body = b'city,orders\nlanzhou,8\n"tianshui,3\n'
    with pytest.raises(reports.ReportError) as refused:
        upload(session, people["analyst"], campaign(session), filename="x.csv", body=body)
    assert refused.value.template == reports.CSV_UNREADABLE
    assert refused.value.params["line"] == 3
    assert "CSV line 3 cannot be read" in str(refused.value)


def test_a_long_summary_is_refused(session: Session, people: dict[str, User]) -> None:
    with pytest.raises(reports.ReportError) as refused:
        upload(session, people["analyst"], campaign(session), summary="多" * 4001)
    assert (refused.value.field, refused.value.params) == ("summary", {"limit": 4000})


def test_a_campaign_outside_the_district_is_not_found_for_any_step(
    session: Session, people: dict[str, User]
) -> None:
    tianshui = campaign(session, "tianshui")
    saved = upload(session, people["analyst"], tianshui)  # a province analyst reaches it
    lanzhou = people["planner"]
    with pytest.raises(reports.ReportNotFoundError) as refused:
        upload(session, lanzhou, tianshui)
    assert (refused.value.field, refused.value.params) == ("campaign", {"id": tianshui})
    with pytest.raises(reports.ReportNotFoundError):
        reports.for_campaign(session, tianshui, user=lanzhou)
    with pytest.raises(reports.ReportNotFoundError):
        reports.download(session, campaign_id=tianshui, report_id=saved.id, by=lanzhou)
    with pytest.raises(reports.ReportNotFoundError):
        upload(session, people["analyst"], 999_999)
    assert session.scalar(select(func.count()).select_from(EvaluationReport)) == 1
    assert audited(session, "evaluation.report.download") == []


def test_a_report_is_reached_only_through_its_own_campaign(
    session: Session, people: dict[str, User]
) -> None:
    saved = upload(session, people["analyst"], campaign(session))
    other = campaign(session, "lanzhou/chengguan")
    with pytest.raises(reports.ReportNotFoundError) as refused:
        reports.download(session, campaign_id=other, report_id=saved.id, by=people["analyst"])
    assert (refused.value.field, refused.value.params) == ("report", {"id": saved.id})


def test_only_analysts_planners_and_administrators_upload(
    session: Session, people: dict[str, User]
) -> None:
    campaign_id = campaign(session)
    for who in ("approver", "agent"):
        with pytest.raises(reports.ReportError) as refused:
            upload(session, people[who], campaign_id)
        assert refused.value.field == "role"
    assert {Role.ANALYST, Role.PLANNER, Role.SYSTEM_ADMIN} == reports.UPLOADERS
    assert reports.UPLOADERS | {Role.APPROVER} == reports.READERS


def test_a_download_is_an_attachment_under_its_chinese_name_never_sniffed(
    session: Session, people: dict[str, User]
) -> None:
    saved = upload(session, people["analyst"], campaign(session), filename='评估 "终稿".pdf')
    headers = reports.download_headers(saved)
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"__ ____.pdf\"; filename*=UTF-8''"
        "%E8%AF%84%E4%BC%B0%20%22%E7%BB%88%E7%A8%BF%22.pdf"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
