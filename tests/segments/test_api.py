"""The REST API of tags and segments, on a real app over a real lake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward import db
from steward.settings import Settings
from steward.tags import service as tags_service
from steward.web.app import create_app
from tests.tags import factories as f


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path))
    with db.transaction(app.state.sessions) as session:
        f.publish(
            session,
            app.state.lake,
            "profile",
            date(2026, 11, 1),
            [f.profile("13800000001"), f.profile("13800000002", brand="mzone")],
        )
        tags_service.refresh(session, app.state.lake, app.state.catalogue, date(2026, 11, 30))
    with TestClient(app) as test_client:
        yield test_client


def test_trial_count_through_the_api(client: TestClient) -> None:
    response = client.post("/segments/count", json={"rule": "brand = 'mzone'"})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1


def test_a_bad_rule_is_a_422_with_position_and_suggestions(client: TestClient) -> None:
    response = client.post("/segments/count", json={"rule": "brand = 'x' AND arpu3m > 5"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["column"] > 1
    assert "arpu_3m" in detail["suggestions"]


def test_create_list_count_and_snapshot_a_segment(client: TestClient) -> None:
    created = client.post(
        "/segments", json={"name": "all", "rule": "TRUE"}, headers={"X-Steward-User": "planner1"}
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["owner"] == "planner1"
    assert [s["name"] for s in client.get("/segments").json()] == ["all"]
    assert client.get(f"/segments/{segment['id']}/count").json()["total"] == 2
    snap = client.post(f"/segments/{segment['id']}/snapshot").json()
    assert snap["members"] == 2
    assert client.get("/segments/999").status_code == 404


def test_importing_a_list_by_upload(client: TestClient) -> None:
    response = client.post(
        "/segments/import",
        data={"name": "upload"},
        files={"file": ("l.txt", b"13800000001\nbad\n13800000002\n")},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["bad_lines"][0]["line"]) == (2, 2)


def test_tags_are_listed_and_shown_with_their_distribution(client: TestClient) -> None:
    assert len(client.get("/tags").json()) >= 80
    shown = client.get("/tags/brand").json()
    assert shown["distribution"]["top"][0]["subscribers"] == 1
    assert client.get("/tags/nope").status_code == 404


def test_the_openapi_document_is_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/segments/count", "/segments", "/tags"} <= set(paths)
