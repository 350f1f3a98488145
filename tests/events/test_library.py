"""The event library loads, a bad library is named, and the edge check refuses bad events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from steward.events.library import (
    DEFAULT,
    EventError,
    EventLibrary,
    LibraryError,
    load_library,
    validate_event,
)

R_EVT_2 = {
    "recharge",
    "payment_received",
    "balance_low",
    "data_quota_80",
    "data_quota_100",
    "roaming_entry",
    "roaming_exit",
    "international_roaming",
    "geo_fence_entry",
    "birthday",
    "contract_expiring",
    "discount_expiring",
    "high_realtime_charges",
    "monthly_bill_high",
    "sim_change",
    "handset_change",
    "complaint_logged",
    "self_service_failure",
    "broadband_fault",
    "new_activation",
    "plan_change",
    "points_expiring",
    "web_login",
    "hall_checkin",
    "call_10086",
}


@pytest.fixture(scope="module")
def library() -> EventLibrary:
    return load_library()


def event(type_: str = "balance_low", **params: Any) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": type_,
        "msisdn": "13800138000",
        "at": "2024-05-01T10:00:00+08:00",
        "params": params or {"balance": 3.5, "threshold": 10},
    }


def fields(raw: dict[str, Any], library: EventLibrary) -> dict[str, str]:
    with pytest.raises(EventError) as caught:
        validate_event(library, raw)
    return {p["field"]: p["reason"] for p in caught.value.problems}


# --- the library -----------------------------------------------------------------------------


def test_the_shipped_library_holds_every_event_type_of_r_evt_2(library: EventLibrary) -> None:
    names = {e.name for e in library.events}
    assert len(names) >= 22
    assert names >= R_EVT_2


def test_balance_low_reminds_by_sms_at_once(library: EventLibrary) -> None:
    balance_low = library.get("balance_low")
    assert balance_low is not None
    spec = balance_low.params["balance"]
    assert (spec.type, spec.required, spec.min, spec.max) == ("float", True, -1000, 100000)
    action = balance_low.service_actions[0]
    assert (action.name, action.channel, action.strategy) == ("top-up reminder", "sms", "immediate")
    assert library.get("no_such_event") is None


def broken(tmp_path: Path, edit: Any) -> str:
    raw = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    edit(raw["events"])
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        load_library(path)
    return str(caught.value)


def by_name(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e["name"] == name)


def test_an_unknown_placeholder_is_named_by_event_action_and_template(tmp_path: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        by_name(events, "balance_low")["service_actions"][0]["template_en"] = "Top up {amount}"

    message = broken(tmp_path, edit)
    assert message.startswith("broken.yaml: ")
    assert "balance_low" in message
    assert "service_actions.top-up reminder.template_en" in message
    assert "amount" in message


def test_a_duplicate_event_name_is_named(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda events: events.append(by_name(events, "birthday")))
    assert "broken.yaml" in message
    assert "defined twice" in message
    assert "birthday" in message


def test_min_above_max_is_named_by_event_and_param(tmp_path: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        by_name(events, "points_expiring")["params"]["points"]["min"] = 10**9

    message = broken(tmp_path, edit)
    assert "points_expiring: params.points" in message
    assert "greater than max" in message


def test_a_bad_strategy_is_named(tmp_path: Path) -> None:
    def edit(events: list[dict[str, Any]]) -> None:
        by_name(events, "recharge")["service_actions"][0]["strategy"] = "within_minutes:0"

    message = broken(tmp_path, edit)
    assert "recharge: service_actions.0.strategy" in message


# --- one incoming event ----------------------------------------------------------------------


def test_a_valid_event_is_parsed_and_its_time_is_in_utc(library: EventLibrary) -> None:
    parsed = validate_event(library, event())
    assert parsed.at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert parsed.params == {"balance": 3.5, "threshold": 10.0}
    assert isinstance(parsed.params["threshold"], float)


@pytest.mark.parametrize(
    ("type_", "params", "expected"),
    [
        ("points_expiring", {"points": 500, "expires_on": "2024-12-31"},
         {"points": 500, "expires_on": date(2024, 12, 31)}),
        ("geo_fence_entry", {"cell_id": "c1", "fence": ["c1", "c2"]},
         {"cell_id": "c1", "fence": ("c1", "c2")}),
        ("sim_change", {"new_iccid": "8986001", "changed_at": "2024-05-01T08:00:00Z"},
         {"new_iccid": "8986001", "changed_at": datetime(2024, 5, 1, 8, 0, tzinfo=UTC)}),
        ("call_10086", {"transferred_to_agent": False, "duration_seconds": 0},
         {"transferred_to_agent": False, "duration_seconds": 0}),
        ("web_login", {"channel_name": "app"}, {"channel_name": "app"}),
    ],
)  # fmt: skip
def test_valid_events_of_several_types_pass_with_parsed_values(
    library: EventLibrary, type_: str, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    parsed = validate_event(library, event(type_, **params))
    assert parsed.type == type_
    assert parsed.params == expected


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"type": "lottery_win"}, "type", "unknown event type"),
        ({"msisdn": "23800138000"}, "msisdn", "11-digit"),
        ({"msisdn": "1380013800"}, "msisdn", "11-digit"),
        ({"at": "2024-05-01T10:00:00"}, "at", "no time zone"),
        ({"at": "yesterday"}, "at", "not an ISO timestamp"),
        ({"id": ""}, "id", "at least 1"),
        ({"id": "x" * 65}, "id", "longer than 64"),
        ({"params": [1]}, "params", "expected an object"),
        ({"source": "billing"}, "source", "unknown field"),
    ],
)
def test_a_bad_envelope_is_refused_naming_the_field(
    library: EventLibrary, change: dict[str, Any], field: str, reason: str
) -> None:
    problems = fields(event() | change, library)
    assert set(problems) == {field}
    assert reason in problems[field]


def test_a_missing_envelope_field_is_required(library: EventLibrary) -> None:
    raw = event()
    del raw["msisdn"]
    assert fields(raw, library) == {"msisdn": "required"}


@pytest.mark.parametrize(
    ("type_", "params", "field", "reason"),
    [
        ("balance_low", {"threshold": 10}, "params.balance", "required"),
        ("balance_low", {"balance": 1, "colour": "red"}, "params.colour", "unknown parameter"),
        ("balance_low", {"balance": "3.5"}, "params.balance", "expected a number"),
        ("balance_low", {"balance": True}, "params.balance", "boolean"),
        ("points_expiring", {"points": True, "expires_on": "2024-12-31"}, "params.points",
         "expected an integer"),
        ("points_expiring", {"points": 1.5, "expires_on": "2024-12-31"}, "params.points",
         "expected an integer"),
        ("balance_low", {"balance": -1000.01}, "params.balance", "at least -1000"),
        ("balance_low", {"balance": 100001}, "params.balance", "at most 100000"),
        ("balance_low", {"balance": float("nan")}, "params.balance", "finite"),
        ("balance_low", {"balance": 10**400}, "params.balance", "too large"),
        ("international_roaming", {"country_code": "ABCD"}, "params.country_code",
         "longer than 3"),
        ("points_expiring", {"points": 5, "expires_on": "31/12/2024"}, "params.expires_on",
         "ISO date"),
        ("call_10086", {"transferred_to_agent": 1}, "params.transferred_to_agent",
         "true or false"),
        ("geo_fence_entry", {"cell_id": "c1", "fence": "c1,c2"}, "params.fence", "list of text"),
        ("geo_fence_entry", {"cell_id": "c1", "fence": ["c1", 2]}, "params.fence", "item 1"),
        ("geo_fence_entry", {"cell_id": "c1", "fence": ["c"] * 1001}, "params.fence",
         "more than 1000"),
        ("sim_change", {"new_iccid": "1", "changed_at": "2024-05-01 08:00"}, "params.changed_at",
         "no time zone"),
    ],
)  # fmt: skip
def test_a_bad_param_is_refused_naming_the_field(
    library: EventLibrary, type_: str, params: dict[str, Any], field: str, reason: str
) -> None:
    problems = fields(event(type_, **params), library)
    assert set(problems) == {field}
    assert reason in problems[field]


def test_every_problem_of_one_event_is_reported_together(library: EventLibrary) -> None:
    raw = {
        "id": "",
        "type": "balance_low",
        "msisdn": "123",
        "at": "2024-05-01T10:00:00",
        "params": {"threshold": "ten", "colour": "red"},
        "extra": 1,
    }
    problems = fields(raw, library)
    assert set(problems) == {
        "extra",
        "id",
        "msisdn",
        "at",
        "params.balance",
        "params.threshold",
        "params.colour",
    }


# --- never anything but EventError -----------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
LIBRARY = load_library()
TYPES = sorted(e.name for e in LIBRARY.events)
PARAM_NAMES = sorted({p for e in LIBRARY.events for p in e.params})

ZONES = st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=8)))
ARBITRARY = st.dictionaries(st.text(), JSON, max_size=6)
NEAR_MISS = st.fixed_dictionaries(
    {
        "id": st.text(max_size=70) | JSON,
        "type": st.sampled_from(TYPES) | JSON,
        "msisdn": st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True) | JSON,
        "at": st.datetimes(timezones=ZONES).map(datetime.isoformat) | JSON,
        "params": st.dictionaries(st.sampled_from(PARAM_NAMES), JSON, max_size=5) | JSON,
    }
)


@given(raw=ARBITRARY | NEAR_MISS)
def test_validate_event_never_raises_anything_but_event_error(raw: dict[str, Any]) -> None:
    problems: list[dict[str, str]] = []
    try:
        parsed = validate_event(LIBRARY, raw)
    except EventError as exc:
        problems = exc.problems
    else:
        assert parsed.at.tzinfo is UTC
        return
    assert problems
    assert all(set(p) == {"field", "reason"} for p in problems)
