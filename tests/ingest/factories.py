"""Small valid interface rows, and writers for the files an operator would deliver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from steward.ingest.schemas import INTERFACES, file_name_for

DAY = date(2026, 11, 1)


def product(**overrides: Any) -> dict[str, Any]:
    row = {
        "product_id": "PLAN_GT_128",
        "name_zh": "全球通128元套餐",
        "name_en": "GoTone 128",
        "kind": "plan",
        "category": "voice",
        "monthly_fee": 128.0,
        "brand": "gotone",
    }
    return row | overrides


def profile(msisdn: str = "13800000001", **overrides: Any) -> dict[str, Any]:
    row = {
        "msisdn": msisdn,
        "customer_id": "C" + msisdn[-6:],
        "gender": "F",
        "birth_date": "1990-05-17",
        "city": "lanzhou",
        "county": "chengguan",
        "brand": "gotone",
        "vip_level": "none",
        "plan_id": "PLAN_GT_128",
        "payment_type": "postpaid",
        "activation_date": "2015-03-01",
        "status": "active",
        "customer_type": "personal",
        "is_foreigner": "0",
        "is_blacklisted": "0",
        "is_data_card": "0",
        "optout_sms": "0",
        "optout_outbound": "0",
        "optout_app": "0",
        "id_region": "lanzhou",
        "handset_model": "华为 Mate 60",
        "handset_network": "5g",
        "handset_since": "2024-01-10",
        "contract_type": "none",
        "contract_end": "",
        "monthly_fee": "128",
        "payment_method": "bank",
    }
    return row | overrides


def voice(msisdn: str = "13800000001", **overrides: Any) -> dict[str, Any]:
    row = {
        "msisdn": msisdn,
        "start_time": "2026-11-01 09:15:00",
        "direction": "mo",
        "duration_s": "65",
        "other_party": "13900000002",
        "cell_id": "A1B2",
        "roaming": "none",
        "charge": "0.15",
    }
    return row | overrides


def render(interface: str, row: Mapping[str, Any]) -> str:
    """One delivered line: fields in schema order, ``|``-delimited, empty for NULL."""
    names = INTERFACES[interface].field_names
    return "|".join("" if row.get(n) is None else str(row[n]) for n in names)


def write_text(
    folder: Path,
    interface: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    day: date = DAY,
    part: str = "",
    encoding: str = "utf-8",
    header: bool = False,
    newline: str = "\n",
    suffix: str = ".txt",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [render(interface, r) for r in rows]
    if header:
        lines.insert(0, "|".join(INTERFACES[interface].field_names))
    path = folder / file_name_for(interface, day, part, suffix)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def write_parquet(folder: Path, interface: str, table: pa.Table, *, day: date = DAY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name_for(interface, day)
    pq.write_table(table, path)
    return path


def basic_delivery(folder: Path, subscribers: int = 3) -> list[str]:
    """A product file, a profile file of ``subscribers`` numbers, and one call each."""
    numbers = [f"1380000{i:04d}" for i in range(1, subscribers + 1)]
    write_text(folder, "product", [product()])
    write_text(folder, "profile", [profile(n) for n in numbers])
    write_text(folder, "voice", [voice(n) for n in numbers])
    return numbers
