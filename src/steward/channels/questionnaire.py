"""The counter's questionnaire mode (R-CHAN-6): a few questions about the customer's needs,
a needs table, and the offers that fit them.

Pure: the answers come in as the form's text, the candidates are the offers the inbound
decision already found offerable for the subscriber on the channel (eligibility, do-not-
disturb, caps — the same listing as the counter's normal mode); this module only reads the
answers and ranks those candidates by how their type, category and price fit the needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from steward.wording import N_, Refusal

MAX_FAMILY = 9
MAX_BUDGET = 2000


class QuestionnaireError(Refusal):
    """An answer that cannot be read; ``field`` names the question."""


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    NONE = "none"


WEIGHT = {Level.HIGH: 3, Level.MEDIUM: 2, Level.NONE: 0}

# Each question: its choices and the level of need each choice means.
DATA = {"light": Level.NONE, "medium": Level.MEDIUM, "heavy": Level.HIGH}  # <5, 5-20, >20 GB
CALLS = {"few": Level.NONE, "some": Level.MEDIUM, "many": Level.HIGH}  # <100, 100-500, >500 min
TRAVEL = {"never": Level.NONE, "sometimes": Level.MEDIUM, "often": Level.HIGH}  # abroad
HANDSET = {"new": Level.NONE, "aging": Level.MEDIUM, "old": Level.HIGH}  # <1, 1-3, >3 years


class Need(StrEnum):
    DATA = "data"
    CALLS = "calls"
    TRAVEL = "travel"
    FAMILY = "family"
    HANDSET = "handset"


# What serves a need: offer types and offer categories (the offer catalogue's words). A
# data pack of the roaming category serves travel, not the data need: categories decide.
SERVES: dict[Need, tuple[frozenset[str], frozenset[str]]] = {
    Need.DATA: (frozenset({"plan_change"}), frozenset({"data", "content"})),
    Need.CALLS: (frozenset({"plan_change"}), frozenset({"voice"})),
    Need.TRAVEL: (frozenset({"roaming"}), frozenset({"roaming"})),
    Need.FAMILY: (frozenset({"family", "broadband"}), frozenset({"family", "broadband"})),
    Need.HANDSET: (frozenset({"handset"}), frozenset({"handset"})),
}
NOTHING_TO_ORDER = frozenset({"care"})  # a reminder or a greeting is no answer to a need
WITHIN_BUDGET = 1  # a bonus point: the price fits the monthly budget
OVER_BUDGET = -2  # a penalty: it does not


@dataclass(frozen=True)
class Answers:
    data: str
    calls: str
    travel: str
    family: int  # other family members who might share
    handset: str
    budget: float  # CNY a month the customer is ready to add


@dataclass(frozen=True)
class NeedRow:
    """One row of the needs table: the need, what the customer said, how strong it is."""

    need: Need
    answer: str
    level: Level


@dataclass(frozen=True)
class Candidate:
    """An offer the subscriber may take now; ``ref`` carries the caller's own object."""

    offer_id: int
    offer_type: str
    category: str
    price: float
    ref: Any = None


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    score: int
    needs: tuple[Need, ...]  # the needs it serves, strongest first
    within_budget: bool


QUESTIONS = ("data", "calls", "travel", "family", "handset", "budget")


def parse(form: Mapping[str, str]) -> Answers:
    """The answers from the form's fields; a missing or unknown answer names its field."""
    return Answers(
        data=_choice(form, "data", DATA),
        calls=_choice(form, "calls", CALLS),
        travel=_choice(form, "travel", TRAVEL),
        family=_number(form, "family", 0, MAX_FAMILY),
        handset=_choice(form, "handset", HANDSET),
        budget=_number(form, "budget", 0, MAX_BUDGET),
    )


def answered(form: Mapping[str, str]) -> bool:
    """Whether the form carries any answer (an empty form just shows the questions)."""
    return any((form.get(q) or "").strip() for q in QUESTIONS)


def _choice(form: Mapping[str, str], name: str, choices: Mapping[str, Level]) -> str:
    value = (form.get(name) or "").strip()
    if value not in choices:
        raise QuestionnaireError(
            N_("%(question)s: choose one of %(choices)s"),
            field=name,
            question=name,
            choices=", ".join(choices),
        )
    return value


def _number(form: Mapping[str, str], name: str, low: int, high: int) -> int:
    text = (form.get(name) or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise QuestionnaireError(
            N_("%(question)s: a whole number from %(low)s to %(high)s"),
            field=name,
            question=name,
            low=low,
            high=high,
        )
    return int(text)


def needs(answers: Answers) -> list[NeedRow]:
    """The needs table, in the order of the questions."""
    family = Level.HIGH if answers.family >= 2 else Level.MEDIUM if answers.family else Level.NONE
    return [
        NeedRow(Need.DATA, answers.data, DATA[answers.data]),
        NeedRow(Need.CALLS, answers.calls, CALLS[answers.calls]),
        NeedRow(Need.TRAVEL, answers.travel, TRAVEL[answers.travel]),
        NeedRow(Need.FAMILY, str(answers.family), family),
        NeedRow(Need.HANDSET, answers.handset, HANDSET[answers.handset]),
    ]


def match(answers: Answers, candidates: Sequence[Candidate]) -> list[Match]:
    """The candidates that serve at least one stated need, best first: the weights of the
    needs served, plus a point within the budget or minus two over it; ties go to the
    cheaper offer, then the lower id."""
    table = [row for row in needs(answers) if row.level is not Level.NONE]
    found = []
    for candidate in candidates:
        if candidate.offer_type in NOTHING_TO_ORDER:
            continue
        served = sorted(
            (row for row in table if _serves(row.need, candidate)),
            key=lambda row: -WEIGHT[row.level],
        )
        if not served:
            continue
        fits = candidate.price <= answers.budget
        score = sum(WEIGHT[row.level] for row in served) + (WITHIN_BUDGET if fits else OVER_BUDGET)
        found.append(Match(candidate, score, tuple(row.need for row in served), fits))
    return sorted(found, key=lambda m: (-m.score, m.candidate.price, m.candidate.offer_id))


def _serves(need: Need, candidate: Candidate) -> bool:
    types, categories = SERVES[need]
    return candidate.offer_type in types or candidate.category in categories
