"""The model lifecycle (R-MINE-1): train → validate → publish (signed off) → score; rollback.

The caller owns the transaction. Publishing needs a business user (an approver) who did not
train the version; the newer published version of a kind retires the older, and a rollback
retires the current one and publishes again the one it replaced. Scores of every published
model go to the lake table ``model_scores`` (one partition a day), which the tag library
reads as tags: the rule language and arbitration read scores like any tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.lake.service import Lake
from steward.mining import churn, linear, propensity, segment_models
from steward.mining.metrics import psi
from steward.mining.models import ModelEvent, ModelKind, ModelStatus, ModelVersion
from steward.tags.sources import SCORE_COLUMNS

SCORES_TABLE = "model_scores"
HORIZONS = {ModelKind.CHURN_30D: 30, ModelKind.CHURN_60D: 60}
SIGNERS = (Role.APPROVER, Role.SYSTEM_ADMIN)
# Below these a validation report is not worth signing: churn ranks well from bills and
# contracts; answers to offers rank weakly (published response models sit at 0.55-0.7).
MIN_AUC = {ModelKind.CHURN_30D: 0.6, ModelKind.CHURN_60D: 0.6, ModelKind.PROPENSITY: 0.55}


class ModelError(ValueError):
    """A lifecycle step that is not allowed (the message says why)."""


@dataclass(frozen=True)
class Scored:
    as_of: date
    subscribers: int
    models: dict[str, int]  # kind -> published version used

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "subscribers": self.subscribers, **self.models}


def train(
    session: Session,
    lake: Lake,
    *,
    kind: ModelKind,
    by: User,
    seed: int = 0,
    settle_days: int = propensity.SETTLE_DAYS,
) -> ModelVersion:
    """Train a new version of ``kind`` from the lake (and the ledger, for propensity)."""
    if kind in HORIZONS:
        trained, inputs = churn.train(session, lake, horizon=HORIZONS[kind], seed=seed)
        artifact, metrics, params = trained.model.to_json(), trained.metrics, trained.params
        as_of = date.fromisoformat(str(params["cutoff"]))
    else:
        fitted = propensity.train(session, lake, seed=seed, settle_days=settle_days)
        artifact, metrics, params = fitted.model.to_json(), fitted.metrics, fitted.params
        inputs, as_of = fitted.inputs, fitted.as_of
    version = ModelVersion(
        kind=kind.value,
        version=_next_version(session, kind),
        status=ModelStatus.TRAINED.value,
        as_of=as_of,
        seed=seed,
        params=params,
        inputs=inputs,
        metrics=metrics,
        artifact=artifact,
        artifact_sha256=hashlib.sha256(artifact).hexdigest(),
        trained_by=by.username,
    )
    session.add(version)
    session.flush()
    _event(session, version, "train", by, f"AUC {metrics.get('auc')} out of time")
    return version


def validate(session: Session, lake: Lake, *, model_id: int, by: User, as_of: date) -> ModelVersion:
    """Add stability against the published version on today's base; mark it validated."""
    version = _get(session, model_id)
    _expect(version, ModelStatus.TRAINED)
    auc = version.metrics.get("auc")
    floor = MIN_AUC[ModelKind(version.kind)]
    if auc is None or float(auc) < floor:
        raise ModelError(f"model {model_id}: AUC {auc} is under {floor}; not worth signing")
    current = published(session, ModelKind(version.kind))
    if current is not None:
        base = lake.engine.query(churn.base_sql(session, lake, as_of))
        before = _predict(session, lake, current, base, as_of)
        stability = psi(before, _predict(session, lake, version, base, as_of))
        version.metrics = {**version.metrics, "psi_vs_published": stability}
    version.status = ModelStatus.VALIDATED.value
    _event(session, version, "validate", by, "")
    return version


def publish(session: Session, *, model_id: int, by: User, note: str) -> ModelVersion:
    """Sign off a validated version and publish it: the maker never checks their own."""
    version = _get(session, model_id)
    _expect(version, ModelStatus.VALIDATED)
    if Role(by.role) not in SIGNERS:
        raise ModelError(f"{by.username} ({by.role}) may not sign off a model: an approver may")
    if by.username == version.trained_by:
        raise ModelError("the trainer never signs off their own model: ask another approver")
    if not note.strip():
        raise ModelError("a sign-off needs a note: what in the report was checked")
    current = published(session, ModelKind(version.kind))
    if current is not None:
        current.status = ModelStatus.RETIRED.value
        _event(session, current, "retire", by, f"replaced by version {version.version}")
    version.status = ModelStatus.PUBLISHED.value
    _event(session, version, "publish", by, note)
    return version


def reject(session: Session, *, model_id: int, by: User, note: str) -> ModelVersion:
    version = _get(session, model_id)
    if version.status not in (ModelStatus.TRAINED.value, ModelStatus.VALIDATED.value):
        raise ModelError(f"model {model_id} is {version.status}: only a candidate is rejected")
    version.status = ModelStatus.REJECTED.value
    _event(session, version, "reject", by, note)
    return version


def rollback(session: Session, *, kind: ModelKind, by: User, note: str) -> ModelVersion:
    """Retire the published version of ``kind`` and publish again the one before it."""
    if Role(by.role) not in SIGNERS:
        raise ModelError(f"{by.username} ({by.role}) may not roll a model back")
    current = published(session, kind)
    if current is None:
        raise ModelError(f"no {kind.value} model is published")
    previous = session.scalar(
        select(ModelVersion)
        .join(ModelEvent, ModelEvent.model_id == ModelVersion.id)
        .where(
            ModelVersion.kind == kind.value,
            ModelVersion.version < current.version,
            ModelEvent.action == "publish",
        )
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )
    if previous is None:
        raise ModelError(f"{kind.value} version {current.version} has no published predecessor")
    current.status = ModelStatus.RETIRED.value
    _event(session, current, "rollback", by, note)
    previous.status = ModelStatus.PUBLISHED.value
    _event(session, previous, "republish", by, f"rollback from version {current.version}")
    return previous


def learning_factors(session: Session, lake: Lake, day: date) -> dict[tuple[int, int], float]:
    """(campaign, offer) -> how the answers since the propensity model's publication moved
    its expected response (empty while no propensity model is published)."""
    version = published(session, ModelKind.PROPENSITY)
    if version is None:
        return {}
    latest = lake.latest_day(session, SCORES_TABLE, day)
    scores = None
    if latest is not None:
        scores = lake.engine.scan_parquet(lake.files(session, SCORES_TABLE, days=(latest, latest)))
    # answers the model was trained on are already in it: only later ones move the factor
    since = max(version.as_of + timedelta(days=1), propensity.learned_since(day))
    return propensity.factors(session, lake, since=since, scores=scores)


def published(session: Session, kind: ModelKind) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.kind == kind.value, ModelVersion.status == ModelStatus.PUBLISHED.value
        )
    )


def versions(session: Session, kind: ModelKind | None = None) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.version)
    if kind is not None:
        query = query.where(ModelVersion.kind == kind.value)
    return list(session.scalars(query))


def history(session: Session, model_id: int) -> list[ModelEvent]:
    query = select(ModelEvent).where(ModelEvent.model_id == model_id).order_by(ModelEvent.id)
    return list(session.scalars(query))


def load(version: ModelVersion) -> linear.LinearModel:
    """A churn version's model, after checking the artifact is the one registered."""
    return linear.LinearModel.from_json(_artifact(version))


def load_propensity(version: ModelVersion) -> propensity.PropensityModel:
    return propensity.PropensityModel.from_json(_artifact(version))


def _artifact(version: ModelVersion) -> bytes:
    if hashlib.sha256(version.artifact).hexdigest() != version.artifact_sha256:
        raise ModelError(f"model {version.id}: the artifact does not match its checksum")
    return version.artifact


def score_published(session: Session, lake: Lake, *, as_of: date) -> Scored | None:
    """``score`` when a model is published; None (and nothing written) when none is."""
    if not any(published(session, kind) for kind in ModelKind):
        return None
    return score(session, lake, as_of=as_of)


def score(session: Session, lake: Lake, *, as_of: date) -> Scored:
    """Score the lines active on ``as_of`` with every published model; publish the scores
    as the ``model_scores`` partition of that day (columns of unpublished kinds are NULL)."""
    base = lake.engine.query(churn.base_sql(session, lake, as_of))
    columns: dict[str, pa.Array] = {
        "msisdn": base.column("msisdn"),
        "health_score": pa.array(churn.health(base)),
    }
    used: dict[str, int] = {}
    for kind, writer in _WRITERS.items():
        version = published(session, kind)
        if version is not None:
            used[kind.value] = version.version
        columns |= writer(session, lake, version, base, as_of)
    columns |= segment_models.columns(
        session, lake, base=base, churn_30d=columns["churn_30d"], as_of=as_of
    )
    name = "steward_scores_today"
    lake.engine.register(name, pa.table({c: columns[c] for c in SCORE_COLUMNS}))
    rows = lake.write(session, SCORES_TABLE, as_of, "0", f"SELECT * FROM {name}")
    return Scored(as_of, rows, used)


def _churn_columns(horizon: int) -> _Writer:
    column = f"churn_{horizon}d"

    def write(
        session: Session, lake: Lake, version: ModelVersion | None, base: pa.Table, as_of: date
    ) -> dict[str, pa.Array]:
        if version is None:
            found = {column: pa.nulls(base.num_rows, pa.float64())}
            return found | (
                {"churn_reasons": pa.nulls(base.num_rows, pa.string())} if horizon == 30 else {}
            )
        model = load(version)
        found = {column: pa.array(np.round(model.predict(base), 6))}
        if horizon == 30:
            found["churn_reasons"] = model.reasons(base)
        return found

    return write


def _propensity_columns(
    session: Session, lake: Lake, version: ModelVersion | None, base: pa.Table, as_of: date
) -> dict[str, pa.Array]:
    if version is None:
        return propensity.score_columns(None, base)
    features = propensity.features_of(session, lake, base.column("msisdn"), as_of)
    return propensity.score_columns(load_propensity(version), features)


_Writer = Callable[[Session, Lake, ModelVersion | None, pa.Table, date], dict[str, pa.Array]]
_WRITERS: dict[ModelKind, _Writer] = {
    ModelKind.CHURN_30D: _churn_columns(30),
    ModelKind.CHURN_60D: _churn_columns(60),
    ModelKind.PROPENSITY: _propensity_columns,
}


def _predict(
    session: Session, lake: Lake, version: ModelVersion, base: pa.Table, as_of: date
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if ModelKind(version.kind) is ModelKind.PROPENSITY:
        features = propensity.features_of(session, lake, base.column("msisdn"), as_of)
        return propensity.average(load_propensity(version), features)
    return load(version).predict(base)


def _next_version(session: Session, kind: ModelKind) -> int:
    last = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.kind == kind))
    return int(last or 0) + 1


def _get(session: Session, model_id: int) -> ModelVersion:
    version = session.get(ModelVersion, model_id)
    if version is None:
        raise ModelError(f"no model {model_id}")
    return version


def _expect(version: ModelVersion, status: ModelStatus) -> None:
    if version.status != status.value:
        raise ModelError(f"model {version.id} is {version.status}, not {status.value}")


def _event(session: Session, version: ModelVersion, action: str, by: User, note: str) -> None:
    session.add(ModelEvent(model_id=version.id, action=action, actor=by.username, note=note))
    session.flush()
