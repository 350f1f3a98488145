"""The REST API of tags and segments, on a real app over a real lake."""

from __future__ import annotations

import pytest

from steward.web import app as web_app
from tests.web_fixtures import Api


def test_trial_count_through_the_api(api: Api) -> None:
    response = api.client.post(
        "/segments/count", json={"rule": "brand = 'mzone'"}, headers=api.as_("planner")
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1


def test_a_city_user_counts_only_their_city(api: Api) -> None:
    rule = {"rule": "TRUE"}
    assert (
        api.client.post("/segments/count", json=rule, headers=api.as_("planner")).json()["total"]
        == 3
    )
    scoped = api.client.post("/segments/count", json=rule, headers=api.as_("lanzhou_planner"))
    assert scoped.json()["total"] == 2
    assert scoped.json()["by_city"] == {"lanzhou": 2}


def test_a_bad_rule_is_a_422_with_position_and_suggestions(api: Api) -> None:
    response = api.client.post(
        "/segments/count", json={"rule": "brand = 'x' AND arpu3m > 5"}, headers=api.as_("analyst")
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["column"] > 1
    assert "arpu_3m" in detail["suggestions"]


def test_create_list_count_and_snapshot_a_segment(api: Api) -> None:
    planner = api.as_("planner")
    created = api.client.post("/segments", json={"name": "all", "rule": "TRUE"}, headers=planner)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["owner"] == "planner"
    assert [s["name"] for s in api.client.get("/segments", headers=planner).json()] == ["all"]
    count = api.client.get(f"/segments/{segment['id']}/count", headers=api.as_("approver"))
    assert count.json()["total"] == 3
    snap = api.client.post(f"/segments/{segment['id']}/snapshot", headers=planner).json()
    assert snap["members"] == 3
    assert api.client.get("/segments/999", headers=planner).status_code == 404


def test_importing_a_list_by_upload(api: Api) -> None:
    response = api.client.post(
        "/segments/import",
        data={"name": "upload"},
        files={"file": ("l.txt", b"13800000001\nbad\n13800000002\n")},
        headers=api.as_("planner"),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["bad_lines"][0]["line"]) == (2, 2)


def test_tags_are_listed_and_shown_with_their_distribution(api: Api) -> None:
    clerk = api.as_("clerk")
    assert len(api.client.get("/tags", headers=clerk).json()) >= 80
    shown = api.client.get("/tags/brand", headers=clerk).json()
    assert shown["distribution"]["top"][0] == {"value": "gotone", "subscribers": 2}
    assert api.client.get("/tags/nope", headers=clerk).status_code == 404


def test_the_openapi_document_is_served(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {"/segments/count", "/segments", "/tags", "/auth/token"} <= set(paths)


def test_an_upload_larger_than_any_route_takes_is_refused_before_it_is_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app refuses a multipart body over its limit by its stated length (413), before
    the multipart parser spools the file to disk; one within the limit goes through."""
    monkeypatch.setattr(web_app, "MAX_UPLOAD_BODY", 2000)
    numbers = "".join(f"1380000{n:04d}\n" for n in range(300)).encode()  # 3 600 bytes
    refused = api.client.post(
        "/segments/import",
        data={"name": "too big"},
        files={"file": ("l.txt", numbers)},
        headers=api.as_("planner"),
    )
    assert refused.status_code == 413
    assert "at most 2000 bytes" in refused.json()["detail"]
    taken = api.client.post(
        "/segments/import",
        data={"name": "small", "dry_run": "true"},
        files={"file": ("l.txt", numbers[:600])},
        headers=api.as_("planner"),
    )
    assert taken.status_code == 200, taken.text
