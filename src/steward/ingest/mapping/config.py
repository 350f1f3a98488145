"""The mapping file: a small YAML config validated by pydantic, every bad key named."""

from __future__ import annotations

import codecs
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from steward.ingest.schemas import INTERFACES, PRODUCT

TOP_UNMAPPED = 5
_TEXT_OUTPUT_FORBIDDEN = re.compile(r"[|\r\n\x00]")
MAX_SHOWN_VALUE = 80


class MappingError(ValueError):
    """The mapping cannot run: bad arguments or a source file it cannot read."""


class MappingConfigError(MappingError):
    """The mapping file is not a valid mapping; ``problems`` names each bad key."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: invalid mapping\n" + "\n".join(f"  {p}" for p in problems))


# --------------------------------------------------------------------------- configuration


class ValueType(StrEnum):
    """How a source value is converted to the interface format when no value map applies."""

    TEXT = "text"  # as is
    BOOL = "bool"  # yes/no, y/n, true/false, t/f, 1/0 (any case) -> 1/0
    INT = "int"  # an integer, surrounding blanks removed
    FLOAT = "float"  # a plain decimal number, surrounding blanks removed
    DATE = "date"  # ISO date, or `date_format` (strptime) -> YYYY-MM-DD


def _check_writable(value: str | None, what: str) -> str | None:
    if value is not None and _TEXT_OUTPUT_FORBIDDEN.search(value):
        raise ValueError(f"{what} {value!r} contains '|', a line break or NUL")
    return value


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFormat(_Config):
    """How to read the foreign file."""

    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True
    quote: str = '"'
    # Column names to use instead of the header's (required when there is no header).
    columns: tuple[str, ...] | None = None

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in "\r\n":
            raise ValueError("must be exactly one character, not a line break")
        return value

    @field_validator("quote")
    @classmethod
    def _quote(cls, value: str) -> str:
        if len(value) > 1 or (value and value in "\r\n"):
            raise ValueError("must be one character, or empty for no quoting")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None

    @model_validator(mode="after")
    def _named_columns(self) -> SourceFormat:
        if not self.header and not self.columns:
            raise ValueError("columns is required when header is false")
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ValueError("columns has duplicate names")
        if self.quote and self.quote == self.delimiter:
            raise ValueError("quote and delimiter must differ")
        return self


class AsOf(_Config):
    """The snapshot day: names the output files and anchors `months_before_as_of`."""

    # Used when the caller gives no as-of day; null means the caller must give one.
    default: date | None = None


class ColumnRule(_Config):
    """Take the field from a source column: blanks, then value map, then type conversion."""

    column: str
    values: dict[str, str | None] = {}
    type: ValueType = ValueType.TEXT
    date_format: str | None = None
    blank_as_null: bool = False
    default: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ColumnRule:
        if self.date_format is not None and self.type is not ValueType.DATE:
            raise ValueError("date_format needs type: date")
        for source_value, target in self.values.items():
            _check_writable(target, f"values[{source_value!r}] ->")
        _check_writable(self.default, "default")
        return self


class ConstantRule(_Config):
    """The same value on every row."""

    constant: str

    @field_validator("constant")
    @classmethod
    def _writable(cls, value: str) -> str:
        _check_writable(value, "constant")
        return value


class MonthsBeforeAsOfRule(_Config):
    """A date: the as-of day minus the whole number of months in a source column."""

    months_before_as_of: str


class SurrogateMsisdnRule(_Config):
    """A stable made-up MSISDN: ``prefix`` + digits of the MD5 of the source key."""

    surrogate_msisdn: str
    # 154 is, as far as we know, allocated to no Chinese operator: a surrogate is never
    # somebody's real number, should a message ever be sent to it.
    prefix: str = "154"

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"1[3-9][0-9]{0,3}", value):
            raise ValueError("prefix must match 1[3-9][0-9]{0,3} (leaving 6-9 digits to hash)")
        return value


_RULE_KINDS = ("column", "constant", "months_before_as_of", "surrogate_msisdn")


def _rule_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        present = [kind for kind in _RULE_KINDS if kind in value]
        return present[0] if len(present) == 1 else None
    for kind in _RULE_KINDS:
        if hasattr(value, kind):
            return kind
    return None


FieldRule = Annotated[
    Annotated[ColumnRule, Tag("column")]
    | Annotated[ConstantRule, Tag("constant")]
    | Annotated[MonthsBeforeAsOfRule, Tag("months_before_as_of")]
    | Annotated[SurrogateMsisdnRule, Tag("surrogate_msisdn")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message="a field rule needs exactly one of: " + ", ".join(_RULE_KINDS),
    ),
]


class Mapping(_Config):
    """A foreign file -> one Steward interface file (+ optional catalogue rows)."""

    target: str
    description: str = ""
    source: SourceFormat = SourceFormat()
    as_of: AsOf = AsOf()
    fields: dict[str, FieldRule]
    extra_products: tuple[dict[str, str | None], ...] = ()

    @field_validator("target")
    @classmethod
    def _known_interface(cls, value: str) -> str:
        if value not in INTERFACES:
            raise ValueError(f"unknown interface {value!r} (known: {', '.join(INTERFACES)})")
        return value

    @model_validator(mode="after")
    def _covers_interface(self) -> Mapping:
        interface = INTERFACES[self.target]
        unknown = [name for name in self.fields if name not in interface.field_names]
        if unknown:
            raise ValueError(
                f"fields: not fields of {self.target}: {', '.join(unknown)} "
                f"(its fields: {', '.join(interface.field_names)})"
            )
        missing = [f.name for f in interface.fields if f.required and f.name not in self.fields]
        if missing:
            raise ValueError(
                f"fields: no rule for required {self.target} field(s): {', '.join(missing)}"
            )
        if self.extra_products and self.target == PRODUCT.name:
            raise ValueError("extra_products: not allowed when the target is product itself")
        for i, row in enumerate(self.extra_products):
            where = f"extra_products[{i}]"
            strange = [k for k in row if k not in PRODUCT.field_names]
            if strange:
                raise ValueError(
                    f"{where}: not product fields: {', '.join(strange)} "
                    f"(product fields: {', '.join(PRODUCT.field_names)})"
                )
            absent = [f.name for f in PRODUCT.fields if f.required and row.get(f.name) is None]
            if absent:
                raise ValueError(f"{where}: missing required product field(s): {', '.join(absent)}")
            for key, value in row.items():
                _check_writable(value, f"{where}.{key}")
        return self


class _StringLoader(yaml.SafeLoader):
    """YAML with every scalar a string (no yes/no booleans, no 01 -> 1), duplicates refused."""


_StringLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_unique_mapping(loader: _StringLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_StringLoader.add_constructor("tag:yaml.org,2002:map", _construct_unique_mapping)


def _problem(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    # A rule's type tag is not a key the user wrote: fields.gender.column.valuez -> ...gender.valuez
    if len(loc) > 2 and loc[0] == "fields" and loc[2] in _RULE_KINDS:
        del loc[2]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{'.'.join(loc)}: {message}" if loc else message


def parse_mapping(text: str, origin: Path | str = "<mapping>") -> Mapping:
    """Validate a mapping given as YAML text; errors name the bad key."""
    try:
        raw = yaml.load(text, Loader=_StringLoader)
    except yaml.YAMLError as exc:
        raise MappingConfigError(origin, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise MappingConfigError(origin, ["the file must be a YAML mapping (key: value)"])
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise MappingConfigError(origin, problems) from None


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; :class:`MappingConfigError` names every bad key."""
    return parse_mapping(path.read_text(encoding="utf-8"), origin=path)
