"""Daily account and care records of one chunk: recharges, balances, complaints, contacts.

Balances carry over from day to day in one float per subscriber (the only state that grows
with N): recharges add, the daily rent and the day's usage charges subtract, and a low
balance makes a prepaid recharge likelier. Complaints follow the hidden dissatisfaction that
also drives churn; contacts lean towards each subscriber's preferred channel.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.ingest.schemas import BALANCE, CHANNELS_CONTACT, COMPLAINT, CONTACT, RECHARGE
from steward.synth.numbers import (
    F64,
    I64,
    as_i64,
    cdf_of,
    owners_of,
    rank_in_owner,
    table_categorical,
)
from steward.synth.population import CANCELLED, CHANNELS, SUSPENDED, day_number
from steward.synth.province import COMPLAINT_TEXT, CONSULTATION_TEXT
from steward.synth.usage import SMS_HOURS, Chunk, Day, timestamps
from steward.synth.writer import coded, table_of

RECHARGE_CHANNELS = ("hall", "web", "app", "wechat", "card", "bank", "agent")
PREPAID_CHANNEL_P = (0.10, 0.05, 0.28, 0.30, 0.10, 0.05, 0.12)
POSTPAID_CHANNEL_P = (0.10, 0.05, 0.25, 0.15, 0.0, 0.45, 0.0)
AMOUNTS = np.array([10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0, 500.0])
CATEGORIES = tuple(COMPLAINT_TEXT)
COMPLAINT_CATEGORY_P = (0.30, 0.25, 0.10, 0.10, 0.08, 0.05, 0.05, 0.07)
CONSULTATION_CATEGORY_P = (0.30, 0.08, 0.12, 0.30, 0.08, 0.05, 0.04, 0.03)
CARE_CHANNEL_P = (0.12, 0.05, 0.10, 0.55, 0.04, 0.10, 0.04)  # in CHANNELS order
CONTACT_CHANNEL_P = (0.15, 0.08, 0.30, 0.15, 0.06, 0.20, 0.06)
PURPOSES = ("query", "business", "payment", "consultation", "complaint", "browse")
# Purpose mix per channel (rows in CHANNELS order).
PURPOSE_P = np.array(
    [
        [0.15, 0.45, 0.25, 0.10, 0.05, 0.00],  # hall
        [0.35, 0.15, 0.15, 0.05, 0.00, 0.30],  # web
        [0.35, 0.15, 0.15, 0.05, 0.00, 0.30],  # app
        [0.40, 0.10, 0.05, 0.30, 0.15, 0.00],  # call_centre
        [0.60, 0.05, 0.25, 0.10, 0.00, 0.00],  # ivr
        [0.35, 0.15, 0.25, 0.10, 0.00, 0.15],  # wechat
        [0.30, 0.30, 0.40, 0.00, 0.00, 0.00],  # self_service
    ]
)
CONTACT_SECONDS = np.array([600.0, 180.0, 150.0, 240.0, 90.0, 120.0, 150.0])  # median by channel
# Opening hours: halls and terminals 9-18, agents 8-22, online all day.
_OPEN = np.zeros(24)
_OPEN[9:18] = 1.0
_STAFFED = np.full(24, 0.05)
_STAFFED[8:22] = 1.0
_ONLINE = np.array(SMS_HOURS)
_HOURS_BY_CHANNEL = np.stack(
    [
        cdf_of(_OPEN),
        _ONLINE,
        _ONLINE,
        cdf_of(_STAFFED),
        cdf_of(_STAFFED),
        _ONLINE,
        cdf_of(_OPEN),
    ]
)
_PURPOSE_CDF = np.cumsum(PURPOSE_P, axis=1)
_RECHARGE_CHANNEL_CDF = np.stack([cdf_of(PREPAID_CHANNEL_P), cdf_of(POSTPAID_CHANNEL_P)])
_TEXTS = {
    kind: [t for c in CATEGORIES for t in table[c]]
    for kind, table in (("complaint", COMPLAINT_TEXT), ("consultation", CONSULTATION_TEXT))
}
_TEXT_COUNT = {
    kind: np.array([len(table[c]) for c in CATEGORIES])
    for kind, table in (("complaint", COMPLAINT_TEXT), ("consultation", CONSULTATION_TEXT))
}
_DESCRIPTIONS = pa.array(_TEXTS["complaint"] + _TEXTS["consultation"], type=pa.string())
_CHANNELS = pa.array(list(CHANNELS), type=pa.string())
_RECHARGE_CHANNELS = pa.array(list(RECHARGE_CHANNELS), type=pa.string())
_PURPOSES = pa.array(list(PURPOSES), type=pa.string())
_CATEGORIES = pa.array(list(CATEGORIES), type=pa.string())
_KINDS = pa.array(["complaint", "consultation"], type=pa.string())
_LETTERS = pa.array(["C", "Q"], type=pa.string())
_STATUSES = pa.array(["open", "closed"], type=pa.string())
assert CHANNELS == CHANNELS_CONTACT


def _ids(kind: str, day: Day, index: I64, suffix: pa.Array | str = "") -> pa.Array:
    """Record ids like ``RC20261101000012345``: kind, day, zero-padded subscriber index."""
    numbers = pc.utf8_lpad(pc.cast(pa.array(index), pa.string()), width=9, padding="0")
    return pc.binary_join_element_wise(f"{kind}{day.stamp}", numbers, suffix, "")


def _clock(r: np.random.Generator, channel: I64, hours: F64 = _HOURS_BY_CHANNEL) -> I64:
    """One time of day per row, on the hourly curve of the row's channel."""
    hour = table_categorical(r.random(len(channel)), channel, hours)
    return as_i64(hour * 3600 + r.integers(0, 3600, len(channel)))


def _channel(preferred: I64, general: F64, keep: float, r: np.random.Generator) -> I64:
    drawn = np.minimum(
        np.searchsorted(cdf_of(general), r.random(len(preferred)), side="right"), len(general) - 1
    )
    return np.where(r.random(len(preferred)) < keep, preferred, drawn).astype(np.int64)


def recharge(c: Chunk, balance: F64, r: np.random.Generator) -> tuple[pa.Table, F64]:
    """Prepaid top-ups about every ten days (sooner when low); postpaid pays on its pay day."""
    pop = c.pop
    n = pop.n
    alive = (pop.status != CANCELLED) & (c.day.offset < pop.churn_day)
    low = balance < 10.0
    p_prepaid = 0.05 + 0.30 * low + 0.25 * (pop.status == SUSPENDED)
    pay_day = pop.pay_day == c.day.date.day
    p = np.where(
        pop.postpaid, np.where(pay_day, 0.92, 0.01 * (balance < -pop.credit_limit)), p_prepaid
    )
    who = np.flatnonzero(alive & (r.random(n) < p))
    u = r.random((3, len(who)))
    tier = np.clip(np.round(2.3 + 0.9 * pop.value[who] + 0.8 * r.standard_normal(len(who))), 0, 7)
    topup = AMOUNTS[tier.astype(np.int64)]
    bill = np.maximum.reduce(
        [-balance[who], pop.monthly_fee[who] + pop.addon_fee[who], np.full(len(who), 10.0)]
    )
    amount = np.round(np.where(pop.postpaid[who], np.ceil(bill), topup), 2)
    post = pop.postpaid[who]
    channel = table_categorical(u[0], post.astype(np.int64), _RECHARGE_CHANNEL_CDF)
    # Those who prefer a self-service channel tend to pay there too.
    preferred = np.array(
        [RECHARGE_CHANNELS.index(ch) if ch in RECHARGE_CHANNELS else -1 for ch in CHANNELS]
    )[pop.preferred_channel[who]]
    channel = np.where((preferred >= 0) & (u[1] < 0.5), preferred, channel)
    second = _clock(r, np.zeros(len(who), dtype=np.int64), SMS_HOURS[None, :])
    table = table_of(
        RECHARGE,
        {
            "recharge_id": _ids("RC", c.day, pop.index[who]),
            "msisdn": coded(c.msisdn, who),
            "recharge_time": timestamps(c.day, second),
            "amount": amount,
            "channel": coded(_RECHARGE_CHANNELS, channel),
        },
    )
    added = np.zeros(n)
    added[who] = amount
    return table, added


def balance(c: Chunk, state: F64, added: F64, charges: F64) -> pa.Table:
    """End-of-day balance; ``state`` (this chunk's slice of the run's balances) is updated."""
    pop = c.pop
    billed = (pop.status != CANCELLED) & (pop.status != SUSPENDED) & (c.day.offset < pop.churn_day)
    rent = np.where(billed, (pop.monthly_fee + pop.addon_fee) / c.day.days_in_month, 0.0)
    state[:] = np.clip(np.round(state + added - rent - charges, 2), -99_999, 99_999)
    return table_of(
        BALANCE,
        {
            "msisdn": c.msisdn,
            "balance_date": np.full(pop.n, day_number(c.day.date)).astype("datetime64[D]"),
            "balance": state.copy(),
            "credit_limit": pop.credit_limit,
            "in_arrears": state < -pop.credit_limit,
        },
    )


def complaints(c: Chunk, r: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """Complaints and consultations, and the contact each ticket was raised through."""
    pop = c.pop
    n = pop.n
    gone = (pop.status == CANCELLED) | (c.day.offset >= pop.churn_day)
    damp = np.where(gone, 0.2, np.where(pop.status == SUSPENDED, 1.5, 1.0))
    complaint = np.flatnonzero(r.random(n) < pop.complaint_rate * damp)
    consultation = np.flatnonzero(r.random(n) < pop.consultation_rate * damp)
    who = np.concatenate([complaint, consultation])
    is_complaint = np.arange(len(who)) < len(complaint)
    m = len(who)
    u = r.random((3, m))
    category = np.where(
        is_complaint,
        np.searchsorted(cdf_of(COMPLAINT_CATEGORY_P), u[0], side="right"),
        np.searchsorted(cdf_of(CONSULTATION_CATEGORY_P), u[0], side="right"),
    ).clip(0, len(CATEGORIES) - 1)
    channel = _channel(pop.preferred_channel[who], np.array(CARE_CHANNEL_P), 0.4, r)
    second = _clock(r, channel)
    status = np.where(u[1] < np.where(is_complaint, 0.25, 0.05), 0, 1)
    # Wording: complaint phrases first, then consultation phrases, per category.
    counts = np.where(is_complaint[:, None], _TEXT_COUNT["complaint"], _TEXT_COUNT["consultation"])
    first = np.cumsum(counts, axis=1) - counts
    rows = np.arange(m)
    text = first[rows, category] + (u[2] * counts[rows, category]).astype(np.int64)
    text = np.where(is_complaint, text, text + len(_TEXTS["complaint"]))
    text = np.where(r.random(m) < 0.05, -1, text)
    second_kind = (~is_complaint).astype(np.int64)
    letter = _LETTERS.take(pa.array(second_kind))
    tickets = table_of(
        COMPLAINT,
        {
            "ticket_id": _ids("TK", c.day, pop.index[who], letter),
            "msisdn": coded(c.msisdn, who),
            "created_at": timestamps(c.day, second),
            "kind": coded(_KINDS, second_kind),
            "category": coded(_CATEGORIES, category),
            "channel": coded(_CHANNELS, channel),
            "status": coded(_STATUSES, status),
            "description": coded(_DESCRIPTIONS, text),
        },
    )
    raised = table_of(
        CONTACT,
        {
            "contact_id": _ids(
                "CT", c.day, pop.index[who], pc.binary_join_element_wise("-", letter, "")
            ),
            "msisdn": coded(c.msisdn, who),
            "contact_time": timestamps(c.day, second),
            "channel": coded(_CHANNELS, channel),
            "purpose": coded(
                _PURPOSES,
                np.where(is_complaint, PURPOSES.index("complaint"), PURPOSES.index("consultation")),
            ),
            "duration_s": _contact_seconds(channel, r),
        },
    )
    return tickets, raised


def _contact_seconds(channel: I64, r: np.random.Generator) -> I64:
    seconds = CONTACT_SECONDS[channel] * np.exp(0.7 * r.standard_normal(len(channel)))
    return as_i64(np.minimum(seconds, 7200))


def contacts(c: Chunk, raised: pa.Table, r: np.random.Generator) -> pa.Table:
    """Channel contacts (~5 % of subscribers a day), then those that raised a ticket."""
    pop = c.pop
    gone = (pop.status == CANCELLED) | (c.day.offset >= pop.churn_day)
    rate = (
        pop.contact_rate
        * np.where(gone, 0.3, 1.0)
        * (1 + 0.2 * np.clip(pop.dissatisfaction, -1, 3))
    )
    counts = r.poisson(rate).astype(np.int64)
    owner = owners_of(counts)
    k = rank_in_owner(owner, counts)
    channel = _channel(pop.preferred_channel[owner], np.array(CONTACT_CHANNEL_P), 0.55, r)
    purpose = table_categorical(r.random(len(owner)), channel, _PURPOSE_CDF)
    second = _clock(r, channel)
    suffix = pc.binary_join_element_wise("-", pc.cast(pa.array(k), pa.string()), "")
    own = table_of(
        CONTACT,
        {
            "contact_id": _ids("CT", c.day, pop.index[owner], suffix),
            "msisdn": coded(c.msisdn, owner),
            "contact_time": timestamps(c.day, second),
            "channel": coded(_CHANNELS, channel),
            "purpose": coded(_PURPOSES, purpose),
            "duration_s": _contact_seconds(channel, r),
        },
    )
    return pa.concat_tables([own, raised])
