"""The high-usage watch list over HTTP: the user's district only, closing needs a note."""

from __future__ import annotations

from steward import db
from steward.events.models import WatchEntry
from tests.web_fixtures import Api


def open_entries(api: Api) -> dict[str, int]:
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        rows = [
            WatchEntry(
                msisdn="13800000001",
                reason="high_realtime_charges",
                district="lanzhou/chengguan",
                event_id="w1",
                figure=320.0,
            ),
            WatchEntry(
                msisdn="13800000002",
                reason="international_roaming",
                district="tianshui/qinzhou",
                event_id="w2",
            ),
        ]
        session.add_all(rows)
        session.flush()
        return {r.event_id: r.id for r in rows}


def test_a_district_user_sees_and_reviews_only_their_entries(api: Api) -> None:
    ids = open_entries(api)
    province = api.client.get("/watch-list", headers=api.as_("planner")).json()
    assert {e["event_id"] for e in province} == {"w1", "w2"}
    lanzhou = api.as_("lanzhou_planner")
    mine = api.client.get("/watch-list", headers=lanzhou).json()
    assert [e["event_id"] for e in mine] == ["w1"]
    other = api.client.post(
        f"/watch-list/{ids['w2']}/review", json={"status": "reviewing"}, headers=lanzhou
    )
    assert other.status_code == 404
    taken = api.client.post(
        f"/watch-list/{ids['w1']}/review", json={"status": "reviewing"}, headers=lanzhou
    )
    assert taken.status_code == 200
    assert taken.json()["handler"] is not None
    silent = api.client.post(
        f"/watch-list/{ids['w1']}/review", json={"status": "cleared"}, headers=lanzhou
    )
    assert silent.status_code == 422
    closed = api.client.post(
        f"/watch-list/{ids['w1']}/review",
        json={"status": "acted", "note": "called: a roaming pack ordered"},
        headers=lanzhou,
    )
    assert closed.json()["status"] == "acted"
    again = api.client.post(
        f"/watch-list/{ids['w1']}/review", json={"status": "reviewing"}, headers=lanzhou
    )
    assert again.status_code == 422
    listed = api.client.get("/watch-list?status=open", headers=api.as_("planner")).json()
    assert [e["event_id"] for e in listed] == ["w2"]
