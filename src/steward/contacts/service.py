"""Append to the contact ledger and read it back: for caps, for reports, for export.

The ledger is appended in bulk (one INSERT of many rows per call) and read as Arrow tables so
the batch paths work on columns, never on ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Select, and_, exists, false, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from steward.contacts.models import RELEASING, Arm, ContactEvent, State
from steward.db import utcnow
from steward.wording import N_, Refusal

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("contact_key", pa.string()),
        ("state", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("day", pa.date32()),
        ("msisdn", pa.string()),
        ("campaign_id", pa.int64()),
        ("kind", pa.string()),
        ("offer_id", pa.int64()),
        ("category", pa.string()),
        ("exclusion_group", pa.string()),
        ("channel", pa.string()),
        ("arm", pa.string()),
        ("detail", pa.string()),
        ("source", pa.string()),
    ]
)
# The columns of the ledger as exported (docs/contacts.md describes each).
COLUMNS = tuple(SCHEMA.names)
CONTACT_FIELDS = (
    "contact_key",
    "day",
    "msisdn",
    "campaign_id",
    "kind",
    "offer_id",
    "category",
    "exclusion_group",
    "channel",
    "arm",
)
BATCH_ROWS = 50_000
# A service notice (an event's bound action: "your balance is low"): recorded like any
# contact, but it holds no cap unit and does not end the subscriber's day.
SERVICE = "service"


class LedgerError(Refusal):
    """A state change the ledger cannot accept; the message says which and why."""


def append(session: Session, events: Iterable[Mapping[str, Any]]) -> int:
    """Append state changes in bulk; each needs every contact field, a state and a source."""
    at = utcnow()
    rows: list[dict[str, Any]] = []
    written = 0
    for event in events:
        rows.append(_checked(event, at))
        if len(rows) >= BATCH_ROWS:
            written += _insert(session, rows)
            rows = []
    return written + _insert(session, rows)


def _checked(event: Mapping[str, Any], at: Any) -> dict[str, Any]:
    row = {"at": at, "arm": Arm.TARGET.value, "detail": None, "due_at": None} | dict(event)
    missing = [f for f in (*CONTACT_FIELDS, "state", "source") if f not in row]
    if missing:
        raise LedgerError(
            N_("contact %(key)r: missing %(missing)s"), key=row.get("contact_key"), missing=missing
        )
    if row["state"] not in State.__members__.values():
        raise LedgerError(
            N_("contact %(key)r: unknown state %(state)r"),
            key=row["contact_key"],
            state=row["state"],
        )
    return row


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if rows:
        session.execute(insert(ContactEvent), rows)
    return len(rows)


def follow_up(
    session: Session, contact_key: str, *, state: State, source: str, detail: str | None = None
) -> dict[str, Any]:
    """Append the next state of an existing contact, copying its fields from the ledger."""
    first = session.scalars(
        select(ContactEvent).where(ContactEvent.contact_key == contact_key).limit(1)
    ).first()
    if first is None:
        raise LedgerError(N_("no contact %(key)r in the ledger"), key=contact_key)
    row = {f: getattr(first, f) for f in CONTACT_FIELDS}
    row |= {"state": state.value, "source": source, "detail": detail}
    append(session, [row])
    return row


def states_of(session: Session, contact_key: str) -> list[str]:
    """The contact's states, oldest first."""
    query = (
        select(ContactEvent.state)
        .where(ContactEvent.contact_key == contact_key)
        .order_by(ContactEvent.id)
    )
    return list(session.scalars(query))


def still_reserved(
    session: Session,
    *,
    day: date,
    channel: str,
    unless: Any = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The day's target contacts on ``channel`` whose latest state is ``reserved`` — what a
    channel has still to take — in ledger order (first reserved, first served). ``unless``
    is an extra condition on ``ContactEvent`` that leaves a contact out; with ``now``, a
    contact due later (a trigger's delay or window) waits."""
    later = aliased(ContactEvent)
    fields = (getattr(ContactEvent, f) for f in CONTACT_FIELDS)
    query = select(*fields, ContactEvent.detail).where(
        ContactEvent.day == day,
        ContactEvent.channel == channel,
        ContactEvent.arm == Arm.TARGET.value,
        ContactEvent.state == State.RESERVED.value,
        ~exists().where(later.contact_key == ContactEvent.contact_key, later.id > ContactEvent.id),
    )
    if unless is not None:
        query = query.where(~unless)
    if now is not None:
        query = query.where(or_(ContactEvent.due_at.is_(None), ContactEvent.due_at <= now))
    return [dict(row) for row in session.execute(query.order_by(ContactEvent.id)).mappings()]


def _released() -> Any:
    later = aliased(ContactEvent)
    return exists().where(
        and_(
            later.contact_key == ContactEvent.contact_key,
            later.state.in_([s.value for s in RELEASING]),
        )
    )


def units_on(session: Session, *, day: date, channel: str) -> int:
    """How many contacts hold a unit of ``channel``'s capacity on ``day``."""
    query = select(func.count()).where(
        ContactEvent.day == day,
        ContactEvent.channel == channel,
        ContactEvent.state == State.RESERVED.value,
        ContactEvent.kind != SERVICE,
        ~_released(),
    )
    return int(session.scalar(query) or 0)


Numbers = str | Sequence[str] | None  # one subscriber, some, or all


def _of(query: Any, msisdn: Numbers, column: Any = ContactEvent.msisdn) -> Any:
    if msisdn is None:
        return query
    if isinstance(msisdn, str):
        return query.where(column == msisdn)
    return query.where(column.in_(list(msisdn)))


def holding_units(
    session: Session, *, since: date, until: date | None = None, msisdn: Numbers = None
) -> pa.Table:
    """Contacts that hold cap units: reserved, never failed or cancelled (R-POL-4).

    Columns: msisdn, channel, kind, day, campaign_id. The reconcile is here: a failed or
    cancelled contact gives its unit back, so counts follow what the channels really did.
    """
    query = select(
        ContactEvent.msisdn,
        ContactEvent.channel,
        ContactEvent.kind,
        ContactEvent.day,
        ContactEvent.campaign_id,
    ).where(
        ContactEvent.state == State.RESERVED.value,
        ContactEvent.day >= since,
        ContactEvent.kind != SERVICE,
        ~_released(),
    )
    if until is not None:
        query = query.where(ContactEvent.day <= until)
    return _arrow(session, _of(query, msisdn))


def history(
    session: Session,
    *,
    windows: Iterable[tuple[Iterable[State], date]],
    until: date | None = None,
    msisdn: Numbers = None,
) -> pa.Table:
    """Ledger rows, every column, in any of the windows (states since a day): the facts
    intervals and campaign rules look at, read in one query."""
    conditions = [
        and_(ContactEvent.state.in_([s.value for s in states]), ContactEvent.day >= since)
        for states, since in windows
    ]
    query = select(*(getattr(ContactEvent, c) for c in COLUMNS))
    query = query.where(or_(*conditions)) if conditions else query.where(false())
    if until is not None:
        query = query.where(ContactEvent.day <= until)
    return _arrow(session, _of(query, msisdn))


def read(session: Session, *, campaign_ids: Sequence[int] | None = None) -> pa.Table:
    """Ledger rows, every column, of some campaigns (all when None): what reports count."""
    query = select(*(getattr(ContactEvent, c) for c in COLUMNS))
    if campaign_ids is not None:
        query = query.where(ContactEvent.campaign_id.in_(list(campaign_ids)))
    return _arrow(session, query)


def contacts_by_state(
    session: Session,
    *,
    campaign_ids: Sequence[int],
    states: Iterable[State],
    arm: Arm | None = None,
    since: datetime | None = None,
) -> dict[int, dict[str, int]]:
    """Per campaign of ``campaign_ids`` and state of ``states``, how many distinct contacts
    reached that state (of one ``arm`` when given; with ``since``, by a row written at or
    after it). One aggregate in the database, for screens that need counts, not rows."""
    query = (
        select(
            ContactEvent.campaign_id,
            ContactEvent.state,
            func.count(func.distinct(ContactEvent.contact_key)).label("contacts"),
        )
        .where(
            ContactEvent.campaign_id.in_(list(campaign_ids)),
            ContactEvent.state.in_([s.value for s in states]),
        )
        .group_by(ContactEvent.campaign_id, ContactEvent.state)
    )
    if arm is not None:
        query = query.where(ContactEvent.arm == arm.value)
    if since is not None:
        query = query.where(ContactEvent.at >= since)
    found: dict[int, dict[str, int]] = {}
    for row in session.execute(query):
        found.setdefault(int(row.campaign_id), {})[str(row.state)] = int(row.contacts)
    return found


def _arrow(session: Session, query: Select[Any] | Any) -> pa.Table:
    result = session.execute(query)
    names = list(result.keys())
    columns: dict[str, list[Any]] = {n: [] for n in names}
    for chunk in result.partitions(BATCH_ROWS):
        for name, values in zip(names, zip(*chunk, strict=True), strict=True):
            columns[name].extend(values)
    fields = [SCHEMA.field(n) for n in names]
    return pa.table(
        {f.name: pa.array(columns[f.name], type=f.type) for f in fields}, schema=pa.schema(fields)
    )


def export(session: Session, out: Path) -> int:
    """Write the whole ledger as Parquet, in id order, a batch at a time; returns the rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    query = select(*(getattr(ContactEvent, c) for c in COLUMNS)).order_by(ContactEvent.id)
    written = 0
    partial = out.with_name(out.name + ".partial")
    with pq.ParquetWriter(partial, SCHEMA) as writer:
        result = session.execute(query.execution_options(yield_per=BATCH_ROWS))
        for chunk in result.partitions(BATCH_ROWS):
            columns = list(zip(*chunk, strict=True))
            batch = pa.table(
                {
                    f.name: pa.array(col, type=f.type)
                    for f, col in zip(SCHEMA, columns, strict=True)
                },
                schema=SCHEMA,
            )
            writer.write_table(batch)
            written += batch.num_rows
    partial.replace(out)
    return written
