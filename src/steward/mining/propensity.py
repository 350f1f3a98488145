"""Propensity and the learning loop (R-EVAL-8): the chance a subscriber accepts an offer of
each category, learned from the ledger's answers.

Training rows are the marketing contacts that reached a subscriber (target arm) and are
settled: ordered, answered, or sent at least ``settle_days`` before the newest contact.
Each row's features are the subscriber's tags in the newest profile snapshot *before* the
contact's day (usage, spend, handset, products, contacts), so a contact never sees what
came after it. The split is by time: the earliest
70 % of contacts train, the rest validate (by a hash of the contact when all share a day).
A category with enough answers gets its own model; the others share a pooled one.

Between retrainings, each answer moves a Bayesian estimate per (campaign, offer): the
observed orders against the orders the model expected for the contacted, with ``PRIOR``
pseudo-contacts at the model's rate: factor = (PRIOR + orders) / (PRIOR + expected).
Arbitration multiplies the subscriber's propensity by it, so an offer that does better
than predicted rises after a few answers, and one that does worse falls, before retraining.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.contacts.models import State
from steward.lake.service import Lake
from steward.mining import churn, linear
from steward.mining.metrics import report
from steward.tags import service as tags
from steward.tags.sources import PROPENSITY_CATEGORIES

CATEGORIES = PROPENSITY_CATEGORIES
MIN_ROWS, MIN_POSITIVES = 30, 5
NUMERIC = (
    "age",
    "tenure_months",
    "arpu_3m",
    "arpu_trend",
    "data_mb_30d",
    "voice_minutes_30d",
    "sms_sent_30d",
    "handset_age_months",
    "data_5g_share_30d",
    "data_roaming_days_30d",
    "intl_roaming_days_30d",
    "active_products",
    "recharge_amount_90d",
    "complaints_90d",
    "app_contacts_30d",
    "contacts_sms_90d",
    "contacts_outbound_90d",
)
CATEGORICAL = ("brand", "vip_level", "payment_type", "handset_network", "contract_type")
TRAIN_SHARE = 0.7
PRIOR = 20.0
SETTLE_DAYS = 7  # a contact without an answer counts as a no after this many days
REACHED = ("sent", "delivered", "answered", "ordered")


class PropensityError(ValueError):
    """Too few settled answers to learn from (the message says how many)."""


@dataclass
class PropensityModel:
    per_category: dict[str, linear.LinearModel]
    pooled: linear.LinearModel

    def predict(self, category: str, base: pa.Table) -> np.ndarray[Any, np.dtype[np.float64]]:
        model = self.per_category.get(category)
        if model is not None:
            return model.predict(base)
        return self.pooled.predict(base.append_column("category", _repeat(category, base)))

    def to_json(self) -> bytes:
        document = {
            "per_category": {k: json.loads(v.to_json()) for k, v in self.per_category.items()},
            "pooled": json.loads(self.pooled.to_json()),
        }
        return json.dumps(document, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PropensityModel:
        document = json.loads(data)
        per = {
            k: linear.LinearModel.from_json(json.dumps(v).encode())
            for k, v in document["per_category"].items()
        }
        return cls(per, linear.LinearModel.from_json(json.dumps(document["pooled"]).encode()))


@dataclass
class Fitted:
    model: PropensityModel
    metrics: dict[str, Any]
    params: dict[str, Any]
    inputs: list[dict[str, str]]
    as_of: date
    rows: int = field(default=0)


def training_rows(session: Session, lake: Lake, *, settle_days: int) -> pa.Table:
    """One row per settled contact: the subscriber's tags the day before it, its category,
    whether it ended in an order, and when it was made. Contacts with no snapshot before
    their day are left out."""
    contacts = _settled(lake, ledger.read(session), settle_days)
    if contacts.num_rows == 0:
        return contacts
    parts = []
    lake.engine.register("steward_contacts", contacts)
    for day in sorted(set(contacts.column("day").to_pylist())):
        snapshot = _snapshot_before(session, lake, day)
        if snapshot is None:
            continue
        parts.append(
            lake.engine.query(
                f"SELECT c.contact_key, c.category, c.ordered, c.first_at, {_features('f')} "
                f"FROM steward_contacts c JOIN {snapshot} f USING (msisdn) "
                f"WHERE c.day = DATE '{day.isoformat()}'"
            )
        )
    if not parts:
        return contacts.slice(0, 0)
    order = [("first_at", "ascending"), ("contact_key", "ascending")]
    return pa.concat_tables(parts).sort_by(order)


def features_of(session: Session, lake: Lake, msisdn: pa.Array, as_of: date) -> pa.Table:
    """The tags propensity reads for ``msisdn`` (in that order) from the newest snapshot on
    or before ``as_of`` (scores are written before the day's tags: usually yesterday's)."""
    latest = tags.latest_snapshot(session, lake, as_of)
    lake.engine.register("steward_numbers", pa.table({"msisdn": msisdn}))
    if latest is None:
        return lake.engine.query(
            "SELECT "
            + ", ".join(
                [
                    *(f"NULL::DOUBLE AS {c}" for c in NUMERIC),
                    *(f"NULL::VARCHAR AS {c}" for c in CATEGORICAL),
                ]
            )
            + " FROM steward_numbers"
        )
    return lake.engine.query(
        f"SELECT {_features('f')} FROM (SELECT msisdn, row_number() OVER () AS n "
        f"FROM steward_numbers) b LEFT JOIN {latest[1]} f USING (msisdn) ORDER BY b.n"
    )


def _snapshot_before(session: Session, lake: Lake, day: date) -> str | None:
    latest = tags.latest_snapshot(session, lake, day - timedelta(days=1))
    return latest[1] if latest else None


def _features(alias: str) -> str:
    numbers = [f"CAST({alias}.{c} AS DOUBLE) AS {c}" for c in NUMERIC]
    return ", ".join([*numbers, *(f"{alias}.{c}" for c in CATEGORICAL)])


def _settled(lake: Lake, rows: pa.Table, settle_days: int) -> pa.Table:
    lake.engine.register("steward_ledger", rows)
    reached = ", ".join(f"'{s}'" for s in REACHED)
    return lake.engine.query(
        f"""
        WITH c AS (
          SELECT contact_key, any_value(msisdn) AS msisdn, min(day) AS day,
            any_value(category) AS category, any_value(campaign_id) AS campaign_id,
            any_value(offer_id) AS offer_id, min("at") AS first_at,
            bool_or(state = 'ordered') AS ordered, bool_or(state = 'answered') AS answered
          FROM steward_ledger
          WHERE kind = 'marketing' AND arm = 'target' AND category IS NOT NULL
            AND state IN ({reached})
          GROUP BY contact_key
        )
        SELECT * FROM c
        WHERE ordered OR answered
           OR day <= (SELECT max(day) FROM c) - INTERVAL {int(settle_days)} DAY
        """
    )


def train(session: Session, lake: Lake, *, seed: int, settle_days: int = SETTLE_DAYS) -> Fitted:
    rows = training_rows(session, lake, settle_days=settle_days)
    label = _ordered(rows)
    if rows.num_rows < MIN_ROWS or label.sum() < MIN_POSITIVES:
        raise PropensityError(
            f"{rows.num_rows} settled contacts with {int(label.sum())} orders: propensity "
            f"needs at least {MIN_ROWS} and {MIN_POSITIVES} (run campaigns first)"
        )
    early = _early(rows)
    check = _fit(rows.filter(pa.array(early)), seed)
    later = rows.filter(pa.array(~early))
    metrics = report(_ordered(later), _predict_rows(check, later))
    days = {t.date() for t in rows.column("first_at").to_pylist()}
    metrics["split"] = "time" if len(days) > 1 else "hash"
    model = _fit(rows, seed)
    days = rows.column("first_at").to_pylist()
    as_of = max(d.date() if hasattr(d, "date") else d for d in days)
    params = {
        "settle_days": settle_days,
        "categories": sorted(model.per_category),
        "numeric": list(NUMERIC),
        "categorical": list(CATEGORICAL),
        "estimator": "logistic regression per category with enough answers, pooled otherwise",
    }
    answers = {"table": "contact_event", "rows": str(rows.num_rows), "sha256": _digest(rows)}
    inputs = [*churn.relations(session, lake).inputs, answers]
    return Fitted(model, metrics, params, inputs, as_of, rows.num_rows)


def _fit(rows: pa.Table, seed: int) -> PropensityModel:
    label = _ordered(rows)
    categories = np.asarray(rows.column("category").to_pylist(), dtype=object)
    per: dict[str, linear.LinearModel] = {}
    for category in sorted(set(categories)):
        mine = categories == category
        if mine.sum() >= MIN_ROWS and MIN_POSITIVES <= label[mine].sum() < mine.sum():
            per[str(category)] = linear.fit(
                rows.filter(pa.array(mine)),
                label[mine],
                numeric=NUMERIC,
                categorical=CATEGORICAL,
                seed=seed,
            )
    pooled = linear.fit(
        rows,
        label,
        numeric=NUMERIC,
        categorical=(*CATEGORICAL, "category"),
        seed=seed,
    )
    return PropensityModel(per, pooled)


def _predict_rows(model: PropensityModel, rows: pa.Table) -> np.ndarray[Any, np.dtype[np.float64]]:
    out = np.zeros(rows.num_rows)
    categories = np.asarray(rows.column("category").to_pylist(), dtype=object)
    for category in set(categories):
        mine = categories == category
        part = rows.filter(pa.array(mine)).drop_columns(["category"])
        out[mine] = model.predict(str(category), part)
    return out


def score_columns(model: PropensityModel | None, base: pa.Table) -> dict[str, pa.Array]:
    """``propensity_<category>`` for every declared category (NULL without a model)."""
    if model is None:
        return {f"propensity_{c}": pa.nulls(base.num_rows, pa.float64()) for c in CATEGORIES}
    return {f"propensity_{c}": pa.array(np.round(model.predict(c, base), 6)) for c in CATEGORIES}


def average(model: PropensityModel, base: pa.Table) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The mean over categories: what stability compares between versions."""
    mean: np.ndarray[Any, np.dtype[np.float64]] = np.mean(
        [model.predict(c, base) for c in CATEGORIES], axis=0
    )
    return mean


def factors(
    session: Session, lake: Lake, *, since: date, scores: str | None
) -> dict[tuple[int, int], float]:
    """(campaign, offer) -> the learning factor from the answers since ``since``."""
    if scores is None:
        return {}
    # only the window's rows: a contact's rows share its day, so none is cut in two, and the
    # listing rebuilt on every campaign move no longer reads the whole ledger
    since_rows = ledger.history(session, windows=[([State(s) for s in REACHED], since)])
    lake.engine.register("steward_answers", _settled(lake, since_rows, 0))
    rows = lake.engine.query(
        f"""
        SELECT a.campaign_id, a.offer_id, count(*) FILTER (WHERE a.ordered) AS orders,
          sum(coalesce({_score_case("s")}, 0)) AS expected
        FROM steward_answers a
        LEFT JOIN {scores} s ON s.msisdn = a.msisdn
        WHERE a.day >= DATE '{since.isoformat()}' AND a.campaign_id IS NOT NULL
          AND a.offer_id IS NOT NULL
        GROUP BY ALL
        """
    ).to_pylist()
    return {
        (int(r["campaign_id"]), int(r["offer_id"])): round(
            (PRIOR + r["orders"]) / (PRIOR + float(r["expected"] or 0.0)), 6
        )
        for r in rows
        if r["expected"]
    }


def _score_case(alias: str) -> str:
    whens = " ".join(f"WHEN '{c}' THEN {alias}.propensity_{c}" for c in CATEGORIES)
    return f"CASE a.category {whens} END"


def _early(rows: pa.Table) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Training rows: the contacts of the earliest days (about 70 %), the later days
    validate. With one day only, a hash of the contact splits instead (within a day the
    order of contacts is the order a plan was written, not time)."""
    days = [t.date() for t in rows.column("first_at").to_pylist()]
    distinct = sorted(set(days))
    if len(distinct) > 1:
        cut = sorted(days)[int(len(days) * TRAIN_SHARE)]
        cut = min(max(cut, distinct[1]), distinct[-1])  # both sides keep at least a day
        return np.asarray([d < cut for d in days])
    keys = rows.column("contact_key").to_pylist()
    return np.asarray([_fraction(k) < TRAIN_SHARE for k in keys])


def _fraction(key: str) -> float:
    digest = hashlib.md5(key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _ordered(rows: pa.Table) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if rows.num_rows == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(rows.column("ordered").to_pylist(), dtype=bool)


def _repeat(value: str, base: pa.Table) -> pa.Array:
    return pa.array([value] * base.num_rows, pa.string())


def _digest(rows: pa.Table) -> str:
    keys = "\n".join(sorted(rows.column("contact_key").to_pylist()))
    return hashlib.sha256(keys.encode()).hexdigest()


def learned_since(day: date) -> date:
    """Answers of the last 90 days move the factors: older ones are the model's to learn."""
    return day - timedelta(days=90)
