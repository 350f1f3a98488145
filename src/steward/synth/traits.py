"""Household and personal traits drawn per chunk: who lives together, where, how old.

Helpers of ``population.build``; split out to keep that module about the subscriber as a
whole. Draw order matters for reproducibility, so each helper takes the chunk's generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from steward.synth import catalogue as cat
from steward.synth.numbers import F64, I64, Bools, cdf_of, table_categorical
from steward.synth.province import DATA_CARD_DEVICES, HANDSETS, Province

HOUSEHOLD_SIZE_P = (0.42, 0.24, 0.18, 0.11, 0.05)
AGE_BINS = (10, 18, 25, 35, 45, 55, 65, 75, 86)
AGE_P = (0.04, 0.09, 0.19, 0.19, 0.19, 0.15, 0.10, 0.05)
NETWORKS = ("2g", "3g", "4g", "5g")
DEVICES = (*HANDSETS, *DATA_CARD_DEVICES)
_DEVICE_NETWORK = np.array([NETWORKS.index(h.network) for h in DEVICES], dtype=np.int64)
_HANDSET_NETWORK = _DEVICE_NETWORK[: len(HANDSETS)]
_HANDSET_WEIGHT = np.array([h.weight for h in HANDSETS])
_HANDSET_TIER = np.array([h.tier for h in HANDSETS], dtype=np.float64)
# Handset choice per (network, wealth band): flagships gain weight with value.
_WEALTH = np.arange(-2.0, 3.0)  # band centres of the value score
_HANDSET_CDF = np.stack(
    [
        np.cumsum(w) / max(w.sum(), 1e-12)
        for net in range(len(NETWORKS))
        for band in _WEALTH
        for w in [
            (net == _HANDSET_NETWORK) * _HANDSET_WEIGHT * np.exp(0.8 * band * (_HANDSET_TIER - 1))
        ]
    ]
)
_ADDON_CODES = [cat.codes(group) for _, group in cat.ADDON_GROUPS]


@dataclass(frozen=True)
class Households:
    head: I64  # chunk-local index of each member's household head
    size: I64
    member: I64
    student: Bools
    migrant: Bools
    city: I64
    county: I64
    home_cell: I64
    work_cell: I64
    value: F64  # shared part of the members' value
    family: F64  # shared part of the members' family affinity


def households(r: np.random.Generator, n: int, province: Province) -> Households:
    """Consecutive indices form a household (1-5 members) living in one county and cell."""
    local = np.arange(n, dtype=np.int64)
    sizes = r.choice(len(HOUSEHOLD_SIZE_P), size=n, p=HOUSEHOLD_SIZE_P).astype(np.int64) + 1
    ends = np.cumsum(sizes)
    hh = np.repeat(np.arange(n, dtype=np.int64), sizes)[:n]
    head = (ends - sizes)[hh]
    size = np.minimum(sizes[hh], n - head)
    u = r.random((6, n))[:, hh]
    single = size == 1
    student = single & (u[0] < 0.24)
    migrant = (single & (u[0] >= 0.24) & (u[0] < 0.50)) | ((size == 2) & (u[0] < 0.1))
    campus = np.searchsorted(province.campus_cdf, u[1], side="right")
    resident = np.searchsorted(np.cumsum(province.city_weights), u[1], side="right")
    city = np.minimum(np.where(student, campus, resident), len(province.cities) - 1)
    county = province.county_first[city] + table_categorical(u[2], city, province.county_cdf)
    county = np.where(student, province.county_first[city], county)
    cell_first, cell_count = province.county_cells
    home_cell = cell_first[county] + (u[3] * cell_count[county]).astype(np.int64)
    city_first, city_count = province.city_cells
    work_cell = city_first[city] + (r.random(n) * city_count[city]).astype(np.int64)
    return Households(
        head=head,
        size=size,
        member=local - head,
        student=student,
        migrant=migrant,
        city=city.astype(np.int64),
        county=county.astype(np.int64),
        home_cell=home_cell,
        work_cell=np.where(student, home_cell, work_cell),
        value=r.standard_normal(n)[hh],
        family=u[4],
    )


def ages(r: np.random.Generator, h: Households, n: int) -> I64:
    age_bin = np.minimum(np.searchsorted(cdf_of(AGE_P), r.random(n), side="right"), len(AGE_P) - 1)
    low = np.array(AGE_BINS[:-1])[age_bin]
    high = np.array(AGE_BINS[1:])[age_bin]
    age = (low + r.random(n) * (high - low)).astype(np.int64)
    age = np.where(h.student, 18 + r.integers(0, 6, n), age)
    return np.where(h.migrant, 20 + (r.random(n) ** 1.3 * 32).astype(np.int64), age)


def addons(
    r: np.random.Generator,
    affinity: F64,
    h: Households,
    contract: I64,
    data_card: Bools,
    earliest: I64,
    last_day: I64,
    closed: Bools,
) -> tuple[I64, I64, I64]:
    """One optional product per add-on group; some ended, all ended for a closed line."""
    holds_p = np.stack(
        [
            0.08 + 0.45 * affinity[:, 1],
            0.12 + 0.40 * affinity[:, 2],
            0.04 + 0.45 * affinity[:, 3],
            np.where(h.size > 1, 0.10 + 0.5 * affinity[:, 4], 0.0),
            0.6 * affinity[:, 5],
            np.where(contract >= 2, 0.6, 0.02),
            np.where(h.member == 0, 0.10 + 0.5 * affinity[:, 7], 0.03),
        ],
        axis=1,
    )
    holds = r.random(holds_p.shape) < holds_p
    holds[data_card, 1:] = False
    pick = r.random(holds_p.shape)
    addon = np.full(holds_p.shape, -1, dtype=np.int64)
    for slot, group in enumerate(_ADDON_CODES):
        chosen = group[(pick[:, slot] * len(group)).astype(np.int64)]
        addon[:, slot] = np.where(holds[:, slot], chosen, -1)
    span = (last_day - earliest + 1)[:, None]
    start = earliest[:, None] + (r.random(addon.shape) * span).astype(np.int64)
    ended = r.random(addon.shape) < 0.12
    end_u = r.random(addon.shape)
    end = np.where(ended, start + (end_u * (last_day[:, None] - start + 1)).astype(np.int64), -1)
    end = np.where(closed[:, None] & (end < 0), last_day[:, None], end)
    empty = addon < 0
    return addon, np.where(empty, -1, start), np.where(empty, -1, end)


def id_region(r: np.random.Generator, h: Households, foreigner: Bools, province: Province) -> I64:
    """ID-card region: one's own city, except migrants, some students and a few movers."""
    n = len(foreigner)
    cities = len(province.cities)
    elsewhere = r.random(n)
    inside = r.integers(0, cities - 1, n)
    inside = np.where(inside >= h.city, inside + 1, inside)  # another city of the province
    outside = cities + r.integers(0, len(province.region_names) - cities, n)
    away = np.where(elsewhere < 0.6, inside, outside)
    moved = h.migrant | (h.student & (elsewhere < 0.7)) | (r.random(n) < 0.03)
    region = np.where(moved, away, h.city)
    return np.where(foreigner, -1, region).astype(np.int64)


def handsets(r: np.random.Generator, value: F64, age: I64, data_card: Bools) -> I64:
    """Device code: 5G follows value and youth, feature phones the elderly, flagships value."""
    n = len(value)
    p5g = 1.0 / (1.0 + np.exp(0.1 - 0.9 * value + 0.035 * (age - 35)))
    net_u = r.random(n)
    network = np.where(net_u < p5g, 3, 2)
    feature = (age >= 62) & (r.random(n) < 0.2)
    network = np.where(feature, np.where(net_u < 0.3, 1, 0), network)
    wealth = np.clip((value + 2.5).astype(np.int64), 0, len(_WEALTH) - 1)
    handset = table_categorical(r.random(n), network * len(_WEALTH) + wealth, _HANDSET_CDF)
    device = len(HANDSETS) + r.integers(0, len(DATA_CARD_DEVICES), n)
    return np.where(data_card, device, handset).astype(np.int64)


def network_of(device: I64) -> I64:
    return np.where(device < 0, -1, _DEVICE_NETWORK[np.maximum(device, 0)]).astype(np.int64)
