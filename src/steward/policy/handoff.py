"""The second check, at hand-off to a channel (R-POL-4): caps and opt-outs, again.

Between the day's plan and the moment a contact is handed to its channel, the world moves: a
subscriber replies TD to another message, an online decision spends a unit. So the channel
steps ask, for the contacts they are about to hand over, which may no longer go — set-based,
over the ledger's units (each contact's own unit included: over the cap means more units
than the cap allows) and the opt-out list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from steward.contacts import service as ledger
from steward.lake.service import Lake
from steward.policy import dnd
from steward.policy.arbitration import MARKETING, opt_out_list, period_start
from steward.policy.config import Policy
from steward.rules import parse_rule, to_sql
from steward.tags import service as tags
from steward.tags.schemas import TagCatalogue

AT_HANDOFF = "at hand-off"


def recheck(
    session: Session,
    lake: Lake,
    catalogue: TagCatalogue,
    policy: Policy,
    *,
    day: date,
    contacts: Sequence[Mapping[str, Any]],
) -> dict[str, str]:
    """contact_key → why the contact may no longer be handed over (absent: it may)."""
    if not contacts:
        return {}
    engine = lake.engine
    engine.register(
        "handoff_due",
        pa.table(
            {
                "contact_key": [str(c["contact_key"]) for c in contacts],
                "msisdn": [str(c["msisdn"]) for c in contacts],
                "channel": [str(c["channel"]) for c in contacts],
                "kind": [str(c["kind"]) for c in contacts],
            }
        ),
    )
    since = min(period_start(day, p) for p in policy.caps.periods.values())
    engine.register("handoff_units", ledger.holding_units(session, since=since, until=day))
    engine.register("handoff_listed", opt_out_list(session))
    latest = tags.latest_snapshot(session, lake, day)
    profile = latest[1] if latest is not None else "(SELECT NULL::VARCHAR AS msisdn WHERE FALSE)"
    rows = engine.query(_query(catalogue, policy, day, profile, engine.dialect)).to_pylist()
    return {str(r["contact_key"]): f"{r['reason']} {AT_HANDOFF}" for r in rows}


def _query(catalogue: TagCatalogue, policy: Policy, day: date, profile: str, dialect: str) -> str:
    types = tags.rule_types(catalogue)
    classes = " ".join(
        f"WHEN {to_sql(parse_rule(rule, types), dialect=dialect)} THEN '{name}'"
        for name, rule in policy.caps.classes.items()
    )
    periods = policy.caps.periods
    outside = ", ".join(f"'{c.value}'" for c in policy.caps.outside_overall) or "''"
    overall_since = period_start(day, periods["overall"]).isoformat()
    channel_since = " ".join(
        f"WHEN '{k}' THEN DATE '{period_start(day, p).isoformat()}'"
        for k, p in periods.items()
        if k != "overall"
    )
    cap = " ".join(
        f"WHEN d.cap_class = '{name}' AND key = '{key}' THEN {limit}"
        for name, row in policy.caps.table.items()
        for key, limit in row.items()
    )
    opt_out_tags = " ".join(
        f"WHEN '{ch.value}' THEN coalesce(p.{tag}, FALSE)" for ch, tag in dnd.OPT_OUT_TAGS.items()
    )
    return f"""
    WITH due AS (
      SELECT h.*, CASE {classes} END AS cap_class,
        CASE h.channel {opt_out_tags} ELSE FALSE END
          OR EXISTS (SELECT 1 FROM handoff_listed l
                     WHERE l.msisdn = h.msisdn AND l.channel = h.channel) AS opted_out
      FROM handoff_due h LEFT JOIN {profile} p ON p.msisdn = h.msisdn
    ),
    used AS (
      SELECT msisdn, channel AS key, count(*) AS n FROM handoff_units
      WHERE kind = '{MARKETING}' AND day >= CASE channel {channel_since} END
      GROUP BY ALL
      UNION ALL
      SELECT msisdn, 'overall' AS key, count(*) AS n FROM handoff_units
      WHERE kind = '{MARKETING}' AND channel NOT IN ({outside})
        AND day >= DATE '{overall_since}'
      GROUP BY ALL
    ),
    over AS (
      SELECT d.contact_key, min(CASE WHEN key = 'overall' THEN 0 ELSE 1 END) AS first,
        arg_min('cap.' || key, CASE WHEN key = 'overall' THEN 0 ELSE 1 END) AS reason
      FROM due d JOIN used u ON u.msisdn = d.msisdn AND (u.key = d.channel OR u.key = 'overall')
      WHERE d.kind = '{MARKETING}' AND u.n > CASE {cap} END
      GROUP BY d.contact_key
    )
    SELECT d.contact_key,
      CASE WHEN d.opted_out THEN 'dnd.{dnd.OPT_OUT}' ELSE o.reason END AS reason
    FROM due d LEFT JOIN over o USING (contact_key)
    WHERE d.opted_out OR o.reason IS NOT NULL
    """
