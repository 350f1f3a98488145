"""The campaign wizard and the planner's campaigns over HTTP (issue 6, screen 5; R-CAMP-1..6):
only the API's makers use it, a planner creates a draft through the same service calls as
``POST /campaigns``, a bad field is named next to it and nothing is saved, a copy opens on
the wizard to modify, a draft is edited and submitted, districts hold as in the API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from steward import db
from steward.auth.models import Role
from steward.campaigns import service
from steward.campaigns.models import Campaign, Status
from steward.offers import service as offers_service
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from tests.tags import factories as f
from tests.web.test_pages import EN, ZH, signed_in
from tests.web_fixtures import Api

TODAY = date.today()


@pytest.fixture
def catalogue_api(api: Api) -> Api:
    """The sample offers (over the synthetic billing catalogue) and one segment."""
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        f.publish(
            session, app.state.lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE]
        )
        offers_service.import_file(
            session, app.state.lake, app.state.catalogue, path=offers_service.SAMPLES, by="t"
        )
        segments.create(
            session,
            app.state.catalogue,
            by="t",
            segment_in=SegmentCreate(name="gotone people", rule="brand = 'gotone'"),
        )
    return api


def ids(api: Api) -> tuple[int, int]:
    """The segment's and the data pack's ids."""
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        segment = segments.list_all(session)[0]
        offer = next(o for o in offers_service.list_all(session) if o.code == "DP10G")
        return segment.id, offer.id


def form(api: Api, **changes: Any) -> dict[str, Any]:
    """The wizard's form of a valid campaign, with ``changes``."""
    segment_id, offer_id = ids(api)
    fields: dict[str, Any] = {
        "name": "winter data",
        "kind": "marketing",
        "segment_ids": [str(segment_id)],
        "offer_ids": [str(offer_id)],
        "channels": ["sms", "outbound", "", ""],
        "priority": "60",
        "wave_name": ["first", ""],
        "wave_start": [TODAY.isoformat(), ""],
        "wave_end": [(TODAY + timedelta(days=6)).isoformat(), ""],
        "control_share": "20",  # percent
        "budget_kind": ["item", "commission"],
        "budget_item": ["SMS", ""],
        "budget_amount": ["1200", ""],
        "expected_rate": "5",  # percent
        "success_event": "order",
        "success_days": "10",
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + timedelta(days=29)).isoformat(),
        "district": "",
        "dnd_include": ["vip_silver"],
        "trigger_event": "",
        "action": "draft",
    }
    return fields | changes


def campaigns(api: Api) -> list[Campaign]:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        found = list(session.scalars(select(Campaign).order_by(Campaign.id)))
        session.expunge_all()
        return found


def count(api: Api) -> int:
    app: Any = api.client.app
    with db.transaction(app.state.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Campaign)) or 0)


@pytest.mark.parametrize("role", list(Role))
def test_only_the_apis_makers_reach_the_wizard(catalogue_api: Api, role: Role) -> None:
    client = signed_in(catalogue_api, role.value)
    maker = role in (Role.PLANNER, Role.SYSTEM_ADMIN)
    for path in ("/workbench/campaigns", "/workbench/campaigns/new"):
        shown = client.get(path, headers=EN)
        assert ("This screen is not open to your role." not in shown.text) == maker, path
    answer = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api), follow_redirects=False
    )
    assert answer.status_code == (303 if maker else 403)
    assert count(catalogue_api) == (1 if maker else 0)


def test_a_planner_creates_a_draft_as_the_api_does(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    wizard = client.get("/workbench/campaigns/new", headers=EN).text
    assert "gotone people" in wizard
    assert "10 GB data pack" in wizard  # the offer's name in the page's language
    assert "10GB流量包" in client.get("/workbench/campaigns/new", headers=ZH).text
    assert "Complained in the last 90 days" in wizard  # a DND category a planner may include
    assert "Company staff" not in wizard  # always excluded: nothing to choose
    answer = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api), follow_redirects=False
    )
    assert answer.status_code == 303
    (saved,) = campaigns(catalogue_api)
    assert answer.headers["location"] == f"/workbench/campaigns/{saved.id}/edit?saved=draft"
    assert saved.status == "draft"
    assert saved.owner == "planner"
    assert saved.district == "province"
    assert saved.channels == ["sms", "outbound"]
    assert saved.waves == [
        {
            "name": "first",
            "start": TODAY.isoformat(),
            "end": (TODAY + timedelta(days=6)).isoformat(),
        }
    ]
    assert saved.budget == [{"kind": "item", "item": "SMS", "amount": 1200.0}]
    assert saved.success_rule == {"event": "order", "within_days": 10}
    assert (saved.control_share, saved.priority, saved.expected_rate) == (0.2, 60, 0.05)
    assert saved.dnd_include == ["vip_silver"]
    assert saved.trigger is None
    review = client.get(answer.headers["location"], headers=EN).text
    assert "Saved as a draft." in review
    assert 'data-testid="review"' in review
    assert "<th>Segments</th><td>gotone people</td>" in review
    assert "<th>Channels</th><td>SMS › Outbound call</td>" in review
    assert "Item · SMS · 1,200.00 (total 1,200.00)" in review
    listing = client.get("/workbench/campaigns", headers=EN).text
    assert "winter data" in listing
    assert f'href="/workbench/campaigns/{saved.id}/edit"' in listing


def test_review_checks_everything_and_saves_nothing(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    shown = client.post("/workbench/campaigns/new", data=form(catalogue_api, action="review"))
    assert shown.status_code == 200
    assert (
        "<th>Offers</th><td>10 GB data pack</td>"
        in client.post(
            "/workbench/campaigns/new", data=form(catalogue_api, action="review"), headers=EN
        ).text
    )
    assert count(catalogue_api) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Required."),
        ({"offer_ids": []}, "offer_ids", "Pick at least one."),
        ({"segment_ids": []}, "segment_ids", "Pick a segment, or a trigger."),
        ({"channels": ["sms", "sms", "", ""]}, "channels", "A channel is listed twice."),
        ({"control_share": "90"}, "control_share", "At most 50 %."),
        ({"control_share": "-1"}, "control_share", "At least 0 %."),
        ({"expected_rate": "150"}, "expected_rate", "At most 100 %."),
        ({"expected_rate": "lots"}, "expected_rate", "Give a number."),
        ({"priority": "high"}, "priority", "Give a whole number."),
        ({"end_date": "2020-01-01"}, "end_date", "The end lies before the start."),
        ({"budget_amount": ["-5", ""]}, "budget", "Row 1, Amount: At least 0."),
        ({"wave_start": ["", ""]}, "waves", "Row 1, Starts: Give a date (YYYY-MM-DD)."),
        (
            {"trigger_event": "balance_low", "trigger_condition": "event_nope > 1"},
            "trigger",
            "event_nope",
        ),
        ({"district": "tianshui/../x"}, "district", "lies outside yours"),
    ],
)
def test_a_bad_field_is_named_next_to_it_and_nothing_is_saved(
    catalogue_api: Api, changes: dict[str, Any], field: str, message: str
) -> None:
    client = signed_in(catalogue_api, "lanzhou_planner")
    answer = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api, **changes), headers=EN
    )
    assert answer.status_code == 422, answer.text
    assert f'data-error="{field}"' in answer.text
    error = answer.text.split(f'data-error="{field}">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert "Nothing was saved." in answer.text
    assert count(catalogue_api) == 0
    assert 'value="winter data"' in answer.text or field == "name"  # the form kept as typed


def test_errors_are_worded_in_the_pages_language(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    answer = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api, offer_ids=[]), headers=ZH
    )
    assert "请至少选择一项。" in answer.text
    assert "未保存任何内容" in answer.text
    share = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api, control_share="60"), headers=ZH
    )
    assert "不能大于 50%。" in share.text


def test_shares_are_typed_and_shown_in_percent(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    answer = client.post(
        "/workbench/campaigns/new",
        data=form(catalogue_api, control_share="12.5", expected_rate="0.8"),
        follow_redirects=False,
    )
    assert answer.status_code == 303
    (saved,) = campaigns(catalogue_api)
    assert (saved.control_share, saved.expected_rate) == (0.125, 0.008)
    edit = client.get(answer.headers["location"], headers=EN).text
    assert 'name="control_share" type="number" min="0" max="50" step="0.1" value="12.5"' in edit
    assert 'value="0.8"' in edit
    assert "<th>Control share</th><td>12%</td>" in edit  # 12.5 % rounded half to even
    blank = client.get("/workbench/campaigns/new", headers=EN).text
    assert 'id="control_share" name="control_share"' in blank
    assert 'value="10"' in blank  # CampaignCreate's default 0.1
    assert 'value="2"' in blank  # and 0.02


def test_the_services_refusals_are_worded_in_the_pages_language(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "lanzhou_planner")
    outside = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api, district="tianshui"), headers=ZH
    )
    assert outside.status_code == 422
    error = outside.text.split('data-error="district">', 1)[1].split("</p>", 1)[0]
    assert "不在您的管辖区域" in error
    assert "lies outside" not in outside.text
    english = client.post(
        "/workbench/campaigns/new", data=form(catalogue_api, district="tianshui"), headers=EN
    )
    assert "district &#39;tianshui&#39; lies outside yours" in english.text
    client.post("/workbench/campaigns/new", data=form(catalogue_api))
    taken = client.post("/workbench/campaigns/new", data=form(catalogue_api), headers=ZH)
    assert "已有同名活动。" in taken.text
    assert count(catalogue_api) == 1


def test_a_taken_name_is_refused_by_the_service_next_to_the_name(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    client.post("/workbench/campaigns/new", data=form(catalogue_api))
    again = client.post("/workbench/campaigns/new", data=form(catalogue_api), headers=EN)
    assert again.status_code == 422
    assert 'data-error="name"' in again.text
    assert "A campaign with this name exists already." in again.text
    assert count(catalogue_api) == 1


def test_save_and_submit_in_one_go(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    answer = client.post(
        "/workbench/campaigns/new",
        data=form(catalogue_api, action="submit", comment="please"),
        follow_redirects=False,
    )
    (saved,) = campaigns(catalogue_api)
    assert answer.headers["location"] == f"/campaigns/{saved.id}/view"
    assert saved.status == "submitted"
    approvals = signed_in(catalogue_api, "approver").get("/approvals", headers=EN).text
    assert "winter data" in approvals


def test_a_draft_is_edited_then_submitted(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    client.post("/workbench/campaigns/new", data=form(catalogue_api))
    (draft,) = campaigns(catalogue_api)
    edit = client.get(f"/workbench/campaigns/{draft.id}/edit", headers=EN).text
    assert 'value="winter data"' in edit
    assert '<option value="outbound" selected>' in edit
    edited = client.post(
        f"/workbench/campaigns/{draft.id}/edit",
        data=form(catalogue_api, priority="90", name="winter data, wider"),
        follow_redirects=False,
    )
    assert edited.status_code == 303
    (draft,) = campaigns(catalogue_api)
    assert (draft.name, draft.priority) == ("winter data, wider", 90)
    refused = client.post(
        f"/workbench/campaigns/{draft.id}/edit",
        data=form(catalogue_api, priority="900"),
        headers=EN,
    )
    assert refused.status_code == 422
    assert campaigns(catalogue_api)[0].priority == 90  # nothing half-saved
    moved = client.post(
        f"/workbench/campaigns/{draft.id}/move", data={"action": "submit"}, follow_redirects=False
    )
    assert moved.headers["location"] == f"/campaigns/{draft.id}/view"
    assert campaigns(catalogue_api)[0].status == "submitted"
    too_late = client.post(
        f"/workbench/campaigns/{draft.id}/edit", data=form(catalogue_api), headers=EN
    )
    assert too_late.status_code == 422
    assert "a submitted campaign cannot be edited" in too_late.text
    chinese = client.post(
        f"/workbench/campaigns/{draft.id}/edit", data=form(catalogue_api), headers=ZH
    )
    assert "“已提交”状态的活动不能修改：只有草稿可以修改" in chinese.text
    read_only = client.get(f"/workbench/campaigns/{draft.id}/edit", headers=EN).text
    assert "Only a draft can be modified" in read_only


def test_a_copy_opens_in_the_wizard_to_modify(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    client.post("/workbench/campaigns/new", data=form(catalogue_api, action="submit"))
    (model,) = campaigns(catalogue_api)
    copied = client.post(
        f"/workbench/campaigns/{model.id}/copy",
        data={"name": "winter data, again"},
        follow_redirects=False,
    )
    assert copied.status_code == 303
    model, copy = campaigns(catalogue_api)
    assert copied.headers["location"] == f"/workbench/campaigns/{copy.id}/edit?saved=copied"
    assert (copy.status, copy.copied_from, copy.channels) == ("draft", model.id, model.channels)
    wizard = client.get(copied.headers["location"], headers=EN).text
    assert "This is a copy, saved as a draft" in wizard
    assert 'value="winter data, again"' in wizard
    taken = client.post(
        f"/workbench/campaigns/{model.id}/copy", data={"name": "winter data"}, headers=EN
    )
    assert taken.status_code == 422
    assert "exists already" in taken.text
    chinese = client.post(
        f"/workbench/campaigns/{model.id}/copy", data={"name": "winter data"}, headers=ZH
    )
    assert "已有名为 &#39;winter data&#39; 的活动" in chinese.text
    blank = client.post(f"/workbench/campaigns/{model.id}/copy", data={"name": " "}, headers=EN)
    assert "Give the copy a name" in blank.text
    assert count(catalogue_api) == 2


def test_an_approved_campaign_is_started_by_its_planner(catalogue_api: Api) -> None:
    client = signed_in(catalogue_api, "planner")
    client.post("/workbench/campaigns/new", data=form(catalogue_api, action="submit"))
    (campaign,) = campaigns(catalogue_api)
    approver = signed_in(catalogue_api, "approver")
    approver.post(f"/approvals/{campaign.id}", data={"decision": "approve", "comment": "ok"})
    client = signed_in(catalogue_api, "planner")
    listing = client.get("/workbench/campaigns", headers=EN).text
    assert 'value="start"' in listing
    client.post(f"/workbench/campaigns/{campaign.id}/move", data={"action": "start"})
    assert campaigns(catalogue_api)[0].status == Status.RUNNING.value
    again = client.post(
        f"/workbench/campaigns/{campaign.id}/move", data={"action": "submit"}, headers=EN
    )
    assert again.status_code == 422
    assert "a running campaign cannot become submitted" in again.text
    chinese = client.post(
        f"/workbench/campaigns/{campaign.id}/move", data={"action": "submit"}, headers=ZH
    )
    assert "“执行中”状态的活动不能变为“已提交”" in chinese.text
    unknown = client.post(
        f"/workbench/campaigns/{campaign.id}/move", data={"action": "fly"}, headers=ZH
    )
    assert "未知的操作 &#39;fly&#39;" in unknown.text


def test_districts_hold_as_in_the_api(catalogue_api: Api) -> None:
    app: Any = catalogue_api.client.app
    client = signed_in(catalogue_api, "planner")
    client.post("/workbench/campaigns/new", data=form(catalogue_api, district="tianshui"))
    (campaign,) = campaigns(catalogue_api)
    assert campaign.district == "tianshui"
    lanzhou = signed_in(catalogue_api, "lanzhou_planner")
    assert "winter data" not in lanzhou.get("/workbench/campaigns", headers=EN).text
    assert lanzhou.get(f"/workbench/campaigns/{campaign.id}/edit").status_code == 404
    copied = lanzhou.post(f"/workbench/campaigns/{campaign.id}/copy", data={"name": "mine"})
    assert copied.status_code == 404
    assert count(catalogue_api) == 1
    with db.transaction(app.state.sessions) as session:
        assert service.get(session, campaign.id) is not None


def test_a_segments_count_is_of_the_users_district(catalogue_api: Api) -> None:
    segment_id, _ = ids(catalogue_api)
    province = signed_in(catalogue_api, "planner")
    path = f"/workbench/campaigns/segments/{segment_id}/count"
    assert f'data-testid="members-{segment_id}">2<' in province.get(path).text
    lanzhou = signed_in(catalogue_api, "lanzhou_planner")
    assert f'data-testid="members-{segment_id}">1<' in lanzhou.get(path).text
    assert signed_in(catalogue_api, "agent").get(path).status_code == 403


def test_a_review_names_only_the_campaigns_to_skip_of_the_users_district(
    catalogue_api: Api,
) -> None:
    province = signed_in(catalogue_api, "planner")
    province.post(
        "/workbench/campaigns/new",
        data=form(catalogue_api, name="tianshui secret", district="tianshui"),
    )
    province.post(
        "/workbench/campaigns/new",
        data=form(catalogue_api, name="lanzhou pack", district="lanzhou"),
    )
    secret, pack = campaigns(catalogue_api)
    lanzhou = signed_in(catalogue_api, "lanzhou_planner")
    skipping = form(
        catalogue_api, action="review", exclude_campaigns=[str(secret.id), str(pack.id)]
    )
    shown = lanzhou.post("/workbench/campaigns/new", data=skipping, headers=EN).text
    assert f"<th>Contacts of campaigns skipped</th><td>{secret.id}, lanzhou pack</td>" in shown
    assert "tianshui secret" not in shown
    assert count(catalogue_api) == 2
