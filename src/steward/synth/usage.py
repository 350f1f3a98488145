"""Daily detail records of one chunk: voice calls, data sessions, SMS.

Counts per subscriber are Poisson around the sourced averages (R-DATA-3: ~12 voice and ~15
data records a subscriber a day), shaped by the hidden traits: affinity raises usage, churn
hazard and an approaching churn day lower it. Start times follow daily curves and are
strictly increasing per subscriber, which makes every record key unique by construction.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.ingest.schemas import DATA, ROAMING, SMS, VOICE
from steward.synth.numbers import (
    F64,
    I64,
    Bools,
    as_f64,
    as_i64,
    cdf_of,
    hash_of,
    msisdn_of,
    owners_of,
    times_of_day,
)
from steward.synth.population import ACTIVE, Population, day_number
from steward.synth.province import (
    DOMESTIC_ROAMING_CELLS,
    INTERNATIONAL_ROAMING_CELLS,
    OTHER_PREFIXES,
    OWN_PREFIXES,
    SERVICE_NUMBERS,
    SMS_GATEWAYS,
    Province,
)
from steward.synth.writer import coded, table_of

# Calibrated so that the averages over all subscribers (idle lines included) match R-DATA-3.
VOICE_SCALE = 12.0
DATA_SCALE = 15.6
SMS_SCALE = 2.6
MAX_RECORDS = 2_000  # per subscriber and day, far above any real line

# Share of the day's records starting in each hour, 00h to 23h.
# fmt: off
VOICE_HOURS = cdf_of([0.4, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 4.5, 6.0, 7.0, 6.8,
                      5.0, 4.5, 5.5, 6.0, 6.2, 6.5, 6.0, 6.3, 6.5, 5.5, 3.5, 1.5])
DATA_HOURS = cdf_of([2.5, 1.5, 0.8, 0.5, 0.4, 0.6, 1.5, 3.0, 4.0, 4.5, 4.8, 5.0,
                     5.8, 5.5, 4.8, 4.8, 5.0, 5.2, 5.5, 6.0, 6.8, 7.2, 6.5, 4.5])
SMS_HOURS = cdf_of([0.3, 0.1, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 4.0, 5.0, 5.5, 5.5,
                    4.5, 4.0, 5.0, 5.0, 5.0, 5.0, 4.5, 4.5, 4.0, 3.5, 2.0, 1.0])
# fmt: on
# Where a subscriber is, by hour: at home at night, at work by day, elsewhere in the city else.
HOME_BY_HOUR = np.array([0.85] * 7 + [0.5] * 2 + [0.2] * 9 + [0.45] * 2 + [0.75] * 4)
WORK_BY_HOUR = np.array([0.05] * 7 + [0.25] * 2 + [0.55] * 9 + [0.2] * 2 + [0.08] * 4)
PLACE_BY_HOUR = HOME_BY_HOUR + WORK_BY_HOUR
# Chance a session stays on the handset's best network (2g, 3g, 4g, 5g).
STAY_ON_RAT = np.array([1.0, 0.9, 0.97, 0.8])

DIRECTIONS = pa.array(["mo", "mt"], type=pa.string())
ROAMINGS = pa.array(list(ROAMING), type=pa.string())
RATS = pa.array(["2g", "3g", "4g", "5g"], type=pa.string())
_OTHER = np.array(OTHER_PREFIXES, dtype=np.int64)
_ANY_PREFIX = np.concatenate([_OTHER, np.array([p for p, _ in OWN_PREFIXES], dtype=np.int64)])
_SERVICE = np.array(SERVICE_NUMBERS, dtype=np.int64)
_GATEWAYS = np.array(SMS_GATEWAYS, dtype=np.int64)
HOUSE, CIRCLE, ONE_OFF, SERVICE = 0, 1, 2, 3
MO, MT = 0, 1


@dataclass(frozen=True)
class Day:
    """One generated day: its offset from the start and where its timestamps begin."""

    offset: int
    date: date

    @property
    def epoch_second(self) -> int:
        return day_number(self.date) * 86_400

    @property
    def stamp(self) -> str:
        return f"{self.date:%Y%m%d}"

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.date.year, self.date.month)[1]


@dataclass(frozen=True)
class DayState:
    """What holds for each subscriber all day: alive, how busy, roaming where."""

    active: Bools
    level: F64
    roaming: I64  # code into ROAMING
    # (n, 3): home cell, work cell, first cell of the wider area (the visited one if roaming)
    places: I64
    around_span: I64  # cells in the wider area


@dataclass(frozen=True)
class Chunk:
    """A chunk's population with what every record table of a day shares."""

    pop: Population
    day: Day
    state: DayState
    msisdn: pa.Array  # the chunk's numbers as strings
    province: Province
    seed: int
    total: int  # subscribers in the whole run (for numbers of calling-circle members)


def day_state(pop: Population, day: Day, province: Province, r: np.random.Generator) -> DayState:
    n = pop.n
    active = (pop.status == ACTIVE) & (day.offset < pop.churn_day)
    days_left = (pop.churn_day - day.offset).astype(np.float64)
    fading = np.clip(0.35 + 0.65 * days_left / 14.0, 0.35, 1.0)
    level = np.exp(0.25 * r.standard_normal(n) - 0.03125) * fading
    away = r.random(n) < np.where(pop.roamer, 0.22, 0.004)
    abroad = away & (r.random(n) < np.where(pop.roamer, 0.12, 0.05))
    roaming = np.where(abroad, 2, np.where(away, 1, 0)).astype(np.int64)
    area = r.random(n)
    domestic = province.domestic_roaming_first + (area * (DOMESTIC_ROAMING_CELLS - 40))
    international = province.international_roaming_first + (
        area * (INTERNATIONAL_ROAMING_CELLS - 40)
    )
    away_cell = np.where(roaming == 2, international, domestic).astype(np.int64)
    city_first, city_count = province.city_cells
    places = np.stack([pop.home_cell, pop.work_cell, city_first[pop.city]], axis=1)
    places = np.where(roaming[:, None] > 0, away_cell[:, None], places)
    span = np.where(roaming > 0, 40, city_count[pop.city])
    return DayState(active=active, level=level, roaming=roaming, places=places, around_span=span)


def _cells(c: Chunk, owner: I64, second: I64, u: F64, v: F64) -> I64:
    """Home cell at night, work cell by day, anywhere in the city otherwise; abroad if roaming."""
    hour = second // 3600
    place = (u >= HOME_BY_HOUR[hour]).astype(np.int64) + (u >= PLACE_BY_HOUR[hour])
    first = c.state.places.ravel()[owner * 3 + place]
    span = np.where(place == 2, c.state.around_span[owner], 1)
    return as_i64(first + (v * span).astype(np.int64))


def _housemate(pop: Population, owner: I64, u: F64) -> I64:
    """Another member of the owner's household (the owner itself when living alone)."""
    head = pop.household_local[owner]
    size = pop.household_size[owner]
    others = np.maximum(size - 1, 1)
    step = 1 + (u * others).astype(np.int64)
    return head + (owner - head + step) % size


def _circle(c: Chunk, owner: I64, u: F64) -> tuple[I64, Bools]:
    """A member of the owner's stable calling circle; low slots are called most.

    The circle is a hash of (subscriber, slot): same contacts every day, no stored graph.
    Returns the number and whether it is a landline (printed with a leading zero).
    """
    pop = c.pop
    slot = (pop.circle_size[owner] * u**2.5).astype(np.int64)
    index = pop.index[owner]
    h = hash_of(c.seed, 200, index, slot)
    kind = (h % np.uint64(100)).astype(np.int64)
    in_network = (kind < 70) & (c.total > 1)
    number = np.empty(len(owner), dtype=np.int64)
    peer = index + 1 + ((h >> np.uint64(8)) % np.uint64(max(c.total - 1, 1))).astype(np.int64)
    number[in_network] = msisdn_of(peer[in_network] % c.total, c.seed)
    prefix = _OTHER[((h >> np.uint64(16)) % np.uint64(len(_OTHER))).astype(np.int64)]
    suffix = ((h >> np.uint64(24)) % np.uint64(100_000_000)).astype(np.int64)
    landline = (kind >= 90) & ~in_network
    mobile = ~in_network & ~landline
    number[mobile] = (prefix * 100_000_000 + suffix)[mobile]
    area = c.province.area_codes[pop.city[owner]]
    fixed = area * 100_000_000 + 20_000_000 + suffix % 70_000_000
    number[landline] = fixed[landline]
    return number, landline


def _phones(number: I64, landline: Bools) -> pa.Array:
    text = pc.cast(pa.array(number), pa.string())
    if not landline.any():
        return text
    fixed = pc.utf8_lpad(pc.cast(pa.array(number[landline]), pa.string()), width=12, padding="0")
    return pc.replace_with_mask(text, pa.array(landline), fixed)


def timestamps(day: Day, second: I64) -> pa.Array:
    return pa.array((day.epoch_second + second).astype("datetime64[s]"))


def _charges(minutes_or_units: F64, rate: F64) -> F64:
    return np.asarray(np.round(minutes_or_units * rate, 2), dtype=np.float64)


def voice(c: Chunk, r: np.random.Generator) -> tuple[pa.Table, F64]:
    """Calls of the day, and each subscriber's call charges.

    Calls between housemates are written twice, as the caller's "mo" and one second later as
    the callee's "mt" record, so a household shows as strong two-way edges (R-MINE-5).
    """
    pop, state = c.pop, c.state
    scale = VOICE_SCALE * (0.85 if c.day.weekend else 1.0)
    counts = r.poisson(scale * pop.voice_rate * state.level * state.active)
    counts = np.minimum(counts, MAX_RECORDS).astype(np.int64)
    owner = owners_of(counts)
    total = len(owner)
    second = times_of_day(r, owner, counts, VOICE_HOURS, 2) * 2
    u = r.random((8, total))
    callee = _housemate(pop, owner, u[0])
    can_answer = state.active[callee] & ~pop.data_card[callee] & (callee != owner)
    p_house = np.where(can_answer, 0.12 + 0.3 * pop.affinity[owner, 4], 0.0)
    rest = (u[1] - p_house) / (1.0 - p_house)
    kind = np.select([u[1] < p_house, rest < 0.78, rest < 0.95], [HOUSE, CIRCLE, ONE_OFF], SERVICE)
    direction = np.where((kind == HOUSE) | (kind == SERVICE) | (u[2] < 0.5), MO, MT)
    number, landline = _circle(c, owner, u[3])
    one_off = _ANY_PREFIX[(u[4] * len(_ANY_PREFIX)).astype(np.int64)] * 100_000_000 + (
        u[5] * 100_000_000
    ).astype(np.int64)
    service = _SERVICE[(u[4] * len(_SERVICE)).astype(np.int64)]
    number = np.select(
        [kind == HOUSE, kind == ONE_OFF, kind == SERVICE],
        [pop.msisdn[callee], one_off, service],
        number,
    )
    landline &= kind == CIRCLE
    median = np.select([kind == HOUSE, kind == SERVICE], [90.0, 120.0], 50.0)
    duration = np.minimum(median * np.exp(1.0 * r.standard_normal(total)), 7200).astype(np.int64)
    duration = np.where((direction == MO) & (u[6] < 0.08), 0, np.maximum(duration, 1))
    cell = _cells(c, owner, second, u[6], u[7])
    roaming = state.roaming[owner]
    minutes = np.ceil(duration / 60.0)
    over = (u[2] < pop.voice_over[owner]) & (kind != HOUSE) & (kind != SERVICE)
    rate = np.where(roaming == 2, 2.99, np.where((direction == MO) & over, 0.19, 0.0))
    charge = _charges(minutes, rate)

    # The callee's side of household calls.
    house = np.flatnonzero(kind == HOUSE)
    mate = callee[house]
    mate_second = second[house] + 1
    mate_u = r.random((2, len(house)))
    mate_roaming = state.roaming[mate]
    columns = {
        "owner": np.concatenate([owner, mate]),
        "second": np.concatenate([second, mate_second]),
        "direction": np.concatenate([direction, np.full(len(house), MT)]),
        "duration": np.concatenate([duration, duration[house]]),
        "number": np.concatenate([number, pop.msisdn[owner[house]]]),
        "landline": np.concatenate([landline, np.zeros(len(house), dtype=np.bool_)]),
        "cell": np.concatenate([cell, _cells(c, mate, mate_second, mate_u[0], mate_u[1])]),
        "roaming": np.concatenate([roaming, mate_roaming]),
        "charge": np.concatenate(
            [charge, _charges(minutes[house], np.where(mate_roaming == 2, 2.99, 0.0))]
        ),
    }
    col = columns  # the callees' records follow the callers' (files need no order)
    table = table_of(
        VOICE,
        {
            "msisdn": coded(c.msisdn, col["owner"]),
            "start_time": timestamps(c.day, col["second"]),
            "direction": coded(DIRECTIONS, col["direction"]),
            "duration_s": col["duration"],
            "other_party": _phones(col["number"], col["landline"]),
            "cell_id": coded(c.province.cell_ids, col["cell"]),
            "roaming": coded(ROAMINGS, col["roaming"]),
            "charge": col["charge"],
        },
    )
    spent = as_f64(np.bincount(col["owner"], weights=col["charge"], minlength=pop.n))
    return table, spent


def data(c: Chunk, r: np.random.Generator) -> tuple[pa.Table, F64]:
    """Data sessions of the day: heavy-tailed volumes, RAT from the handset, and charges."""
    pop, state = c.pop, c.state
    scale = DATA_SCALE * (1.1 if c.day.weekend else 1.0)
    counts = r.poisson(scale * pop.data_rate * state.level * state.active)
    counts = np.minimum(counts, MAX_RECORDS).astype(np.int64)
    owner = owners_of(counts)
    total = len(owner)
    second = times_of_day(r, owner, counts, DATA_HOURS, 1)
    u = r.random((4, total))
    normal = r.standard_normal((3, total))
    duration = np.minimum(180.0 * np.exp(1.3 * normal[0]), 14_400).astype(np.int64)
    down = np.minimum(pop.data_scale[owner] * np.exp(1.9 * normal[1]), 5e10)
    up = down * np.exp(np.log(0.07) + 0.7 * normal[2])
    network = pop.network[owner]
    best = np.where(network < 0, 2, network)
    rat = np.maximum(best - (u[0] > STAY_ON_RAT[best]), 0)
    roaming = state.roaming[owner]
    megabytes = (down + up) / 2**20
    over = u[1] < pop.data_over[owner]
    charge = np.select(
        [roaming == 2, over], [np.minimum(megabytes * 0.03, 25.0), megabytes * 5 / 1024], 0.0
    )
    charge = np.asarray(np.round(charge, 2), dtype=np.float64)
    table = table_of(
        DATA,
        {
            "msisdn": coded(c.msisdn, owner),
            "start_time": timestamps(c.day, second),
            "duration_s": duration,
            "bytes_up": up.astype(np.int64),
            "bytes_down": down.astype(np.int64),
            "cell_id": coded(c.province.cell_ids, _cells(c, owner, second, u[2], u[3])),
            "rat": coded(RATS, rat),
            "roaming": coded(ROAMINGS, roaming),
            "charge": charge,
        },
    )
    return table, as_f64(np.bincount(owner, weights=charge, minlength=pop.n))


def sms(c: Chunk, r: np.random.Generator) -> tuple[pa.Table, F64]:
    """SMS of the day: most received are gateway codes and notices, sent ones go to the circle."""
    pop, state = c.pop, c.state
    counts = r.poisson(SMS_SCALE * pop.sms_rate * state.level * state.active)
    counts = np.minimum(counts, MAX_RECORDS).astype(np.int64)
    owner = owners_of(counts)
    total = len(owner)
    second = times_of_day(r, owner, counts, SMS_HOURS, 1)
    u = r.random((5, total))
    direction = np.where(u[0] < 0.38, MO, MT)
    mate = _housemate(pop, owner, u[1])
    number, landline = _circle(c, owner, u[1])
    # Landlines take no SMS: those circle members text from another operator's mobile.
    number = np.where(landline, _OTHER[number % len(_OTHER)] * 100_000_000 + number % 10**8, number)
    gateway = _GATEWAYS[(u[2] * len(_GATEWAYS)).astype(np.int64)]
    to_mate = (u[3] < 0.15) & (mate != owner)
    from_gateway = (direction == MT) & (u[2] < 0.6)
    number = np.select([from_gateway, to_mate], [gateway, pop.msisdn[mate]], number)
    landline = np.zeros(total, dtype=np.bool_)
    roaming = state.roaming[owner]
    over = u[4] < pop.voice_over[owner]
    rate = np.where(direction == MT, 0.0, np.where(roaming == 2, 0.39, np.where(over, 0.1, 0.0)))
    charge = _charges(np.ones(total), rate)
    table = table_of(
        SMS,
        {
            "msisdn": coded(c.msisdn, owner),
            "send_time": timestamps(c.day, second),
            "direction": coded(DIRECTIONS, direction),
            "other_party": _phones(number, landline),
            "roaming": coded(ROAMINGS, roaming),
            "charge": charge,
        },
    )
    return table, as_f64(np.bincount(owner, weights=charge, minlength=pop.n))
