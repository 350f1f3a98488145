"""Association rules between products (R-MINE-7, issue 7 §2): what is bought with what.

A basket is one subscriber's active products. For a rule X → Y, over the N subscribers
holding at least one active product:

* support = share of baskets holding X and Y — how often the rule applies at all;
* confidence = share of the baskets holding X that also hold Y — P(Y | X);
* lift = confidence / share of baskets holding Y — how much holding X raises the chance of
  Y: 1 for independent products, above 1 for products taken together, below 1 for
  substitutes.

Computed set-based in the analytics engine as Apriori does it: single products below the
minimum support are dropped first, pairs come from a self-join of the basket table on the
subscriber, and (with ``max_length=3``) triples from joining the frequent pairs back to the
baskets — a triple can only be frequent if its pairs are. Nothing is looped over in Python.
"""

from __future__ import annotations

import math

import pyarrow as pa

from steward.lake.engine import AnalyticsEngine

BASKETS = "assoc_subscriptions"

_BASKETS = """
WITH baskets AS (
  SELECT DISTINCT msisdn, product_id AS item FROM {source} WHERE status = 'active'
),
items AS (SELECT item, count(*) AS holders FROM baskets GROUP BY item HAVING count(*) >= ?),
frequent AS (SELECT b.msisdn, b.item FROM baskets b JOIN items i ON i.item = b.item),"""

_PAIRS = """
pairs AS (
  SELECT a.item AS x, b.item AS y, count(*) AS together
  FROM frequent a JOIN frequent b ON a.msisdn = b.msisdn AND a.item < b.item
  GROUP BY a.item, b.item
  HAVING count(*) >= ?
),
pair_rules AS (
  SELECT x AS antecedent_1, CAST(NULL AS VARCHAR) AS antecedent_2, y AS consequent, together,
    i.holders AS antecedent_holders
  FROM pairs JOIN items i ON i.item = x
  UNION ALL
  SELECT y, CAST(NULL AS VARCHAR), x, together, i.holders
  FROM pairs JOIN items i ON i.item = y
)"""

_TRIPLES = """,
triple_rules AS (
  SELECT p.x AS antecedent_1, p.y AS antecedent_2, c.item AS consequent, count(*) AS together,
    p.together AS antecedent_holders
  FROM pairs p
  JOIN frequent a ON a.item = p.x
  JOIN frequent b ON b.msisdn = a.msisdn AND b.item = p.y
  JOIN frequent c ON c.msisdn = a.msisdn AND c.item <> p.x AND c.item <> p.y
  GROUP BY p.x, p.y, c.item, p.together
  HAVING count(*) >= ?
)"""

_RULES = """
SELECT antecedent_1, antecedent_2, consequent, support, confidence, lift, subscribers FROM (
  SELECT r.antecedent_1, r.antecedent_2, r.consequent,
    CAST(r.together AS DOUBLE) / ? AS support,
    CAST(r.together AS DOUBLE) / r.antecedent_holders AS confidence,
    CAST(r.together AS DOUBLE) * ? / (CAST(r.antecedent_holders AS DOUBLE) * c.holders) AS lift,
    r.together AS subscribers
  FROM ({rules}) r JOIN items c ON c.item = r.consequent
) rules
WHERE confidence >= ?
ORDER BY lift DESC, confidence DESC, subscribers DESC,
  antecedent_1, antecedent_2 NULLS FIRST, consequent
"""

# Rule length -> the CTEs to build and the rules to read from them.
_BY_LENGTH = {
    2: (_PAIRS, "SELECT * FROM pair_rules"),
    3: (_PAIRS + _TRIPLES, "SELECT * FROM pair_rules UNION ALL SELECT * FROM triple_rules"),
}


def association_rules(
    engine: AnalyticsEngine,
    *,
    subscriptions: pa.Table | str,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    max_length: int = 2,
) -> pa.Table:
    """Rules X → Y between products with at least ``min_support`` and ``min_confidence``.

    ``subscriptions`` has the interface's columns (msisdn, product_id, status): an Arrow
    table, or a relation the engine can read (a table name, ``engine.scan_parquet(...)``).
    ``max_length`` is the size of antecedent plus consequent, 2 (pairs) or 3 (triples too).
    Returns pyarrow.Table(antecedent: list<string>, consequent, support, confidence, lift,
    subscribers), strongest lift first; ``subscribers`` hold both X and Y.
    """
    if max_length not in _BY_LENGTH:
        raise ValueError(f"max_length must be 2 or 3, not {max_length}")
    if not 0.0 < min_support <= 1.0 or not 0.0 <= min_confidence <= 1.0:
        raise ValueError("min_support must lie in (0, 1] and min_confidence in [0, 1]")
    source = _source(engine, subscriptions)
    total = _subscribers(engine, source)
    least = max(1, math.ceil(min_support * total - 1e-9))  # a count: no float rounding later
    ctes, rules = _BY_LENGTH[max_length]
    sql = _BASKETS.format(source=source) + ctes + _RULES.format(rules=rules)
    counts = [least] * max_length  # products, pairs, triples
    return _antecedent_lists(engine.query(sql, [*counts, total, total, min_confidence]))


def _source(engine: AnalyticsEngine, subscriptions: pa.Table | str) -> str:
    if isinstance(subscriptions, str):
        return subscriptions
    engine.register(BASKETS, subscriptions)
    return BASKETS


def _subscribers(engine: AnalyticsEngine, source: str) -> int:
    """N, the number of non-empty baskets: subscribers with an active product."""
    sql = f"SELECT count(DISTINCT msisdn) AS n FROM {source} WHERE status = 'active'"
    return int(engine.query(sql).column("n")[0].as_py())


def _antecedent_lists(raw: pa.Table) -> pa.Table:
    """One list column for the antecedent, whatever its size, so pairs and triples share
    one shape."""
    antecedent_1 = raw.column("antecedent_1").to_pylist()
    antecedent_2 = raw.column("antecedent_2").to_pylist()
    antecedent = [
        [a] if b is None else [a, b] for a, b in zip(antecedent_1, antecedent_2, strict=True)
    ]
    return pa.table(
        {
            "antecedent": pa.array(antecedent, pa.list_(pa.string())),
            "consequent": raw.column("consequent").cast(pa.string()),
            "support": raw.column("support"),
            "confidence": raw.column("confidence"),
            "lift": raw.column("lift"),
            "subscribers": raw.column("subscribers").cast(pa.int64()),
        }
    )
