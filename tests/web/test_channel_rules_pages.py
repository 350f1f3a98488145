"""The cross-channel rules screen over HTTP (issue 6, screen 13; R-CHAN-4, R-CHAN-5): the
administrator edits both tables at once, all or nothing, audited; planners and approvers
read; the desk and the counter show the contacts of other channels the rules let them see."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from steward import db
from steward.auth.models import AuditEntry
from steward.campaigns.models import Campaign
from steward.channels import crosschannel
from steward.channels.models import Action, Outcome, Topic
from steward.contacts import service as ledger
from steward.offers.models import Channel, Offer
from tests.web.test_channels_pages import ME, _call_for_agent, front
from tests.web.test_pages import signed_in
from tests.web_fixtures import Api

__all__ = ["front"]  # the fixture, used here by name

RULES = "/workbench/channel-rules"


def form(api: Api, **changes: str) -> dict[str, Any]:
    """The screen's form as the rules in force fill it, with ``changes`` (field: value; an
    empty value unticks a box)."""
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        rules = crosschannel.current(session)
    fields: dict[str, Any] = {f"show:{t.value}:{c.value}": "on" for t, c in rules.shown}
    for channel, outcomes in crosschannel.OUTCOMES.items():
        for outcome in outcomes:
            fields[f"rule:{channel.value}:{outcome.value}"] = rules.action(channel, outcome).value
    fields |= changes
    return {k: v for k, v in fields.items() if v}


def rules_now(api: Api) -> crosschannel.Rules:
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        return crosschannel.current(session)


def box(page: str, name: str) -> str:
    """The ``<input>`` tag of the field ``name``."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found is not None, name
    return found.group(0)


def english(client: TestClient) -> TestClient:
    client.get("/language/en")
    return client


def test_planners_and_approvers_read_the_rules_others_may_not(api: Api) -> None:
    for who in ("planner", "approver"):
        page = english(signed_in(api, who)).get(RULES).text
        assert "Only the system administrator changes these rules; you may read them." in page
        assert "Save both tables" not in page
        assert 'name="rule:outbound:accepted"' in page
        assert "disabled" in page
    for who in ("agent", "clerk", "analyst"):
        refused = english(signed_in(api, who)).get(RULES).text
        assert "This screen is not open to your role." in refused
    api.client.cookies.clear()
    assert api.client.get(RULES, follow_redirects=False).status_code == 303


def test_the_page_shows_the_defaults_in_chinese(api: Api) -> None:
    client = signed_in(api, "system_admin")
    client.get("/language/zh_CN")
    page = client.get(RULES).text
    assert "跨渠道规则" in page
    assert "语音套餐营销" in page
    assert "保有挽留" in page
    assert "checked" in box(page, "show:plan_change:hall")
    assert "checked" not in box(page, "show:care:hall")
    assert 'aria-label="关怀与提醒 · 营业厅"' in box(page, "show:care:hall")


def test_a_planner_cannot_save(api: Api) -> None:
    before = rules_now(api)
    client = english(signed_in(api, "planner"))
    refused = client.post(RULES, data=form(api, **{"show:care:hall": "on", "reason": "mine"}))
    assert refused.status_code == 403
    assert "Only the system administrator may change the cross-channel rules." in refused.text
    assert rules_now(api) == before


def test_the_administrator_saves_both_tables_at_once_and_it_is_audited(api: Api) -> None:
    client = english(signed_in(api, "system_admin"))
    changed = form(
        api,
        **{
            "show:care:hall": "on",
            "show:data_pack:inbound": "",
            "rule:outbound:accepted": "keep",
            "reason": "trial: let the SMS follow a yes",
        },
    )

    saved = client.post(RULES, data=changed)

    assert saved.status_code == 200
    assert "Rules saved." in saved.text
    rules = rules_now(api)
    assert rules.shows(Topic.CARE, Channel.HALL)
    assert not rules.shows(Topic.DATA_PACK, Channel.INBOUND)
    assert rules.action(Channel.OUTBOUND, Outcome.ACCEPTED) is Action.KEEP
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "channels.crosschannel.rules")
        ).one()
        assert (entry.actor, entry.comment) == ("system_admin", "trial: let the SMS follow a yes")
        assert len(entry.detail["visibility"]) == 2
        assert entry.detail["outcomes"] == [
            {"channel": "outbound", "outcome": "accepted", "from": "cancel", "to": "keep"}
        ]
    page = client.get(RULES).text
    assert "trial: let the SMS follow a yes" in page  # the recent changes
    again = client.post(RULES, data=form(api, reason="no change"))
    assert "Nothing changed." in again.text


def test_bad_input_is_named_and_nothing_is_half_saved(api: Api) -> None:
    before = rules_now(api)
    client = english(signed_in(api, "system_admin"))

    no_reason = client.post(RULES, data=form(api, **{"show:care:hall": "on"}))
    bad_action = client.post(
        RULES,
        data=form(
            api,
            **{"show:care:hall": "on", "rule:sms:rejected": "delete", "reason": "tidy up"},
        ),
    )
    missing = form(api, **{"show:care:hall": "on", "reason": "tidy up"})
    del missing["rule:hall:ordered"]
    no_action = client.post(RULES, data=missing)

    assert no_reason.status_code == 422
    assert "Say why you change the rules, in 1 to 200 characters." in no_reason.text
    assert bad_action.status_code == 422
    assert "Choose cancel or keep for every outcome; see the marked row." in bad_action.text
    assert '<tr data-rule="sms:rejected" class="invalid">' in bad_action.text
    assert 'value="tidy up"' in bad_action.text  # what was typed is kept
    assert '<tr data-rule="hall:ordered" class="invalid">' in no_action.text
    assert rules_now(api) == before


def test_the_desk_shows_the_customers_other_channels_and_an_accepted_call_cancels_them(
    front: Api,
) -> None:
    order_id = _call_for_agent(front)
    sms_key = _other_channel_contact(front, "sms")
    admin = english(signed_in(front, "system_admin"))
    shown = admin.post(RULES, data=form(front, **{"show:family:outbound": "on", "reason": "x"}))
    assert "Rules saved." in shown.text
    agent = english(signed_in(front, "agent"))

    history = agent.get(f"/desk/orders/{order_id}/history").text
    assert 'data-testid="shared-history"' in history
    assert "Reserved, not yet made" in history
    assert "FAMSHARE" in history

    answer = agent.post(f"/desk/orders/{order_id}/result", data={"result": "accepted"})
    assert answer.status_code == 200
    with db.transaction(front.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        assert ledger.states_of(session, sms_key) == ["reserved", "cancelled"]
    assert "Withdrawn before it was made" in agent.get(f"/desk/orders/{order_id}/history").text
    other = english(signed_in(front, "clerk")).get(f"/desk/orders/{order_id}/history")
    assert "This screen is not open to your role." in other.text


def test_the_counter_shows_other_channels_by_the_rules_inside_the_district(front: Api) -> None:
    _call_for_agent(front)
    clerk = english(signed_in(front, "clerk"))

    hidden = clerk.get(f"/counter/history?msisdn={ME}").text
    assert "No contact on another channel that this screen may show." in hidden
    english(signed_in(front, "system_admin")).post(
        RULES, data=form(front, **{"show:family:hall": "on", "reason": "family at the counter"})
    )
    clerk = english(signed_in(front, "clerk"))
    shown = clerk.get(f"/counter/history?msisdn={ME}").text
    assert "Outbound call" in shown
    assert "FAMSHARE" in shown
    assert clerk.get("/counter/history?msisdn=12x").status_code == 422
    outside = english(signed_in(front, "lanzhou_planner")).get(
        "/counter/history?msisdn=13800000003"
    )
    assert outside.status_code == 404


def _other_channel_contact(api: Api, channel: str) -> str:
    """A reserved contact of the family campaign for ``ME`` on ``channel``; its key."""
    now = datetime.now(UTC)
    with db.transaction(api.client.app.state.sessions) as session:  # type: ignore[attr-defined]
        offer = session.scalars(select(Offer).where(Offer.code == "FAMSHARE")).one()
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "family")).one()
        key = f"{now.date()}:{campaign_id}:{channel}:{ME}"
        row = {
            "contact_key": key,
            "day": now.date(),
            "msisdn": ME,
            "campaign_id": campaign_id,
            "kind": "marketing",
            "offer_id": offer.id,
            "category": offer.category,
            "exclusion_group": None,
            "channel": channel,
            "arm": "target",
            "state": "reserved",
            "source": "test",
        }
        ledger.append(session, [row])
        return key
