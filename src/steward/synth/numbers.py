"""Randomness and numbering that depend only on (seed, index), never on processing order.

Every random draw comes from a generator seeded by (seed, pass, chunk, day, stream), so a
chunk gives the same rows whichever order or process computes it. Facts about *another*
subscriber (its number, its calling circle) come from counter-based hashes of its index, so
they are computable anywhere without a table of all subscribers.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

from steward.synth.province import OWN_PREFIXES

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# A subscriber index maps to a distinct 8-digit suffix, so numbers stay unique below this.
MAX_SUBSCRIBERS = 100_000_000
SECONDS_PER_DAY = 86_400


def as_i64(values: npt.ArrayLike) -> I64:
    return np.asarray(values, dtype=np.int64)


def as_f64(values: npt.ArrayLike) -> F64:
    return np.asarray(values, dtype=np.float64)


class Stream(IntEnum):
    """One random stream per concern: adding a draw to one never shifts the others."""

    POPULATION = 1
    SUBSCRIPTION = 2
    BILL = 3
    VOICE = 10
    DATA = 11
    SMS = 12
    RECHARGE = 13
    COMPLAINT = 14
    CONTACT = 15
    DAY = 16


def rng(seed: int, stream: Stream, chunk: int, *more: int) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, stream, chunk, *more]))
    )


def mix(x: U64) -> U64:
    """splitmix64 finaliser: a cheap, well-spread hash of 64-bit counters (wraps by design)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_of(seed: int, salt: int, *keys: I64) -> U64:
    """Hash of (seed, salt, keys...) per element."""
    h = np.full(keys[0].shape, np.uint64((seed * 1_000_003 + salt) & 0xFFFFFFFFFFFFFFFF))
    for key in keys:
        h = mix(h ^ key.astype(np.uint64))
    return h


def unit(h: U64) -> F64:
    """A hash as a float in [0, 1)."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


_PREFIX_TABLE = np.repeat(
    np.array([p for p, _ in OWN_PREFIXES], dtype=np.int64),
    np.array([int(w) for _, w in OWN_PREFIXES], dtype=np.int64),
)


def _permute_suffix(index: I64, seed: int) -> I64:
    """A 4-round Feistel bijection on [0, 10**8): distinct indices give distinct suffixes."""
    left, right = index // 10_000, index % 10_000
    for round_ in range(4):
        f = (hash_of(seed, 101 + round_, right) % np.uint64(10_000)).astype(np.int64)
        left, right = right, (left + f) % 10_000
    return left * 10_000 + right


def msisdn_of(index: I64, seed: int) -> I64:
    """The 11-digit number of subscriber ``index``: an own prefix and a permuted suffix."""
    prefix = _PREFIX_TABLE[
        (hash_of(seed, 100, index) % np.uint64(len(_PREFIX_TABLE))).astype(np.int64)
    ]
    return prefix * 100_000_000 + _permute_suffix(index, seed)


def categorical(u: F64, cdf: F64) -> I64:
    """Inverse-CDF draw: u in [0, 1) against a cumulative distribution ending at 1."""
    return as_i64(np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1))


def cdf_of(weights: npt.ArrayLike) -> F64:
    w = np.asarray(weights, dtype=np.float64)
    return as_f64(np.cumsum(w) / w.sum())


def table_categorical(u: F64, row: I64, cdf_table: F64) -> I64:
    """Inverse-CDF draw where ``row`` picks one of a few cumulative distributions.

    The rows are laid end to end (row r spans (r, r + 1]) so one binary search serves all,
    instead of comparing every draw with every column.
    """
    rows, width = cdf_table.shape
    flat = (np.arange(rows, dtype=np.float64)[:, None] + cdf_table).ravel()
    hit = np.searchsorted(flat, row + u, side="right") - row * width
    return as_i64(np.clip(hit, 0, width - 1))


def row_categorical(u: F64, cdf_rows: F64) -> I64:
    """Per-row inverse-CDF draw where each row has its own cumulative distribution."""
    return as_i64(np.minimum((u[:, None] >= cdf_rows).sum(axis=1), cdf_rows.shape[1] - 1))


def times_of_day(
    rng_: np.random.Generator, owner: I64, counts: I64, hour_cdf: F64, resolution: int
) -> I64:
    """Start offsets (in ``resolution``-second steps) following an hourly curve.

    Offsets are strictly increasing per owner, so (owner, time) never repeats: the key of a
    detail record stays unique by construction, with no de-duplication pass. ``owner`` must
    be sorted and ``counts`` its run lengths. Sorted uniforms come from exponential spacings
    (the i-th of k sorted uniforms is a partial sum of k + 1 exponentials over their total),
    and the hourly inverse CDF keeps them sorted, so no sort is needed.
    """
    steps = SECONDS_PER_DAY // resolution
    per_hour = 3600 // resolution
    spacing = rng_.standard_exponential(len(owner))
    tail = rng_.standard_exponential(len(counts))
    running = np.concatenate(([0.0], np.cumsum(spacing)))
    first = np.cumsum(counts) - counts
    base = running[first]
    top = running[first + counts] + tail
    u = (running[1:] - base[owner]) / (top - base)[owner]
    hour = np.minimum(np.searchsorted(hour_cdf, u, side="right"), len(hour_cdf) - 1)
    lower = np.concatenate(([0.0], hour_cdf[:-1]))[hour]
    width = np.maximum(hour_cdf[hour] - lower, 1e-12)
    fraction = np.clip((u - lower) / width, 0.0, 0.999_999)
    slot = ((hour + fraction) * per_hour).astype(np.int64)
    k = np.arange(len(owner), dtype=np.int64) - first[owner]
    # Strictly increasing: t_k = k + running max of (t_k - k); then pull the tail under midnight.
    big = np.int64(1 << 32)
    lifted = np.maximum.accumulate(slot - k + owner * big) - owner * big + k
    last = steps - counts[owner] + k
    return as_i64(np.minimum(lifted, last))


def owners_of(counts: I64) -> I64:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def rank_in_owner(owner: I64, counts: I64) -> I64:
    first = np.cumsum(counts) - counts
    return np.arange(len(owner), dtype=np.int64) - first[owner]
