"""Households and multi-SIM owners from the call graph (R-MINE-5, issue 7 §2).

``call_graph`` turns the voice and SMS records into one weighted, undirected edge per pair of
subscribers who were in touch. It is one DuckDB aggregation over the records, never a loop per
subscriber: a call between two subscribers is recorded twice (the caller's ``mo`` and the
callee's ``mt``), so counts are taken per observing side and the larger side kept.

``households`` finds the families in that graph. A household is a small, dense group of
strong ties that each number's own records show (``mutual``), so the method is deliberately
simple and linear: keep the strong mutual edges, take connected components
(``scipy.sparse.csgraph``, C code, O(nodes + edges); 4 M numbers and 5 M edges take about
20 s on two cores, most of it turning the numbers into integer ids), then split any
component larger than a household can be by dropping its weakest quarter of edges and
looking again (a local raise of the threshold, i.e. cutting the single-linkage tree where
the pieces fit). Modularity or label propagation would find larger "communities" — circles
of friends, workplaces — which is not the question; a threshold on reciprocal ties answers it
directly and its one parameter is explainable to a planner. A component still too large after
a bounded number of rounds (a switchboard, a call centre) is dissolved rather than guessed.

``multi_sim`` looks for one person behind several numbers: numbers registered to the same
customer id whose top contacts and top cells overlap, and that call each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

from steward.lake.engine import AnalyticsEngine

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

# A mutual tie on most days with a few calls a day clears it; a chance call does not.
MIN_WEIGHT = 3.0
MAX_SIZE = 6
SPLIT_ROUNDS = 40
SATURATION = 10.0  # edge weight at which a member's tie counts as ~63 % certain
SERVICE_NUMBER_LENGTH = 7  # shorter numbers are hotlines and gateways, shared by everyone

EMPTY_HOUSEHOLDS = pa.table(
    {
        "msisdn": pa.array([], pa.string()),
        "household_id": pa.array([], pa.string()),
        "household_size": pa.array([], pa.int64()),
        "confidence": pa.array([], pa.float64()),
    }
)


def call_graph(
    engine: AnalyticsEngine,
    voice: str,
    sms: str | None = None,
    *,
    subscribers: str | None = None,
) -> pa.Table:
    """Weighted edges between subscribers who called or texted each other.

    ``voice`` and ``sms`` are FROM-expressions over the voice and SMS interfaces
    (``msisdn``, ``start_time``/``send_time``, ``direction``, ``other_party``, ``duration_s``).
    Only pairs of subscribers count: both numbers in ``subscribers`` (a FROM-expression with
    an ``msisdn`` column, e.g. the profile) or, without it, both numbers with records of
    their own — a number of another operator is never a node.

    One row per pair, ``msisdn_a < msisdn_b``: ``calls``, ``talk_minutes``, ``texts`` (each
    the larger of the two numbers' own counts, so a call recorded at both ends counts once),
    ``days`` with any contact, ``mutual`` (each number's own records show the other),
    ``both_ways`` (each number started a contact) and ``weight``::

        weight = days / window_days
                 * (ln(1 + calls) + ln(1 + talk_minutes) + ln(1 + texts) / 2)
                 * (1 + mutual) * (1 + both_ways)

    Regular contact over the window matters more than one long call; reciprocity doubles.
    """
    return engine.query(_graph_sql(voice, sms, subscribers))


def _graph_sql(voice: str, sms: str | None, subscribers: str | None) -> str:
    texts = (
        f"""UNION ALL
          SELECT CAST(msisdn AS VARCHAR), CAST(other_party AS VARCHAR), direction = 'mo', 0,
                 CAST(send_time AS DATE), FALSE
          FROM {sms}"""
        if sms
        else ""
    )
    owners = ""
    if subscribers is not None:
        base = f"SELECT CAST(msisdn AS VARCHAR) AS number FROM {subscribers}"
        owners = "AND self IN (SELECT number FROM base)"
    else:
        base = f"SELECT CAST(msisdn AS VARCHAR) AS number FROM {voice}" + (
            f" UNION SELECT CAST(msisdn AS VARCHAR) FROM {sms}" if sms else ""
        )
    return f"""
    WITH base AS (SELECT DISTINCT number FROM ({base}) b WHERE number IS NOT NULL),
    events AS (
      SELECT CAST(msisdn AS VARCHAR) AS self, CAST(other_party AS VARCHAR) AS other,
             direction = 'mo' AS outgoing, duration_s, CAST(start_time AS DATE) AS day,
             TRUE AS is_call
      FROM {voice}
      {texts}
    ),
    contacts AS (
      SELECT least(self, other) AS a, greatest(self, other) AS b, self < other AS by_a,
             outgoing, duration_s, day, is_call
      FROM events SEMI JOIN base ON events.other = base.number
      WHERE self <> other {owners}
    ),
    pairs AS (
      SELECT a AS msisdn_a, b AS msisdn_b,
        greatest(count(*) FILTER (WHERE is_call AND by_a),
                 count(*) FILTER (WHERE is_call AND NOT by_a)) AS calls,
        greatest(coalesce(sum(duration_s) FILTER (WHERE is_call AND by_a), 0),
                 coalesce(sum(duration_s) FILTER (WHERE is_call AND NOT by_a), 0))
          / 60.0 AS talk_minutes,
        greatest(count(*) FILTER (WHERE NOT is_call AND by_a),
                 count(*) FILTER (WHERE NOT is_call AND NOT by_a)) AS texts,
        count(DISTINCT day) AS days,
        bool_or(by_a) AND bool_or(NOT by_a) AS mutual,
        bool_or(outgoing = by_a) AND bool_or(outgoing <> by_a) AS both_ways
      FROM contacts GROUP BY a, b
    ),
    window_days AS (SELECT greatest(count(DISTINCT day), 1) AS n FROM contacts)
    SELECT p.*,
      p.days / w.n * (ln(1 + p.calls) + ln(1 + p.talk_minutes) + ln(1 + p.texts) / 2)
        * (1 + CAST(p.mutual AS INTEGER)) * (1 + CAST(p.both_ways AS INTEGER)) AS weight
    FROM pairs p, window_days w
    ORDER BY p.msisdn_a, p.msisdn_b
    """


def households(
    edges: pa.Table,
    *,
    min_weight: float = MIN_WEIGHT,
    max_size: int = MAX_SIZE,
    mutual_only: bool = True,
    saturation: float = SATURATION,
) -> pa.Table:
    """Group numbers into households: components of strong ties, none above ``max_size``.

    ``edges`` is ``call_graph``'s table (``msisdn_a``, ``msisdn_b``, ``weight``, ``mutual``).
    Returns ``msisdn``, ``household_id`` (``H`` + the household's lowest number, stable while
    the membership is), ``household_size`` and ``confidence`` in 0..1: the share of the
    household's possible pairs that are strong ties times how strong the member's own ties
    are (``1 - exp(-mean weight / saturation)``). Numbers with no household are left out.

    Only edges of at least ``min_weight`` count, and with ``mutual_only`` only those each
    number's own records show: a household's calls are answered, so both ends record them.
    """
    keep = pc.greater_equal(edges["weight"], min_weight)
    if mutual_only:
        keep = pc.and_(keep, edges["mutual"])
    strong = edges.filter(keep)
    if strong.num_rows == 0:
        return EMPTY_HOUSEHOLDS
    numbers, a, b = _encode(strong["msisdn_a"], strong["msisdn_b"])
    weight = np.asarray(strong["weight"].to_numpy(), dtype=np.float64)
    labels, kept = _capped_components(len(numbers), a, b, weight, max_size)
    return _members(numbers, labels, a[kept], b[kept], weight[kept], saturation)


def _encode(left: pa.ChunkedArray, right: pa.ChunkedArray) -> tuple[pa.Array, I64, I64]:
    """Dense integer ids for the numbers at either end (hashing, no Python loop)."""
    ends = pa.chunked_array([*_strings(left).chunks, *_strings(right).chunks], type=pa.string())
    ends = ends.combine_chunks()
    encoded = pc.dictionary_encode(ends)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    m = len(left)
    return encoded.dictionary, codes[:m], codes[m:]


def _strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if column.type == pa.string() else pc.cast(column, pa.string())


def _components(n: int, a: I64, b: I64) -> I64:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _capped_components(n: int, a: I64, b: I64, weight: F64, max_size: int) -> tuple[I64, Mask]:
    """Components of the graph, oversize ones split by dropping their weakest edges.

    Each round drops, in every component above ``max_size``, the weakest quarter of its
    edges (at least the weakest one, and every edge tied with the cut). The ties inside a
    household are stronger than the stray ones that glue two households together, so those
    go first. What is still oversize after ``SPLIT_ROUNDS`` is dissolved: its numbers get no
    household. Returns each node's label and which edges survive inside a household.
    """
    kept = np.ones(len(a), dtype=np.bool_)
    for _ in range(SPLIT_ROUNDS):
        labels = _components(n, a[kept], b[kept])
        sizes = np.bincount(labels)
        oversize = kept & (sizes[labels[a]] > max_size)
        if not oversize.any():
            return labels, kept
        kept[_weakest_quarter(np.flatnonzero(oversize), labels[a], weight)] = False
    labels = _components(n, a[kept], b[kept])
    sizes = np.bincount(labels)
    dissolved = sizes[labels] > max_size
    labels[dissolved] = labels.max() + 1 + np.arange(int(dissolved.sum()))
    return labels, kept & ~dissolved[a]


def _weakest_quarter(edges: I64, component_of_end: I64, weight: F64) -> I64:
    """Per component, the edges at or below its lower-quartile weight (at least the weakest).

    Ties at the cut all go, so a hub tied equally to many numbers falls apart instead of
    keeping an arbitrary few of them.
    """
    component = component_of_end[edges]
    order = np.lexsort((weight[edges], component))
    edges, component = edges[order], component[order]
    starts = np.flatnonzero(np.r_[True, component[1:] != component[:-1]])
    counts = np.diff(np.r_[starts, len(edges)])
    cut = weight[edges][starts + np.maximum(counts // 4, 1) - 1]
    return edges[weight[edges] <= np.repeat(cut, counts)]


def _members(
    numbers: pa.Array, labels: I64, a: I64, b: I64, weight: F64, saturation: float
) -> pa.Table:
    n = len(numbers)
    sizes = np.bincount(labels, minlength=n)
    inside = (labels[a] == labels[b]) & (sizes[labels[a]] >= 2)
    a, b, weight = a[inside], b[inside], weight[inside]
    ties = np.bincount(labels[a], minlength=len(sizes)).astype(np.float64)
    pairs = sizes * (sizes - 1) / 2.0
    density = np.divide(ties, pairs, out=np.zeros_like(ties), where=pairs > 0)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    strength = np.bincount(a, weight, minlength=n) + np.bincount(b, weight, minlength=n)
    mean = np.divide(strength, degree, out=np.zeros(n), where=degree > 0)
    confidence = density[labels] * (1.0 - np.exp(-mean / saturation))
    nodes = np.flatnonzero(sizes[labels] >= 2)
    table = pa.table(
        {
            "msisdn": numbers.take(pa.array(nodes)),
            "label": pa.array(labels[nodes]),
            "household_size": pa.array(sizes[labels[nodes]]),
            "confidence": pa.array(np.round(confidence[nodes], 3)),
        }
    )
    first = table.group_by("label").aggregate([("msisdn", "min")])
    named = pc.binary_join_element_wise("H", first["msisdn_min"], "")
    ids = pa.table({"label": first["label"], "household_id": named})
    joined = table.join(ids, "label").drop_columns(["label"])
    joined = joined.select(["msisdn", "household_id", "household_size", "confidence"])
    return joined.sort_by([("household_id", "ascending"), ("msisdn", "ascending")])


MULTI_SIM_WEIGHTS = {"contacts": 0.5, "cells": 0.35, "calls": 0.15}
MULTI_SIM_SCORE = 0.5
CALLS_SATURATE = 3  # calls between the numbers that count as full evidence


def multi_sim(
    engine: AnalyticsEngine,
    profile: str,
    voice: str,
    *,
    top: int = 10,
    min_score: float = MULTI_SIM_SCORE,
    max_lines: int = 10,
    weights: Sequence[float] | None = None,
) -> pa.Table:
    """Pairs of numbers that look like one person's several SIMs.

    Candidates are numbers of the same ``customer_id`` in ``profile`` (IDs with more than
    ``max_lines`` numbers are company accounts, not a person, and are skipped). Each pair is
    scored from the overlap (Jaccard) of the two numbers' ``top`` contacts and ``top`` cells
    in ``voice`` (service numbers left out: everyone calls 10086) and from calls between
    them, weighted contacts 0.5, cells 0.35, calls 0.15 unless ``weights`` says otherwise.

    Returns ``msisdn_a``, ``msisdn_b``, ``customer_id``, ``contact_overlap``,
    ``cell_overlap``, ``calls_between``, ``score``, ``reasons`` (list of text) and
    ``is_multi_sim`` (``score >= min_score``), every candidate pair, best first.
    """
    w = list(weights) if weights is not None else list(MULTI_SIM_WEIGHTS.values())
    if len(w) != 3:
        raise ValueError("weights are three numbers: contacts, cells, calls")
    sql = _multi_sim_sql(profile, voice)
    return engine.query(sql, [max_lines, SERVICE_NUMBER_LENGTH, top, top, *w, min_score])


def _multi_sim_sql(profile: str, voice: str) -> str:
    return f"""
    WITH owners AS (
      SELECT DISTINCT CAST(msisdn AS VARCHAR) AS msisdn,
             CAST(customer_id AS VARCHAR) AS customer_id
      FROM {profile} WHERE customer_id IS NOT NULL
    ),
    sized AS (SELECT *, count(*) OVER (PARTITION BY customer_id) AS lines FROM owners),
    candidates AS (
      SELECT x.msisdn AS a, y.msisdn AS b, x.customer_id
      FROM sized x JOIN sized y ON x.customer_id = y.customer_id AND x.msisdn < y.msisdn
      WHERE x.lines <= $1
    ),
    involved AS (SELECT a AS msisdn FROM candidates UNION SELECT b FROM candidates),
    records AS (
      SELECT CAST(v.msisdn AS VARCHAR) AS msisdn, CAST(v.other_party AS VARCHAR) AS other,
             CAST(v.cell_id AS VARCHAR) AS cell
      FROM {voice} v SEMI JOIN involved i ON CAST(v.msisdn AS VARCHAR) = i.msisdn
    ),
    ranked_contacts AS (
      SELECT msisdn, other AS item,
             row_number() OVER (PARTITION BY msisdn ORDER BY count(*) DESC, other) AS r
      FROM records WHERE length(other) >= $2 GROUP BY msisdn, other
    ),
    ranked_cells AS (
      SELECT msisdn, cell AS item,
             row_number() OVER (PARTITION BY msisdn ORDER BY count(*) DESC, cell) AS r
      FROM records WHERE cell IS NOT NULL GROUP BY msisdn, cell
    ),
    top_contacts AS (SELECT msisdn, item FROM ranked_contacts WHERE r <= $3),
    top_cells AS (SELECT msisdn, item FROM ranked_cells WHERE r <= $4),
    contact_overlap AS ({_jaccard_sql("top_contacts")}),
    cell_overlap AS ({_jaccard_sql("top_cells")}),
    between AS (
      SELECT c.a, c.b,
        greatest(count(*) FILTER (WHERE r.msisdn = c.a), count(*) FILTER (WHERE r.msisdn = c.b))
          AS calls
      FROM candidates c JOIN records r
        ON c.a = least(r.msisdn, r.other) AND c.b = greatest(r.msisdn, r.other)
      GROUP BY c.a, c.b
    ),
    scored AS (
      SELECT c.a AS msisdn_a, c.b AS msisdn_b, c.customer_id,
        round(coalesce(k.jaccard, 0), 3) AS contact_overlap,
        round(coalesce(l.jaccard, 0), 3) AS cell_overlap,
        coalesce(t.calls, 0) AS calls_between,
        k.shared AS shared_contacts, l.shared AS shared_cells
      FROM candidates c
      LEFT JOIN contact_overlap k ON k.a = c.a AND k.b = c.b
      LEFT JOIN cell_overlap l ON l.a = c.a AND l.b = c.b
      LEFT JOIN between t ON t.a = c.a AND t.b = c.b
    ),
    final AS (
      SELECT *, round($5 * contact_overlap + $6 * cell_overlap
                      + $7 * least(calls_between / {CALLS_SATURATE}, 1.0), 3) AS score
      FROM scored
    )
    SELECT msisdn_a, msisdn_b, customer_id, contact_overlap, cell_overlap, calls_between,
      score,
      list_concat(
        [format('same customer id {{}}', customer_id)],
        CASE WHEN shared_contacts > 0
             THEN [format('{{}} shared top contacts (Jaccard {{}})',
                          shared_contacts, contact_overlap)]
             ELSE [] END,
        CASE WHEN shared_cells > 0
             THEN [format('{{}} shared top cells (Jaccard {{}})', shared_cells, cell_overlap)]
             ELSE [] END,
        CASE WHEN calls_between > 0
             THEN [format('{{}} calls between them', calls_between)] ELSE [] END
      ) AS reasons,
      score >= $8 AS is_multi_sim
    FROM final
    ORDER BY score DESC, msisdn_a, msisdn_b
    """


def _jaccard_sql(top: str) -> str:
    return f"""
      SELECT c.a, c.b, count(*) AS shared,
             count(*) / (max(na.n) + max(nb.n) - count(*)) AS jaccard
      FROM candidates c
      JOIN {top} x ON x.msisdn = c.a
      JOIN {top} y ON y.msisdn = c.b AND y.item = x.item
      JOIN (SELECT msisdn, count(*) AS n FROM {top} GROUP BY msisdn) na ON na.msisdn = c.a
      JOIN (SELECT msisdn, count(*) AS n FROM {top} GROUP BY msisdn) nb ON nb.msisdn = c.b
      GROUP BY c.a, c.b
    """
