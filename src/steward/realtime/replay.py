"""Events from the synthetic province (or any loaded day): what its feeds would have sent.

A day of the lake becomes the events its source systems would have raised that day:
recharges (with the day's closing balance), low balances, the first roaming data session,
birthdays and contracts 30, 15 or 7 days from their end. Set-based: one SQL query a kind.
Ids are stable (``rp-<day>-<kind>-<key>``), so replaying a day twice adds nothing.

By default the day is compressed into the minute before ``now``, in its own order, so a
replay acts like a live feed; ``keep_time`` keeps the original moments (then triggers with a
short response window see the events as late, as they would be).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.lake.service import Lake

LOW_BALANCE = 5.0
CONTRACT_DAYS = (30, 15, 7)
COMPRESSED_INTO = timedelta(minutes=1)


def _recharges(lake: Lake, session: Session, day: date) -> str | None:
    recharge = lake.relation(session, "recharge")
    if recharge is None:
        return None
    balance = lake.relation(session, "balance")
    closing = (
        f"(SELECT msisdn, balance FROM {balance} WHERE balance_date = DATE '{day}')"
        if balance is not None
        else "(SELECT NULL::VARCHAR AS msisdn, NULL::DOUBLE AS balance WHERE FALSE)"
    )
    return f"""
        SELECT 'rp-{day:%Y%m%d}-rc-' || r.recharge_id AS id, 'recharge' AS type, r.msisdn,
               CAST(r.recharge_time AS TIMESTAMP) AS "at",
               json_object('amount', round(r.amount, 2),
                           'balance_after', round(coalesce(b.balance, r.amount), 2),
                           'channel', r.channel) AS params
        FROM {recharge} r LEFT JOIN {closing} b USING (msisdn)
        WHERE CAST(r.recharge_time AS DATE) = DATE '{day}'"""


def _low_balances(lake: Lake, session: Session, day: date) -> str | None:
    """Prepaid lines closing the day under the threshold (postpaid lines run on credit)."""
    balance, profile = lake.relation(session, "balance"), lake.relation(session, "profile")
    if balance is None or profile is None:
        return None
    return f"""
        SELECT 'rp-{day:%Y%m%d}-bl-' || b.msisdn AS id, 'balance_low' AS type, b.msisdn,
               CAST(DATE '{day}' AS TIMESTAMP) + INTERVAL 20 HOUR AS "at",
               json_object('balance', round(b.balance, 2), 'threshold', {LOW_BALANCE}) AS params
        FROM {balance} b
        SEMI JOIN (SELECT msisdn FROM {profile} WHERE payment_type = 'prepaid') p USING (msisdn)
        WHERE b.balance_date = DATE '{day}' AND b.balance < {LOW_BALANCE}
          AND b.balance >= -1000"""


def _roaming(lake: Lake, session: Session, day: date) -> str | None:
    data = lake.relation(session, "data")
    if data is None:
        return None
    return f"""
        SELECT 'rp-{day:%Y%m%d}-ro-' || msisdn AS id, 'roaming_entry' AS type, msisdn,
               CAST(min(start_time) AS TIMESTAMP) AS "at",
               json_object('cell_id', arg_min(cell_id, start_time),
                           'province', 'outside home') AS params
        FROM {data}
        WHERE CAST(start_time AS DATE) = DATE '{day}' AND roaming = 'domestic'
        GROUP BY msisdn"""


def _calendar(lake: Lake, session: Session, day: date) -> str | None:
    profile = lake.relation(session, "profile")
    if profile is None:
        return None
    parts = [
        f"""
        SELECT 'rp-{day:%Y%m%d}-bd-' || msisdn AS id, 'birthday' AS type, msisdn,
               CAST(DATE '{day}' AS TIMESTAMP) + INTERVAL 9 HOUR AS "at",
               json_object('birth_date', CAST(birth_date AS VARCHAR),
                           'age', date_diff('year', birth_date, DATE '{day}')) AS params
        FROM (SELECT DISTINCT msisdn, birth_date FROM {profile})
        WHERE month(birth_date) = {day.month} AND day(birth_date) = {day.day}"""
    ]
    days = ", ".join(str(n) for n in CONTRACT_DAYS)
    parts.append(f"""
        SELECT 'rp-{day:%Y%m%d}-ce-' || msisdn AS id, 'contract_expiring' AS type, msisdn,
               CAST(DATE '{day}' AS TIMESTAMP) + INTERVAL 9 HOUR AS "at",
               json_object('contract_id', 'K' || msisdn,
                           'expires_on', CAST(max(contract_end) AS VARCHAR),
                           'days_left', date_diff('day', DATE '{day}', max(contract_end))) AS params
        FROM {profile}
        WHERE contract_end IS NOT NULL
        GROUP BY msisdn
        HAVING date_diff('day', DATE '{day}', max(contract_end)) IN ({days})""")
    return " UNION ALL ".join(parts)


def day_events(
    session: Session,
    lake: Lake,
    day: date,
    *,
    now: datetime | None = None,
    keep_time: bool = False,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The day's events as raw JSON-ready dicts, oldest first."""
    parts = [
        q
        for q in (
            _recharges(lake, session, day),
            _low_balances(lake, session, day),
            _roaming(lake, session, day),
            _calendar(lake, session, day),
        )
        if q is not None
    ]
    if not parts:
        return
    query = " UNION ALL ".join(f"({p})" for p in parts) + ' ORDER BY "at", id'
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    table = lake.engine.query(query)
    if table.num_rows == 0:
        return
    times = table["at"].to_pylist()
    shift = _compressor(times, now or datetime.now(UTC), keep_time)
    for row, at in zip(table.drop_columns(["at"]).to_pylist(), times, strict=True):
        yield row | {"at": shift(at).isoformat(), "params": _params(row["params"])}


def _compressor(times: list[datetime], now: datetime, keep_time: bool) -> Any:
    first, last = min(times), max(times)
    span = (last - first) or timedelta(seconds=1)

    def shift(at: datetime) -> datetime:
        if keep_time:
            return at.replace(tzinfo=UTC)
        return now - COMPRESSED_INTO * ((last - at) / span)

    return shift


def _params(value: Any) -> dict[str, Any]:
    found = json.loads(value) if isinstance(value, str) else dict(value)
    return {k: v for k, v in found.items() if v is not None}
