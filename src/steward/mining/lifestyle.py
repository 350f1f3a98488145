"""Life-stage segments from the delivered files (R-MINE-5, issue 7 §2): students, migrant
workers, and who is due a new handset.

Everything is set-based SQL over the interface files (profile, voice, optionally data and a
household table); nothing here reads the synthetic generator's hidden truth.

* **Students** live where they study: of student age, and either on a campus plan or in one
  place day and night — the most used cell on weekday daytimes is the one used at night
  (a worker's daytime cell is the workplace, elsewhere).
* **Migrant workers** carry an ID card from another region than the city they live in, are
  of working age, are not students, and either live alone or as a couple (no household of
  three or more here) or split their top cells between two cities ("two cities, one home").
  Without a cell-to-city table, records roaming in another part of the country stand for
  the second city.
* **Handset upgrade potential** compares the handset's age with the owner's own replacement
  cycle (the mean gap between the handset changes that the profile snapshots show); when a
  number has no history, with the median cycle of its cohort (age band and brand); when the
  cohort has no history either, with twice its median handset age (in a steady state a
  handset is on average half-way through its cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyarrow as pa

from steward.lake.engine import AnalyticsEngine

STUDENT_AGES = (17, 24)
WORKING_AGES = (18, 55)
MIN_PERIOD_RECORDS = 3  # records a period needs before its top cell means anything
AWAY_SHARE = 0.2  # share of the top cells' records in a second city that makes two homes
TOP_CELLS = 10
MIN_COHORT = 20  # known cycles a cohort needs before its median is trusted
CAMPUS_WORDS = ("campus", "student", "校园", "学生")


def campus_plan_ids(engine: AnalyticsEngine, products: str) -> list[str]:
    """Plans of the product catalogue whose name says campus or student, in any language."""
    words = " OR ".join(
        f"lower(CAST(name_en AS VARCHAR)) LIKE {_text(f'%{w}%')} "
        f"OR CAST(name_zh AS VARCHAR) LIKE {_text(f'%{w}%')}"
        for w in CAMPUS_WORDS
    )
    rows = engine.query(
        f"SELECT DISTINCT CAST(product_id AS VARCHAR) AS product_id FROM {products} "
        f"WHERE CAST(kind AS VARCHAR) = 'plan' AND ({words}) ORDER BY 1"
    )
    return [str(p) for p in rows["product_id"].to_pylist()]


def students(
    engine: AnalyticsEngine,
    *,
    profile: str,
    voice: str,
    as_of: date,
    data: str | None = None,
    campus_plans: Sequence[str] = (),
) -> pa.Table:
    """Who is likely a student living on campus.

    ``profile`` is one snapshot (``msisdn``, ``birth_date``, ``plan_id``, ``is_data_card``);
    ``voice`` and ``data`` give the cells (``start_time``, ``cell_id``). Returns ``msisdn``,
    ``age``, ``campus_plan``, ``stays_put`` (top daytime cell = top night cell) and
    ``is_student_likely``.
    """
    sql = _evidence_sql(profile, voice, data, None, None, as_of, campus_plans)
    return engine.query(
        f"""{sql} SELECT msisdn, age, campus_plan, stays_put, is_student_likely
        FROM evidence ORDER BY msisdn"""
    )


def migrants(
    engine: AnalyticsEngine,
    *,
    profile: str,
    voice: str,
    as_of: date,
    data: str | None = None,
    campus_plans: Sequence[str] = (),
    households: str | None = None,
    cell_cities: str | None = None,
) -> pa.Table:
    """Who is likely a migrant worker.

    Besides ``students``' inputs: ``profile`` needs ``id_region`` and ``city``; the records
    need ``roaming``. ``households`` (a FROM-expression with ``msisdn``, ``household_size``,
    e.g. ``households.households``' result registered in the engine) and ``cell_cities``
    (``cell_id``, ``city``) sharpen the answer when given. Returns ``msisdn``,
    ``id_elsewhere`` (ID region is not the home city), ``two_cities``, ``household_size``
    and ``is_migrant_likely``.
    """
    sql = _evidence_sql(profile, voice, data, households, cell_cities, as_of, campus_plans)
    return engine.query(
        f"""{sql} SELECT msisdn, id_elsewhere, two_cities, household_size, is_migrant_likely
        FROM evidence ORDER BY msisdn"""
    )


def upgrade_potential(
    engine: AnalyticsEngine,
    *,
    profile: str,
    as_of: date,
    history: str | None = None,
    min_cohort: int = MIN_COHORT,
) -> pa.Table:
    """How due each subscriber is for a new handset, 0 (just bought) to 1 (past due).

    ``profile`` is the current snapshot (``msisdn``, ``birth_date``, ``brand``,
    ``handset_since``, ``handset_network``); ``history`` optionally earlier snapshots
    (``msisdn``, ``handset_since``), from which each number's own cycle is read. Returns
    ``msisdn``, ``handset_age_days``, ``cycle_days``, ``cycle_source`` (``own``, ``cohort``,
    ``cohort_age`` or ``everyone_age``), ``upgrade_potential`` = min(1, age / cycle) (NULL
    when the handset is unknown) and ``network_upgrade`` (the handset is not 5G).
    """
    return engine.query(_upgrade_sql(profile, history, as_of, min_cohort))


def lifestyle(
    engine: AnalyticsEngine,
    *,
    profile: str,
    voice: str,
    as_of: date,
    data: str | None = None,
    campus_plans: Sequence[str] = (),
    households: str | None = None,
    cell_cities: str | None = None,
    history: str | None = None,
) -> pa.Table:
    """The three segments in one table: ``msisdn``, ``is_student_likely``,
    ``is_migrant_likely``, ``upgrade_potential`` (arguments as in the three functions)."""
    sql = _evidence_sql(profile, voice, data, households, cell_cities, as_of, campus_plans)
    upgrade = _upgrade_sql(profile, history, as_of, MIN_COHORT)
    return engine.query(
        f"""{sql}, upgrade AS ({upgrade})
        SELECT e.msisdn, e.is_student_likely, e.is_migrant_likely, u.upgrade_potential
        FROM evidence e LEFT JOIN upgrade u USING (msisdn) ORDER BY e.msisdn"""
    )


def _evidence_sql(
    profile: str,
    voice: str,
    data: str | None,
    households: str | None,
    cell_cities: str | None,
    as_of: date,
    campus_plans: Sequence[str],
) -> str:
    """A WITH clause ending in ``evidence``: one row per subscriber, every signal."""
    plans = ", ".join(_text(p) for p in campus_plans) or "NULL"
    sizes = (
        f"SELECT CAST(msisdn AS VARCHAR) AS msisdn, max(household_size) AS household_size "
        f"FROM {households} GROUP BY 1"
        if households
        else "SELECT NULL::VARCHAR AS msisdn, NULL::BIGINT AS household_size WHERE FALSE"
    )
    young, old = STUDENT_AGES
    low, high = WORKING_AGES
    return f"""
    WITH people AS (
      SELECT CAST(msisdn AS VARCHAR) AS msisdn, CAST(city AS VARCHAR) AS city,
        CAST(id_region AS VARCHAR) AS id_region, coalesce(is_data_card, FALSE) AS data_card,
        CAST(plan_id AS VARCHAR) IN ({plans}) AS campus_plan,
        floor(datediff('day', birth_date, {_day(as_of)}) / 365.25) AS age
      FROM {profile}
    ),
    {_places_sql(voice, data, cell_cities)},
    sizes AS ({sizes}),
    joined AS (
      SELECT p.*, coalesce(l.stays_put, FALSE) AS stays_put,
        coalesce(l.away_share >= {AWAY_SHARE}, FALSE) AS two_cities, s.household_size,
        coalesce(p.id_region <> p.city, FALSE) AS id_elsewhere,
        coalesce(p.age BETWEEN {young} AND {old}, FALSE) AND NOT p.data_card
          AND (coalesce(p.campus_plan, FALSE) OR coalesce(l.stays_put, FALSE))
          AS is_student_likely
      FROM people p LEFT JOIN places l USING (msisdn) LEFT JOIN sizes s USING (msisdn)
    ),
    evidence AS (
      SELECT *,
        id_elsewhere AND NOT is_student_likely AND coalesce(age BETWEEN {low} AND {high}, FALSE)
          AND (coalesce(household_size, 1) <= 2 OR two_cities) AS is_migrant_likely
      FROM joined
    )"""


def _places_sql(voice: str, data: str | None, cell_cities: str | None) -> str:
    """CTEs ending in ``places``: top night and weekday-daytime cells, and the share of the
    top cells' records in another city (or, without a cell map, roaming in the country)."""
    located = _located_sql(voice) + (f" UNION ALL {_located_sql(data)}" if data else "")
    if cell_cities:
        away = "coalesce(m.city <> p.city, FALSE)"
        mapped = f"""LEFT JOIN (SELECT CAST(cell_id AS VARCHAR) AS cell,
                       any_value(CAST(city AS VARCHAR)) AS city FROM {cell_cities} GROUP BY 1) m
                     USING (cell)"""
    else:
        away, mapped = "r.roaming = 'domestic'", ""
    return f"""
    located AS ({located}),
    counted AS (
      SELECT msisdn, cell, any_value(roaming) AS roaming,
        count(*) FILTER (WHERE h >= 21 OR h < 7) AS nighttime,
        count(*) FILTER (WHERE h BETWEEN 9 AND 16 AND d <= 5) AS daytime,
        count(*) AS n
      FROM located WHERE cell IS NOT NULL GROUP BY msisdn, cell
    ),
    ranked AS (
      SELECT *, row_number() OVER (PARTITION BY msisdn ORDER BY n DESC, cell) AS top_rank
      FROM counted
    ),
    places AS (
      SELECT r.msisdn,
        -- the most used cell of each period; a tie goes to the higher cell id, every time
        arg_max(r.cell, (r.nighttime, r.cell)) = arg_max(r.cell, (r.daytime, r.cell))
          AND sum(r.nighttime) >= {MIN_PERIOD_RECORDS} AND sum(r.daytime) >= {MIN_PERIOD_RECORDS}
          AS stays_put,
        sum(r.n) FILTER (WHERE r.top_rank <= {TOP_CELLS} AND {away})
          / sum(r.n) FILTER (WHERE r.top_rank <= {TOP_CELLS}) AS away_share
      FROM ranked r LEFT JOIN people p USING (msisdn) {mapped}
      GROUP BY r.msisdn
    )"""


def _located_sql(records: str) -> str:
    return f"""SELECT CAST(msisdn AS VARCHAR) AS msisdn, CAST(cell_id AS VARCHAR) AS cell,
      hour(start_time) AS h, isodow(start_time) AS d, CAST(roaming AS VARCHAR) AS roaming
      FROM {records}"""


def _upgrade_sql(profile: str, history: str | None, as_of: date, min_cohort: int) -> str:
    earlier = (
        f"UNION ALL SELECT CAST(msisdn AS VARCHAR), handset_since FROM {history}" if history else ""
    )
    day = _day(as_of)
    return f"""
    WITH now AS (
      SELECT CAST(msisdn AS VARCHAR) AS msisdn, handset_since,
        CAST(handset_network AS VARCHAR) AS network,
        coalesce(floor(datediff('day', birth_date, {day}) / 3652.5), -1) AS band,
        coalesce(CAST(brand AS VARCHAR), '') AS brand,
        datediff('day', handset_since, {day}) AS handset_age_days
      FROM {profile}
    ),
    changes AS (
      SELECT DISTINCT msisdn, since FROM (
        SELECT msisdn, handset_since AS since FROM now {earlier}
      ) c WHERE since IS NOT NULL
    ),
    own AS (
      SELECT msisdn, datediff('day', min(since), max(since)) / (count(*) - 1) AS own_cycle
      FROM changes GROUP BY msisdn HAVING count(*) >= 2
    ),
    people AS (SELECT n.*, o.own_cycle FROM now n LEFT JOIN own o USING (msisdn)),
    cohorts AS (
      SELECT band, brand, count(own_cycle) AS known, median(own_cycle) AS known_cycle,
        count(handset_age_days) AS aged, 2 * median(handset_age_days) AS age_cycle
      FROM people GROUP BY band, brand
    ),
    everyone AS (SELECT 2 * median(handset_age_days) AS age_cycle FROM people),
    cycles AS (
      SELECT p.msisdn, p.network, p.handset_age_days,
        CASE WHEN p.own_cycle > 0 THEN 'own'
             WHEN c.known >= {min_cohort} THEN 'cohort'
             WHEN c.aged >= {min_cohort} THEN 'cohort_age'
             ELSE 'everyone_age' END AS cycle_source,
        CASE WHEN p.own_cycle > 0 THEN p.own_cycle
             WHEN c.known >= {min_cohort} THEN c.known_cycle
             WHEN c.aged >= {min_cohort} THEN c.age_cycle
             ELSE e.age_cycle END AS cycle_days
      FROM people p JOIN cohorts c USING (band, brand), everyone e
    )
    SELECT msisdn, handset_age_days, round(cycle_days, 1) AS cycle_days, cycle_source,
      -- least/greatest skip NULLs in DuckDB: an unknown handset must stay unknown
      CASE WHEN handset_age_days IS NOT NULL
           THEN round(least(greatest(handset_age_days, 0) / greatest(cycle_days, 1), 1.0), 3)
      END AS upgrade_potential,
      network IS NOT NULL AND network <> '5g' AS network_upgrade
    FROM cycles ORDER BY msisdn"""


def _day(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
