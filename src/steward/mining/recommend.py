"""Recommendation (R-MINE-3, issue 7 §2): how suitable (适合度) each offer is for each subscriber.

Two views of the same question, each a score in [0, 1]:

**Collaborative** — "customers like you took…", item to item. Two products are alike when
the same subscribers hold them: the cosine between their columns of the subscriber × product
matrix of active subscriptions, shrunk towards 0 by ``co / (co + shrinkage)`` so that a pair
seen together twice cannot look as alike as one seen together two thousand times. A
subscriber's score for a product is its mean similarity to the products the subscriber holds
(0 for a subscriber who holds nothing: no evidence). Item to item rather than subscriber to
subscriber because the catalogue has tens of products and the base millions of subscribers:
the similarity is a small matrix, and scoring is one sparse product for the whole base.

**Content** — the offer's attributes matched to the subscriber's habits. Habits are numeric
columns a subscriber (tags such as ``data_mb_30d``, ``voice_minutes_30d``, ``arpu_3m``), put
on one scale by a signed log (usage is heavy-tailed) and standardised over the scored base,
so a habit vector says "how far from the usual subscriber, and in which direction". An offer
is a vector in the same space: its category's *orientation* (which habits it serves: a data
pack points along ``data_mb_30d``) plus its fee, standardised among the offers, along the
spend habit (a dear offer suits a big spender). The score is the cosine between the two,
mapped from [-1, 1] to [0, 1]; an average subscriber, or an offer with no orientation, gets
0.5. The orientation is declared (``DEFAULT_ORIENTATION``) or fitted from who holds what
(``learn_orientation``: each category's direction is the mean habit vector of its holders).

``suitability`` combines them as ``weight × collaborative + (1 − weight) × content`` and keeps
the top k offers a subscriber does not already hold. Collaborative scores are small where
holdings are sparse, so with the default weight of 0.5 the content view orders most
subscribers' offers and the collaborative view lifts the ones their peers took; raise the
weight where holdings are rich.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp  # type: ignore[import-untyped]

F64 = npt.NDArray[np.float64]

# Which habits (tags of the catalogue) each product category serves. A starting point that
# needs no history; ``learn_orientation`` fits the same mapping from the base's holdings.
DEFAULT_ORIENTATION: dict[str, dict[str, float]] = {
    "voice": {"voice_minutes_30d": 1.0},
    "data": {"data_mb_30d": 1.0},
    "vas": {"bill_vas_fee_3m": 1.0},
    "content": {"data_mb_30d": 0.5, "bill_vas_fee_3m": 0.5},
    "roaming": {"voice_roaming_days_30d": 0.5, "data_roaming_days_30d": 0.5},
    "handset": {"handset_age_months": 1.0},
    "broadband": {"data_mb_night_30d": 1.0},
}
DEFAULT_SPEND = "arpu_3m"
CHUNK = 100_000  # subscribers scored at once: bounds memory to CHUNK × offers floats


@dataclass(frozen=True)
class Scores:
    """A score for every (subscriber, item): rows follow ``msisdn``, columns ``item_id``."""

    msisdn: list[str]
    item_id: list[str]
    values: F64

    def of(self, msisdn: str, item_id: str) -> float:
        return float(self.values[self.msisdn.index(msisdn), self.item_id.index(item_id)])


def collaborative_scores(
    subscriptions: pa.Table,
    *,
    msisdn: Sequence[str],
    items: Sequence[str],
    shrinkage: float = 10.0,
) -> Scores:
    """Item-to-item scores of ``items`` for the subscribers ``msisdn``.

    ``subscriptions`` has the interface's columns (msisdn, product_id, status); only active
    rows count. Every holder in it informs the similarities, scored or not.
    """
    model = _Collaborative.fit(subscriptions, list(msisdn), list(items), shrinkage)
    return Scores(list(msisdn), list(items), model.scores(slice(None)))


def content_scores(
    habits: pa.Table,
    items: pa.Table,
    *,
    orientation: Mapping[str, Mapping[str, float]] = DEFAULT_ORIENTATION,
    spend: str | None = DEFAULT_SPEND,
    fee_weight: float = 0.5,
) -> Scores:
    """Habit-to-attribute scores of every item for every subscriber of ``habits``.

    ``habits``: msisdn and numeric habit columns, one row a subscriber. ``items``: item_id,
    category, fee. Orientation weights on habits absent from ``habits`` are ignored;
    ``spend`` names the habit the fee is matched against (None: fee not used).
    """
    model = _Content.fit(habits, items, orientation, spend, fee_weight)
    return Scores(_msisdns(habits), _item_ids(items), model.scores(slice(None)))


def learn_orientation(
    subscriptions: pa.Table, habits: pa.Table, items: pa.Table
) -> dict[str, dict[str, float]]:
    """Each category's direction in habit space: the mean standardised habits of the
    subscribers of ``habits`` who hold any of its products (``items``: item_id, category).

    Fitted rather than declared, it works for any habit columns and finds links nobody
    wrote down; a category nobody holds is left out (its offers get the fee alone).
    """
    names, matrix = _habit_matrix(habits)
    categories = sorted(set(_strings(items, "category")))
    holders = _holdings(subscriptions, _msisdns(habits), _item_ids(items))
    by_category = _one_hot(_strings(items, "category"), categories)
    holds = (holders @ by_category > 0).astype(np.float64)
    counts = np.asarray(holds.sum(axis=0)).ravel()
    means = np.asarray(holds.T @ matrix) / np.maximum(counts, 1.0)[:, None]
    return {
        category: {name: round(float(v), 6) for name, v in zip(names, means[c], strict=True)}
        for c, category in enumerate(categories)
        if counts[c] > 0
    }


def suitability(
    subscriptions: pa.Table,
    habits: pa.Table,
    items: pa.Table,
    *,
    weight: float = 0.5,
    k: int = 5,
    shrinkage: float = 10.0,
    orientation: Mapping[str, Mapping[str, float]] = DEFAULT_ORIENTATION,
    spend: str | None = DEFAULT_SPEND,
    fee_weight: float = 0.5,
) -> pa.Table:
    """The top ``k`` offers of every subscriber of ``habits`` that they do not hold yet.

    Returns pyarrow.Table(msisdn, item_id, suitability, collaborative, content), best first
    within a subscriber; ``suitability = weight × collaborative + (1 − weight) × content``.
    The base is scored in chunks of subscribers, each chunk with matrix products.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must lie in [0, 1], not {weight}")
    people = _msisdns(habits)
    offers = _item_ids(items)
    collaborative = _Collaborative.fit(subscriptions, people, offers, shrinkage)
    content = _Content.fit(habits, items, orientation, spend, fee_weight)
    parts = [
        _top(
            people[rows],
            offers,
            collaborative.scores(rows),
            content.scores(rows),
            collaborative.held(rows),
            weight,
            k,
        )
        for rows in _chunks(len(people))
    ]
    return pa.concat_tables(parts)


@dataclass(frozen=True)
class _Collaborative:
    holdings: sp.csr_array  # scored subscribers × products they may hold
    similarity: sp.csr_array  # products × candidate items
    candidate: npt.NDArray[np.int64]  # each item's product column

    @classmethod
    def fit(
        cls,
        subscriptions: pa.Table,
        msisdn: list[str],
        items: list[str],
        shrinkage: float,
    ) -> _Collaborative:
        products = sorted(set(_strings(_active(subscriptions), "product_id")) | set(items))
        everyone = _holdings(subscriptions, None, products)
        similarity = _item_similarity(everyone, shrinkage)
        column = {product: c for c, product in enumerate(products)}
        candidate = np.array([column[i] for i in items], dtype=np.int64)
        holdings = _holdings(subscriptions, msisdn, products)
        return cls(holdings, similarity[:, candidate].tocsr(), candidate)

    def scores(self, rows: slice) -> F64:
        held = self.holdings[rows]
        counts = np.asarray(held.sum(axis=1), dtype=np.float64).ravel()
        total = np.asarray((held @ self.similarity).toarray(), dtype=np.float64)
        result: F64 = total / np.maximum(counts, 1.0)[:, None]
        return result

    def held(self, rows: slice) -> npt.NDArray[np.bool_]:
        mask: npt.NDArray[np.bool_] = self.holdings[rows][:, self.candidate].toarray() > 0
        return mask


@dataclass(frozen=True)
class _Content:
    habits: F64  # subscribers × habits, standardised
    profiles: F64  # habits × items

    @classmethod
    def fit(
        cls,
        habits: pa.Table,
        items: pa.Table,
        orientation: Mapping[str, Mapping[str, float]],
        spend: str | None,
        fee_weight: float,
    ) -> _Content:
        names, matrix = _habit_matrix(habits)
        if spend is not None and spend not in names:
            raise ValueError(f"spend habit {spend!r} is not a numeric column of the habits")
        profiles = np.zeros((len(names), items.num_rows))
        for i, category in enumerate(_strings(items, "category")):
            for habit, w in orientation.get(category, {}).items():
                if habit in names:
                    profiles[names.index(habit), i] = w
        if spend is not None:
            fee = _standardise(_signed_log(_floats(items, "fee"))[:, None])
            profiles[names.index(spend)] += fee_weight * fee[:, 0]
        return cls(matrix, profiles)

    def scores(self, rows: slice) -> F64:
        habits = self.habits[rows]
        norms = np.linalg.norm(habits, axis=1)[:, None] * np.linalg.norm(self.profiles, axis=0)
        dot = habits @ self.profiles
        cosine = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
        result: F64 = np.clip((1.0 + cosine) / 2.0, 0.0, 1.0)
        return result


def _item_similarity(holdings: sp.csr_array, shrinkage: float) -> sp.csr_array:
    """Shrunk cosine between products, from their co-holder counts; no self-similarity."""
    co = (holdings.T @ holdings).tocoo()
    holders = co.diagonal()
    off = co.row != co.col
    i, j, together = co.row[off], co.col[off], co.data[off].astype(np.float64)
    cosine = together / np.sqrt(holders[i] * holders[j])
    similarity = cosine * together / (together + shrinkage)
    return sp.csr_array((similarity, (i, j)), shape=co.shape)


def _holdings(
    subscriptions: pa.Table, msisdn: list[str] | None, products: list[str]
) -> sp.csr_array:
    """Subscriber × product 0/1 matrix of active subscriptions. Rows follow ``msisdn`` (rows
    of other subscribers dropped) or, when None, every holder in any order."""
    active = _active(subscriptions)
    people = pc.unique(active["msisdn"]) if msisdn is None else pa.array(msisdn, pa.string())
    row = pc.index_in(active["msisdn"], value_set=people)
    col = pc.index_in(active["product_id"], value_set=pa.array(products, pa.string()))
    keep = pc.and_(pc.is_valid(row), pc.is_valid(col))
    r = pc.filter(row, keep).to_numpy(zero_copy_only=False).astype(np.int64)
    c = pc.filter(col, keep).to_numpy(zero_copy_only=False).astype(np.int64)
    counts = sp.csr_array((np.ones(len(r)), (r, c)), shape=(len(people), len(products)))
    return (counts > 0).astype(np.float64).tocsr()


def _top(
    msisdn: Sequence[str],
    items: list[str],
    collaborative: F64,
    content: F64,
    held: npt.NDArray[np.bool_],
    weight: float,
    k: int,
) -> pa.Table:
    """Best ``k`` unheld items a row, ties in catalogue order."""
    combined = weight * collaborative + (1.0 - weight) * content
    combined = np.where(held, -np.inf, combined)
    order = np.argsort(-combined, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(msisdn)), order.shape[1])
    cols = order.ravel()
    keep = np.isfinite(combined[rows, cols])
    rows, cols = rows[keep], cols[keep]
    return pa.table(
        {
            "msisdn": pa.array(np.asarray(msisdn, dtype=object)[rows], pa.string()),
            "item_id": pa.array(np.asarray(items, dtype=object)[cols], pa.string()),
            "suitability": pa.array(np.round(combined[rows, cols], 6)),
            "collaborative": pa.array(np.round(collaborative[rows, cols], 6)),
            "content": pa.array(np.round(content[rows, cols], 6)),
        }
    )


def _chunks(n: int) -> Iterator[slice]:
    """Consecutive row ranges of at most CHUNK rows; one empty range when there are none."""
    for start in range(0, max(n, 1), CHUNK):
        yield slice(start, min(start + CHUNK, n))


def _habit_matrix(habits: pa.Table) -> tuple[list[str], F64]:
    """The numeric habit columns, signed-log scaled and standardised; a missing value sits at
    the mean (0), saying nothing either way."""
    names = [
        f.name
        for f in habits.schema
        if f.name != "msisdn"
        and (
            pa.types.is_integer(f.type)
            or pa.types.is_floating(f.type)
            or pa.types.is_decimal(f.type)
        )
    ]
    if not names:
        raise ValueError("the habits table has no numeric column besides msisdn")
    raw = np.column_stack([_floats(habits, n) for n in names])
    return names, np.nan_to_num(_standardise(_signed_log(raw)))


def _standardise(values: F64) -> F64:
    """Column z-scores ignoring missing values; a constant or empty column becomes 0."""
    known = ~np.isnan(values)
    count = np.maximum(known.sum(axis=0), 1)
    mean = np.where(known, values, 0.0).sum(axis=0) / count
    spread = np.sqrt((np.where(known, values - mean, 0.0) ** 2).sum(axis=0) / count)
    result: F64 = (values - mean) / np.where(spread > 0, spread, 1.0)
    return result


def _signed_log(values: F64) -> F64:
    result: F64 = np.sign(values) * np.log1p(np.abs(values))
    return result


def _one_hot(values: list[str], levels: list[str]) -> sp.csr_array:
    cols = np.array([levels.index(v) for v in values], dtype=np.int64)
    rows = np.arange(len(values))
    return sp.csr_array((np.ones(len(values)), (rows, cols)), shape=(len(values), len(levels)))


def _active(subscriptions: pa.Table) -> pa.Table:
    return subscriptions.filter(pc.equal(subscriptions["status"], "active"))


def _msisdns(habits: pa.Table) -> list[str]:
    people = _strings(habits, "msisdn")
    if len(set(people)) != len(people):
        raise ValueError("the habits table has more than one row for a subscriber")
    return people


def _item_ids(items: pa.Table) -> list[str]:
    ids = _strings(items, "item_id")
    if len(set(ids)) != len(ids):
        raise ValueError("the items table names an item more than once")
    return ids


def _strings(table: pa.Table, column: str) -> list[str]:
    return [str(v) for v in table.column(column).to_pylist()]


def _floats(table: pa.Table, column: str) -> F64:
    values: F64 = pc.cast(table.column(column), pa.float64()).to_numpy(zero_copy_only=False)
    return values
