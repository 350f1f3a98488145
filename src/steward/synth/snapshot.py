"""As-of-start files of one chunk: profile, subscriptions, monthly bills, and hidden truth.

Bills are drawn from each subscriber's expected usage rather than summed from detail
records, so a bill exists for months the window does not cover (the month before the start).
A line that leaves fades over its last 90 days: falling spend is a churn sign.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.ingest.schemas import BILL, BRANDS, CUSTOMER_TYPES, PROFILE, SUBSCRIPTION, VIP_LEVELS
from steward.synth import catalogue as cat
from steward.synth.numbers import I64, hash_of, unit
from steward.synth.population import (
    AFFINITIES,
    CANCELLED,
    CHANNELS,
    NO_CHURN,
    PAYMENT_METHODS,
    Population,
    day_number,
)
from steward.synth.province import Province
from steward.synth.traits import DEVICES, NETWORKS
from steward.synth.usage import DATA_SCALE, SMS_SCALE, VOICE_SCALE
from steward.synth.writer import coded, table_of

CONTRACTS = ("none", "monthly", "one_year", "two_year")


def _text(values: tuple[str, ...] | list[str], codes: I64) -> pa.Array:
    """Strings by code; a negative code is NULL."""
    return coded(pa.array(list(values), type=pa.string()), codes)


def _dates(days: I64) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), mask=days < 0)


def _prefixed(prefix: str, numbers: I64, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def profile(pop: Population, msisdn: pa.Array, province: Province, seed: int) -> pa.Table:
    quiet = unit(hash_of(seed, 30, pop.index))
    unknown_birth = (pop.customer_type == CUSTOMER_TYPES.index("unit_account")) | (quiet < 0.02)
    return table_of(
        PROFILE,
        {
            "msisdn": msisdn,
            "customer_id": _prefixed("C62", pop.customer_no, 10),
            "gender": _text(("M", "F", "U"), pop.gender),
            "birth_date": _dates(np.where(unknown_birth, -1, pop.birth_day)),
            "city": _text(province.city_names, pop.city),
            "county": _text(province.county_names, np.where(quiet > 0.995, -1, pop.county)),
            "brand": _text(BRANDS, pop.brand),
            "vip_level": _text(VIP_LEVELS, pop.vip),
            "plan_id": coded(cat.PRODUCT_IDS, pop.plan),
            "payment_type": _text(("prepaid", "postpaid"), pop.postpaid.astype(np.int64)),
            "activation_date": _dates(pop.activation),
            "status": _text(("active", "suspended", "cancelled"), pop.status),
            "customer_type": _text(CUSTOMER_TYPES, pop.customer_type),
            "is_foreigner": pop.foreigner,
            "is_blacklisted": pop.blacklisted,
            "is_data_card": pop.data_card,
            "optout_sms": pop.optout_sms,
            "optout_outbound": pop.optout_outbound,
            "optout_app": pop.optout_app,
            "id_region": _text(province.region_names, pop.id_region),
            "handset_model": _text([d.model for d in DEVICES], pop.handset),
            "handset_network": _text(NETWORKS, pop.network),
            "handset_since": _dates(pop.handset_since),
            "contract_type": _text(CONTRACTS, pop.contract),
            "contract_end": _dates(pop.contract_end),
            "monthly_fee": pop.monthly_fee,
            "payment_method": _text(PAYMENT_METHODS, pop.payment_method),
        },
    )


def subscriptions(pop: Population, msisdn: pa.Array) -> pa.Table:
    """Current plan, the plan before it, and one product per add-on slot, by subscriber."""
    n = pop.n
    local = np.arange(n, dtype=np.int64)
    closed = pop.status == CANCELLED
    plan_end = np.where(closed, pop.status_day, -1)
    changed = pop.prev_plan >= 0
    slots = pop.addon.shape[1]
    owner = np.concatenate([local, local[changed], np.repeat(local, slots)])
    product = np.concatenate([pop.plan, pop.prev_plan[changed], pop.addon.ravel()])
    start = np.concatenate([pop.plan_since, pop.activation[changed], pop.addon_start.ravel()])
    end = np.concatenate([plan_end, pop.plan_since[changed] - 1, pop.addon_end.ravel()])
    held = product >= 0
    order = np.argsort(owner[held], kind="stable")
    owner, product, start, end = (a[held][order] for a in (owner, product, start, end))
    return table_of(
        SUBSCRIPTION,
        {
            "msisdn": coded(msisdn, owner),
            "product_id": coded(cat.PRODUCT_IDS, product),
            "start_date": _dates(start),
            "end_date": _dates(end),
            "status": _text(("active", "ended"), (end >= 0).astype(np.int64)),
        },
    )


def bill(
    pop: Population, msisdn: pa.Array, month: date, start: date, r: np.random.Generator
) -> pa.Table:
    """The month's bill from expected usage; arrears for postpaid lines over their limit."""
    n = pop.n
    first = day_number(month)
    days = calendar.monthrange(month.year, month.month)[1]
    leaves = np.where(pop.churn_day == NO_CHURN, 1 << 40, day_number(start) + pop.churn_day)
    leaves = np.where(pop.status == CANCELLED, pop.status_day, leaves)
    live = np.clip((leaves - first) / days, 0.0, 1.0)
    # A leaving line fades over its last 90 days: usage falls before the line goes.
    fade = 1.0 - 0.6 * np.clip(1.0 - (leaves - (first + days // 2)) / 90.0, 0.0, 1.0)
    trend = fade * live
    noise = r.gamma(4.0, 0.25, (5, n))
    voice = days * VOICE_SCALE * pop.voice_rate * 0.5 * pop.voice_over * 2.2 * 0.19
    data = days * DATA_SCALE * pop.data_rate * pop.data_over * pop.data_scale * 7.4 / 2**30 * 5
    sms = days * SMS_SCALE * pop.sms_rate * 0.38 * pop.voice_over * 0.1
    roaming = np.where(pop.roamer, 40.0 + 150.0 * pop.affinity[:, AFFINITIES.index("roaming")], 1.0)
    fees = np.stack(
        [
            pop.monthly_fee * live,
            np.minimum(voice, 500.0) * trend * noise[0],
            np.minimum(data, 800.0) * trend * noise[1],
            np.minimum(sms, 50.0) * trend * noise[2],
            pop.addon_fee * live * (noise[3] > 0.3),
            roaming * trend * noise[4] * (r.random(n) < np.where(pop.roamer, 0.8, 0.05)),
        ]
    )
    fees = np.round(fees, 2)
    arrears = np.where(pop.initial_balance < -pop.credit_limit, -pop.initial_balance, 0.0)
    return table_of(
        BILL,
        {
            "msisdn": msisdn,
            "bill_month": np.full(n, first).astype("datetime64[D]"),
            "plan_fee": fees[0],
            "voice_fee": fees[1],
            "data_fee": fees[2],
            "sms_fee": fees[3],
            "vas_fee": fees[4],
            "roaming_fee": fees[5],
            "total": np.round(fees.sum(axis=0), 2),
            "arrears": np.round(arrears, 2),
        },
    )


def truth(pop: Population, msisdn: pa.Array, start: date) -> pa.Table:
    """Hidden ground truth per subscriber: what models should recover from the files."""
    churns = (pop.churn_day >= 0) & (pop.churn_day != NO_CHURN)
    churn_date = np.where(churns, day_number(start) + pop.churn_day, -1)
    columns: dict[str, pa.Array] = {
        "msisdn": msisdn,
        "household_id": _prefixed("H", pop.household, 9),
        "household_size": pa.array(pop.household_size),
        "churn_hazard_30d": pa.array(np.round(pop.hazard, 6)),
        "churn_date": _dates(churn_date),
        "value_score": pa.array(np.round(pop.value, 4)),
        "preferred_channel": _text(CHANNELS, pop.preferred_channel),
        "is_student": pa.array(pop.student),
        "is_migrant": pa.array(pop.migrant),
        "is_roamer": pa.array(pop.roamer),
    }
    for i, name in enumerate(AFFINITIES):
        columns[f"affinity_{name}"] = pa.array(np.round(pop.affinity[:, i], 6))
    return pa.table(columns)
