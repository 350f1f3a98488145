"""Channel preference (R-MINE-4): which channel to reach each subscriber through.

A frequent contacter (more than ``more_than`` contacts, 10 by default) shows the answer in the
contact log. A channel's *share* is the fraction of the subscriber's contacts made through it;
the same fraction is reported within consultations (purposes ``query`` and ``consultation``),
complaints and business handled (``business`` and ``payment``). Two channels come out of it:

- the *usual* channel, the one used most: ranked by most contacts, then the most recent
  contact through it, then the channel name alphabetically;
- the *preferred* channel (R-MINE-4's first preference): the channel with the highest share
  among those the subscriber has **not** complained through — a channel that produced a
  complaint is one to avoid, however much it is used. Among the channels the subscriber
  contacted through, ranked by fewest complaints (so every channel without a complaint comes
  first; if all carry one, the least complained-about wins), then as for the usual channel.

A complaint counts once whichever log records it: the ticket file (``kind = 'complaint'``)
and the contact log (``purpose = 'complaint'``) see the same events, so per subscriber and
channel the larger of the two counts is taken. Contacts through a channel outside
``channels`` are ignored.

Everyone else — a few contacts or none — gets a model's prediction. The model learns the
*usual* channel (behaviour, which the features can explain; the complaint veto is a fact about
one subscriber, not a habit of a kind of customer) from the frequent contacters, using what is
known of everybody: age, brand, payment type, city, optional usage columns, and the number of
contacts through each channel. Before training, the frequent contacters' counts are thinned at
random to contact totals the others actually have (binomial thinning, zeros included), so the
model learns what one or two contacts — or none — say, rather than learning from twenty and
being asked about two. The veto is then applied to its answer: the most probable channel the
subscriber has not complained through.

Only the delivered files are read; the generator's hidden truth is for benchmarks alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer

from steward.ingest.schemas import CHANNELS_CONTACT
from steward.lake.engine import AnalyticsEngine

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

FREQUENT_MORE_THAN = 10
# Purpose groups of the contact log whose channel mix R-MINE-4 asks for; ``browse`` counts
# towards the overall share only.
PURPOSE_GROUPS: dict[str, tuple[str, ...]] = {
    "consultation": ("query", "consultation"),
    "complaint": ("complaint",),
    "business": ("business", "payment"),
}
PROFILE_CATEGORIES = ("brand", "payment_type", "city")
THINNED_COPIES = 3  # training copies of each frequent contacter, each thinned anew
_NOT_FEATURES = ("msisdn", "contacts", "observed_channel", "observed_confidence", "observed_usual")


def channel_mix(
    engine: AnalyticsEngine,
    *,
    contacts: str,
    complaints: str,
    more_than: int = FREQUENT_MORE_THAN,
    channels: Sequence[str] = CHANNELS_CONTACT,
) -> pa.Table:
    """Each frequent contacter's use of each channel, one row per (subscriber, channel).

    ``contacts`` and ``complaints`` are FROM-expressions (a table name or ``read_parquet``)
    with the contact and complaint interface columns; restrict them to the window wanted.
    Only subscribers with more than ``more_than`` contacts are returned, with each channel
    they contacted or complained through. Columns: msisdn, channel, contacts, share,
    share_consultation, share_complaint, share_business (null when the subscriber has none of
    that group), complaints, last_contact.
    """
    mix = _mix_sql(contacts=contacts, complaints=complaints, channels=channels)
    return engine.query(
        f"""SELECT msisdn, channel, contacts, share, share_consultation, share_complaint,
                   share_business, complaints, last_contact
            FROM ({mix}) AS mix WHERE total > {int(more_than)} ORDER BY msisdn, channel"""
    )


def observed_preferences(
    engine: AnalyticsEngine,
    *,
    contacts: str,
    complaints: str,
    more_than: int = FREQUENT_MORE_THAN,
    channels: Sequence[str] = CHANNELS_CONTACT,
) -> pa.Table:
    """The preferred and usual channel of each frequent contacter (rankings: module doc).

    Columns: msisdn, preferred_channel, confidence (the preferred channel's share of the
    subscriber's contacts), usual_channel, contacts (the subscriber's total).
    """
    mix = _mix_sql(contacts=contacts, complaints=complaints, channels=channels)
    return engine.query(f"{_ranked_sql(mix, more_than)} ORDER BY msisdn")


def preferred_channels(
    engine: AnalyticsEngine,
    *,
    contacts: str,
    complaints: str,
    profile: str,
    as_of: date,
    usage: str | None = None,
    more_than: int = FREQUENT_MORE_THAN,
    channels: Sequence[str] = CHANNELS_CONTACT,
    seed: int = 0,
) -> pa.Table:
    """The preferred channel of every subscriber in the profile or the contact log.

    Frequent contacters get the observed first preference (``source = 'observed'``,
    confidence = its share of their contacts); the others the model's (``source = 'model'``,
    confidence = the model's probability of that channel). ``profile`` is a FROM-expression
    with msisdn, birth_date, brand, payment_type and city; ``usage`` an optional one with
    msisdn and numeric columns (spend, minutes, where they pay) used as features, named
    unlike the output's columns; ``as_of`` dates the ages; ``seed`` fixes the thinning. With
    no frequent contacter there is nothing to learn from and the others' channels are null.

    Columns: msisdn, preferred_channel, source, confidence, usual_channel, contacts,
    share_<channel> for each channel (null for a subscriber without contacts).
    """
    features = engine.query(
        _features_sql(
            contacts=contacts,
            complaints=complaints,
            profile=profile,
            usage=usage,
            as_of=as_of,
            more_than=more_than,
            channels=channels,
        )
    )
    frequent = np.asarray(pc.is_valid(features["observed_channel"]).to_numpy(zero_copy_only=False))
    prediction = _predict_rest(features, frequent, channels=channels, seed=seed)
    return _assemble(features, frequent, prediction, channels)


@dataclass(frozen=True)
class _Prediction:
    preferred: ObjectArray
    confidence: FloatArray
    usual: ObjectArray


def _predict_rest(
    features: pa.Table, frequent: npt.NDArray[np.bool_], *, channels: Sequence[str], seed: int
) -> _Prediction:
    """Train on the frequent contacters (counts thinned to the others'), predict the others,
    then steer each away from the channels they complained through."""
    n = features.num_rows
    out = _Prediction(np.full(n, None, dtype=object), np.full(n, np.nan), np.full(n, None))
    label = _objects(features["observed_usual"])
    train, rest = np.flatnonzero(frequent), np.flatnonzero(~frequent)
    classes = sorted({str(c) for c in label[train]})
    if not classes or len(rest) == 0:
        return out
    if len(classes) == 1:  # nothing to tell apart: the one channel seen, no probability
        out.preferred[rest] = out.usual[rest] = classes[0]
        return out
    design = _design(features, channels)
    x_train, y_train = _training_rows(design, train, rest, label, np.random.default_rng(seed))
    model = _model(design).fit(x_train, y_train)
    proba = model.predict_proba(design.matrix[rest])
    known: list[str] = list(model.classes_)
    complained = np.column_stack(
        [np.nan_to_num(_floats(features[f"complaints_{c}"]))[rest] for c in known]
    )
    # Fewest complaints first, then the most probable: complaints are whole numbers, 2 × a
    # count outweighs any difference of probabilities.
    choice = np.argmin(2.0 * complained - proba, axis=1)
    rows = np.arange(len(rest))
    out.preferred[rest] = np.asarray(known, dtype=object)[choice]
    out.confidence[rest] = proba[rows, choice]
    out.usual[rest] = np.asarray(known, dtype=object)[proba.argmax(axis=1)]
    return out


@dataclass(frozen=True)
class _Design:
    """The feature matrix and which of its columns are numbers, categories and contact counts
    (one per channel, then their total)."""

    matrix: FloatArray
    numeric: list[int]
    categorical: list[int]
    counts: list[int]


def _design(features: pa.Table, channels: Sequence[str]) -> _Design:
    per_channel = {f"{kind}_{c}" for kind in ("n", "complaints", "share") for c in channels}
    skip = {*_NOT_FEATURES, *PROFILE_CATEGORIES, *per_channel}
    numbers = [_floats(features[name]) for name in features.column_names if name not in skip]
    # A number that never varies tells nothing (and gives the splines no knots to place).
    columns = [values for values in numbers if len(np.unique(values[np.isfinite(values)])) > 1]
    numeric = range(len(columns))
    columns += [_codes(features[name]) for name in PROFILE_CATEGORIES]
    counts = np.nan_to_num(np.column_stack([_floats(features[f"n_{c}"]) for c in channels]))
    matrix = np.column_stack([*columns, counts, counts.sum(axis=1)]).astype(np.float64)
    first_count = len(numeric) + len(PROFILE_CATEGORIES)
    return _Design(
        matrix=matrix,
        numeric=list(numeric),
        categorical=list(range(len(numeric), first_count)),
        counts=list(range(first_count, matrix.shape[1])),
    )


def _training_rows(
    design: _Design,
    train: IntArray,
    rest: IntArray,
    label: ObjectArray,
    r: np.random.Generator,
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """The frequent contacters, ``THINNED_COPIES`` times, each copy's contact counts thinned
    to totals drawn from the others' — so the model sees as few contacts as it will be given."""
    counts = design.matrix[:, design.counts[:-1]].astype(np.int64)
    targets = counts[rest].sum(axis=1)
    copies = []
    for _ in range(THINNED_COPIES):
        x = design.matrix[train].copy()
        thinned = _thin(counts[train], targets, r)
        x[:, design.counts] = np.column_stack([thinned, thinned.sum(axis=1)])
        copies.append(x)
    return np.vstack(copies), np.tile(label[train].astype(str), THINNED_COPIES)


def _thin(counts: IntArray, target_totals: IntArray, r: np.random.Generator) -> IntArray:
    """Each row's contacts kept one by one with the chance that brings its total, on average,
    to a total drawn from ``target_totals``."""
    target = r.choice(target_totals, size=len(counts))
    keep = np.minimum(target / np.maximum(counts.sum(axis=1), 1), 1.0)
    return r.binomial(counts, keep[:, None]).astype(np.int64)


def _model(design: _Design) -> Pipeline:
    """Multinomial logistic regression. Its log-odds are linear in the contact counts — the
    form of the exact posterior when each contact independently leans to the preferred
    channel — so one contact and twenty are weighed consistently; numbers (age, usage) enter
    as splines, profile categories one-hot with a missing value a category of its own."""
    numbers = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        SplineTransformer(n_knots=5, degree=3, extrapolation="constant"),
    )
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
        OneHotEncoder(handle_unknown="ignore"),
    )
    prepare = ColumnTransformer(
        [
            ("numbers", numbers, design.numeric),
            ("categories", categories, design.categorical),
            ("counts", "passthrough", design.counts),
        ]
    )
    return make_pipeline(prepare, LogisticRegression(C=1.0, max_iter=2000))


def _floats(column: Any) -> FloatArray:
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _objects(column: Any) -> ObjectArray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _codes(column: Any) -> FloatArray:
    """A text column as category codes (NaN for a blank): the encoder is given numbers only."""
    text = pc.cast(column, pa.string())
    levels = sorted(pc.unique(pc.drop_null(text)).to_pylist())
    return _floats(pc.index_in(text, value_set=pa.array(levels, type=pa.string())))


def _assemble(
    features: pa.Table,
    frequent: npt.NDArray[np.bool_],
    prediction: _Prediction,
    channels: Sequence[str],
) -> pa.Table:
    preferred = np.where(frequent, _objects(features["observed_channel"]), prediction.preferred)
    usual = np.where(frequent, _objects(features["observed_usual"]), prediction.usual)
    confidence = np.where(frequent, _floats(features["observed_confidence"]), prediction.confidence)
    columns: dict[str, Any] = {
        "msisdn": features["msisdn"],
        "preferred_channel": pa.array(list(preferred), type=pa.string()),
        "source": pa.array(np.where(frequent, "observed", "model"), type=pa.string()),
        "confidence": pa.array(confidence, type=pa.float64(), from_pandas=True),
        "usual_channel": pa.array(list(usual), type=pa.string()),
        "contacts": pc.fill_null(features["contacts"], 0),
    }
    for c in channels:
        columns[f"share_{c}"] = features[f"share_{c}"]
    return pa.table(columns)


def _mix_sql(*, contacts: str, complaints: str, channels: Sequence[str]) -> str:
    """Every subscriber's per-channel counts and shares, with ``total`` contacts to filter on."""
    vocabulary = _in_list(channels)
    groups = "".join(
        f"count(*) FILTER (WHERE purpose IN ({_in_list(purposes)})) AS n_{group},\n"
        for group, purposes in PURPOSE_GROUPS.items()
    )
    return f"""
        WITH used AS (
            SELECT msisdn, channel, count(*) AS contacts, {groups}
                   max(contact_time) AS last_contact
            FROM {contacts}
            WHERE msisdn IS NOT NULL AND channel IN ({vocabulary})
            GROUP BY msisdn, channel
        ),
        tickets AS (
            SELECT msisdn, channel, count(*) AS tickets
            FROM {complaints}
            WHERE msisdn IS NOT NULL AND kind = 'complaint' AND channel IN ({vocabulary})
            GROUP BY msisdn, channel
        ),
        counted AS (
            SELECT coalesce(u.msisdn, t.msisdn) AS msisdn,
                   coalesce(u.channel, t.channel) AS channel,
                   coalesce(u.contacts, 0) AS contacts,
                   coalesce(u.n_consultation, 0) AS n_consultation,
                   coalesce(u.n_business, 0) AS n_business,
                   greatest(coalesce(u.n_complaint, 0), coalesce(t.tickets, 0)) AS complaints,
                   u.last_contact
            FROM used u FULL JOIN tickets t ON t.msisdn = u.msisdn AND t.channel = u.channel
        )
        SELECT msisdn, channel, contacts,
               CAST(contacts AS DOUBLE) / NULLIF(sum(contacts) OVER mine, 0) AS share,
               CAST(n_consultation AS DOUBLE) / NULLIF(sum(n_consultation) OVER mine, 0)
                   AS share_consultation,
               CAST(complaints AS DOUBLE) / NULLIF(sum(complaints) OVER mine, 0)
                   AS share_complaint,
               CAST(n_business AS DOUBLE) / NULLIF(sum(n_business) OVER mine, 0)
                   AS share_business,
               complaints, last_contact, CAST(sum(contacts) OVER mine AS BIGINT) AS total
        FROM counted
        WINDOW mine AS (PARTITION BY msisdn)"""


def _ranked_sql(mix: str, more_than: int) -> str:
    """The preferred and usual channel of each subscriber with more than ``more_than``
    contacts, among the channels contacted through."""
    usual = "contacts DESC, last_contact DESC, channel"
    return f"""
        SELECT msisdn,
               max(channel) FILTER (WHERE preferred_rank = 1) AS preferred_channel,
               max(share) FILTER (WHERE preferred_rank = 1) AS confidence,
               max(channel) FILTER (WHERE usual_rank = 1) AS usual_channel,
               max(total) AS contacts
        FROM (
            SELECT *,
                   row_number() OVER (PARTITION BY msisdn ORDER BY complaints, {usual})
                       AS preferred_rank,
                   row_number() OVER (PARTITION BY msisdn ORDER BY {usual}) AS usual_rank
            FROM ({mix}) AS mix
            WHERE contacts > 0 AND total > {int(more_than)}
        ) AS ranked
        GROUP BY msisdn"""


def _features_sql(
    *,
    contacts: str,
    complaints: str,
    profile: str,
    usage: str | None,
    as_of: date,
    more_than: int,
    channels: Sequence[str],
) -> str:
    """One row per subscriber: profile features, contacts, complaints and shares per channel,
    usage, and the observed channels of the frequent contacters."""
    pivot = ",\n".join(
        f'CAST(sum(contacts) FILTER (WHERE channel = {_literal(c)}) AS BIGINT) AS "n_{c}", '
        f"CAST(sum(complaints) FILTER (WHERE channel = {_literal(c)}) AS BIGINT) "
        f'AS "complaints_{c}", '
        f"CASE WHEN sum(contacts) > 0 THEN coalesce(sum(share) FILTER "
        f'(WHERE channel = {_literal(c)}), 0.0) END AS "share_{c}"'
        for c in channels
    )
    usage_columns = "usage.* EXCLUDE (msisdn)," if usage else ""
    usage_join = f"LEFT JOIN {usage} AS usage ON usage.msisdn = people.msisdn" if usage else ""
    return f"""
        WITH mix AS ({_mix_sql(contacts=contacts, complaints=complaints, channels=channels)}),
        wide AS (
            SELECT msisdn, CAST(sum(contacts) AS BIGINT) AS contacts, {pivot}
            FROM mix GROUP BY msisdn
        ),
        observed AS ({_ranked_sql("SELECT * FROM mix", more_than)}),
        profile AS (
            SELECT msisdn,
                   datediff('day', CAST(birth_date AS DATE), DATE '{as_of.isoformat()}')
                       / 365.25 AS age,
                   brand, payment_type, city
            FROM {profile}
        ),
        people AS (
            SELECT coalesce(p.msisdn, w.msisdn) AS msisdn, p.age, p.brand, p.payment_type,
                   p.city, w.* EXCLUDE (msisdn)
            FROM profile p FULL JOIN wide w ON w.msisdn = p.msisdn
        )
        SELECT people.*, {usage_columns}
               o.preferred_channel AS observed_channel, o.confidence AS observed_confidence,
               o.usual_channel AS observed_usual
        FROM people
        LEFT JOIN observed o ON o.msisdn = people.msisdn
        {usage_join}
        ORDER BY people.msisdn"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(_literal(v) for v in values)
