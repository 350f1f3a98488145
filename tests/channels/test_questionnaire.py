"""The counter's questionnaire (R-CHAN-6): answers → a needs table → the offerable offers
ranked by how they fit, with known answers."""

from __future__ import annotations

import pytest

from steward.channels import questionnaire as q
from steward.channels.questionnaire import Candidate, Level, Need, QuestionnaireError

FORM = {
    "data": "heavy",
    "calls": "few",
    "travel": "never",
    "family": "3",
    "handset": "aging",
    "budget": "40",
}
DATA_PACK = Candidate(1, "data_pack", "data", 30.0)
FAMILY = Candidate(2, "family", "family", 10.0)
HANDSET = Candidate(3, "handset", "handset", 99.0)
ROAMING = Candidate(4, "data_pack", "roaming", 25.0)
BIRTHDAY = Candidate(5, "care", "care", 0.0)
VOICE = Candidate(6, "vas", "voice", 20.0)


def test_the_answers_make_the_needs_table() -> None:
    rows = q.needs(q.parse(FORM))
    assert [(r.need, r.answer, r.level) for r in rows] == [
        (Need.DATA, "heavy", Level.HIGH),
        (Need.CALLS, "few", Level.NONE),
        (Need.TRAVEL, "never", Level.NONE),
        (Need.FAMILY, "3", Level.HIGH),
        (Need.HANDSET, "aging", Level.MEDIUM),
    ]


def test_offers_rank_by_the_needs_they_serve_and_the_budget() -> None:
    found = q.match(q.parse(FORM), [HANDSET, ROAMING, DATA_PACK, FAMILY, BIRTHDAY, VOICE])
    # data 3 + budget 1 = 4; family 3 + 1 = 4 (cheaper first); handset 2 - 2 = 0.
    # Roaming and voice serve no stated need; a care offer is nothing to order.
    assert [(m.candidate.offer_id, m.score) for m in found] == [(2, 4), (1, 4), (3, 0)]
    assert found[2].within_budget is False
    assert found[0].needs == (Need.FAMILY,)


def test_a_traveller_who_calls_a_lot_gets_roaming_then_voice() -> None:
    answers = q.parse(FORM | {"data": "light", "calls": "many", "travel": "often", "family": "0"})
    found = q.match(answers, [DATA_PACK, VOICE, ROAMING, FAMILY])
    # roaming 3 + 1; voice 3 + 1 (the cheaper first); the data pack's category is data: none
    assert [m.candidate.offer_id for m in found] == [6, 4]


def test_no_stated_need_matches_nothing() -> None:
    calm = {"data": "light", "calls": "few", "travel": "never", "family": "0", "handset": "new"}
    assert q.match(q.parse(calm | {"budget": "100"}), [DATA_PACK, FAMILY, HANDSET]) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("data", "lots"), ("family", "-1"), ("family", "ten"), ("budget", "99999"), ("calls", "")],
)
def test_a_bad_answer_names_its_question(field: str, value: str) -> None:
    with pytest.raises(QuestionnaireError) as raised:
        q.parse(FORM | {field: value})
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_an_empty_form_is_not_answered() -> None:
    assert not q.answered({"msisdn": "13800000001"})
    assert q.answered(FORM)
