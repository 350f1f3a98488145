"""Triggered campaigns decided one event at a time: the batch loop's rules, once per event."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.campaigns.models import Campaign
from steward.campaigns.service import CampaignError
from steward.contacts.models import ContactEvent
from steward.events.library import Event, EventLibrary, load_library, validate_event
from steward.events.models import EventDecision, EventInbox, WatchEntry
from steward.offers.models import Offer
from steward.realtime import service
from steward.realtime.profile import OnlineProfile
from steward.tags import service as tags_service
from tests.campaigns.test_batch import Day

DAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
LIBRARY = load_library()
LOW_BALANCE = {"event": "balance_low", "condition": "event_balance < 10"}


def event(n: int, msisdn: str = "13800000001", type_: str = "balance_low", **params: Any) -> Event:
    body = params or {"balance": 5.0}
    at = params.pop("at", NOW - timedelta(seconds=30)) if params else NOW - timedelta(seconds=30)
    raw = {"id": f"e{n}", "type": type_, "msisdn": msisdn, "at": at.isoformat(), "params": body}
    return validate_event(LIBRARY, raw)


def runtime(d: Day, day: date = DAY) -> service.Runtime:
    latest = tags_service.latest_snapshot(d.session, d.lake, day)
    assert latest is not None
    profile = OnlineProfile(d.lake.engine.query(f"SELECT * FROM {latest[1]}"), latest[0])
    triggers = service.load_triggers(
        d.session, d.lake, d.catalogue, d.policy, LIBRARY, day=day, snapshot=latest[1]
    )
    offers = {o.id: o for o in d.session.scalars(select(Offer))}
    return service.Runtime(
        profile=profile, triggers=triggers, policy=d.policy, offers=offers, library=LIBRARY
    )


def contacts(session: Session, *, notices: bool = False) -> list[ContactEvent]:
    """The ledger's rows: campaigns' contacts, or with ``notices`` every row."""
    query = select(ContactEvent).order_by(ContactEvent.id)
    if not notices:
        query = query.where(ContactEvent.kind != "service")
    return list(session.scalars(query))


def decision(session: Session, event_id: str) -> EventDecision:
    found = session.scalar(select(EventDecision).where(EventDecision.event_id == event_id))
    assert found is not None
    return found


def launch_triggered(d: Day, **trigger: Any) -> Campaign:
    return d.launch(trigger=LOW_BALANCE | trigger, channels=["sms"], waves=[])


def test_a_matching_event_reserves_a_contact_and_says_why(d: Day) -> None:
    campaign = launch_triggered(d)
    report = service.handle(d.session, runtime(d), [event(1)], now=NOW)
    assert (report.decided, report.contacts) == (1, 1)
    [row] = contacts(d.session)
    assert (row.msisdn, row.campaign_id, row.state, row.channel) == (
        "13800000001",
        campaign.id,
        "reserved",
        "sms",
    )
    assert row.contact_key == f"20261202-c{campaign.id}-13800000001"
    why = decision(d.session, "e1")
    assert why.outcome == "planned"
    assert why.explanation["triggers"] == [
        {"campaign_id": campaign.id, "name": campaign.name, "matched": True, "reason": None}
    ]
    assert why.explanation["winner"]["channels"] == ["sms"]
    assert "sms" in why.explanation["channel"]
    inbox = d.session.scalar(select(EventInbox).where(EventInbox.event_id == "e1"))
    assert inbox is not None
    assert inbox.status == "processed"


def test_a_condition_that_does_not_hold_decides_nothing_and_says_so(d: Day) -> None:
    launch_triggered(d)
    service.handle(d.session, runtime(d), [event(1, balance=50.0)], now=NOW)
    assert contacts(d.session) == []
    why = decision(d.session, "e1")
    assert why.outcome == "trigger.none_matched"
    assert why.explanation["triggers"][0]["reason"] == "trigger.condition"


def test_a_redelivered_event_changes_nothing(d: Day) -> None:
    launch_triggered(d)
    state = runtime(d)
    service.handle(d.session, state, [event(1)], now=NOW)
    again = service.handle(d.session, state, [event(1), event(1)], now=NOW)
    assert (again.duplicates, again.decided) == (2, 0)
    assert len(contacts(d.session)) == 1


def test_a_second_event_waits_for_the_repeat_window(d: Day) -> None:
    launch_triggered(d, repeat_after_days=7)
    state = runtime(d)
    service.handle(d.session, state, [event(1), event(2)], now=NOW)
    assert decision(d.session, "e2").outcome == "campaign.contacted"
    assert len(contacts(d.session)) == 1


def test_the_contact_policy_holds_online_as_in_batch(d: Day) -> None:
    launch_triggered(d)
    state = runtime(d)
    gold, staff = event(1, "13800000002"), event(2, "13800000004")
    service.handle(d.session, state, [gold, staff], now=NOW)
    assert decision(d.session, "e1").outcome == "dnd.vip_diamond_gold"
    assert decision(d.session, "e2").outcome == "dnd.staff"
    assert contacts(d.session) == []


def test_a_late_event_is_decided_but_not_acted_on(d: Day) -> None:
    launch_triggered(d, respond_within_minutes=10)
    late = event(1, balance=5.0, at=NOW - timedelta(hours=2))
    service.handle(d.session, runtime(d), [late], now=NOW)
    assert decision(d.session, "e1").explanation["triggers"][0]["reason"] == "trigger.late"
    assert contacts(d.session) == []


def test_delay_and_window_set_when_the_contact_is_due(d: Day) -> None:
    launch_triggered(d, delay_minutes=30, window_start="11:00", window_end="20:00")
    service.handle(d.session, runtime(d), [event(1)], now=NOW)
    [row] = contacts(d.session)
    due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
    assert due == datetime.combine(DAY, time(11, 0), tzinfo=UTC)  # 10:00 + 30 min, before 11


def test_the_day_s_batch_run_leaves_triggered_campaigns_to_the_events(d: Day) -> None:
    launch_triggered(d)
    report = d.run()
    assert report.campaigns == []
    assert contacts(d.session) == []


def test_events_keep_the_online_profile_fresh_and_a_late_one_undoes_nothing(d: Day) -> None:
    state = runtime(d)
    newer = event(1, type_="recharge", amount=50.0, balance_after=80.0)
    older = event(2, type_="recharge", amount=5.0, balance_after=7.0, at=NOW - timedelta(hours=1))
    state.profile.apply(newer)
    state.profile.apply(older)
    view = state.profile.view("13800000001")
    assert view is not None
    assert view["balance"] == 80.0
    assert view["last_event"] == "recharge"
    assert view["city"] == "lanzhou"  # from the snapshot
    assert state.profile.view("13999999999") is None


def test_high_usage_events_open_a_watch_list_entry_in_the_subscriber_s_district(d: Day) -> None:
    charges = event(1, type_="high_realtime_charges", charges=320.0, period_hours=24)
    service.handle(d.session, runtime(d), [charges], now=NOW)
    [entry] = d.session.scalars(select(WatchEntry)).all()
    assert (entry.reason, entry.district, entry.figure, entry.status) == (
        "high_realtime_charges",
        "lanzhou/chengguan",
        320.0,
        "open",
    )


@pytest.mark.parametrize("condition", ["event_nope > 1", "event_balance = 'x'"])
def test_a_trigger_with_a_bad_condition_is_refused_with_the_field(d: Day, condition: str) -> None:
    with pytest.raises(CampaignError, match=r"trigger\.condition"):
        launch_triggered(d, condition=condition)


def test_an_event_s_service_action_stacks_with_a_marketing_contact(d: Day) -> None:
    campaign = launch_triggered(d)
    state = runtime(d)
    low = event(1)  # balance_low: the bound top-up reminder, and the triggered campaign
    report = service.handle(d.session, state, [low], now=NOW)
    assert (report.notices, report.contacts) == (1, 1)
    rows = contacts(d.session, notices=True)
    notice = next(r for r in rows if r.kind == "service")
    assert notice.campaign_id is None
    assert notice.channel == "sms"
    assert notice.detail == "尊敬的尾号0001用户，您的余额为5元，请及时充值。"
    assert any(r.campaign_id == campaign.id and r.state == "reserved" for r in rows)


def test_a_service_notice_holds_no_unit_and_goes_out_with_its_own_text(d: Day) -> None:
    from steward.channels.service import send_due_sms
    from steward.channels.sms import SimulatedSmsCentre
    from steward.contacts.service import holding_units

    recharge = event(1, type_="recharge", amount=50.0, balance_after=80.0)
    service.handle(d.session, runtime(d), [recharge], now=NOW)
    assert holding_units(d.session, since=DAY).num_rows == 0
    centre = SimulatedSmsCentre()
    sent = send_due_sms(d.session, centre, day=DAY, now=NOW, quiet=None)
    assert sent.sent == 1
    [row] = [r for r in contacts(d.session, notices=True) if r.state == "sent"]
    assert row.kind == "service"


def test_a_switched_off_action_sends_nothing(d: Day) -> None:
    spec = LIBRARY.get("recharge")
    assert spec is not None
    quiet = spec.service_actions[0].model_copy(update={"enabled": False})
    library = EventLibrary(
        events=tuple(
            e.model_copy(update={"service_actions": [quiet]}) if e.name == "recharge" else e
            for e in LIBRARY.events
        )
    )
    state = runtime(d)
    state.library = library
    recharge = event(1, type_="recharge", amount=50.0, balance_after=80.0)
    assert service.handle(d.session, state, [recharge], now=NOW).notices == 0
