"""The offer catalogue's screen over HTTP (issue 6, screen 5; R-OFFER-1..4): open to those who
plan, approve and analyse, names in the page's language, filter and search, an offer's
eligibility, scripts and SMS texts."""

from __future__ import annotations

from typing import Any

import pytest

from steward import db
from steward.auth.models import Role
from steward.offers import service as offers_service
from steward.offers.pages import OFFERS
from tests.web.test_pages import EN, ZH, signed_in
from tests.web.test_wizard_pages import catalogue_api  # noqa: F401 - a fixture
from tests.web_fixtures import Api


def offer_id(api: Api, code: str) -> int:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        return next(o.id for o in offers_service.list_all(session) if o.code == code)


def test_the_screens_roles() -> None:
    assert {Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN} == OFFERS.roles


@pytest.mark.parametrize("role", list(Role))
def test_readers_see_the_catalogue_others_are_told_no(catalogue_api: Api, role: Role) -> None:  # noqa: F811
    page = signed_in(catalogue_api, role.value).get("/workbench/offers", headers=EN)
    reader = role in OFFERS.roles
    assert ("This screen is not open to your role." not in page.text) == reader
    assert ("10 GB data pack" in page.text) == reader


def test_the_catalogue_in_each_language_with_its_columns(catalogue_api: Api) -> None:  # noqa: F811
    client = signed_in(catalogue_api, "planner")
    english = client.get("/workbench/offers", headers=EN).text
    row = english.split('data-code="DP10G"', 1)[1].split("</tr>", 1)[0]
    assert "10 GB data pack" in row
    assert "Data pack" in row
    assert '<td class="number">30.00</td>' in row  # price
    assert '<td class="number">3.00</td>' in row  # cost
    assert '<td class="number">2.00</td>' in row  # commission
    assert "SMS › App › Web › WeChat › Inbound call" in row  # channel fit, best first
    assert "<code>KT10G</code>" in row
    chinese = client.get("/workbench/offers", headers=ZH).text
    assert "10GB流量包" in chinese
    assert "流量包" in chinese.split('data-code="DP10G"', 1)[1].split("</tr>", 1)[0]


def test_filter_and_search(catalogue_api: Api) -> None:  # noqa: F811
    client = signed_in(catalogue_api, "planner")
    handsets = client.get("/workbench/offers", params={"type": "handset"}, headers=EN).text
    assert 'data-code="HS5G24"' in handsets
    assert 'data-code="DP10G"' not in handsets
    found = client.get("/workbench/offers", params={"q": "kt10g"}, headers=EN).text
    assert 'data-code="DP10G"' in found
    assert 'data-code="HS5G24"' not in found
    assert "1 of 6 offers" in found
    none = client.get("/workbench/offers", params={"q": "nothing like it"}, headers=EN).text
    assert "No offer matches." in none
    inactive = client.get("/workbench/offers", params={"active": "inactive"}, headers=EN).text
    assert "No offer matches." in inactive


def test_an_offers_detail(catalogue_api: Api) -> None:  # noqa: F811
    client = signed_in(catalogue_api, "analyst")
    path = f"/workbench/offers/{offer_id(catalogue_api, 'DP10G')}"
    english = client.get(path, headers=EN).text
    assert "status = &#39;active&#39; AND NOT has_data_pack" in english  # eligibility
    assert "the 10 GB pack is 30 CNY a month" in english  # the outbound script, in English
    assert "回复{reply_code}即可订购{offer_name}" in english  # both SMS texts
    assert "reply {reply_code} to get the {offer_name}" in english
    chinese = client.get(path, headers=ZH).text
    assert "推荐您10GB流量包" in chinese  # the script in the page's language
    assert client.get("/workbench/offers/999999", headers=EN).status_code == 404
    agent = signed_in(catalogue_api, "agent").get(path, headers=EN)
    assert "This screen is not open to your role." in agent.text
