"""Manual evaluation reports over HTTP (R-EVAL-4): the REST routes and the section of the
campaign monitor — analysts and planners upload, approvers read, each within the district,
a refused file named in the reader's language, every download audited."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from steward import db
from steward.auth.models import AuditEntry
from steward.evaluation import reports
from steward.evaluation.models import EvaluationReport
from steward.web import i18n
from tests.evaluation.test_api import seed
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
CSV = "城市,订购\n兰州,8\n".encode()


def count(api: Api, model: type[EvaluationReport] | type[AuditEntry], **where: str) -> int:
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_an_analyst_uploads_over_the_api_and_an_approver_lists_and_downloads(api: Api) -> None:
    campaign_id = seed(api)
    made = api.client.post(
        f"/campaigns/{campaign_id}/reports",
        data={"title": "效果评估", "summary": "订购率提升"},
        files={"file": ("评估.csv", CSV, "text/csv")},
        headers=api.as_("analyst"),
    )
    assert made.status_code == 201, made.text
    report = made.json()
    assert (report["filename"], report["size"]) == ("评估.csv", len(CSV))
    assert report["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert report["uploaded_by"] == "analyst"

    listed = api.client.get(f"/campaigns/{campaign_id}/reports", headers=api.as_("approver"))
    assert [r["title"] for r in listed.json()] == ["效果评估"]
    got = api.client.get(
        f"/campaigns/{campaign_id}/reports/{report['id']}", headers=api.as_("approver")
    )
    assert got.status_code == 200
    assert got.content == CSV
    assert got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"__.csv\"; filename*=UTF-8''%E8%AF%84%E4%BC%B0.csv"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert count(api, AuditEntry, action="evaluation.report.download", actor="approver") == 1


def test_the_api_keeps_roles_and_districts_and_names_the_bad_field(api: Api) -> None:
    tianshui = seed(api, "tianshui")
    upload = {"data": {"title": "t"}, "files": {"file": ("r.pdf", PDF, "application/pdf")}}
    url = f"/campaigns/{tianshui}/reports"
    assert api.client.post(url, **upload, headers=api.as_("approver")).status_code == 403
    assert api.client.get(url, headers=api.as_("agent")).status_code == 403
    assert api.client.post(url, **upload, headers=api.as_("lanzhou_planner")).status_code == 404
    assert api.client.get(url, headers=api.as_("lanzhou_planner")).status_code == 404
    renamed = api.client.post(
        url,
        data={"title": "t"},
        files={"file": ("r.pdf", b"MZ\x90\x00", "application/pdf")},
        headers=api.as_("planner"),
    )
    assert renamed.status_code == 422
    assert (
        renamed.json()["detail"]
        == "file: The file is named .pdf but its content is not a PDF file."
    )
    untitled = api.client.post(
        url, data={"title": " "}, files=upload["files"], headers=api.as_("planner")
    )
    assert untitled.json()["detail"] == "title: Give the report a title."
    assert count(api, EvaluationReport) == 0
    made = api.client.post(url, **upload, headers=api.as_("planner"))
    assert made.status_code == 201
    elsewhere = f"/campaigns/{tianshui}/reports/{made.json()['id']}"
    assert api.client.get(elsewhere, headers=api.as_("lanzhou_planner")).status_code == 404


def test_an_analyst_uploads_on_the_monitor_and_sees_it_listed(api: Api) -> None:
    campaign_id = seed(api)
    client = signed_in(api, "analyst")
    monitor = client.get(f"/campaigns/{campaign_id}/monitor", headers=EN).text
    assert "No evaluation report yet." in monitor
    assert 'data-testid="report-upload"' in monitor
    answer = client.post(
        f"/campaigns/{campaign_id}/monitor/reports",
        data={"title": "Winter data pack", "summary": "Lift of 2 points"},
        files={"file": ("lift.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    listed = api.client.get(f"/campaigns/{campaign_id}/reports", headers=api.as_("analyst"))
    (report_id,) = [r["id"] for r in listed.json()]
    assert answer.headers["location"] == (
        f"/campaigns/{campaign_id}/monitor?uploaded={report_id}#reports"
    )
    page = client.get(answer.headers["location"], headers=EN).text
    assert "The report “Winter data pack” was uploaded." in page
    assert f'<tr data-report="{report_id}"><td>Winter data pack</td>' in page
    assert "Lift of 2 points" in page
    assert f'href="/campaigns/{campaign_id}/monitor/reports/{report_id}"' in page
    assert f'<td class="number">{len(PDF)} B</td><td>analyst</td>' in page
    chinese = client.get(f"/campaigns/{campaign_id}/monitor", headers=ZH).text
    assert "人工评估报告" in chinese
    assert "上传人" in chinese

    got = client.get(f"/campaigns/{campaign_id}/monitor/reports/{report_id}")
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="lift.pdf"')
    assert count(api, AuditEntry, action="evaluation.report.upload", actor="analyst") == 1
    assert count(api, AuditEntry, action="evaluation.report.download", actor="analyst") == 1


def test_a_refused_file_comes_back_on_the_monitor_in_chinese_with_the_form_kept(
    api: Api,
) -> None:
    campaign_id = seed(api)
    client = signed_in(api, "planner")
    answer = client.post(
        f"/campaigns/{campaign_id}/monitor/reports",
        data={"title": "冬季评估", "summary": "见附件"},
        files={"file": ("评估.pdf", b"PK\x03\x04 renamed", "application/pdf")},
        headers=ZH,
    )
    assert answer.status_code == 422
    assert "文件：文件扩展名为 .pdf，但内容不是 PDF 文件。" in answer.text
    assert 'value="冬季评估"' in answer.text
    assert ">见附件</textarea>" in answer.text
    assert 'type="file" name="file" required accept=".pdf,' in answer.text
    too_big = client.post(
        f"/campaigns/{campaign_id}/monitor/reports",
        data={"title": "big"},
        files={"file": ("big.txt", b"x" * (reports.MAX_BYTES + 1), "text/plain")},
        headers=EN,
    )
    assert too_big.status_code == 422
    assert "File: The file is larger than 10 MB." in too_big.text
    assert count(api, EvaluationReport) == 0


def test_an_approver_reads_the_reports_but_may_not_upload(api: Api) -> None:
    campaign_id = seed(api)
    made = api.client.post(
        f"/campaigns/{campaign_id}/reports",
        data={"title": "评估"},
        files={"file": ("r.md", b"# ok\n", "text/markdown")},
        headers=api.as_("analyst"),
    ).json()
    client = signed_in(api, "approver")
    page = client.get(f"/campaigns/{campaign_id}/monitor", headers=EN).text
    assert f'data-report="{made["id"]}"' in page
    assert 'data-testid="report-upload"' not in page
    refused = client.post(
        f"/campaigns/{campaign_id}/monitor/reports",
        data={"title": "mine"},
        files={"file": ("r.pdf", PDF, "application/pdf")},
        headers=EN,
    )
    assert refused.status_code == 403
    assert "This screen is not open to your role." in refused.text
    got = client.get(f"/campaigns/{campaign_id}/monitor/reports/{made['id']}")
    assert got.content == b"# ok\n"
    for role in ("agent", "clerk", "data_admin"):
        other = signed_in(api, role).get(
            f"/campaigns/{campaign_id}/monitor/reports/{made['id']}", headers=EN
        )
        assert "This screen is not open to your role." in other.text, role
    assert count(api, EvaluationReport) == 1


def test_a_campaign_outside_the_district_is_not_found_on_the_monitor(api: Api) -> None:
    tianshui = seed(api, "tianshui")
    made = api.client.post(
        f"/campaigns/{tianshui}/reports",
        data={"title": "t"},
        files={"file": ("r.pdf", PDF, "application/pdf")},
        headers=api.as_("analyst"),
    ).json()
    client = signed_in(api, "lanzhou_planner")
    upload = client.post(
        f"/campaigns/{tianshui}/monitor/reports",
        data={"title": "t"},
        files={"file": ("r.pdf", PDF, "application/pdf")},
    )
    assert upload.status_code == 404
    assert client.get(f"/campaigns/{tianshui}/monitor/reports/{made['id']}").status_code == 404
    assert count(api, EvaluationReport) == 1


def test_every_message_of_an_upload_reads_in_chinese_with_its_placeholders() -> None:
    chinese = i18n.translations("zh_CN")
    for message in reports.MESSAGES:
        translated = chinese.gettext(message)
        assert translated != message, message
        names = sorted(p.split(")")[0] for p in message.split("%(")[1:])
        assert sorted(p.split(")")[0] for p in translated.split("%(")[1:]) == names, message
