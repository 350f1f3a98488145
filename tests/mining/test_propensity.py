"""Propensity from the ledger's answers, and the learning factor that moves it between
retrainings (R-EVAL-8), on the world of ``world.py``: postpaid lines take data offers,
prepaid lines rarely do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.contacts import service as ledger
from steward.lake.service import Lake
from steward.mining import propensity
from steward.mining import service as models
from steward.mining.models import ModelKind

from . import world

FIRST = world.PROFILE_DAY + timedelta(days=1)


def accepts(i: int) -> bool:
    """The known answer: postpaid lines (i % 3 != 0) take 2 in 5 offers, prepaid 1 in 50."""
    return (i * 7919) % 100 < (40 if i % 3 else 2)


def contacts(
    day: date, lines: range, *, offer: int = 1, category: str = "data", answer: Any = accepts
) -> list[dict[str, Any]]:
    rows = []
    for n, i in enumerate(lines):
        key = f"{day}:{offer}:{i}"
        base = {
            "contact_key": key,
            "day": day,
            "msisdn": f"1380000{i:04d}",
            "campaign_id": 1,
            "kind": "marketing",
            "offer_id": offer,
            "category": category,
            "exclusion_group": None,
            "channel": "sms",
            "arm": "target",
            "source": "test",
            "at": datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(seconds=n),
        }
        rows.append(base | {"state": "sent"})
        rows.append(base | {"state": "ordered" if answer(i) else "answered"})
    return rows


@pytest.fixture
def answered(session: Session, lake: Lake) -> Lake:
    world.build(session, lake)
    for day in (FIRST - timedelta(days=1), FIRST, FIRST + timedelta(days=4)):
        world.snapshot(session, lake, day)
    ledger.append(session, contacts(FIRST, range(1, 1200, 2)))  # lines that stay
    ledger.append(session, contacts(FIRST + timedelta(days=1), range(1201, 2000, 2)))
    ledger.append(session, contacts(FIRST, range(2001, 2041, 2), category="voice", offer=2))
    return lake


def test_propensity_learns_who_accepts_and_validates_on_later_answers(
    session: Session, answered: Lake
) -> None:
    fitted = propensity.train(session, answered, seed=0, settle_days=7)
    assert fitted.metrics["split"] == "time"
    # postpaid against prepaid on the later contacts: the best any model can do is 0.71
    assert fitted.metrics["auc"] > 0.66
    assert fitted.params["categories"] == ["data"]  # too few voice answers: pooled
    numbers = pa.array(["13800000001", "13800000003"])
    base = propensity.features_of(session, answered, numbers, FIRST)
    postpaid, prepaid = fitted.model.predict("data", base)
    assert postpaid > 5 * prepaid
    assert 0.2 < postpaid < 0.6
    pooled = fitted.model.predict("voice", base)
    assert pooled[0] > pooled[1]


def test_unsettled_contacts_wait_and_too_few_answers_are_refused(
    session: Session, lake: Lake
) -> None:
    world.build(session, lake, lines=200)
    world.snapshot(session, lake, FIRST - timedelta(days=1))
    rows = [r for r in contacts(FIRST, range(1, 100, 2)) if r["state"] == "sent"]
    ledger.append(session, rows)  # sent, never answered, too recent to count as a no
    assert propensity.training_rows(session, lake, settle_days=7).num_rows == 0
    assert propensity.training_rows(session, lake, settle_days=0).num_rows == 50
    with pytest.raises(propensity.PropensityError, match="settled contacts"):
        propensity.train(session, lake, seed=0, settle_days=7)


def test_answers_after_publication_move_the_learning_factor(
    session: Session, answered: Lake, people: dict[str, User]
) -> None:
    version = models.train(
        session, answered, kind=ModelKind.PROPENSITY, by=people["analyst"], settle_days=7
    )
    models.validate(session, answered, model_id=version.id, by=people["analyst"], as_of=FIRST)
    models.publish(session, model_id=version.id, by=people["approver"], note="lift checked")
    later = FIRST + timedelta(days=5)
    models.score(session, answered, as_of=later)
    assert models.learning_factors(session, answered, later) == {}  # no answer since
    # offer 1: every contacted line orders, far above what the model expects
    ledger.append(session, contacts(later, range(2401, 2600, 2), answer=lambda i: True))
    # offer 3 (data too): nobody does
    ledger.append(session, contacts(later, range(2601, 2800, 2), offer=3, answer=lambda i: False))
    factors = models.learning_factors(session, answered, later)
    assert factors[(1, 1)] > 1.5
    assert factors[(1, 3)] < 0.7
    expected = float(
        answered.engine.query(
            f"SELECT sum(propensity_data) FROM "
            f"{answered.relation(session, models.SCORES_TABLE)} "
            "WHERE msisdn IN (" + ", ".join(f"'1380000{i:04d}'" for i in range(2401, 2600, 2)) + ")"
        )
        .column(0)[0]
        .as_py()
    )
    assert factors[(1, 1)] == pytest.approx(
        (propensity.PRIOR + 100) / (propensity.PRIOR + expected), rel=1e-4
    )
