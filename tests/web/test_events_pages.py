"""The event library and the watch list screens over HTTP (issue 6, screen 10)."""

from __future__ import annotations

from datetime import UTC, datetime

from steward import db
from steward.events.models import WatchEntry
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api


def watching(api: Api, district: str = "lanzhou/chengguan") -> int:
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    with db.transaction(sessions) as session:
        entry = WatchEntry(
            msisdn="13800000001",
            reason="high_realtime_charges",
            district=district,
            event_id=f"e-{district}",
            figure=512.5,
            opened_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
            status="open",
        )
        session.add(entry)
        session.flush()
        return entry.id


def test_the_library_lists_every_event_type_in_the_pages_language(api: Api) -> None:
    client = signed_in(api, "analyst")
    chinese = client.get("/events", headers=ZH).text
    assert "balance_low" in chinese
    assert "事件库" in chinese
    english = client.get("/language/en?back=/events").text
    assert "Event library" in english
    assert "balance_low" in english


def test_a_review_moves_the_entry_and_closing_needs_a_note(api: Api) -> None:
    entry = watching(api)
    client = signed_in(api, "agent")
    client.get("/language/en")
    assert "138****0001" in client.get("/watch").text
    assert "High charges" in client.get("/watch").text
    taken = client.post(f"/watch/{entry}", data={"to": "reviewing"})
    assert 'data-testid="status">Reviewing<' in taken.text
    refused = client.post(f"/watch/{entry}", data={"to": "cleared", "note": " "})
    assert "a note is required" in refused.text
    closed = client.post(f"/watch/{entry}", data={"to": "cleared", "note": "a trip abroad"})
    assert 'data-testid="status">Cleared<' in closed.text
    assert "a trip abroad" in closed.text
    assert "<form" not in closed.text  # closed: nothing more to do
    assert "Cleared" in client.get("/watch?status=cleared", headers=EN).text


def test_an_entry_outside_the_district_is_neither_shown_nor_reviewed(api: Api) -> None:
    entry = watching(api, district="tianshui/qinzhou")
    client = signed_in(api, "lanzhou_planner")
    assert "138****0001" not in client.get("/watch").text
    answer = client.post(f"/watch/{entry}", data={"to": "reviewing"}, headers=EN)
    assert f"no watch-list entry {entry} in your district" in answer.text
    chinese = client.post(f"/watch/{entry}", data={"to": "reviewing"}, headers=ZH)
    assert f"您所辖区域内没有关注名单条目 {entry}" in chinese.text


def test_a_refused_review_says_why_in_the_pages_language(api: Api) -> None:
    entry = watching(api)
    client = signed_in(api, "agent")
    refused = client.post(f"/watch/{entry}", data={"to": "acted", "note": ""}, headers=ZH)
    assert "标记为“已处理”前，请说明核查结果或处理措施（备注必填）" in refused.text
    assert "a note is required" not in refused.text
    english = client.post(f"/watch/{entry}", data={"to": "acted"}, headers=EN)
    assert "say what was found or done to mark it acted (a note is required)" in english.text
    reopened = client.post(f"/watch/{entry}", data={"to": "open"}, headers=ZH)
    assert "条目不能退回待处理状态" in reopened.text
    unknown = client.post(f"/watch/{entry}", data={"to": "lost"}, headers=ZH)
    assert "不存在复核状态 &#39;lost&#39;" in unknown.text
    client.post(f"/watch/{entry}", data={"to": "cleared", "note": "a trip abroad"})
    again = client.post(f"/watch/{entry}", data={"to": "reviewing"}, headers=ZH)
    assert f"条目 {entry} 已排除，不能再次复核" in again.text
    again = client.post(f"/watch/{entry}", data={"to": "reviewing"}, headers=EN)
    assert f"entry {entry} is cleared already" in again.text


def test_a_clerk_has_neither_screen(api: Api) -> None:
    client = signed_in(api, "clerk")
    client.get("/language/en")
    for path in ("/events", "/watch"):
        assert "This screen is not open to your role." in client.get(path).text
    assert "This screen is not open" in client.post("/watch/1", data={"to": "reviewing"}).text
