"""The do-not-disturb screen over HTTP (issue 6, screen 9): categories with their default
and counts, opt-out lists, and an upload checked before it is saved."""

from __future__ import annotations

from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

FILE = "msisdn\n13800000001\n13800000002\n13800000001\n12345\n"


def test_the_categories_show_their_default_and_rule(api: Api) -> None:
    client = signed_in(api, "planner")
    page = client.get("/language/en?back=/dnd").text
    assert "Always excluded" in page
    assert "blacklisted" in page
    assert "Upload an opt-out list" not in page  # a planner reads, a data admin uploads


def test_an_upload_is_checked_then_saved_and_bad_lines_are_named(api: Api) -> None:
    client = signed_in(api, "data_admin")
    client.get("/language/en")
    files = {"numbers": ("optouts.txt", FILE.encode(), "text/plain")}
    checked = client.post("/dnd/optouts", data={"channel": "sms"}, files=files).text
    assert "Checked only: nothing was saved." in checked
    assert "not an 11-digit mobile number" in checked
    assert ">5<" in checked  # line 5 of the file
    saved = client.post("/dnd/optouts", data={"channel": "sms", "save": "true"}, files=files)
    assert "2 numbers added to the list." in saved.text
    again = client.post("/dnd/optouts", data={"channel": "sms", "save": "true"}, files=files)
    assert "0 numbers added to the list." in again.text or "Already on the list" in again.text
    assert '<td class="number">2</td>' in client.get("/dnd").text


def test_a_planner_cannot_upload_and_a_bad_channel_is_named(api: Api) -> None:
    files = {"numbers": ("optouts.txt", FILE.encode(), "text/plain")}
    planner = signed_in(api, "planner")
    planner.get("/language/en")
    refused = planner.post("/dnd/optouts", data={"channel": "sms"}, files=files)
    assert "This screen is not open to your role." in refused.text
    admin = signed_in(api, "data_admin")
    fax = admin.post("/dnd/optouts", data={"channel": "fax"}, files=files, headers=EN)
    assert "no channel &#39;fax&#39;" in fax.text
    hall = admin.post("/dnd/optouts", data={"channel": "hall"}, files=files, headers=EN)
    assert "no opt-out list for hall: one of sms, outbound, app" in hall.text


def test_an_upload_is_refused_and_its_bad_lines_named_in_the_pages_language(api: Api) -> None:
    files = {"numbers": ("optouts.txt", FILE.encode(), "text/plain")}
    admin = signed_in(api, "data_admin")
    fax = admin.post("/dnd/optouts", data={"channel": "fax"}, files=files, headers=ZH)
    assert "不存在渠道 &#39;fax&#39;" in fax.text
    hall = admin.post("/dnd/optouts", data={"channel": "hall"}, files=files, headers=ZH)
    assert "渠道 hall 没有退订名单，可选渠道：sms, outbound, app" in hall.text
    assert "no opt-out list" not in hall.text
    checked = admin.post("/dnd/optouts", data={"channel": "sms"}, files=files, headers=ZH)
    assert "不是 11 位手机号码" in checked.text
    assert "not an 11-digit mobile number" not in checked.text
    english = admin.post("/dnd/optouts", data={"channel": "sms"}, files=files, headers=EN)
    assert "not an 11-digit mobile number" in english.text
