"""Put small typed tables straight into the lake, as a load would leave them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from steward.ingest.schemas import INTERFACES, FieldType
from steward.lake.service import Lake, StagedPartition

ARROW = {
    FieldType.TEXT: pa.string(),
    FieldType.INT: pa.int64(),
    FieldType.FLOAT: pa.float64(),
    FieldType.BOOL: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.TIMESTAMP: pa.timestamp("us"),
}


def arrow_table(interface: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    fields = INTERFACES[interface].fields
    schema = pa.schema([(f.name, ARROW[f.type]) for f in fields])
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in fields} for r in rows], schema)


def publish(
    session: Session,
    lake: Lake,
    table: str,
    day: date,
    rows: Sequence[Mapping[str, Any]],
    *,
    part: str = "0",
) -> None:
    path = lake.stage_path(table, day, part, f"t-{table}-{day}-{part}")
    pq.write_table(arrow_table(table, rows), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lake.publish(session, [StagedPartition(table, day, part, path, len(rows), digest)], "test")


def profile(msisdn: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "msisdn": msisdn,
        "customer_id": "C1",
        "gender": "F",
        "birth_date": date(1990, 11, 20),
        "city": "lanzhou",
        "county": "chengguan",
        "brand": "gotone",
        "vip_level": "none",
        "plan_id": "PLAN_GT_128",
        "payment_type": "prepaid",
        "activation_date": date(2020, 1, 15),
        "status": "active",
        "customer_type": "personal",
        "is_foreigner": False,
        "is_blacklisted": False,
        "is_data_card": False,
        "optout_sms": False,
        "optout_outbound": False,
        "optout_app": False,
        "id_region": "lanzhou",
        "handset_model": "Mate 60",
        "handset_network": "5g",
        "handset_since": date(2024, 1, 1),
        "contract_type": "none",
        "contract_end": None,
        "monthly_fee": 128.0,
        "payment_method": "cash",
    }
    return row | overrides


def call(msisdn: str, at: datetime, seconds: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "msisdn": msisdn,
        "start_time": at,
        "direction": "mo",
        "duration_s": seconds,
        "other_party": "13900000000",
        "cell_id": "A1B2",
        "roaming": "none",
        "charge": 0.1,
    }
    return row | overrides


def product(product_id: str, kind: str, category: str, fee: float) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name_zh": product_id,
        "name_en": product_id,
        "kind": kind,
        "category": category,
        "monthly_fee": fee,
        "brand": None,
    }


def subscription(msisdn: str, product_id: str, status: str = "active") -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "product_id": product_id,
        "start_date": date(2026, 1, 1),
        "end_date": None,
        "status": status,
    }


def bill(msisdn: str, month: date, total: float) -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "bill_month": month,
        "plan_fee": total,
        "voice_fee": 0.0,
        "data_fee": 0.0,
        "sms_fee": 0.0,
        "vas_fee": 0.0,
        "roaming_fee": 0.0,
        "total": total,
        "arrears": 0.0,
    }
