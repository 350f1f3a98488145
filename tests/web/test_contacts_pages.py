"""The customer view over HTTP (issue 6, screen 8; R-DATA-4): tags, contacts, orders and
decisions of one subscriber, in the user's district, masked for who does not serve."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

from steward import db
from steward.campaigns.models import Campaign, Status
from steward.contacts import service as ledger
from steward.offers import service as offers
from steward.segments import service as segments
from steward.segments.schemas import SegmentCreate
from steward.synth.catalogue import CATALOGUE
from tests.tags import factories as f
from tests.web.test_pages import EN, signed_in
from tests.web_fixtures import Api


def contacted(api: Api) -> None:
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    with db.transaction(sessions) as session:
        base = {
            "contact_key": "k-1",
            "day": date(2026, 11, 30),
            "msisdn": "13800000001",
            "campaign_id": 7,
            "kind": "marketing",
            "offer_id": 1,
            "category": "data",
            "exclusion_group": None,
            "channel": "sms",
            "arm": "target",
            "source": "test",
        }
        ledger.append(session, [base | {"state": "reserved"}, base | {"state": "delivered"}])


def test_an_agent_sees_the_whole_number_and_each_contact_at_its_latest_state(api: Api) -> None:
    contacted(api)
    client = signed_in(api, "agent")
    client.get("/language/en")
    page = client.get("/customer?msisdn=13800000001", headers=EN).text
    assert "<h2>13800000001</h2>" in page
    assert "<td>Delivered</td><td>Target group</td>" in page  # states and arms in words
    assert "In today&#39;s plan" not in page  # one row a contact: its latest state
    assert "Brand" in page  # the tag's label in the page's language


def test_an_analyst_sees_it_masked(api: Api) -> None:
    client = signed_in(api, "analyst")
    client.get("/language/en")
    page = client.get("/customer?msisdn=13800000001").text
    assert "<h2>138****0001</h2>" in page
    assert "13800000001</h2>" not in page


def test_outside_the_district_or_malformed_the_number_is_not_found(api: Api) -> None:
    client = signed_in(api, "lanzhou_planner")
    client.get("/language/en")
    assert "No such subscriber in your district." in client.get("/customer?msisdn=13800000003").text
    assert "Type an 11-digit mobile number." in client.get("/customer?msisdn=12ab").text
    assert "138****0001" in client.get("/customer?msisdn=13800000001").text


def test_codes_read_as_words_in_the_pages_language(api: Api) -> None:
    contacted(api)
    client = signed_in(api, "agent")
    client.get("/language/zh_CN")
    page = client.get("/customer?msisdn=13800000002").text
    assert "<td>品牌</td><td>动感地带</td>" in page  # brand mzone
    client.get("/language/en")
    page = client.get("/customer?msisdn=13800000002").text
    assert "<td>Brand</td><td>M-Zone</td>" in page
    assert "<td>County</td><td>chengguan</td>" in page  # a code without a word: as itself


def test_with_no_campaign_the_why_not_says_none_reaches_the_subscriber(api: Api) -> None:
    client = signed_in(api, "clerk")
    client.get("/language/en")
    page = client.get("/customer?msisdn=13800000001").text
    assert "Why or why not, campaign by campaign" in page
    assert "No running or recent campaign reaches this subscriber." in page


def running(api: Api, *names_and_priorities: tuple[str, int]) -> dict[str, int]:
    """Campaigns running today over everyone, one offer each, at the given priorities."""
    app = api.client.app
    with db.transaction(app.state.sessions) as session:  # type: ignore[attr-defined]
        lake, catalogue = app.state.lake, app.state.catalogue  # type: ignore[attr-defined]
        f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
        imported = offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="t")
        family = next(o for o in imported if o.code == "FAMSHARE")
        family.channel_fit = {"sms": 1}
        segment = segments.create(
            session, catalogue, by="t", segment_in=SegmentCreate(name="everyone", rule="TRUE")
        )
        today = date.today()
        found = {}
        for name, priority in names_and_priorities:
            campaign = Campaign(
                name=name,
                kind="marketing",
                status=Status.RUNNING.value,
                segment_ids=[segment.id],
                offer_ids=[family.id],
                channels=["sms"],
                waves=[],
                control_share=0.0,
                priority=priority,
                expected_rate=0.02,
                success_rule={"event": "order", "within_days": 7},
                budget=[],
                start_date=today,
                end_date=today + timedelta(days=10),
                owner="planner",
                district="province",
            )
            session.add(campaign)
            session.flush()
            found[name] = campaign.id
        return found


def test_the_why_not_judges_every_running_campaign_against_the_others(api: Api) -> None:
    ids = running(api, ("low", 30), ("high", 90), ("middle", 60))
    client = signed_in(api, "agent")
    client.get("/language/en")
    page = client.get("/customer?msisdn=13800000001", headers=EN).text
    rows = {
        campaign_id: page.split(f'<tr data-campaign="{campaign_id}">')[1].split("</tr>")[0]
        for campaign_id in ids.values()
    }
    assert 'data-outcome="winner"' in rows[ids["high"]]
    for lost in ("low", "middle"):
        assert 'data-outcome="arbitration.lost"' in rows[ids[lost]]
        assert rows[ids[lost]].endswith("<td>high</td>")  # won by
