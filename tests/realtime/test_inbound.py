"""The inbound decision: a channel asks what to offer a subscriber now, then reports back.

The service runs on the small province of the campaign loop (SQLite and PostgreSQL); the
routes on the web app of ``tests.web_fixtures``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import db
from steward.auth.models import AuditEntry, User
from steward.campaigns import service as campaigns
from steward.campaigns.models import Campaign, Status
from steward.channels.models import BillingOrder
from steward.channels.orders import SimulatedOrderCentre
from steward.contacts.models import ContactEvent
from steward.events import metrics
from steward.offers import service as offers_service
from steward.offers.models import Channel, Offer
from steward.policy.arbitration import control_draw
from steward.realtime import api as realtime_api
from steward.realtime import inbound
from steward.realtime.inbound import Outcome
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from steward.web import deps
from tests.campaigns.test_batch import Day
from tests.campaigns.test_service import campaign_in
from tests.tags import factories as f
from tests.web_fixtures import Api

DAY = date(2026, 12, 2)
ME = "13800000001"
FAMILY_FIT = {"hall": 1, "inbound": 2, "outbound": 3}


def offer(session: Session, code: str) -> Offer:
    found = session.scalar(select(Offer).where(Offer.code == code))
    assert found is not None
    return found


@pytest.fixture
def hall(d: Day) -> Day:
    """The province, its family offer fitting the hall and the call centre."""
    offer(d.session, "FAMSHARE").channel_fit = FAMILY_FIT
    d.session.flush()
    return d


def listing(d: Day) -> inbound.Listing:
    return inbound.build_listing(d.session, d.lake, d.catalogue, d.policy, DAY)


def decide(d: Day, msisdn: str, channel: Channel, **extra: Any) -> inbound.Decision:
    return inbound.offers_for(d.session, listing(d), msisdn=msisdn, channel=channel, **extra)


def report(
    d: Day, campaign: Campaign, outcome: Outcome, msisdn: str = ME, **extra: Any
) -> inbound.FeedbackResult:
    arguments: dict[str, Any] = {
        "msisdn": msisdn,
        "campaign_id": campaign.id,
        "offer_id": campaign.offer_ids[0],
        "channel": Channel.HALL,
        "outcome": outcome,
        "day": DAY,
        "by": "clerk",
        "orders": SimulatedOrderCentre(),
    }
    return inbound.record_feedback(d.session, listing(d), **(arguments | extra))


def trail(session: Session, key: str) -> list[tuple[str, str | None]]:
    query = select(ContactEvent).where(ContactEvent.contact_key == key).order_by(ContactEvent.id)
    return [(r.state, r.detail) for r in session.scalars(query)]


def test_a_member_is_offered_every_passing_offer_best_first_with_script_and_reasons(
    hall: Day,
) -> None:
    best = hall.launch(name="family first", channels=["hall", "outbound"], priority=80)
    second = hall.launch(name="family too", channels=["inbound", "hall"], priority=20)

    found = decide(hall, ME, Channel.HALL)

    assert [(o.campaign_id, o.outcome, o.strong, o.rank) for o in found.offers] == [
        (best.id, "winner", True, 1),
        (second.id, "arbitration.lost", False, 2),  # an alternative the clerk may offer
    ]
    top = found.offers[0]
    assert (top.code, top.category, top.campaign_name) == ("FAMSHARE", "family", "family first")
    assert top.score == pytest.approx(80 * 0.02 * 9)  # priority × expected rate × margin
    assert top.text.kind == "script"
    assert top.text.zh == offer(hall.session, "FAMSHARE").scripts["hall"]["zh"]
    assert any("segments: everyone" in r for r in top.reasons)
    assert any(r.startswith("eligible for FAMSHARE") for r in top.reasons)
    assert found.excluded == []
    assert found.snapshot == date(2026, 12, 1)  # the refresh of the day before
    assert [o.campaign_id for o in decide(hall, ME, Channel.HALL, limit=1).offers] == [best.id]


def test_an_excluded_candidate_names_the_rule_that_excluded_it(hall: Day) -> None:
    family = hall.launch(name="family", channels=["hall"])
    retain = offer(hall.session, "RETAIN200")  # fits outbound and SMS only
    loyalty = hall.launch(name="loyalty", channels=["hall"], offer_ids=[retain.id])

    mine = decide(hall, ME, Channel.HALL)
    gold = decide(hall, "13800000002", Channel.HALL)
    suspended = decide(hall, "13800000005", Channel.HALL)

    assert [o.campaign_id for o in mine.offers] == [family.id]
    assert [(e.campaign_id, e.code, e.outcome) for e in mine.excluded] == [
        (loyalty.id, "RETAIN200", "channel.no_fit")
    ]
    assert gold.offers == []
    assert {e.outcome for e in gold.excluded} == {"dnd.vip_diamond_gold"}
    assert suspended.offers == []
    assert {e.outcome for e in suspended.excluded} == {"offer.not_eligible"}


def test_only_campaigns_on_the_asked_channel_are_judged(hall: Day) -> None:
    hall_only = hall.launch(name="hall only", channels=["hall"])
    calls = hall.launch(name="calls", channels=["inbound", "outbound"])
    hall.launch(name="sms only", channels=["sms"])

    at_hall = decide(hall, ME, Channel.HALL)
    on_call = decide(hall, ME, Channel.INBOUND)
    on_web = decide(hall, ME, Channel.WEB)

    assert [o.campaign_id for o in at_hall.offers] == [hall_only.id]
    assert at_hall.excluded == []
    assert [o.campaign_id for o in on_call.offers] == [calls.id]
    assert on_call.offers[0].text.kind == "script"  # no inbound script: the hall's is read
    assert (on_web.offers, on_web.excluded) == ([], [])


def test_a_control_member_is_not_offered_the_campaign(hall: Day) -> None:
    campaign = hall.launch(name="family", channels=["hall"])
    campaign.control_share = 0.5
    hall.session.flush()
    for msisdn in (ME, "13800000003"):
        found = decide(hall, msisdn, Channel.HALL)
        if control_draw(campaign.id, msisdn) < 0.5:
            assert [e.outcome for e in found.excluded] == ["held_back"]
        else:
            assert [o.campaign_id for o in found.offers] == [campaign.id]


def test_an_unknown_number_or_one_outside_the_district_is_not_found(hall: Day) -> None:
    hall.launch(name="family", channels=["hall"])
    with pytest.raises(inbound.UnknownSubscriberError, match="no subscriber 13900000000"):
        decide(hall, "13900000000", Channel.HALL)
    with pytest.raises(inbound.UnknownSubscriberError):
        decide(hall, "13800000003", Channel.HALL, district="lanzhou")  # a tianshui number
    assert decide(hall, ME, Channel.HALL, district="lanzhou/chengguan").offers


def test_a_shown_offer_is_a_delivered_contact_that_ends_the_subscribers_day(hall: Day) -> None:
    campaign = hall.launch(name="family", channels=["hall"])
    other = hall.launch(name="family too", channels=["hall"], priority=10)

    shown = report(hall, campaign, Outcome.SHOWN)
    again = report(hall, campaign, Outcome.SHOWN)

    key = f"20261202-c{campaign.id}-{ME}-hall"
    assert (shown.contact_key, shown.states, shown.appended) == (
        key,
        ["reserved", "sent", "delivered"],
        3,
    )
    assert (again.states, again.appended, again.order) == (shown.states, 0, None)
    row = hall.session.scalars(select(ContactEvent).where(ContactEvent.contact_key == key)).first()
    assert row is not None
    assert (row.kind, row.category, row.channel, row.arm, row.source) == (
        "marketing",
        "family",
        "hall",
        "target",
        "decide hall",
    )
    after = decide(hall, ME, Channel.HALL)
    assert after.offers == []
    assert {(e.campaign_id, e.outcome) for e in after.excluded} == {
        (campaign.id, "campaign.contacted"),
        (other.id, "day.contacted"),
    }


def test_an_accepted_offer_orders_once_however_often_it_is_reported(hall: Day) -> None:
    campaign = hall.launch(name="family", channels=["hall"])

    accepted = report(hall, campaign, Outcome.ACCEPTED)  # never reported shown: shown first
    again = report(hall, campaign, Outcome.ACCEPTED)

    assert accepted.order is not None
    assert accepted.order.accepted
    assert accepted.states == ["reserved", "sent", "delivered", "answered", "ordered"]
    assert trail(hall.session, accepted.contact_key)[3] == ("answered", "accepted")
    assert (again.appended, again.states) == (0, accepted.states)
    assert again.order is not None
    assert again.order.reference == accepted.order.reference
    orders = list(hall.session.scalars(select(BillingOrder)))
    assert [(o.order_key, o.msisdn, o.billing_product_id) for o in orders] == [
        (accepted.contact_key, ME, "FAM_SHARE_10")
    ]
    with pytest.raises(inbound.FeedbackConflictError, match="too late to reject"):
        report(hall, campaign, Outcome.REJECTED)


def test_a_rejected_offer_is_answered_rejected_once(hall: Day) -> None:
    campaign = hall.launch(name="family", channels=["hall"])
    report(hall, campaign, Outcome.SHOWN, msisdn="13800000003")

    rejected = report(hall, campaign, Outcome.REJECTED, msisdn="13800000003", note="too dear")
    again = report(hall, campaign, Outcome.REJECTED, msisdn="13800000003")

    assert rejected.appended == 1
    assert trail(hall.session, rejected.contact_key) == [
        ("reserved", None),
        ("sent", "shown by clerk"),
        ("delivered", None),
        ("answered", "rejected"),
    ]
    assert (again.appended, rejected.order) == (0, None)
    feedback = AuditEntry.action == "decide.feedback"
    audits = hall.session.scalars(select(AuditEntry).where(feedback).order_by(AuditEntry.id))
    assert [(a.actor, a.entity_id, a.detail["outcome"], a.comment) for a in audits] == [
        ("clerk", rejected.contact_key, "shown", ""),
        ("clerk", rejected.contact_key, "rejected", "too dear"),
    ]  # the repeat changed nothing, so it left no trace


def test_a_report_about_a_campaign_that_does_not_reach_the_channel_is_refused(hall: Day) -> None:
    campaign = hall.launch(name="family", channels=["hall"])
    retain = offer(hall.session, "RETAIN200")
    with pytest.raises(inbound.DecideError, match="does not reach inbound"):
        report(hall, campaign, Outcome.SHOWN, channel=Channel.INBOUND)
    with pytest.raises(inbound.DecideError, match="not an offer of campaign"):
        report(hall, campaign, Outcome.SHOWN, offer_id=retain.id)
    campaigns.move(hall.session, campaign, to=Status.PAUSED, by=hall.people["maker"])
    with pytest.raises(inbound.DecideError, match="is not running"):
        report(hall, campaign, Outcome.SHOWN)
    assert hall.session.scalars(select(ContactEvent)).first() is None


def test_each_channel_has_its_own_text(hall: Day) -> None:
    family, data = offer(hall.session, "FAMSHARE"), offer(hall.session, "DP10G")
    sms = inbound.channel_text(data, Channel.SMS, ME)
    assert (sms.kind, sms.en) == (
        "sms",
        "You use a lot of data this month: reply KT10G to get the 10 GB data pack for 30 CNY"
        " a month.",
    )
    assert inbound.channel_text(data, Channel.OUTBOUND, ME).zh == data.scripts["outbound"]["zh"]
    banner = inbound.channel_text(family, Channel.APP, ME)
    assert (banner.kind, banner.zh, banner.en) == (
        "name",
        "家庭流量共享，10元",
        "Family data sharing, 10 CNY",
    )
    family.scripts = family.scripts | {"web": {"zh": "全家共享", "en": "Share with family"}}
    assert asdict(inbound.channel_text(family, Channel.APP, ME)) == {
        "kind": "banner",
        "zh": "全家共享",
        "en": "Share with family",
    }


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def web(api: Api) -> tuple[Api, dict[str, int]]:
    """The app with the decision routes (included here until the app registers them) and a
    running hall campaign for the family offer, one for a hall-less offer, one on SMS."""
    app = api.client.app
    if not any(getattr(r, "path", "").startswith("/decide") for r in app.routes):  # type: ignore[attr-defined]
        app.include_router(realtime_api.router)  # type: ignore[attr-defined]
    app.dependency_overrides[deps.get_order_centre] = SimulatedOrderCentre  # type: ignore[attr-defined]
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        ids = _province(session, app.state.lake, app.state.catalogue)  # type: ignore[attr-defined]
    return api, ids


def _province(session: Session, lake: Any, catalogue: Any) -> dict[str, int]:
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    imported = offers_service.import_file(
        session, lake, catalogue, path=offers_service.SAMPLES, by="t"
    )
    by_code = {o.code: o for o in imported}
    by_code["FAMSHARE"].channel_fit = FAMILY_FIT
    segment = segments.create(
        session, catalogue, by="t", segment_in=SegmentCreate(name="everyone", rule="TRUE")
    )
    maker = session.scalar(select(User).where(User.username == "planner"))
    checker = session.scalar(select(User).where(User.username == "approver"))
    assert maker is not None
    assert checker is not None
    ids = {}
    for name, code, channels in (
        ("family", "FAMSHARE", ["hall", "outbound"]),
        ("loyalty", "RETAIN200", ["hall"]),
        ("texts", "FAMSHARE", ["sms"]),
    ):
        spec = campaign_in(segment.id, by_code[code].id, name=name, channels=channels)
        campaign = campaigns.create(session, campaign_in=spec, by=maker)
        campaign.control_share = 0.0
        campaigns.move(session, campaign, to=Status.SUBMITTED, by=maker)
        campaigns.move(session, campaign, to=Status.APPROVED, by=checker, comment="ok")
        campaigns.move(session, campaign, to=Status.RUNNING, by=maker)
        ids[name] = campaign.id
    ids["offer"] = by_code["FAMSHARE"].id
    return ids


def _observed(channel: str) -> float:
    labels = {"channel": channel}
    return metrics.REGISTRY.get_sample_value("steward_decide_request_seconds_count", labels) or 0


def test_the_hall_screen_gets_the_offers_and_the_exclusions_over_http(
    web: tuple[Api, dict[str, int]],
) -> None:
    api, ids = web
    before = _observed("hall")

    answer = api.client.get(f"/decide/{ME}?channel=hall&day=2026-12-02", headers=api.as_("clerk"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["channel"], body["day"]) == ("hall", "2026-12-02")
    assert [(o["campaign_id"], o["code"], o["strong"]) for o in body["offers"]] == [
        (ids["family"], "FAMSHARE", True)
    ]
    assert body["offers"][0]["text"]["kind"] == "script"
    assert body["offers"][0]["reasons"]
    assert [(e["campaign_id"], e["outcome"]) for e in body["excluded"]] == [
        (ids["loyalty"], "channel.no_fit")
    ]
    assert _observed("hall") == before + 1


def test_unknown_numbers_other_districts_and_other_channels_are_refused(
    web: tuple[Api, dict[str, int]],
) -> None:
    api, _ = web
    agent = api.as_("agent")

    unknown = api.client.get("/decide/13900000000?channel=inbound", headers=agent)
    elsewhere = api.client.get(
        "/decide/13800000003?channel=hall", headers=api.as_("lanzhou_planner")
    )
    sms = api.client.get(f"/decide/{ME}?channel=sms", headers=agent)
    pigeon = api.client.get(f"/decide/{ME}?channel=pigeon", headers=agent)

    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no subscriber 13900000000 in the profile snapshot"
    assert elsewhere.status_code == 404
    assert (sms.status_code, pigeon.status_code) == (422, 422)


def test_a_channel_reports_shown_then_accepted_and_the_ledger_and_billing_follow(
    web: tuple[Api, dict[str, int]],
) -> None:
    api, ids = web
    clerk = api.as_("clerk")
    path = f"/decide/{ME}/feedback?day=2026-12-02"
    body = {"campaign_id": ids["family"], "offer_id": ids["offer"], "channel": "hall"}

    shown = api.client.post(path, json=body | {"outcome": "shown"}, headers=clerk)
    accepted = api.client.post(
        path, json=body | {"outcome": "accepted", "note": "ok"}, headers=clerk
    )
    again = api.client.post(path, json=body | {"outcome": "accepted"}, headers=clerk)
    late = api.client.post(path, json=body | {"outcome": "rejected"}, headers=clerk)
    elsewhere = api.client.post(
        path, json=body | {"outcome": "shown", "channel": "inbound"}, headers=clerk
    )

    assert shown.status_code == 200, shown.text
    assert shown.json()["states"] == ["reserved", "sent", "delivered"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["states"][-2:] == ["answered", "ordered"]
    assert accepted.json()["order"]["status"] == "accepted"
    assert (again.json()["appended"], again.json()["states"]) == (0, accepted.json()["states"])
    assert late.status_code == 409
    assert elsewhere.status_code == 422
    assert "does not reach inbound" in elsewhere.json()["detail"]["message"]


def test_only_the_channels_roles_read_offers_and_report(web: tuple[Api, dict[str, int]]) -> None:
    api, ids = web
    body = {
        "campaign_id": ids["family"],
        "offer_id": ids["offer"],
        "channel": "hall",
        "outcome": "shown",
    }
    path = f"/decide/{ME}"
    assert api.client.get(f"{path}?channel=hall", headers=api.as_("analyst")).status_code == 403
    assert api.client.get(f"{path}?channel=hall", headers=api.as_("planner")).status_code == 200
    assert api.client.get(f"{path}?channel=hall").status_code == 401
    refused = api.client.post(f"{path}/feedback", json=body, headers=api.as_("planner"))
    assert refused.status_code == 403
    report_day = f"{path}/feedback?day=2026-12-02"
    assert api.client.post(report_day, json=body, headers=api.as_("agent")).status_code == 200
