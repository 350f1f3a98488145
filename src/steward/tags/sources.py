"""Where tags come from: each source is a lake table (or a join) with a time semantics.

The compiler asks a source for a FROM-clause over the right partitions for an as-of date and
a window; the catalogue names sources by these keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from steward.ingest.schemas import INTERFACES, FieldType


class SourceKind(StrEnum):
    SNAPSHOT = "snapshot"  # latest partition on or before the as-of date
    DAILY = "daily"  # partitions of the N days ending on the as-of date
    MONTHLY = "monthly"  # bill months: the N complete months before the as-of month
    DERIVED = "derived"  # expressions over other tags


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    kind: SourceKind
    many_rows: bool  # True: a subscriber has many rows, expressions must aggregate
    columns: dict[str, FieldType]
    # A snapshot table joined for its attributes: (table, join column, columns it adds).
    join: tuple[str, str, dict[str, FieldType]] | None = None
    row_filter: str | None = None
    optional: bool = False  # may not exist yet: its tags are empty (NULL or default)
    time_column: str | None = None


def _columns(interface: str) -> dict[str, FieldType]:
    return {f.name: f.type for f in INTERFACES[interface].fields}


def _daily(name: str, time_column: str) -> Source:
    return Source(name, name, SourceKind.DAILY, True, _columns(name), time_column=time_column)


LEDGER_COLUMNS: dict[str, FieldType] = {
    "msisdn": FieldType.TEXT,
    "contact_time": FieldType.TIMESTAMP,
    "channel": FieldType.TEXT,
    "campaign_id": FieldType.TEXT,
    "status": FieldType.TEXT,
}

# The model_scores columns; steward.mining.service writes exactly these (a test holds them).
PROPENSITY_CATEGORIES = (
    "data",
    "voice",
    "family",
    "handset",
    "retention",
    "roaming",
    "content",
    "vas",
    "broadband",
)
SCORE_COLUMNS: dict[str, FieldType] = {
    "msisdn": FieldType.TEXT,
    "health_score": FieldType.FLOAT,
    "churn_30d": FieldType.FLOAT,
    "churn_reasons": FieldType.TEXT,
    "churn_60d": FieldType.FLOAT,
    **{f"propensity_{c}": FieldType.FLOAT for c in PROPENSITY_CATEGORIES},
    "household_id": FieldType.TEXT,
    "household_size": FieldType.INT,
    "is_student_likely": FieldType.BOOL,
    "is_migrant_likely": FieldType.BOOL,
    "upgrade_potential": FieldType.FLOAT,
    "preferred_channel": FieldType.TEXT,
    "preferred_channel_source": FieldType.TEXT,
    "lifetime_months": FieldType.FLOAT,
    "lifetime_value": FieldType.FLOAT,
}

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("profile", "profile", SourceKind.SNAPSHOT, False, _columns("profile")),
        Source(
            "subscription",
            "subscription",
            SourceKind.SNAPSHOT,
            True,
            _columns("subscription"),
            join=(
                "product",
                "product_id",
                {k: v for k, v in _columns("product").items() if k != "product_id"},
            ),
            row_filter="status = 'active'",
        ),
        _daily("voice", "start_time"),
        _daily("data", "start_time"),
        _daily("sms", "send_time"),
        _daily("recharge", "recharge_time"),
        _daily("balance", "balance_date"),
        _daily("complaint", "created_at"),
        _daily("contact", "contact_time"),
        Source("bill", "bill", SourceKind.MONTHLY, True, _columns("bill")),
        # The contact ledger is written to the lake by the campaign loop; until then, empty.
        Source(
            "ledger",
            "contact_ledger",
            SourceKind.DAILY,
            True,
            LEDGER_COLUMNS,
            optional=True,
            time_column="contact_time",
        ),
        # Scores of the published models (steward.mining), written before the tags each day.
        Source(
            "scores",
            "model_scores",
            SourceKind.SNAPSHOT,
            False,
            SCORE_COLUMNS,
            optional=True,
        ),
        Source("derived", "", SourceKind.DERIVED, False, {}),
    )
}
