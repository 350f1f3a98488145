"""The segment, channel and value models scored every day beside the published ones, into
the same ``model_scores`` partition, so they are tags like any other (issue 7 §2).

They describe rather than predict a decision, so they run without a sign-off: households
from the call graph of the last 30 days, students and migrants, handset-upgrade potential
(R-MINE-5), the preferred channel (R-MINE-4: observed shares for frequent contacters, a
model for the rest) and the remaining lifetime and lifetime value from the published
30-day churn probability (R-MINE-6). A model whose sources are not delivered yet leaves its
columns empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.mining import channels, households, lifestyle, value

CALL_DAYS = 30  # the call graph's window
CONTACT_DAYS = 90  # the contact and complaint window of the channel preference

COLUMNS: dict[str, pa.DataType] = {
    "household_id": pa.string(),
    "household_size": pa.int64(),
    "is_student_likely": pa.bool_(),
    "is_migrant_likely": pa.bool_(),
    "upgrade_potential": pa.float64(),
    "preferred_channel": pa.string(),
    "preferred_channel_source": pa.string(),
    "lifetime_months": pa.float64(),
    "lifetime_value": pa.float64(),
}


def columns(
    session: Session, lake: Lake, *, base: pa.Table, churn_30d: pa.Array, as_of: date
) -> dict[str, pa.Array]:
    """Every column of ``COLUMNS`` for the lines of ``base`` (in its order)."""
    sources = _Sources(session, lake, as_of)
    lake.engine.register("steward_base", base.select(["msisdn"]))
    lake.engine.register(
        "steward_churn", pa.table({"msisdn": base.column("msisdn"), "p": churn_30d})
    )
    found: dict[str, pa.Array] = {}
    for compute in (_households_and_lifestyle, _channels, _value):
        found |= compute(lake, sources, as_of)
    return {name: found.get(name, pa.nulls(base.num_rows, kind)) for name, kind in COLUMNS.items()}


class _Sources:
    """FROM-expressions of the windows the models read (None when nothing is delivered)."""

    def __init__(self, session: Session, lake: Lake, as_of: date) -> None:
        def window(table: str, days: int) -> str | None:
            first = as_of - timedelta(days=days - 1)
            files = lake.files(session, table, days=(first, as_of))
            return lake.engine.scan_parquet(files) if files else None

        latest = lake.latest_day(session, "profile", as_of)
        profile = lake.files(session, "profile", days=(latest, latest)) if latest else []
        self.profile = lake.engine.scan_parquet(profile) if profile else None
        self.voice = window("voice", CALL_DAYS)
        self.sms = window("sms", CALL_DAYS)
        self.contacts = window("contact", CONTACT_DAYS)
        self.complaints = window("complaint", CONTACT_DAYS)
        self.bills = lake.relation(session, "bill")


_Model = Callable[[Lake, _Sources, date], dict[str, pa.Array]]


def _aligned(lake: Lake, table: pa.Table, names: dict[str, str]) -> dict[str, pa.Array]:
    """``table``'s columns (renamed by ``names``) in the order of the base's lines."""
    lake.engine.register("steward_found", table)
    picked = ", ".join(f'f."{old}" AS "{new}"' for old, new in names.items())
    aligned = lake.engine.query(
        f"SELECT {picked} FROM (SELECT msisdn, row_number() OVER () AS n FROM steward_base) b "
        "LEFT JOIN steward_found f USING (msisdn) ORDER BY b.n"
    )
    return {new: aligned.column(new).combine_chunks().cast(COLUMNS[new]) for new in names.values()}


def _households_and_lifestyle(lake: Lake, s: _Sources, as_of: date) -> dict[str, pa.Array]:
    if s.voice is None or s.profile is None:
        return {}
    edges = households.call_graph(lake.engine, s.voice, s.sms, subscribers=s.profile)
    homes = households.households(edges)
    found = _aligned(
        lake, homes, {"household_id": "household_id", "household_size": "household_size"}
    )
    lake.engine.register("steward_households", homes)
    segments = lifestyle.lifestyle(
        lake.engine,
        profile=s.profile,
        voice=s.voice,
        as_of=as_of,
        households="steward_households",
    )
    names = {
        "is_student_likely": "is_student_likely",
        "is_migrant_likely": "is_migrant_likely",
        "upgrade_potential": "upgrade_potential",
    }
    return found | _aligned(lake, segments, names)


def _channels(lake: Lake, s: _Sources, as_of: date) -> dict[str, pa.Array]:
    if s.contacts is None or s.complaints is None or s.profile is None:
        return {}
    preferred = channels.preferred_channels(
        lake.engine,
        contacts=s.contacts,
        complaints=s.complaints,
        profile=s.profile,
        as_of=as_of,
    )
    names = {"preferred_channel": "preferred_channel", "source": "preferred_channel_source"}
    found = _aligned(lake, preferred, names)
    known = pc.is_valid(found["preferred_channel"])  # no answer: no source either
    found["preferred_channel_source"] = pc.if_else(
        known, found["preferred_channel_source"], pa.scalar(None, pa.string())
    )
    return found


def _value(lake: Lake, s: _Sources, as_of: date) -> dict[str, pa.Array]:
    if s.bills is None:
        return {}
    worth = value.customer_value(
        lake.engine,
        bills=s.bills,
        churn="(SELECT msisdn, p AS churn_probability FROM steward_churn WHERE p IS NOT NULL)",
        as_of=as_of,
    )
    names = {"lifetime_months": "lifetime_months", "lifetime_value": "lifetime_value"}
    return _aligned(lake, worth, names)
