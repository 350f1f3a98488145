"""The event library as data, and the edge check for one incoming event (R-EVT-1, R-EVT-2).

The library says which events exist, what each carries and which service actions it fires.
The HTTP and broker ingestion both check an event with ``validate_event`` before anything
acts on it, so a malformed event is refused at the door with every problem named at once.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from steward.ingest.schemas import MSISDN_PATTERN

DEFAULT = Path(__file__).with_name("library.yaml")
RESERVED = frozenset({"offer_name", "msisdn_tail"})  # filled by the action, not by the event
STRATEGY = re.compile(r"^(immediate|next_window|within_minutes:([1-9][0-9]{0,3}))$")
MAX_DELAY_MINUTES = 1440
MAX_LIST_ITEMS = 1000
MAX_ID_LENGTH = 64
EVENT_KEYS = ("id", "type", "msisdn", "at", "params")

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,40}$")]


class ParamType(StrEnum):
    INT = "int"
    FLOAT = "float"
    TEXT = "text"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"
    LIST_TEXT = "list_text"


NUMBERS = frozenset({ParamType.INT, ParamType.FLOAT})
TEXTS = frozenset({ParamType.TEXT, ParamType.LIST_TEXT})


class Source(StrEnum):
    BILLING = "billing"
    NETWORK = "network"
    CRM = "crm"
    CHANNEL = "channel"
    CALENDAR = "calendar"


class ActionChannel(StrEnum):
    SMS = "sms"
    APP = "app"
    OUTBOUND = "outbound"


class ParamSpec(BaseModel):
    """One parameter of an event; ``max_length`` bounds a text, or each item of a list_text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType
    required: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    description: str = Field(min_length=1)

    @model_validator(mode="after")
    def _bounds_fit_type(self) -> ParamSpec:
        if (self.min is not None or self.max is not None) and self.type not in NUMBERS:
            raise ValueError(f"min/max apply to int and float, not {self.type}")
        if self.max_length is not None and self.type not in TEXTS:
            raise ValueError(f"max_length applies to text and list_text, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class ServiceAction(BaseModel):
    """A service action bound to an event: what to say, by which channel, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    template_zh: str = Field(min_length=1)
    template_en: str = Field(min_length=1)
    channel: ActionChannel
    strategy: str
    enabled: bool = True  # an operator switches an action off here, without a code change

    @property
    def needs_offer(self) -> bool:
        """A template that names the offer goes with a triggered campaign's contact, never
        alone."""
        return "offer_name" in placeholders(self.template_zh) | placeholders(self.template_en)

    def render(self, params: Mapping[str, Any], msisdn: str, *, english: bool = False) -> str:
        """The text, filled from the event's parameters (and the number's last four digits)."""
        values = {k: _shown(v) for k, v in params.items()} | {"msisdn_tail": msisdn[-4:]}
        template = self.template_en if english else self.template_zh
        return template.format_map(_Blank(values))

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        found = STRATEGY.match(value)
        if found is None or int(found.group(2) or 1) > MAX_DELAY_MINUTES:
            raise ValueError(
                f"strategy {value!r} is not immediate, next_window or "
                f"within_minutes:<1..{MAX_DELAY_MINUTES}>"
            )
        return value

    @field_validator("template_zh", "template_en")
    @classmethod
    def _template(cls, value: str) -> str:
        placeholders(value)
        return value


class _Blank(dict[str, str]):
    """Optional parameters the event left out read as nothing, not as an error."""

    def __missing__(self, key: str) -> str:
        return ""


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def placeholders(template: str) -> set[str]:
    """The names in braces; bare names only, so a template cannot reach into a value."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from None
    names = set()
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if not field_name.isidentifier() or spec or conversion:
            raise ValueError(f"template {template!r}: placeholder must be a bare name")
        names.add(field_name)
    return names


class EventType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    source: Source
    params: dict[Name, ParamSpec]
    service_actions: list[ServiceAction]

    @model_validator(mode="after")
    def _actions_fit_params(self) -> EventType:
        clash = RESERVED & set(self.params)
        if clash:
            raise ValueError(f"params: {sorted(clash)} are reserved for templates")
        names = [a.name for a in self.service_actions]
        if len(set(names)) != len(names):
            raise ValueError("service_actions: two actions share a name")
        known = set(self.params) | RESERVED
        for action in self.service_actions:
            for field in ("template_zh", "template_en"):
                unknown = placeholders(getattr(action, field)) - known
                if unknown:
                    raise ValueError(
                        f"service_actions.{action.name}.{field}: unknown placeholder(s) "
                        f"{sorted(unknown)}"
                    )
        return self


class EventLibrary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: tuple[EventType, ...]
    _by_name: dict[str, EventType] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _distinct(self) -> EventLibrary:
        names = [e.name for e in self.events]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"event type(s) defined twice: {twice}")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._by_name.update((e.name, e) for e in self.events)

    def get(self, name: str) -> EventType | None:
        """The event type of that name, or None: ingestion asks about names it did not choose."""
        return self._by_name.get(name)


class LibraryError(ValueError):
    """A library file that cannot be used; the message names the place and the reason."""


def load_library(path: Path = DEFAULT) -> EventLibrary:
    """Read an event library file and check it whole, naming each bad entry by its name."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LibraryError(f"{path.name}: not YAML: {exc}") from None
    if not isinstance(raw, dict) or set(raw) != {"events"} or not isinstance(raw["events"], list):
        raise LibraryError(f"{path.name}: expected a mapping with one key, events: a list")
    problems: list[str] = []
    events: list[EventType] = []
    for index, entry in enumerate(raw["events"]):
        try:
            events.append(EventType.model_validate(entry))
        except ValidationError as exc:
            problems.extend(f"{_entry(entry, index)}: {shape}" for shape in _shapes(exc))
    if not problems:
        try:
            return EventLibrary(events=tuple(events))
        except ValidationError as exc:
            problems.extend(f"events: {shape}" for shape in _shapes(exc))
    raise LibraryError(f"{path.name}: " + "; ".join(problems))


def _entry(entry: Any, index: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"events[{index}] {name}" if isinstance(name, str) else f"events[{index}]"


def _shapes(exc: ValidationError) -> list[str]:
    found = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(entry)"
        found.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return found


# --- one incoming event ---------------------------------------------------------------------

ParamValue = int | float | str | bool | date | datetime | tuple[str, ...]


@dataclass(frozen=True)
class Event:
    """An event that passed the edge check: known type, parsed params, time in UTC."""

    id: str
    type: str
    msisdn: str
    at: datetime
    params: dict[str, ParamValue]


class EventError(ValueError):
    """An event refused at the edge; ``problems`` lists every field that is wrong and why."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['reason']}" for p in problems))


class _BadValueError(Exception):
    """A value that does not fit; carries the reason for the problem list."""


def validate_event(library: EventLibrary, raw: Mapping[str, Any]) -> Event:
    """Check one raw event (parsed JSON) against the library; raise EventError listing all
    problems, so a producer fixes its feed in one round rather than one field at a time."""
    if not isinstance(raw, Mapping):
        raise EventError([{"field": "(event)", "reason": f"expected an object, got {_kind(raw)}"}])
    problems: list[dict[str, str]] = []

    def check(field: str, parse: Callable[[Any], Any]) -> Any:
        if field not in raw:
            problems.append({"field": field, "reason": "required"})
            return None
        try:
            return parse(raw[field])
        except _BadValueError as exc:
            problems.append({"field": field, "reason": str(exc)})
            return None

    problems.extend(
        {"field": str(key), "reason": "unknown field"} for key in raw if key not in EVENT_KEYS
    )
    event_id = check("id", _event_id)
    event_type = check("type", lambda v: _event_type(library, v))
    msisdn = check("msisdn", _msisdn)
    at = check("at", _timestamp)
    params = check("params", _object)
    parsed: dict[str, ParamValue] = {}
    if event_type is not None and params is not None:
        parsed = _params(event_type, params, problems)
    if problems:
        raise EventError(problems)
    return Event(id=event_id, type=event_type.name, msisdn=msisdn, at=at, params=parsed)


def _params(
    event_type: EventType, params: Mapping[Any, Any], problems: list[dict[str, str]]
) -> dict[str, ParamValue]:
    parsed: dict[str, ParamValue] = {}
    for key in params:
        if key not in event_type.params:
            problems.append({"field": f"params.{key}", "reason": "unknown parameter"})
    for name, spec in event_type.params.items():
        if name not in params:
            if spec.required:
                problems.append({"field": f"params.{name}", "reason": "required"})
            continue
        try:
            parsed[name] = _value(spec, params[name])
        except _BadValueError as exc:
            problems.append({"field": f"params.{name}", "reason": str(exc)})
    return parsed


def _value(spec: ParamSpec, value: Any) -> ParamValue:
    match spec.type:
        case ParamType.INT:
            if not isinstance(value, int) or isinstance(value, bool):
                raise _BadValueError(f"expected an integer, got {_kind(value)}")
            return _within(spec, value)
        case ParamType.FLOAT:
            return _within(spec, _float(value))
        case ParamType.TEXT:
            return _text(value, spec.max_length)
        case ParamType.BOOL:
            if not isinstance(value, bool):
                raise _BadValueError(f"expected true or false, got {_kind(value)}")
            return value
        case ParamType.DATE:
            return _date(value)
        case ParamType.TIMESTAMP:
            return _timestamp(value)
        case ParamType.LIST_TEXT:
            return _list_text(value, spec.max_length)


def _event_id(value: Any) -> str:
    return _text(value, MAX_ID_LENGTH, min_length=1)


def _event_type(library: EventLibrary, value: Any) -> EventType:
    found = library.get(value) if isinstance(value, str) else None
    if found is None:
        raise _BadValueError(f"unknown event type {_show(value)}")
    return found


def _msisdn(value: Any) -> str:
    if not isinstance(value, str) or re.fullmatch(MSISDN_PATTERN, value) is None:
        raise _BadValueError(f"expected an 11-digit mobile number, got {_show(value)}")
    return value


def _object(value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise _BadValueError(f"expected an object, got {_kind(value)}")
    return value


def _float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _BadValueError(f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise _BadValueError("number too large") from None
    if not math.isfinite(number):
        raise _BadValueError("expected a finite number")
    return number


def _within(spec: ParamSpec, number: int | float) -> int | float:
    if spec.min is not None and number < spec.min:
        raise _BadValueError(f"must be at least {spec.min:g}")
    if spec.max is not None and number > spec.max:
        raise _BadValueError(f"must be at most {spec.max:g}")
    return number


def _text(value: Any, max_length: int | None, min_length: int = 0) -> str:
    if not isinstance(value, str):
        raise _BadValueError(f"expected text, got {_kind(value)}")
    if len(value) < min_length:
        raise _BadValueError(f"must have at least {min_length} character(s)")
    if max_length is not None and len(value) > max_length:
        raise _BadValueError(f"longer than {max_length} characters")
    return value


def _list_text(value: Any, max_length: int | None) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _BadValueError(f"expected a list of text, got {_kind(value)}")
    if len(value) > MAX_LIST_ITEMS:
        raise _BadValueError(f"more than {MAX_LIST_ITEMS} items")
    items: list[str] = []
    for index, item in enumerate(value):
        try:
            items.append(_text(item, max_length))
        except _BadValueError as exc:
            raise _BadValueError(f"item {index}: {exc}") from None
    return tuple(items)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise _BadValueError(f"expected an ISO date (YYYY-MM-DD), got {_kind(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _BadValueError(f"not an ISO date (YYYY-MM-DD): {_show(value)}") from None


def _timestamp(value: Any) -> datetime:
    """An ISO timestamp with its zone, in UTC; a naive one is refused, since guessing the
    zone would shift real-time events by hours."""
    if not isinstance(value, str):
        raise _BadValueError(f"expected an ISO timestamp, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _BadValueError(f"not an ISO timestamp: {_show(value)}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _BadValueError("timestamp has no time zone; add an offset such as +08:00 or Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _BadValueError("timestamp out of range") from None


def _kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "text"}
    kinds |= {list: "a list", dict: "an object", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A short rendering of a bad value: enough to find it, never a whole payload."""
    shown = repr(value) if isinstance(value, str) else _kind(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
