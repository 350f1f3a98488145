"""Static attributes of one chunk of subscribers, all as NumPy code arrays.

A chunk is rebuilt from its seed whenever a pass needs it (the snapshot and each day), which
costs far less than its detail records and keeps memory bounded. Latent traits (value,
dissatisfaction, affinities) come first; the visible profile and the behaviour rates are
derived from them, so what the platform sees carries what the hidden truth says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from steward.synth import catalogue as cat
from steward.synth.numbers import (
    F64,
    I64,
    Bools,
    Stream,
    hash_of,
    msisdn_of,
    rng,
    row_categorical,
    table_categorical,
)
from steward.synth.province import CHANNEL_WEIGHTS_OLD, CHANNEL_WEIGHTS_YOUNG, Province
from steward.synth.traits import (
    addons,
    ages,
    handsets,
    households,
    id_region,
    network_of,
)

CHUNK_SIZE = 100_000
EPOCH = date(1970, 1, 1)

AFFINITIES = ("voice", "data", "vas", "content", "family", "roaming", "handset", "broadband")
CHANNELS = tuple(CHANNEL_WEIGHTS_YOUNG)
CUSTOMER_TYPE_P = (0.935, 0.04, 0.006, 0.008, 0.002, 0.009)
PAYMENT_METHODS = ("bank_debit", "alipay", "wechat_pay", "cash", "recharge_card")
NO_CHURN = 1 << 30
ACTIVE, SUSPENDED, CANCELLED = 0, 1, 2
GOTONE, MZONE, EASYOWN = 0, 1, 2

_PLAN_TABLE = np.full((3, max(len(p) for p in cat.PLANS_BY_BRAND)), -1, dtype=np.int64)
for _b, _plans in enumerate(cat.PLANS_BY_BRAND):
    _PLAN_TABLE[_b, : len(_plans)] = cat.codes(_plans)
# Typical value of each brand's customers: plan tiers spread around it.
_BRAND_CENTRE = np.array([0.9, -0.4, -0.4])
_PLAN_COUNT = np.array([len(p) for p in cat.PLANS_BY_BRAND], dtype=np.int64)
_CHANNEL_YOUNG = np.array(list(CHANNEL_WEIGHTS_YOUNG.values()))
_CHANNEL_OLD = np.array([CHANNEL_WEIGHTS_OLD[c] for c in CHANNELS])
# Channel preference by five-year age band from 10: the young's mix turning into the old's.
_OLDNESS = np.clip((np.arange(10, 90, 5) + 2.5 - 20) / 50.0, 0.0, 1.0)[:, None]
_CHANNEL_CDF = np.cumsum((1 - _OLDNESS) * _CHANNEL_YOUNG + _OLDNESS * _CHANNEL_OLD, axis=1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _sigmoid(x: F64) -> F64:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


@dataclass(frozen=True)
class Population:
    """One chunk: index ``lo`` .. ``lo + n``; dates are day numbers since 1970-01-01."""

    lo: int
    index: I64
    msisdn: I64
    household: I64  # global index of the household's first member
    household_size: I64
    household_local: I64  # chunk-local index of the household's first member
    city: I64
    county: I64
    home_cell: I64
    work_cell: I64
    age: I64
    birth_day: I64
    gender: I64
    student: Bools
    migrant: Bools
    roamer: Bools
    foreigner: Bools
    blacklisted: Bools
    data_card: Bools
    optout_sms: Bools
    optout_outbound: Bools
    optout_app: Bools
    id_region: I64  # -1: unknown
    customer_type: I64
    customer_no: I64
    brand: I64
    postpaid: Bools
    value: F64
    vip: I64
    plan: I64
    plan_since: I64
    prev_plan: I64  # -1: none
    monthly_fee: F64
    addon: I64  # (n, slots) catalogue codes, -1 where the slot is empty
    addon_start: I64
    addon_end: I64  # -1: still active
    addon_fee: F64
    activation: I64
    status: I64
    status_day: I64
    handset: I64  # -1: unknown
    network: I64  # -1: unknown
    handset_since: I64
    contract: I64
    contract_end: I64
    payment_method: I64
    dissatisfaction: F64
    hazard: F64
    churn_day: I64  # day offset from the start when the line leaves; NO_CHURN if it stays
    affinity: F64  # (n, 8) in AFFINITIES order
    preferred_channel: I64
    voice_rate: F64
    data_rate: F64
    sms_rate: F64
    data_scale: F64
    circle_size: I64
    voice_over: F64
    data_over: F64
    complaint_rate: F64
    consultation_rate: F64
    contact_rate: F64
    credit_limit: F64
    initial_balance: F64
    pay_day: I64

    @property
    def n(self) -> int:
        return len(self.index)


def build(*, seed: int, chunk: int, lo: int, n: int, start: date, province: Province) -> Population:
    """Draw the chunk's subscribers; households never straddle chunks."""
    r = rng(seed, Stream.POPULATION, chunk)
    today = day_number(start)
    index = lo + np.arange(n, dtype=np.int64)
    h = households(r, n, province)
    age = ages(r, h, n)
    birth_day = today - (age * 365.25).astype(np.int64) - r.integers(0, 365, n)
    customer_type = r.choice(len(CUSTOMER_TYPE_P), size=n, p=CUSTOMER_TYPE_P).astype(np.int64)
    business = customer_type > 0
    gender = np.where(r.random(n) < 0.515, 0, 1)
    gender = np.where(business & (r.random(n) < 0.3), 2, gender).astype(np.int64)
    prime = (age >= 30) & (age <= 52)
    value = (
        0.55 * h.value
        + 0.8 * r.standard_normal(n)
        + 0.3 * prime
        - 0.5 * h.student
        - 0.4 * (age >= 65)
        - 0.3 * h.migrant
        + 0.5 * business
    )
    special = r.random((8, n))
    foreigner = (special[0] < 0.0015) & ~business
    blacklisted = special[1] < 0.003
    data_card = (special[2] < 0.025) & ~h.student
    roamer = special[3] < 0.025 + 0.06 * (value > 1.0) + 0.10 * h.migrant + 0.05 * business
    dissatisfaction = r.standard_normal(n)

    # Brand follows age and value (M-Zone young, GoTone high value); plan tier follows value.
    logits = np.stack(
        [
            1.1 * value - 0.6 + 1.2 * business,
            2.2 * (age <= 25) + 3.0 * h.student - 0.9 - 0.5 * business,
            0.9 * (age >= 60) + 0.3 * h.migrant,
        ],
        axis=1,
    )
    p_brand = np.exp(logits)
    brand = row_categorical(r.random(n), np.cumsum(p_brand / p_brand.sum(axis=1)[:, None], axis=1))
    brand = np.where(data_card, EASYOWN, brand)
    p_post = np.select([brand == GOTONE, brand == MZONE], [0.85, 0.08], 0.05)
    postpaid = (r.random(n) < p_post) | (business & (special[4] < 0.95))
    tier = _sigmoid(1.5 * (value - _BRAND_CENTRE[brand] + 0.6 * r.standard_normal(n)) - 0.8)
    pos = np.minimum((tier * _PLAN_COUNT[brand]).astype(np.int64), _PLAN_COUNT[brand] - 1)
    plan = _PLAN_TABLE[brand, pos]
    plan_u = r.random(n)
    plan = np.select(
        [
            data_card,
            h.student & (brand == MZONE) & (plan_u < 0.6),
            (age >= 65) & (brand == EASYOWN) & (plan_u < 0.5),
            (h.size >= 3) & (h.member == 0) & (brand == GOTONE) & (plan_u < 0.3),
        ],
        [
            cat.CODE[p.product_id]
            for p in (cat.DATA_CARD_PLAN, cat.CAMPUS_PLAN, cat.ELDER_PLAN, cat.FAMILY_PLAN)
        ],
        plan,
    ).astype(np.int64)
    other = (pos + 1 + (r.random(n) * (_PLAN_COUNT[brand] - 1)).astype(np.int64)) % _PLAN_COUNT[
        brand
    ]
    monthly_fee = cat.FEES[plan]

    # Tenure, status and contract.
    tenure = np.minimum(np.exp(np.log(5.0) + 0.9 * r.standard_normal(n)), 22.0)
    tenure = np.minimum(tenure, np.maximum(age - 9, 0.2))
    tenure = np.where(h.student, 0.05 + r.random(n) * 4.0, tenure)
    tenure = np.where(h.migrant, tenure * 0.5, tenure)
    activation = today - 1 - (tenure * 365.25).astype(np.int64)
    status_u = r.random(n)  # the status is drawn below, from the churn hazard
    status_since = np.maximum(today - 1 - r.integers(0, 180, n), activation + 1)
    contract_u = r.random(n)
    contract = np.where(
        postpaid,
        np.select([contract_u < 0.45, contract_u < 0.7], [1, 2], 3),
        np.where(contract_u < 0.08, 2, 0),
    ).astype(np.int64)
    term = np.where(contract == 2, 365, 730)
    contract_end = np.where(contract >= 2, today + 1 + (r.random(n) * term).astype(np.int64), -1)

    known = data_card | (special[5] < 0.98)
    handset = np.where(known, handsets(r, value, age, data_card), -1)
    network = network_of(handset)
    handset_years = r.exponential(1.8, n)
    handset_since = np.where(known, today - 1 - (handset_years * 365.25).astype(np.int64), -1)

    # Hidden affinities (0..1) and the preferred channel.
    z = r.standard_normal((len(AFFINITIES), n))
    affinity = np.stack(
        [
            _sigmoid(z[0] + 0.03 * (age - 40) - 0.3),
            _sigmoid(z[1] - 0.04 * (age - 35) + 0.4 * value + 0.4 * (network == 3)),
            _sigmoid(z[2] - 1.0 + 0.2 * value),
            _sigmoid(z[3] - 0.035 * (age - 30) - 0.6),
            _sigmoid(1.5 * (h.family - 0.5) + 0.5 * (h.size - 2) + 0.4 * z[4]),
            _sigmoid(z[5] - 2.2 + 3.0 * roamer),
            _sigmoid(0.9 * (handset_years - 2.0) + 0.6 * z[6]),
            _sigmoid(z[7] - 1.2 + 0.6 * (h.size >= 3) + 0.3 * value),
        ],
        axis=1,
    )
    age_band = np.clip((age - 10) // 5, 0, len(_CHANNEL_CDF) - 1)
    preferred_channel = table_categorical(r.random(n), age_band, _CHANNEL_CDF)

    # VIP cards follow spend and standing; a year of tenure first.
    spend = value + 0.9 * (np.log(monthly_fee + 1) - np.log(60)) + 0.3 * r.standard_normal(n)
    vip = np.select([spend > 4.7, spend > 3.55, spend > 2.55], [3, 2, 1], 0)
    vip = np.where(tenure < 1.0, 0, vip).astype(np.int64)

    # Churn hazard: the truth behind the churn warning, from the factors the sources name.
    short = tenure < 1.0
    logit = (
        -4.7
        + 0.9 * dissatisfaction
        + 1.0 * short
        + 0.45 * (~short & (tenure < 3))
        + 0.5 * (contract == 0)
        + 0.7 * (contract == 1)
        - 0.5 * (contract == 2)
        - 1.0 * (contract == 3)
        + 0.35 * ~postpaid
        - 0.35 * value
        + 0.5 * h.migrant
        + 0.3 * h.student
        - 0.15 * (h.size - 1)
        - 0.4 * (vip > 0)
    )
    # The lines cancelled in the last 180 days left under the same hazard (at a quarter of
    # its monthly rate: the base then was smaller): their profiles and bills are the history
    # a churn model learns from.
    cancel_p = np.minimum(1.5 * _sigmoid(logit), 0.35)
    status = np.select(
        [status_u < cancel_p, status_u < cancel_p + 0.018], [CANCELLED, SUSPENDED], ACTIVE
    )
    status_day = np.where(status == ACTIVE, -1, status_since).astype(np.int64)
    logit = logit + 0.6 * (status == SUSPENDED)
    hazard = np.where(status == CANCELLED, 1.0, _sigmoid(logit))
    churn_day = np.where(r.random(n) < hazard, (r.random(n) * 30).astype(np.int64), NO_CHURN)
    churn_day = np.where(status == CANCELLED, -1, churn_day).astype(np.int64)

    # Optouts and blacklisting: the dissatisfied and the elderly refuse more.
    optout_sms = special[6] < 0.02 + 0.02 * (dissatisfaction > 1)
    optout_outbound = special[7] < 0.03 + 0.03 * (age >= 60) + 0.04 * (dissatisfaction > 1)
    optout_app = r.random(n) < 0.015

    closed = status == CANCELLED
    last_day = np.where(closed, status_day, today - 1).astype(np.int64)
    earliest = np.maximum(activation, today - 3 * 365).astype(np.int64)
    addon, addon_start, addon_end = addons(
        r, affinity, h, contract, data_card, earliest, last_day, closed
    )
    # a cancelled line paid its add-ons until it left (its bills before say so)
    held = (addon >= 0) & ((addon_end < 0) | closed[:, None])
    addon_fee = np.where(held, cat.FEES[np.maximum(addon, 0)], 0.0)
    changed = (tenure > 1.2) & (r.random(n) < 0.4)
    plan_span = np.maximum(last_day - activation - 30, 1)
    plan_since = np.where(
        changed, activation + 30 + (r.random(n) * plan_span).astype(np.int64), activation
    ).astype(np.int64)
    prev_plan = np.where(changed, _PLAN_TABLE[brand, other], -1).astype(np.int64)

    # Behaviour: levels relative to 1; the usage module scales them to the sourced averages.
    # a cancelled line spent as its hazard then had it, not as a certain leaver
    level = np.exp(0.35 * r.standard_normal(n) - 0.06) * (1.0 - 0.6 * _sigmoid(logit))
    voice_rate = np.where(
        data_card, 0.0, level * (0.55 + 0.9 * affinity[:, 0]) * np.where(age < 18, 0.5, 1.0)
    )
    slow = np.where((network >= 0) & (network <= 1), 0.3, 1.0)
    data_rate = np.where(data_card, 1.5 * level, level * (0.45 + 1.1 * affinity[:, 1]) * slow)
    sms_rate = np.where(data_card, 0.0, np.exp(0.5 * r.standard_normal(n) - 0.125) * level)
    net_scale = np.array([0.02, 0.2, 1.0, 1.7])[np.where(network < 0, 2, network)]
    data_scale = 2.5e6 * np.exp(1.6 * (affinity[:, 1] - 0.5)) * net_scale
    has_pack = addon[:, 0] >= 0
    credit_limit = np.where(postpaid, np.round(100 + 300 * vip + monthly_fee, -1), 0.0)
    balance_u = r.random(n)
    initial_balance = np.select(
        [closed, status == SUSPENDED, postpaid],
        [0.0, -balance_u * 30, (balance_u - 0.3) * 1.5 * monthly_fee],
        np.exp(np.log(25.0) + 0.9 * r.standard_normal(n)),
    )
    payment_method = np.where(
        postpaid, r.integers(0, 4, n), np.where(balance_u < 0.4, -1, r.integers(1, 5, n))
    ).astype(np.int64)
    # A family bundle's members are numbers of the head's customer account.
    family = (plan == cat.CODE[cat.FAMILY_PLAN.product_id])[h.head]
    owner = np.where(family, h.head, np.arange(n)) + lo

    return Population(
        lo=lo,
        index=index,
        msisdn=msisdn_of(index, seed),
        household=lo + h.head,
        household_size=h.size,
        household_local=h.head,
        city=h.city,
        county=h.county,
        home_cell=h.home_cell,
        work_cell=h.work_cell,
        age=age,
        birth_day=birth_day,
        gender=gender,
        student=h.student,
        migrant=h.migrant,
        roamer=roamer,
        foreigner=foreigner,
        blacklisted=blacklisted,
        data_card=data_card,
        optout_sms=optout_sms,
        optout_outbound=optout_outbound,
        optout_app=optout_app,
        id_region=id_region(r, h, foreigner, province),
        customer_type=customer_type,
        customer_no=(hash_of(seed, 7, owner) % np.uint64(10**10)).astype(np.int64),
        brand=brand.astype(np.int64),
        postpaid=postpaid,
        value=value,
        vip=vip,
        plan=plan,
        plan_since=plan_since,
        prev_plan=prev_plan,
        monthly_fee=monthly_fee,
        addon=addon,
        addon_start=addon_start,
        addon_end=addon_end,
        addon_fee=addon_fee.sum(axis=1),
        activation=activation.astype(np.int64),
        status=status.astype(np.int64),
        status_day=status_day,
        handset=handset.astype(np.int64),
        network=network.astype(np.int64),
        handset_since=handset_since.astype(np.int64),
        contract=contract,
        contract_end=contract_end.astype(np.int64),
        payment_method=payment_method,
        dissatisfaction=dissatisfaction,
        hazard=hazard,
        churn_day=churn_day,
        affinity=affinity,
        preferred_channel=preferred_channel,
        voice_rate=voice_rate,
        data_rate=data_rate,
        sms_rate=sms_rate,
        data_scale=data_scale,
        circle_size=(5 + r.poisson(6 + 14 * affinity[:, 0])).astype(np.int64),
        voice_over=np.clip(0.5 - monthly_fee / 200.0, 0.02, 0.45),
        data_over=np.where(has_pack, 0.01, np.clip(0.35 - monthly_fee / 300.0, 0.01, 0.3)),
        complaint_rate=0.003 * np.exp(0.9 * dissatisfaction - 0.405),
        consultation_rate=0.005 * np.exp(0.3 * dissatisfaction - 0.045),
        contact_rate=0.05 * np.exp(r.standard_normal(n) - 0.5),
        credit_limit=credit_limit,
        initial_balance=np.round(initial_balance, 2),
        pay_day=1 + (hash_of(seed, 8, index) % np.uint64(28)).astype(np.int64),
    )
