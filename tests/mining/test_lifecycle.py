"""The model lifecycle (R-MINE-1) on a world with a known answer: train out of time,
validate, publish only with another approver's sign-off, score into tags, roll back."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.lake.service import Lake
from steward.mining import churn
from steward.mining import service as models
from steward.mining.models import ModelKind, ModelStatus
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue
from steward.tags.sources import SCORE_COLUMNS

from . import world

DAY = world.PROFILE_DAY + timedelta(days=1)


@pytest.fixture
def built(session: Session, lake: Lake) -> Lake:
    world.build(session, lake)
    return lake


def trained(session: Session, lake: Lake, people: dict[str, User], seed: int = 0) -> int:
    version = models.train(session, lake, kind=ModelKind.CHURN_30D, by=people["analyst"], seed=seed)
    return version.id


def test_churn_learns_the_known_answer_out_of_time(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    version = models.train(session, built, kind=ModelKind.CHURN_30D, by=people["analyst"])
    metrics = version.metrics
    assert metrics["auc"] > 0.9  # contract-free lines fading in their bills are the leavers
    assert metrics["top_decile_lift"] > 3
    assert metrics["validation_cutoff"] == str(world.PROFILE_DAY - timedelta(days=30))
    assert metrics["training_cutoff"] == str(world.PROFILE_DAY - timedelta(days=60))
    assert version.status == ModelStatus.TRAINED
    assert {i["table"] for i in version.inputs} == {"profile", "subscription", "product", "bill"}


def test_the_same_inputs_and_seed_train_the_same_model(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    first = models.train(session, built, kind=ModelKind.CHURN_30D, by=people["analyst"])
    again = models.train(session, built, kind=ModelKind.CHURN_30D, by=people["analyst"])
    assert (first.version, again.version) == (1, 2)
    assert first.artifact_sha256 == again.artifact_sha256
    assert first.inputs == again.inputs


def test_no_feature_sees_past_the_cutoff(session: Session, built: Lake) -> None:
    """A cohort's features read only months that ended before the cutoff; its label reads
    only leavers after it; lines gone by the cutoff are not in it."""
    relations = churn.relations(session, built)
    cutoff = date(2026, 9, 15)
    before = built.engine.query(churn.cohort_sql(relations, cutoff, 30)).sort_by("msisdn")
    # rewrite every bill from September on: nothing the cohort reads may change
    for month in (9, 10, 11):
        first = date(2026, month, 1)
        built.write(
            session,
            "bill",
            first,
            "0",
            f"SELECT msisdn, DATE '{first}' AS bill_month, 1e6 AS total, 1e6 AS data_fee, "
            f"1e6 AS roaming_fee, 1e6 AS arrears FROM {built.relation(session, 'profile')}",
        )
    relations = churn.relations(session, built)
    after = built.engine.query(churn.cohort_sql(relations, cutoff, 30)).sort_by("msisdn")
    for name in before.column_names:  # the engine may sum in another order: 1e-9 apart
        a, b = (
            [float("nan") if v is None else v for v in t.column(name).to_pylist()]
            for t in (after, before)
        )
        assert a == (
            pytest.approx(b, rel=1e-9, nan_ok=True)
            if before.schema.field(name).type == pa.float64()
            else b
        ), name
    gone = built.engine.query(
        f"SELECT p.msisdn, max(s.end_date) AS left_on FROM {relations.profile} p "
        f"JOIN {relations.subscription} s USING (msisdn) WHERE p.status = 'cancelled' GROUP BY 1"
    ).to_pylist()
    rows = {r["msisdn"]: r["label"] for r in before.to_pylist()}
    for line in gone:
        if line["left_on"] <= cutoff:
            assert line["msisdn"] not in rows
        else:
            assert rows[line["msisdn"]] == (line["left_on"] <= cutoff + timedelta(days=30))


def test_publish_needs_validation_and_another_approvers_signed_note(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    model_id = trained(session, built, people)
    with pytest.raises(models.ModelError, match="not validated"):
        models.publish(session, model_id=model_id, by=people["approver"], note="ok")
    models.validate(session, built, model_id=model_id, by=people["analyst"], as_of=DAY)
    with pytest.raises(models.ModelError, match="may not sign off"):
        models.publish(session, model_id=model_id, by=people["planner"], note="ok")
    with pytest.raises(models.ModelError, match="needs a note"):
        models.publish(session, model_id=model_id, by=people["approver"], note=" ")
    session.get(models.ModelVersion, model_id).trained_by = "approver"  # type: ignore[union-attr]
    with pytest.raises(models.ModelError, match="never signs off their own"):
        models.publish(session, model_id=model_id, by=people["approver"], note="ok")
    session.get(models.ModelVersion, model_id).trained_by = "analyst"  # type: ignore[union-attr]
    version = models.publish(session, model_id=model_id, by=people["approver"], note="AUC ok")
    assert version.status == ModelStatus.PUBLISHED
    actions = [e.action for e in models.history(session, model_id)]
    assert actions == ["train", "validate", "publish"]


def test_scores_become_tags_the_snapshot_carries(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    assert models.score_published(session, built, as_of=DAY) is None  # nothing published
    model_id = trained(session, built, people)
    models.validate(session, built, model_id=model_id, by=people["analyst"], as_of=DAY)
    models.publish(session, model_id=model_id, by=people["approver"], note="AUC ok")
    scored = models.score_published(session, built, as_of=DAY)
    assert scored is not None
    assert scored.models == {"churn_30d": 1}
    scores = built.read(session, models.SCORES_TABLE)
    assert scores.column_names == list(SCORE_COLUMNS)  # the tag source's declared columns
    assert scores.num_rows == scored.subscribers
    assert pa.compute.all(pa.compute.is_valid(scores.column("churn_30d"))).as_py()
    assert scores.column("churn_60d").null_count == scores.num_rows  # not published
    full = tags.load_catalogue()  # the world has few profile columns: its tags and scores'
    wanted = [t for t in full.tags if t.source == "scores" or t.name == "brand"]
    catalogue = TagCatalogue(tags=wanted)
    tags.refresh(session, built, catalogue, DAY)
    latest = tags.latest_snapshot(session, built)
    assert latest is not None
    top = built.engine.query(
        f"SELECT msisdn, churn_reasons FROM {latest[1]} ORDER BY churn_30d DESC LIMIT 50"
    ).to_pylist()
    hits = sum(world.will_leave(r["msisdn"]) for r in top)
    assert hits >= 45  # the fading lines that will leave are the ones at risk
    assert "bill_last" in top[0]["churn_reasons"].split(",")


def test_rollback_republishes_the_version_it_replaced(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    with pytest.raises(models.ModelError, match="no churn_30d model is published"):
        models.rollback(session, kind=ModelKind.CHURN_30D, by=people["approver"], note="x")
    ids = []
    for seed in (0, 1):
        model_id = trained(session, built, people, seed=seed)
        models.validate(session, built, model_id=model_id, by=people["analyst"], as_of=DAY)
        models.publish(session, model_id=model_id, by=people["approver"], note="checked")
        ids.append(model_id)
    first, second = (session.get(models.ModelVersion, i) for i in ids)
    assert first is not None
    assert second is not None
    assert (first.status, second.status) == ("retired", "published")
    assert "psi_vs_published" in second.metrics
    with pytest.raises(models.ModelError, match="may not roll"):
        models.rollback(session, kind=ModelKind.CHURN_30D, by=people["planner"], note="x")
    back = models.rollback(session, kind=ModelKind.CHURN_30D, by=people["approver"], note="drift")
    assert back.id == first.id
    assert (first.status, second.status) == ("published", "retired")
    assert models.published(session, ModelKind.CHURN_30D) is first
    with pytest.raises(models.ModelError, match="no published predecessor"):
        models.rollback(session, kind=ModelKind.CHURN_30D, by=people["approver"], note="x")


def test_a_tampered_artifact_is_refused(
    session: Session, built: Lake, people: dict[str, User]
) -> None:
    version = session.get(models.ModelVersion, trained(session, built, people))
    assert version is not None
    version.artifact = version.artifact.replace(b"intercept", b"intercepT")
    with pytest.raises(models.ModelError, match="checksum"):
        models.load(version)


def test_too_few_leavers_is_a_clear_error(
    session: Session, lake: Lake, people: dict[str, User]
) -> None:
    world.build(session, lake, lines=20)
    with pytest.raises(churn.ChurnError, match="too few to learn from"):
        models.train(session, lake, kind=ModelKind.CHURN_30D, by=people["analyst"])
