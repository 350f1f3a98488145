"""The segment screens over HTTP: roles as the API's segment routes, the trial-count
fragment within the user's district, the builder's tree and text kept in step by the rule
language, saving with the parser's message on a bad rule, and a list upload's report."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from steward.auth.models import Role
from steward.segments.pages import MAKERS, SEGMENTS, rule_text
from steward.tags.service import load_catalogue, rule_types
from tests.web_fixtures import PASSWORD, Api

pytest_plugins = ["tests.web_fixtures"]

EN = {"Accept-Language": "en-GB,en;q=0.8"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
READERS = {Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.SYSTEM_ADMIN}


def signed_in(api: Api, who: str) -> TestClient:
    client = api.client
    client.cookies.clear()
    answer = client.post("/signin", data={"username": who, "password": PASSWORD})
    assert answer.status_code == 200
    return client


def test_the_screens_roles_are_the_apis() -> None:
    assert SEGMENTS.roles == READERS
    assert {Role.PLANNER, Role.ANALYST, Role.SYSTEM_ADMIN} == MAKERS


@pytest.mark.parametrize("role", list(Role))
def test_readers_open_the_list_and_builder_and_only_makers_may_save(api: Api, role: Role) -> None:
    client = signed_in(api, role.value)
    reader, maker = role in READERS, role in MAKERS
    for path in ("/workbench/segments", "/workbench/segments/new"):
        page = client.get(path, headers=EN)
        assert ("This screen is not open to your role." not in page.text) == reader
    assert ('id="name"' in client.get("/workbench/segments/new", headers=EN).text) == maker
    trial = client.post("/workbench/segments/trial", data={"rule": "brand = 'gotone'"})
    assert ('data-testid="total"' in trial.text) == reader
    saved = client.post(
        "/workbench/segments/new",
        data={"name": f"by {role.value}", "rule": "brand = 'gotone'"},
        follow_redirects=False,
    )
    assert saved.status_code == (303 if maker else 403)


def test_the_trial_count_has_its_breakdown_and_a_masked_sample(api: Api) -> None:
    client = signed_in(api, "planner")
    fragment = client.post(
        "/workbench/segments/trial", data={"rule": "brand = 'gotone'"}, headers=EN
    ).text
    assert '<div class="figure" data-testid="total">2</div>' in fragment
    assert '<td>lanzhou</td><td class="number">1</td>' in fragment
    assert '<td>tianshui</td><td class="number">1</td>' in fragment
    assert "138****0001" in fragment
    assert "13800000001" not in fragment
    assert "<html" not in fragment  # a fragment, not a page


def test_the_trial_count_stays_within_the_users_district(api: Api) -> None:
    client = signed_in(api, "lanzhou_planner")
    fragment = client.post("/workbench/segments/trial", data={"rule": "brand = 'gotone'"}).text
    assert '<div class="figure" data-testid="total">1</div>' in fragment
    assert "tianshui" not in fragment


def test_a_bad_rule_shows_the_parsers_message_not_a_500(api: Api) -> None:
    client = signed_in(api, "planner")
    trial = client.post("/workbench/segments/trial", data={"rule": "brnd = 'gotone'"}, headers=EN)
    assert trial.status_code == 200
    assert "unknown tag &#39;brnd&#39;" in trial.text
    assert "<code>brand</code>" in trial.text  # the nearest name
    assert "line 1, column 1" in trial.text
    saved = client.post(
        "/workbench/segments/new",
        data={"name": "broken", "rule": "arpu_3m > 'high'"},
        headers=EN,
    )
    assert saved.status_code == 422
    assert "The segment was not saved:" in saved.text
    assert 'data-testid="save-error"' in saved.text
    assert "arpu_3m &gt; &#39;high&#39;</textarea>" in saved.text  # the rule is kept to fix


def test_the_parsers_message_is_in_the_pages_language_the_caret_as_typed(api: Api) -> None:
    client = signed_in(api, "planner")
    trial = client.post("/workbench/segments/trial", data={"rule": "brnd = 'gotone'"}, headers=ZH)
    assert "未知标签 &#39;brnd&#39;；您是否要找 &#39;brand&#39;？" in trial.text
    assert "unknown tag" not in trial.text
    assert "<pre>brnd = &#39;gotone&#39;\n^</pre>" in trial.text  # the caret as it was
    saved = client.post(
        "/workbench/segments/new",
        data={"name": "broken", "rule": "arpu_3m > 'high'"},
        headers=ZH,
    )
    assert saved.status_code == 422
    # the type words are translated with the wording
    assert "无法比较 arpu_3m（数值）与 &#39;high&#39;（文本）" in saved.text
    english = client.post(
        "/workbench/segments/new",
        data={"name": "broken", "rule": "arpu_3m > 'high'"},
        headers=EN,
    )
    assert "cannot compare arpu_3m (a number) with &#39;high&#39; (text)" in english.text


def test_the_services_refusals_are_in_the_pages_language(api: Api) -> None:
    client = signed_in(api, "planner")
    rule = "brand = 'gotone'"
    client.post("/workbench/segments/new", data={"name": "gotone", "rule": rule})
    again = client.post(
        "/workbench/segments/new", data={"name": "gotone", "rule": rule}, headers=ZH
    )
    assert again.status_code == 422
    assert "已有名为 &#39;gotone&#39; 的客户群" in again.text
    english = client.post(
        "/workbench/segments/new", data={"name": "gotone", "rule": rule}, headers=EN
    )
    assert "a segment named &#39;gotone&#39; exists already" in english.text
    long = client.post(
        "/workbench/segments/new", data={"name": "x" * 200, "rule": rule}, headers=ZH
    )
    assert long.status_code == 422
    assert "名称：太长：最多 128 个字符。" in long.text
    assert (
        "Name: Too long: at most 128 characters."
        in client.post(
            "/workbench/segments/new", data={"name": "x" * 200, "rule": rule}, headers=EN
        ).text
    )


def test_an_empty_rule_asks_for_a_condition(api: Api) -> None:
    fragment = signed_in(api, "planner").post("/workbench/segments/trial", data={"rule": " "})
    assert "添加条件或编写规则后即可试算。" in fragment.text


def test_a_saved_segment_is_the_apis_and_shows_in_the_list(api: Api) -> None:
    client = signed_in(api, "planner")
    rule = "brand = 'gotone' AND arpu_3m > 50"
    saved = client.post(
        "/workbench/segments/new",
        data={"name": "gotone spenders", "description": "d", "rule": rule},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    segment_id = int(saved.headers["location"].split("saved=")[1])
    listed = client.get(saved.headers["location"], headers=EN).text
    assert 'data-testid="saved"' in listed
    assert "gotone spenders" in listed
    read = client.get(f"/segments/{segment_id}", headers=api.as_("planner")).json()
    assert read["rule"] == rule
    assert read["owner"] == "planner"
    again = client.post(
        "/workbench/segments/new", data={"name": "gotone spenders", "rule": rule}, headers=EN
    )
    assert again.status_code == 422
    assert "exists already" in again.text


def test_a_typed_rule_becomes_the_builders_tree(api: Api) -> None:
    client = signed_in(api, "analyst")
    rule = "brand = 'gotone' AND NOT (vip_level IN ('gold', 'silver') OR 50 < arpu_3m)"
    tree = client.post("/workbench/segments/tree", data={"rule": rule}).json()["tree"]
    assert tree == {
        "kind": "group",
        "op": "AND",
        "not": False,
        "items": [
            {"kind": "cond", "tag": "brand", "op": "=", "value": "gotone"},
            {
                "kind": "group",
                "op": "OR",
                "not": True,
                "items": [
                    {"kind": "cond", "tag": "vip_level", "op": "in", "value": "gold, silver"},
                    {"kind": "cond", "tag": "arpu_3m", "op": ">", "value": "50"},
                ],
            },
        ],
    }
    back = client.post("/workbench/segments/text", json=tree).json()["rule"]
    assert back == "brand = 'gotone' AND NOT (vip_level IN ('gold', 'silver') OR arpu_3m > 50)"


def test_a_rule_beyond_the_builder_or_a_bad_one_says_so(api: Api) -> None:
    client = signed_in(api, "planner")
    beyond = client.post("/workbench/segments/tree", data={"rule": "arpu_3m * 2 > 100"})
    assert beyond.json() == {"tree": None}
    bad = client.post("/workbench/segments/tree", data={"rule": "brand ="}).json()
    assert bad["error"]["line"] == 1
    assert bad["error"]["message"]


def test_the_builders_text_is_written_by_type_and_skips_what_is_unfinished() -> None:
    types = rule_types(load_catalogue())
    tree = {
        "kind": "group",
        "op": "AND",
        "not": False,
        "items": [
            {"kind": "cond", "tag": "city", "op": "=", "value": "O'Hare"},
            {
                "kind": "cond",
                "tag": "contract_end",
                "op": "between",
                "value": "2026-01-01, 2026-12-31",
            },
            {"kind": "cond", "tag": "dnd_any", "op": "=", "value": "False"},
            {"kind": "cond", "tag": "age", "op": ">=", "value": "old"},
            {"kind": "cond", "tag": "plan_id", "op": "is not null", "value": ""},
            {"kind": "cond", "tag": "", "op": "=", "value": "x"},
            {"kind": "cond", "tag": "brand", "op": "=", "value": ""},
            {"kind": "group", "op": "OR", "not": False, "items": []},
        ],
    }
    assert rule_text(tree, types) == (
        "city = 'O''Hare' AND contract_end BETWEEN DATE '2026-01-01' AND DATE '2026-12-31'"
        " AND dnd_any = false AND age >= 'old' AND plan_id IS NOT NULL"
    )


def test_an_uploaded_list_reports_its_bad_lines_and_is_saved(api: Api) -> None:
    client = signed_in(api, "planner")
    body = b"msisdn\n13800000001\n13800000001\n12345\n13999999999\n"
    checked = client.post(
        "/workbench/segments/upload",
        data={"name": "hall list", "dry_run": "true"},
        files={"file": ("list.txt", body)},
        headers=EN,
    ).text
    assert "Checked only: nothing was saved." in checked
    assert '<td class="number">4</td><td><code>12345</code></td>' in checked
    assert "not an 11-digit mobile number" in checked
    saved = client.post(
        "/workbench/segments/upload",
        data={"name": "hall list"},
        files={"file": ("list.txt", body)},
        headers=EN,
    ).text
    assert "Saved as segment" in saved
    assert "139****9999" in saved  # unknown, kept, masked
    refused = signed_in(api, "approver").post(
        "/workbench/segments/upload",
        data={"name": "x"},
        files={"file": ("l.txt", body)},
        headers=EN,
    )
    assert "This screen is not open to your role." in refused.text


def test_the_list_shows_every_kind(api: Api) -> None:
    client = signed_in(api, "planner")
    client.post(
        "/workbench/segments/upload",
        data={"name": "numbers"},
        files={"file": ("l.txt", b"13800000001\n")},
    )
    page = client.get("/workbench/segments", headers=ZH).text
    assert "名单" in page
    assert "1 个号码" in page
