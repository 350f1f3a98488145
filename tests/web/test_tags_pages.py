"""The tag library's screen over HTTP: open to every role, search, a tag's definition with
its distribution and the snapshot it was computed in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from steward.auth.models import Role
from tests.web_fixtures import PASSWORD, Api

pytest_plugins = ["tests.web_fixtures"]

EN = {"Accept-Language": "en-GB,en;q=0.8"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def signed_in(api: Api, who: str) -> TestClient:
    client = api.client
    client.cookies.clear()
    answer = client.post("/signin", data={"username": who, "password": PASSWORD})
    assert answer.status_code == 200
    return client


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_tag_library_as_the_api_allows(api: Api, role: Role) -> None:
    client = signed_in(api, role.value)
    page = client.get("/workbench/tags", headers=EN)
    assert page.status_code == 200
    assert "This screen is not open to your role." not in page.text
    assert 'href="/workbench/tags"' in client.get("/home", headers=EN).text


def test_a_visitor_is_sent_to_sign_in(api: Api) -> None:
    api.client.cookies.clear()
    answer = api.client.get("/workbench/tags/brand", follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_the_search_keeps_the_tags_that_hold_every_word(api: Api) -> None:
    client = signed_in(api, "planner")
    found = client.get("/workbench/tags", params={"q": "arpu 3"}, headers=EN).text
    assert "<code>arpu_3m</code>" in found
    assert "<code>brand</code>" not in found
    chinese = client.get("/workbench/tags", params={"q": "品牌"}, headers=ZH).text
    assert "<code>brand</code>" in chinese
    assert "没有符合的标签" in client.get("/workbench/tags", params={"q": "zzz"}, headers=ZH).text


def test_a_category_tag_shows_its_definition_top_values_and_freshness(api: Api) -> None:
    page = signed_in(api, "analyst").get("/workbench/tags/brand", headers=EN).text
    assert "Brand" in page
    assert "bi-team" in page
    assert "<code>profile</code>" in page
    assert "Computed in the snapshot of 2026-11-30" in page
    top = page.split('data-testid="top"')[1].split("</table>")[0]
    # the brand's codes (gotone, mzone) in words
    assert '<td>GoTone</td><td class="number">2</td>' in top
    assert '<td>M-Zone</td><td class="number">1</td>' in top
    assert 'id="distribution"' in page


def test_a_numeric_tag_shows_its_quantiles(api: Api) -> None:
    page = signed_in(api, "planner").get("/workbench/tags/age", headers=ZH).text
    assert 'data-testid="stats"' in page
    assert "中位数" in page
    assert "整数" in page


def test_an_unknown_tag_is_a_404_page(api: Api) -> None:
    answer = signed_in(api, "planner").get("/workbench/tags/nope", headers=EN)
    assert answer.status_code == 404
    assert "No tag is named nope." in answer.text
