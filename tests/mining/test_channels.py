"""Channel preference (R-MINE-4) on hand-made contact logs with known answers, and a model
that recovers a preference it can only infer from age or from a few contacts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from steward.lake.engine import DuckDBEngine
from steward.mining.channels import channel_mix, observed_preferences, preferred_channels

AS_OF = date(2026, 11, 1)
START = datetime(2026, 8, 1, 9, 0)
TRIO = ("app", "wechat", "hall")


@dataclass
class Log:
    """Contacts, complaint tickets and profiles of a few subscribers, made by hand."""

    contacts: list[dict[str, object]] = field(default_factory=list)
    tickets: list[dict[str, object]] = field(default_factory=list)
    profiles: list[dict[str, object]] = field(default_factory=list)

    def contact(
        self, msisdn: str, channel: str, *, times: int = 1, purpose: str = "query", day: int = 0
    ) -> Log:
        for _ in range(times):
            self.contacts.append(
                {
                    "contact_id": f"CT{len(self.contacts):08d}",
                    "msisdn": msisdn,
                    "contact_time": START + timedelta(days=day, minutes=len(self.contacts)),
                    "channel": channel,
                    "purpose": purpose,
                    "duration_s": 120,
                }
            )
        return self

    def complaint(self, msisdn: str, channel: str, *, kind: str = "complaint") -> Log:
        self.tickets.append(
            {
                "ticket_id": f"TK{len(self.tickets):08d}",
                "msisdn": msisdn,
                "created_at": START,
                "kind": kind,
                "category": "billing",
                "channel": channel,
                "status": "closed",
                "description": "",
            }
        )
        return self

    def profile(self, msisdn: str, *, age: float, city: str = "lanzhou") -> Log:
        born = AS_OF - timedelta(days=round(age * 365.25))
        self.profiles.append(
            {
                "msisdn": msisdn,
                "birth_date": born,
                "brand": "gotone",
                "payment_type": "prepaid",
                "city": city,
            }
        )
        return self


CONTACT_SCHEMA = pa.schema(
    [
        ("contact_id", pa.string()),
        ("msisdn", pa.string()),
        ("contact_time", pa.timestamp("us")),
        ("channel", pa.string()),
        ("purpose", pa.string()),
        ("duration_s", pa.int64()),
    ]
)
TICKET_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.string()),
        ("msisdn", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("kind", pa.string()),
        ("category", pa.string()),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("description", pa.string()),
    ]
)
PROFILE_SCHEMA = pa.schema(
    [
        ("msisdn", pa.string()),
        ("birth_date", pa.date32()),
        ("brand", pa.string()),
        ("payment_type", pa.string()),
        ("city", pa.string()),
    ]
)


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    duck = DuckDBEngine(memory_limit="1GB")
    yield duck
    duck.close()


def load(engine: DuckDBEngine, log: Log) -> None:
    engine.register("contacts", pa.Table.from_pylist(log.contacts, schema=CONTACT_SCHEMA))
    engine.register("tickets", pa.Table.from_pylist(log.tickets, schema=TICKET_SCHEMA))
    engine.register("profiles", pa.Table.from_pylist(log.profiles, schema=PROFILE_SCHEMA))


def observed(
    engine: DuckDBEngine, log: Log, *, more_than: int = 10
) -> dict[str, dict[str, object]]:
    load(engine, log)
    table = observed_preferences(
        engine, contacts="contacts", complaints="tickets", more_than=more_than
    )
    return {row["msisdn"]: row for row in table.to_pylist()}


def test_twelve_contacts_eight_by_app_and_four_in_the_hall_prefer_the_app(
    engine: DuckDBEngine,
) -> None:
    log = Log().contact("13900000001", "app", times=8).contact("13900000001", "hall", times=4)
    row = observed(engine, log)["13900000001"]
    assert row["preferred_channel"] == "app"
    assert row["usual_channel"] == "app"
    assert row["confidence"] == pytest.approx(8 / 12)
    assert row["contacts"] == 12


def test_a_complaint_through_the_top_channel_moves_the_preference_to_the_next(
    engine: DuckDBEngine,
) -> None:
    log = (
        Log()
        .contact("13900000001", "app", times=7)
        .contact("13900000001", "hall", times=3)
        .contact("13900000001", "wechat", times=2)
        .complaint("13900000001", "app")
    )
    row = observed(engine, log)["13900000001"]
    assert row["preferred_channel"] == "hall"
    assert row["confidence"] == pytest.approx(3 / 12)
    assert row["usual_channel"] == "app"  # still the channel used most


def test_a_consultation_ticket_is_no_complaint(engine: DuckDBEngine) -> None:
    log = (
        Log()
        .contact("13900000001", "app", times=8)
        .contact("13900000001", "hall", times=4)
        .complaint("13900000001", "app", kind="consultation")
    )
    assert observed(engine, log)["13900000001"]["preferred_channel"] == "app"


def test_a_complaint_in_the_contact_log_alone_also_vetoes_and_both_logs_count_it_once(
    engine: DuckDBEngine,
) -> None:
    log = (
        Log()
        .contact("13900000001", "app", times=7)
        .contact("13900000001", "app", purpose="complaint")
        .contact("13900000001", "hall", times=4)
        .complaint("13900000001", "app")
    )
    load(engine, log)
    assert observed(engine, log)["13900000001"]["preferred_channel"] == "hall"
    mix = channel_mix(engine, contacts="contacts", complaints="tickets").to_pylist()
    app = next(row for row in mix if row["channel"] == "app")
    assert app["complaints"] == 1
    assert app["share_complaint"] == pytest.approx(1.0)


def test_when_every_channel_has_a_complaint_the_least_complained_about_wins(
    engine: DuckDBEngine,
) -> None:
    log = (
        Log()
        .contact("13900000001", "app", times=8)
        .contact("13900000001", "hall", times=4)
        .complaint("13900000001", "app")
        .complaint("13900000001", "app")
        .complaint("13900000001", "hall")
    )
    assert observed(engine, log)["13900000001"]["preferred_channel"] == "hall"


def test_equal_shares_go_to_the_channel_used_last_then_alphabetically(
    engine: DuckDBEngine,
) -> None:
    log = (
        Log()
        .contact("13900000001", "wechat", times=6)
        .contact("13900000001", "app", times=6)  # later: the app was used last
        .contact("13900000002", "wechat", times=6, day=5)
        .contact("13900000002", "app", times=6)
    )
    rows = observed(engine, log)
    assert rows["13900000001"]["preferred_channel"] == "app"
    assert rows["13900000002"]["preferred_channel"] == "wechat"
    same_time = Log()
    for _ in range(6):
        same_time.contact("13900000003", "wechat").contact("13900000003", "app")
    for row in same_time.contacts:
        row["contact_time"] = START
    assert observed(engine, same_time)["13900000003"]["preferred_channel"] == "app"


def test_only_more_than_the_threshold_counts_as_frequent(engine: DuckDBEngine) -> None:
    log = Log().contact("13900000010", "app", times=10).contact("13900000011", "app", times=11)
    assert set(observed(engine, log)) == {"13900000011"}
    assert set(observed(engine, log, more_than=9)) == {"13900000010", "13900000011"}


def test_shares_within_consultations_complaints_and_business(engine: DuckDBEngine) -> None:
    log = (
        Log()
        .contact("13900000001", "app", times=3, purpose="query")
        .contact("13900000001", "hall", times=1, purpose="consultation")
        .contact("13900000001", "hall", times=3, purpose="business")
        .contact("13900000001", "app", times=1, purpose="payment")
        .contact("13900000001", "app", times=3, purpose="browse")
        .complaint("13900000001", "wechat")  # a ticket-only channel: no contact through it
    )
    load(engine, log)
    rows = {
        row["channel"]: row
        for row in channel_mix(engine, contacts="contacts", complaints="tickets").to_pylist()
    }
    assert rows["app"]["share"] == pytest.approx(7 / 11)
    assert rows["app"]["share_consultation"] == pytest.approx(3 / 4)
    assert rows["hall"]["share_business"] == pytest.approx(3 / 4)
    assert rows["wechat"]["contacts"] == 0
    assert rows["wechat"]["share_complaint"] == pytest.approx(1.0)
    assert rows["app"]["share_complaint"] == 0.0


def preference_by_age(age: float) -> str:
    return "app" if age < 35 else "wechat" if age < 55 else "hall"


def synthetic_base(
    n: int, *, seed: int, rest_contacts: int, by_age: bool
) -> tuple[Log, dict[str, str], list[str]]:
    """``n`` subscribers aged 18-80 whose hidden preference is set by age (or at random) with
    10 % noise; 40 % contact 15 times, the rest ``rest_contacts`` times, each contact through
    the preferred channel with probability 0.7 and otherwise any of the seven channels."""
    r = np.random.default_rng(seed)
    channels: Sequence[str] = ("hall", "web", "app", "call_centre", "ivr", "wechat")
    log, truth, rest = Log(), {}, []
    for i in range(n):
        msisdn = f"139{i:08d}"
        age = float(r.uniform(18, 80))
        chosen = preference_by_age(age) if by_age else str(r.choice(TRIO))
        truth[msisdn] = str(r.choice(TRIO)) if r.random() < 0.1 else chosen
        log.profile(msisdn, age=age, city=str(r.choice(["lanzhou", "tianshui"])))
        frequent = r.random() < 0.4
        for _ in range(15 if frequent else rest_contacts):
            used = truth[msisdn] if r.random() < 0.7 else str(r.choice(channels))
            log.contact(msisdn, used)
        if not frequent:
            rest.append(msisdn)
    return log, truth, rest


def accuracy_on_the_rest(engine: DuckDBEngine, log: Log, truth: dict[str, str]) -> float:
    load(engine, log)
    table = preferred_channels(
        engine,
        contacts="contacts",
        complaints="tickets",
        profile="profiles",
        as_of=AS_OF,
        seed=1,
    )
    rows = [row for row in table.to_pylist() if row["source"] == "model"]
    assert all(row["confidence"] is not None for row in rows)
    return float(np.mean([row["preferred_channel"] == truth[row["msisdn"]] for row in rows]))


def test_the_model_recovers_a_preference_set_by_age_for_those_who_never_call(
    engine: DuckDBEngine,
) -> None:
    """Chance is 1/3, always naming the commonest channel about 0.4, the ceiling 0.93."""
    log, truth, _ = synthetic_base(1500, seed=3, rest_contacts=0, by_age=True)
    assert accuracy_on_the_rest(engine, log, truth) > 0.85


def test_the_model_reads_a_few_contacts(engine: DuckDBEngine) -> None:
    """Age says nothing here; two contacts through the preferred channel at 70 % each do."""
    log, truth, _ = synthetic_base(1500, seed=4, rest_contacts=2, by_age=False)
    assert accuracy_on_the_rest(engine, log, truth) > 0.75


def test_every_subscriber_gets_a_row_with_shares_where_there_are_contacts(
    engine: DuckDBEngine,
) -> None:
    log, _, _ = synthetic_base(300, seed=5, rest_contacts=0, by_age=True)
    log.contact("13800000000", "ivr")  # in the contact log but not in the profile
    load(engine, log)
    table = preferred_channels(
        engine, contacts="contacts", complaints="tickets", profile="profiles", as_of=AS_OF
    )
    assert table.num_rows == 301
    rows = {row["msisdn"]: row for row in table.to_pylist()}
    stranger = rows["13800000000"]
    assert stranger["source"] == "model"
    assert stranger["share_ivr"] == 1.0
    assert stranger["share_app"] == 0.0
    silent = next(row for row in rows.values() if row["contacts"] == 0)
    assert silent["share_app"] is None
    observed_rows = [row for row in rows.values() if row["source"] == "observed"]
    assert observed_rows
    assert all(row["contacts"] > 10 for row in observed_rows)
    again = preferred_channels(
        engine, contacts="contacts", complaints="tickets", profile="profiles", as_of=AS_OF
    )
    assert again.equals(table)


def test_without_frequent_contacters_nothing_is_guessed(engine: DuckDBEngine) -> None:
    log = Log().profile("13900000001", age=30).contact("13900000001", "app", times=3)
    load(engine, log)
    table = preferred_channels(
        engine, contacts="contacts", complaints="tickets", profile="profiles", as_of=AS_OF
    )
    assert table.to_pylist()[0]["preferred_channel"] is None
