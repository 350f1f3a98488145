"""The SMS centre adapter: what a real SMPP/CMPP gateway would implement, and a simulation.

Steward hands a message over (``submit``), later reads delivery receipts (``receipts``) and
the texts subscribers sent back (``replies``). Receipts and replies are polled, not pushed,
so the loop that applies them runs on its own schedule and can be re-run after a crash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.channels.models import InboundSms, SmsMessage, SmsStatus
from steward.db import utcnow

UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt; ``id`` orders receipts so a reader can ask for those after it."""

    id: int
    message_id: str
    contact_key: str
    delivered: bool
    reason: str | None  # why the message failed, when it did


class SmsCentre(Protocol):
    """An SMS gateway as Steward uses it.

    ``submit`` must be idempotent by contact key (a gateway's client reference): handing
    the same contact over twice returns the first message id and sends nothing new.
    """

    def submit(self, session: Session, *, contact_key: str, msisdn: str, text: str) -> str: ...

    def receipts(self, session: Session, since_id: int) -> list[Receipt]: ...

    def replies(self, session: Session) -> list[InboundSms]: ...


class SimulatedSmsCentre:
    """A SIMULATED SMS centre for the demo and the tests; it reaches no phone.

    Messages are kept in ``sms_message``. Delivery is decided when receipts are read, the
    same way every time: a number whose md5 falls below ``failure_share`` of the hash range
    fails as unreachable, every other one is delivered. ``reply`` plays a subscriber
    texting back.
    """

    def __init__(self, *, failure_share: float = 0.03, batch: int = 5_000) -> None:
        if not 0 <= failure_share <= 1:
            raise ValueError(f"failure_share must lie in [0, 1], not {failure_share}")
        self.failure_share = failure_share
        self.batch = batch

    def submit(self, session: Session, *, contact_key: str, msisdn: str, text: str) -> str:
        known = session.scalar(
            select(SmsMessage.message_id).where(SmsMessage.contact_key == contact_key)
        )
        if known is not None:
            return known
        digest = hashlib.sha1(contact_key.encode(), usedforsecurity=False).hexdigest()
        message_id = f"SIMSMS-{digest[:20].upper()}"
        session.execute(
            insert(SmsMessage).values(
                message_id=message_id,
                contact_key=contact_key,
                msisdn=msisdn,
                text=text,
                submitted_at=utcnow(),
                status=SmsStatus.SUBMITTED.value,
            )
        )
        return message_id

    def receipts(self, session: Session, since_id: int) -> list[Receipt]:
        self._deliver(session)
        query = (
            select(SmsMessage)
            .where(SmsMessage.id > since_id, SmsMessage.status != SmsStatus.SUBMITTED.value)
            .order_by(SmsMessage.id)
            .limit(self.batch)
        )
        return [
            Receipt(
                id=m.id,
                message_id=m.message_id,
                contact_key=m.contact_key,
                delivered=m.status == SmsStatus.DELIVERED.value,
                reason=m.reason,
            )
            for m in session.scalars(query)
        ]

    def replies(self, session: Session) -> list[InboundSms]:
        query = select(InboundSms).where(InboundSms.processed.is_(False)).order_by(InboundSms.id)
        return list(session.scalars(query))

    def reply(self, session: Session, msisdn: str, text: str) -> InboundSms:
        """The subscriber of ``msisdn`` texts ``text`` back (demo and tests)."""
        inbound = InboundSms(msisdn=msisdn, text=text, processed=False)
        session.add(inbound)
        session.flush()
        return inbound

    def fails(self, msisdn: str) -> bool:
        """Whether a message to ``msisdn`` fails; fixed by the number, so runs repeat."""
        digest = hashlib.md5(msisdn.encode(), usedforsecurity=False).digest()
        return int.from_bytes(digest[:8]) / 2**64 < self.failure_share

    def _deliver(self, session: Session) -> None:
        pending = select(SmsMessage).where(SmsMessage.status == SmsStatus.SUBMITTED.value)
        now = utcnow()
        for message in session.scalars(pending):
            failed = self.fails(message.msisdn)
            message.status = (SmsStatus.FAILED if failed else SmsStatus.DELIVERED).value
            message.reason = UNREACHABLE if failed else None
            message.status_at = now
        session.flush()
