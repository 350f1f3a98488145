"""One-click orders: the adapter to the billing order centre, and the ledger step behind it.

Every channel that turns a "yes" into an order (an SMS reply, an agent's call result, a tap
in the app) calls ``order_for_contact``. The contact key is the order key, so the order
centre sees each contact's order at most once however often a reply or a retry repeats it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.channels import crosschannel
from steward.channels.models import BillingOrder, OrderStatus, Outcome
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import follow_up
from steward.offers.service import get as get_offer
from steward.wording import N_, Refusal

__all__ = [
    "OrderCentre",
    "OrderError",
    "OrderResult",
    "OrderStatus",
    "SimulatedOrderCentre",
    "order_for_contact",
]


class OrderError(Refusal):
    """A contact that cannot be ordered at all (unknown, or without an offer)."""


@dataclass(frozen=True)
class OrderResult:
    order_key: str
    status: OrderStatus
    reference: str | None  # the billing system's order number when accepted
    reason: str | None  # why billing refused it when rejected

    @property
    def accepted(self) -> bool:
        return self.status is OrderStatus.ACCEPTED


class OrderCentre(Protocol):
    """What a billing order centre adapter does; placing a known order key again must
    return the first result and order nothing new."""

    def place(
        self,
        session: Session,
        *,
        order_key: str,
        msisdn: str,
        billing_product_id: str,
        offer_id: int,
    ) -> OrderResult: ...


class SimulatedOrderCentre:
    """A stand-in for the billing order centre (demo and tests), kept in ``billing_order``.

    It accepts any named product and rejects an empty one — care offers have nothing to
    order — so the paths of both answers can be exercised without billing.
    """

    def place(
        self,
        session: Session,
        *,
        order_key: str,
        msisdn: str,
        billing_product_id: str,
        offer_id: int,
    ) -> OrderResult:
        known = session.scalar(select(BillingOrder).where(BillingOrder.order_key == order_key))
        if known is None:
            known = _record(session, order_key, msisdn, billing_product_id, offer_id)
        return OrderResult(
            order_key=known.order_key,
            status=OrderStatus(known.status),
            reference=known.reference,
            reason=known.reason,
        )


def _record(
    session: Session, order_key: str, msisdn: str, product: str, offer_id: int
) -> BillingOrder:
    if product.strip():
        digest = hashlib.sha1(order_key.encode(), usedforsecurity=False).hexdigest()
        status, reference, reason = OrderStatus.ACCEPTED, f"SIMORD-{digest[:16].upper()}", None
    else:
        status, reference, reason = OrderStatus.REJECTED, None, "no billing product to order"
    order = BillingOrder(
        order_key=order_key,
        msisdn=msisdn,
        billing_product_id=product or None,
        offer_id=offer_id,
        status=status.value,
        reference=reference,
        reason=reason,
    )
    session.add(order)
    session.flush()
    return order


def order_for_contact(
    session: Session, centre: OrderCentre, *, contact_key: str, source: str
) -> OrderResult:
    """Order the contact's offer and record the answer in the ledger: ``ordered`` (detail:
    the billing reference) or ``answered`` (detail: ``order_rejected: <reason>``).

    Safe to repeat: the centre returns the first result for the same key, and the ledger
    row is written only if the contact does not hold it yet.
    """
    contact = session.scalar(
        select(ContactEvent)
        .where(ContactEvent.contact_key == contact_key)
        .order_by(ContactEvent.id)
        .limit(1)
    )
    if contact is None:
        raise OrderError(N_("no contact %(key)r in the ledger"), key=contact_key)
    if contact.offer_id is None:
        raise OrderError(N_("contact %(key)r names no offer to order"), key=contact_key)
    offer = get_offer(session, contact.offer_id)
    result = centre.place(
        session,
        order_key=contact_key,
        msisdn=contact.msisdn,
        billing_product_id=(offer.billing_product_id or "") if offer else "",
        offer_id=contact.offer_id,
    )
    if result.accepted:
        state, detail = State.ORDERED, result.reference
    else:
        state, detail = State.ANSWERED, f"order_rejected: {result.reason}"[:200]
    if not _holds(session, contact_key, state, detail):
        follow_up(session, contact_key, state=state, source=source, detail=detail)
    if result.accepted:  # an order on any channel updates the others (R-CHAN-5)
        crosschannel.apply_outcome(session, contact_key=contact_key, outcome=Outcome.ORDERED)
    return result


def _holds(session: Session, contact_key: str, state: State, detail: str | None) -> bool:
    query = select(ContactEvent.id).where(
        ContactEvent.contact_key == contact_key, ContactEvent.state == state.value
    )
    if state is not State.ORDERED:  # one order per contact, whatever its reference
        query = query.where(ContactEvent.detail == detail)
    return session.scalar(query.limit(1)) is not None


def accepted_orders(session: Session) -> pa.Table:
    """The order feed evaluation reads: every accepted order (msisdn, offer_id, day), whoever
    made it happen — a contact's reply, an agent's call, or the customer on their own."""
    rows = session.execute(
        select(BillingOrder.msisdn, BillingOrder.offer_id, BillingOrder.at).where(
            BillingOrder.status == OrderStatus.ACCEPTED.value
        )
    ).all()
    return pa.table(
        {
            "msisdn": pa.array([r[0] for r in rows], pa.string()),
            "offer_id": pa.array([r[1] for r in rows], pa.int64()),
            "day": pa.array([r[2].date() for r in rows], pa.date32()),
        }
    )
