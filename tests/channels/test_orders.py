"""One-click orders: one order per contact key, the answer recorded in the ledger once.

The helpers at the top (offers, campaigns, ledger contacts) are shared with test_sms.py.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.campaigns.models import Campaign, Status
from steward.channels.models import BillingOrder
from steward.channels.orders import (
    OrderError,
    OrderStatus,
    SimulatedOrderCentre,
    order_for_contact,
)
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import append, states_of
from steward.lake.service import Lake
from steward.offers import service as offers_service
from steward.offers.models import Offer
from steward.offers.schemas import OfferCreate
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags_service
from tests.tags import factories as f

DAY = date(2026, 12, 8)


def sample_offers(session: Session, lake: Lake) -> dict[str, Offer]:
    """The sample catalogue (DP10G replies KT10G; BIRTHDAY is care, nothing to order) and a
    second SMS offer, DP5G, replying KT5G."""
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    catalogue = tags_service.load_catalogue()
    loaded = offers_service.import_file(
        session, lake, catalogue, path=offers_service.SAMPLES, by="test"
    )
    five = OfferCreate.model_validate(
        {
            "code": "DP5G",
            "name_zh": "5GB流量包",
            "name_en": "5 GB pack",
            "billing_product_id": "DP_5GB_20",
            "offer_type": "data_pack",
            "category": "data",
            "price": 20,
            "sms_zh": "回复{reply_code}订购{offer_name}，{price}元，尾号{msisdn_tail}",
            "reply_code": "KT5G",
        }
    )
    extra = offers_service.create(session, lake, catalogue, offer_in=five, by="test")
    return {o.code: o for o in [*loaded, extra]}


def campaign(session: Session, *, status: Status = Status.RUNNING, name: str = "c1") -> Campaign:
    row = Campaign(
        name=name,
        kind="marketing",
        status=status.value,
        segment_ids=[],
        offer_ids=[],
        channels=["sms"],
        waves=[],
        control_share=0.0,
        priority=50,
        expected_rate=0.02,
        success_rule={},
        budget=[],
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 31),
        owner="maker",
        district="province",
    )
    session.add(row)
    session.flush()
    return row


def contact(
    session: Session,
    key: str,
    *,
    offer: Offer | None,
    campaign_id: int | None,
    msisdn: str = "13800000001",
    state: State = State.RESERVED,
    **overrides: Any,
) -> str:
    """Append one ledger row for contact ``key`` (a reserved SMS target contact by default)."""
    row: dict[str, Any] = {
        "contact_key": key,
        "day": DAY,
        "msisdn": msisdn,
        "campaign_id": campaign_id,
        "kind": "marketing",
        "offer_id": offer.id if offer else None,
        "category": offer.category if offer else None,
        "exclusion_group": offer.exclusion_group if offer else None,
        "channel": "sms",
        "arm": "target",
        "state": state.value,
        "source": "test",
    }
    append(session, [row | overrides])
    return key


@pytest.fixture
def offers(session: Session, lake: Lake) -> dict[str, Offer]:
    return sample_offers(session, lake)


def orders_of(session: Session, key: str) -> int:
    query = select(func.count()).select_from(BillingOrder).where(BillingOrder.order_key == key)
    return session.scalar(query) or 0


def details(session: Session, key: str, state: State) -> list[str | None]:
    query = select(ContactEvent.detail).where(
        ContactEvent.contact_key == key, ContactEvent.state == state.value
    )
    return list(session.scalars(query))


def test_an_accepted_order_is_recorded_as_ordered_with_its_reference(
    session: Session, offers: dict[str, Offer]
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=None, state=State.DELIVERED)
    result = order_for_contact(session, SimulatedOrderCentre(), contact_key=key, source="test")
    assert result.status is OrderStatus.ACCEPTED
    assert result.reference
    assert result.reason is None
    assert details(session, key, State.ORDERED) == [result.reference]
    order = session.scalar(select(BillingOrder).where(BillingOrder.order_key == key))
    assert order is not None
    assert (order.billing_product_id, order.msisdn) == ("DP_10GB_30", "13800000001")


def test_ordering_a_contact_twice_orders_once_and_records_once(
    session: Session, offers: dict[str, Offer]
) -> None:
    key = contact(session, "k1", offer=offers["DP10G"], campaign_id=None, state=State.DELIVERED)
    centre = SimulatedOrderCentre()
    first = order_for_contact(session, centre, contact_key=key, source="test")
    again = order_for_contact(session, centre, contact_key=key, source="test")
    assert again == first
    assert orders_of(session, key) == 1
    assert states_of(session, key) == ["delivered", "ordered"]


def test_the_centre_returns_the_first_result_for_a_known_order_key(session: Session) -> None:
    centre = SimulatedOrderCentre()
    first = centre.place(
        session, order_key="o1", msisdn="13800000001", billing_product_id="DP_10GB_30", offer_id=1
    )
    again = centre.place(
        session, order_key="o1", msisdn="13800000009", billing_product_id="", offer_id=2
    )
    assert again == first
    assert again.status is OrderStatus.ACCEPTED
    assert orders_of(session, "o1") == 1


def test_a_care_offer_has_nothing_to_order_and_is_recorded_as_rejected_once(
    session: Session, offers: dict[str, Offer]
) -> None:
    key = contact(session, "k1", offer=offers["BIRTHDAY"], campaign_id=None, state=State.SENT)
    centre = SimulatedOrderCentre()
    result = order_for_contact(session, centre, contact_key=key, source="test")
    order_for_contact(session, centre, contact_key=key, source="test")
    assert result.status is OrderStatus.REJECTED
    assert result.reason == "no billing product to order"
    assert details(session, key, State.ANSWERED) == ["order_rejected: no billing product to order"]
    assert details(session, key, State.ORDERED) == []


def test_a_contact_the_ledger_does_not_know_cannot_be_ordered(session: Session) -> None:
    with pytest.raises(OrderError, match="no contact 'nope'"):
        order_for_contact(session, SimulatedOrderCentre(), contact_key="nope", source="test")


def test_a_contact_without_an_offer_cannot_be_ordered(session: Session) -> None:
    key = contact(session, "k1", offer=None, campaign_id=None, state=State.SENT)
    with pytest.raises(OrderError, match="names no offer"):
        order_for_contact(session, SimulatedOrderCentre(), contact_key=key, source="test")
    assert orders_of(session, key) == 0
