"""A small operator world written straight to the lake, with a known answer: lines without
a contract leave, and fade in their bills for the 90 days before; lines on a two-year
contract stay. Some lines leave after the profile's day (``will_leave``): the truth a score
made on that day is checked against. Everything is SQL over ``range``, so the world is the
same on every run."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from steward.lake.service import Lake

PROFILE_DAY = date(2026, 11, 1)
LINES = 4000


def _hash(column: str, salt: int) -> str:
    return f"(hash({column} * 7919 + {salt}) % 1000)"


def build(session: Session, lake: Lake, *, lines: int = LINES) -> None:
    """Profile, subscriptions, products and six months of bills as of ``PROFILE_DAY``."""
    leaves = f"(i % 2 = 0 AND {_hash('i', 1)} < 400)"  # 40 % of the contract-free lines
    # 10 % more will leave in the 30 days after the profile: active, but already fading
    later = f"(i % 2 = 0 AND {_hash('i', 1)} BETWEEN 400 AND 499)"
    left_on = (
        f"CASE WHEN {later} THEN DATE '{PROFILE_DAY}' + CAST({_hash('i', 2)} % 30 + 1 AS INTEGER)"
        f" ELSE DATE '{PROFILE_DAY}' - CAST({_hash('i', 2)} % 180 + 1 AS INTEGER) END"
    )
    lake.write(
        session,
        "product",
        PROFILE_DAY,
        "0",
        "SELECT 'P1' AS product_id, 'plan' AS kind, 'voice' AS category, 58.0 AS monthly_fee "
        "UNION ALL SELECT 'D1', 'data_pack', 'data', 20.0",
    )
    lines_sql = f"""
      SELECT i, '1380000' || lpad(CAST(i AS VARCHAR), 4, '0') AS msisdn,
        {leaves} AS leaves, {later} AS later, {left_on} AS left_on FROM range({lines}) t(i)"""
    lake.write(
        session,
        "profile",
        PROFILE_DAY,
        "0",
        f"""SELECT msisdn, DATE '2019-01-01' + CAST(i % 900 AS INTEGER) AS activation_date,
          CASE WHEN i % 2 = 0 THEN NULL ELSE DATE '2027-06-30' END AS contract_end,
          DATE '1980-01-01' + CAST(i % 9000 AS INTEGER) AS birth_date,
          58.0 AS monthly_fee, 'gotone' AS brand, 'none' AS vip_level,
          CASE WHEN i % 3 = 0 THEN 'prepaid' ELSE 'postpaid' END AS payment_type,
          CASE WHEN i % 2 = 0 THEN 'none' ELSE 'two_year' END AS contract_type,
          'personal' AS customer_type,
          CASE WHEN leaves THEN 'cancelled' ELSE 'active' END AS status
        FROM ({lines_sql})""",
    )
    lake.write(
        session,
        "subscription",
        PROFILE_DAY,
        "0",
        f"""SELECT msisdn, 'P1' AS product_id, DATE '2019-01-01' AS start_date,
          CASE WHEN leaves THEN left_on END AS end_date,
          CASE WHEN leaves THEN 'ended' ELSE 'active' END AS status
        FROM ({lines_sql})
        UNION ALL
        SELECT msisdn, 'D1', DATE '2026-01-01', NULL, 'active'
        FROM ({lines_sql}) WHERE i % 5 = 0""",
    )
    for month in range(5, 12):
        first = date(2026, month, 1)
        mid = f"DATE '{first}' + 15"
        fade = f"greatest(0, 1 - date_diff('day', {mid}, left_on) / 90.0)"
        lake.write(
            session,
            "bill",
            first,
            "0",
            f"""SELECT msisdn, DATE '{first}' AS bill_month,
              CASE WHEN leaves AND left_on < DATE '{first}' THEN 0.0
                   WHEN leaves OR later THEN 100.0 * (1 - 0.7 * {fade}) ELSE 100.0 END
                + {_hash("i", 3 + month)} / 50.0 AS total,
              10.0 AS data_fee, 0.0 AS roaming_fee, 0.0 AS arrears
            FROM ({lines_sql})""",
        )


def will_leave(msisdn: str) -> bool:
    """The hidden truth: this active line leaves in the 30 days after the profile."""
    import duckdb

    i = int(msisdn[-4:])
    (h,) = duckdb.sql(f"SELECT {_hash(str(i), 1)}").fetchall()[0]
    return i % 2 == 0 and 400 <= h <= 499


def snapshot(session: Session, lake: Lake, day: date) -> None:
    """A profile snapshot of the world as of ``day`` with the tags propensity reads."""
    from steward.mining import propensity

    numbers = [
        f"date_diff('year', birth_date, DATE '{day}') AS age"
        if c == "age"
        else f"date_diff('day', activation_date, DATE '{day}') / 30.4 AS {c}"
        if c == "tenure_months"
        else f"CAST(NULL AS DOUBLE) AS {c}"
        for c in propensity.NUMERIC
    ]
    texts = [
        c if c in ("brand", "vip_level", "payment_type", "contract_type") else f"NULL AS {c}"
        for c in propensity.CATEGORICAL
    ]
    lake.write(
        session,
        "profile_snapshot",
        day,
        "0",
        f"SELECT msisdn, {', '.join(numbers + texts)} FROM {lake.relation(session, 'profile')}",
    )
