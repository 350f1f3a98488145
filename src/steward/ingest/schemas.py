"""The interface files an operator delivers, as typed schemas (R-DATA-1).

One schema per interface file. A file is named ``<interface>_<YYYYMMDD>[_<part>].<ext>``:
the date is the partition it fills (the day of the records, or the as-of day of a snapshot,
or the first day of a bill month), the optional part lets a day arrive in several files.
Text files (``.txt``, ``.psv``, ``.dat``) are ``|``-delimited, headerless or with a header
line equal to the field names, in UTF-8 or GBK; ``.parquet`` files carry the same columns.

The synthetic province writes exactly these files, and the validator reads its rules from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path


class FieldType(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"


MSISDN_PATTERN = r"^1[3-9][0-9]{9}$"
PHONE_PATTERN = r"^\+?[0-9]{3,20}$"


@dataclass(frozen=True)
class Field:
    """One column: its type and the checks every value must pass."""

    name: str
    type: FieldType = FieldType.TEXT
    required: bool = True
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    max_length: int | None = None
    # Dates of the past (birth, activation) may not lie after the file's date.
    not_after_file_date: bool = False
    description: str = ""


@dataclass(frozen=True)
class Interface:
    """An interface file: its fields in delivery order, its key and what it refers to."""

    name: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # Field whose date must equal the file's date (daily record files).
    date_field: str | None = None
    # field -> interface whose key it must match (a subscriber, a product).
    references: dict[str, str] = field(default_factory=dict)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def _msisdn(name: str = "msisdn", description: str = "Subscriber's mobile number.") -> Field:
    return Field(name, pattern=MSISDN_PATTERN, max_length=11, description=description)


ROAMING = ("none", "domestic", "international")
CHANNELS_CONTACT = ("hall", "web", "app", "call_centre", "ivr", "wechat", "self_service")
BRANDS = ("gotone", "mzone", "easyown")
VIP_LEVELS = ("none", "silver", "gold", "diamond")
CUSTOMER_TYPES = (
    "personal",
    "corporate_group",
    "staff",
    "government",
    "special_org",
    "unit_account",
)

PRODUCT = Interface(
    name="product",
    description="Billing product catalogue: plans, data packs, value-added services.",
    fields=(
        Field("product_id", pattern=r"^[A-Z0-9_]{3,32}$", description="Billing product ID."),
        Field("name_zh", max_length=64),
        Field("name_en", max_length=64),
        Field("kind", choices=("plan", "data_pack", "vas", "handset", "broadband")),
        Field(
            "category",
            choices=(
                "voice",
                "data",
                "vas",
                "content",
                "family",
                "roaming",
                "handset",
                "broadband",
            ),
        ),
        Field("monthly_fee", FieldType.FLOAT, min=0, max=10_000),
        Field("brand", required=False, choices=BRANDS),
    ),
    key=("product_id",),
)

PROFILE = Interface(
    name="profile",
    description="Customer profile snapshot, one row per subscriber, as of the file's date.",
    fields=(
        _msisdn(),
        Field("customer_id", max_length=32, description="Owner's customer number in CRM."),
        Field("gender", choices=("M", "F", "U")),
        Field("birth_date", FieldType.DATE, required=False, not_after_file_date=True),
        Field("city", max_length=32),
        Field("county", max_length=32, required=False),
        Field("brand", choices=BRANDS),
        Field("vip_level", choices=VIP_LEVELS),
        Field("plan_id", pattern=r"^[A-Z0-9_]{3,32}$"),
        Field("payment_type", choices=("prepaid", "postpaid")),
        Field("activation_date", FieldType.DATE, not_after_file_date=True),
        Field("status", choices=("active", "suspended", "cancelled")),
        Field("customer_type", choices=CUSTOMER_TYPES),
        Field("is_foreigner", FieldType.BOOL),
        Field("is_blacklisted", FieldType.BOOL),
        Field("is_data_card", FieldType.BOOL, description="Data-card-only line (no voice)."),
        Field("optout_sms", FieldType.BOOL),
        Field("optout_outbound", FieldType.BOOL),
        Field("optout_app", FieldType.BOOL),
        Field("id_region", max_length=32, required=False, description="Region of the ID card."),
        Field("handset_model", max_length=64, required=False),
        Field("handset_network", choices=("2g", "3g", "4g", "5g"), required=False),
        Field("handset_since", FieldType.DATE, required=False, not_after_file_date=True),
        Field("contract_type", choices=("none", "monthly", "one_year", "two_year")),
        Field("contract_end", FieldType.DATE, required=False),
        Field("monthly_fee", FieldType.FLOAT, min=0, max=10_000, required=False),
        Field("payment_method", max_length=32, required=False),
    ),
    key=("msisdn",),
    references={"plan_id": "product"},
)

SUBSCRIPTION = Interface(
    name="subscription",
    description="Products each subscriber holds, as of the file's date.",
    fields=(
        _msisdn(),
        Field("product_id", pattern=r"^[A-Z0-9_]{3,32}$"),
        Field("start_date", FieldType.DATE, not_after_file_date=True),
        Field("end_date", FieldType.DATE, required=False),
        Field("status", choices=("active", "ended")),
    ),
    key=("msisdn", "product_id", "start_date"),
    references={"msisdn": "profile", "product_id": "product"},
)

VOICE = Interface(
    name="voice",
    description="Voice call detail records of one day.",
    fields=(
        _msisdn(),
        Field("start_time", FieldType.TIMESTAMP),
        Field("direction", choices=("mo", "mt"), description="Originated or terminated."),
        Field("duration_s", FieldType.INT, min=0, max=86_400),
        Field("other_party", pattern=PHONE_PATTERN),
        Field("cell_id", pattern=r"^[0-9A-F]{4,16}$"),
        Field("roaming", choices=ROAMING),
        Field("charge", FieldType.FLOAT, min=0, max=10_000),
    ),
    key=("msisdn", "start_time", "direction", "other_party"),
    date_field="start_time",
    references={"msisdn": "profile"},
)

DATA = Interface(
    name="data",
    description="Data session records of one day.",
    fields=(
        _msisdn(),
        Field("start_time", FieldType.TIMESTAMP),
        Field("duration_s", FieldType.INT, min=0, max=86_400),
        Field("bytes_up", FieldType.INT, min=0, max=1e12),
        Field("bytes_down", FieldType.INT, min=0, max=1e12),
        Field("cell_id", pattern=r"^[0-9A-F]{4,16}$"),
        Field("rat", choices=("2g", "3g", "4g", "5g")),
        Field("roaming", choices=ROAMING),
        Field("charge", FieldType.FLOAT, min=0, max=10_000),
    ),
    key=("msisdn", "start_time", "cell_id"),
    date_field="start_time",
    references={"msisdn": "profile"},
)

SMS = Interface(
    name="sms",
    description="SMS detail records of one day.",
    fields=(
        _msisdn(),
        Field("send_time", FieldType.TIMESTAMP),
        Field("direction", choices=("mo", "mt")),
        Field("other_party", pattern=PHONE_PATTERN),
        Field("roaming", choices=ROAMING),
        Field("charge", FieldType.FLOAT, min=0, max=1_000),
    ),
    key=("msisdn", "send_time", "direction", "other_party"),
    date_field="send_time",
    references={"msisdn": "profile"},
)

RECHARGE = Interface(
    name="recharge",
    description="Recharges and payments received on one day.",
    fields=(
        Field("recharge_id", pattern=r"^[A-Za-z0-9_-]{4,40}$"),
        _msisdn(),
        Field("recharge_time", FieldType.TIMESTAMP),
        Field("amount", FieldType.FLOAT, min=0.01, max=50_000),
        Field("channel", choices=("hall", "web", "app", "wechat", "card", "bank", "agent")),
    ),
    key=("recharge_id",),
    date_field="recharge_time",
    references={"msisdn": "profile"},
)

BALANCE = Interface(
    name="balance",
    description="Account balance at the end of one day.",
    fields=(
        _msisdn(),
        Field("balance_date", FieldType.DATE),
        Field("balance", FieldType.FLOAT, min=-100_000, max=100_000),
        Field("credit_limit", FieldType.FLOAT, min=0, max=100_000),
        Field("in_arrears", FieldType.BOOL),
    ),
    key=("msisdn",),
    date_field="balance_date",
    references={"msisdn": "profile"},
)

BILL = Interface(
    name="bill",
    description="Monthly bills; the file's date is the first day of the bill month.",
    fields=(
        _msisdn(),
        Field("bill_month", FieldType.DATE),
        Field("plan_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("voice_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("data_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("sms_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("vas_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("roaming_fee", FieldType.FLOAT, min=0, max=100_000),
        Field("total", FieldType.FLOAT, min=0, max=100_000),
        Field("arrears", FieldType.FLOAT, min=0, max=100_000),
    ),
    key=("msisdn",),
    date_field="bill_month",
    references={"msisdn": "profile"},
)

COMPLAINT = Interface(
    name="complaint",
    description="Complaints and consultations logged on one day.",
    fields=(
        Field("ticket_id", pattern=r"^[A-Za-z0-9_-]{4,40}$"),
        _msisdn(),
        Field("created_at", FieldType.TIMESTAMP),
        Field("kind", choices=("complaint", "consultation")),
        Field(
            "category",
            choices=(
                "billing",
                "network",
                "service",
                "product",
                "marketing",
                "roaming",
                "handset",
                "other",
            ),
        ),
        Field("channel", choices=CHANNELS_CONTACT),
        Field("status", choices=("open", "closed")),
        Field("description", required=False, max_length=500),
    ),
    key=("ticket_id",),
    date_field="created_at",
    references={"msisdn": "profile"},
)

CONTACT = Interface(
    name="contact",
    description="Channel contacts of one day: hall visits, web/app logins, 10086 calls.",
    fields=(
        Field("contact_id", pattern=r"^[A-Za-z0-9_-]{4,40}$"),
        _msisdn(),
        Field("contact_time", FieldType.TIMESTAMP),
        Field("channel", choices=CHANNELS_CONTACT),
        Field(
            "purpose",
            choices=("query", "business", "payment", "consultation", "complaint", "browse"),
        ),
        Field("duration_s", FieldType.INT, min=0, max=86_400),
    ),
    key=("contact_id",),
    date_field="contact_time",
    references={"msisdn": "profile"},
)

# Delivery order: what others refer to comes first.
INTERFACES: dict[str, Interface] = {
    i.name: i
    for i in (
        PRODUCT,
        PROFILE,
        SUBSCRIPTION,
        VOICE,
        DATA,
        SMS,
        RECHARGE,
        BALANCE,
        BILL,
        COMPLAINT,
        CONTACT,
    )
}

TEXT_SUFFIXES = (".txt", ".psv", ".dat")
DATA_SUFFIXES = (*TEXT_SUFFIXES, ".parquet")
_FILE_NAME = re.compile(r"^(?P<interface>[a-z]+)_(?P<date>\d{8})(?:_(?P<part>[A-Za-z0-9]+))?$")


@dataclass(frozen=True)
class FileName:
    """What an interface file's name says: interface, partition date and part."""

    interface: Interface
    day: date
    part: str

    @property
    def part_key(self) -> str:
        return self.part or "0"


class FileNameError(ValueError):
    pass


def parse_file_name(path: Path) -> FileName:
    """Read ``voice_20261101_002.txt`` as (voice, 2026-11-01, "002"); explain any misfit."""
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise FileNameError(f"{path.name}: unknown extension (expected one of {DATA_SUFFIXES})")
    match = _FILE_NAME.match(path.stem)
    if match is None:
        raise FileNameError(f"{path.name}: name must be <interface>_<YYYYMMDD>[_<part>]")
    name = match["interface"]
    if name not in INTERFACES:
        raise FileNameError(f"{path.name}: unknown interface '{name}' (known: {list(INTERFACES)})")
    raw = match["date"]
    try:
        day = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError as exc:
        raise FileNameError(f"{path.name}: '{raw}' is not a date") from exc
    return FileName(INTERFACES[name], day, match["part"] or "")


def file_name_for(interface: str, day: date, part: str = "", suffix: str = ".parquet") -> str:
    stem = f"{interface}_{day:%Y%m%d}" + (f"_{part}" if part else "")
    return stem + suffix
