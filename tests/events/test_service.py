"""Event ingestion: a batch checked whole, stored before it is acknowledged, retries counted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.events import service
from steward.events.library import EventLibrary, load_library
from steward.events.models import EventInbox
from tests.web_fixtures import Api


@pytest.fixture(scope="module")
def library() -> EventLibrary:
    return load_library()


def low_balance(event_id: str, balance: float = 4.5) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "balance_low",
        "msisdn": "13800000001",
        "at": "2026-12-03T09:30:00+08:00",
        "params": {"balance": balance, "threshold": 10.0},
    }


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(EventInbox)) or 0


def test_a_batch_is_stored_and_a_retry_changes_nothing(
    session: Session, library: EventLibrary
) -> None:
    first = service.accept(session, library, [low_balance("e1"), low_balance("e2")])
    assert (first.accepted, first.duplicates) == (2, 0)
    again = service.accept(session, library, [low_balance("e1")])
    assert (again.accepted, again.duplicates) == (0, 1)
    assert stored(session) == 2
    (oldest, _) = service.pending(session)
    assert oldest["event_id"] == "e1"
    assert oldest["at"].isoformat() == "2026-12-03T01:30:00+00:00"


def test_a_bad_event_refuses_the_whole_batch_naming_index_and_field(
    session: Session, library: EventLibrary
) -> None:
    bad = low_balance("e2") | {"msisdn": "12345"}
    with pytest.raises(service.BatchError) as refused:
        service.accept(session, library, [low_balance("e1"), bad])
    assert {(p["index"], p["field"]) for p in refused.value.problems} == {(1, "msisdn")}
    assert stored(session) == 0


def test_a_known_id_with_other_content_is_a_conflict(
    session: Session, library: EventLibrary
) -> None:
    service.accept(session, library, [low_balance("e1", 4.5)])
    with pytest.raises(service.BatchError, match="nothing was accepted") as refused:
        service.accept(session, library, [low_balance("e1", 2.0)])
    assert refused.value.problems[0]["field"] == "id"


def test_producers_post_events_and_others_may_not(api: Api) -> None:
    headers = api.as_("data_admin")
    posted = api.client.post(
        "/events", json=[low_balance("e1"), low_balance("e2")], headers=headers
    )
    assert posted.status_code == 202, posted.text
    assert posted.json() == {"accepted": 2, "duplicates": 0}
    one = api.client.post("/events", json=low_balance("e1"), headers=headers)
    assert one.json() == {"accepted": 0, "duplicates": 1}
    bad = api.client.post(
        "/events", json={"id": "x", "type": "nope", "msisdn": "1", "at": "now"}, headers=headers
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]["problems"]}
    assert {"type", "msisdn", "at"} <= fields
    refused = api.client.post("/events", json=low_balance("e3"), headers=api.as_("planner"))
    assert refused.status_code == 403


def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    headers = api.as_("data_admin")
    huge = [
        low_balance(f"e{n}") | {"params": {"balance": 1.0, "x": "y" * 3000}} for n in range(900)
    ]
    refused = api.client.post("/events", json=huge, headers=headers)
    assert refused.status_code == 413
    assert "at most" in refused.json()["detail"]
