"""The province behaves like one: sourced volumes, every DND category, households, and a
hidden truth that shows in behaviour (so models trained on the files can learn it)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from steward.synth.population import build
from steward.synth.province import Province as World

from .conftest import DAYS, SUBSCRIBERS, Province

SUBSCRIBER_DAYS = SUBSCRIBERS * DAYS
PROVINCE = World()


@pytest.mark.parametrize(
    ("interface", "low", "high"),
    [
        ("voice", 9.0, 15.0),  # R-DATA-3: about 12 a subscriber a day
        ("data", 12.0, 18.0),  # R-DATA-3: about 15
        ("sms", 1.5, 4.0),
        ("recharge", 0.05, 0.2),  # prepaid tops up about every ten days
        ("balance", 1.0, 1.0),
        ("contact", 0.03, 0.09),
    ],
)
def test_daily_volumes_per_subscriber_match_the_sources(
    province: Province, interface: str, low: float, high: float
) -> None:
    per_day = province.summary.rows[interface] / SUBSCRIBER_DAYS
    assert low <= per_day <= high


def test_complaints_and_consultations_run_at_a_few_per_thousand_a_day(province: Province) -> None:
    rates = dict(
        province.sql(
            f"""select kind, count(*) / {SUBSCRIBER_DAYS}
                from '{{out}}/complaint_*.parquet' group by 1"""
        ).fetchall()
    )
    assert 0.0015 <= rates["complaint"] <= 0.005
    assert 0.002 <= rates["consultation"] <= 0.008


def test_every_do_not_disturb_category_is_present(province: Province) -> None:
    """R-POL-2: each category occurs, at a plausible share of subscribers."""
    shares = province.one(
        """
        select avg(optout_sms::int), avg(optout_outbound::int), avg(optout_app::int),
               avg((vip_level in ('diamond', 'gold'))::int), avg((vip_level = 'silver')::int),
               avg((customer_type = 'corporate_group')::int), avg((customer_type = 'staff')::int),
               avg((customer_type = 'government')::int), avg((customer_type = 'special_org')::int),
               avg((customer_type = 'unit_account')::int), avg(is_foreigner::int),
               avg(is_blacklisted::int), avg(is_data_card::int),
               avg((status = 'suspended')::int), avg((status = 'cancelled')::int)
        from '{out}/profile_20261101.parquet'
        """
    )
    assert all(0.0003 <= share <= 0.08 for share in shares), shares
    assert (
        province.scalar(
            "select count(*) from '{out}/profile_20261101.parquet' where vip_level = 'diamond'"
        )
        > 0
    )


def test_complaints_concentrate_so_complaint_sensitivity_can_be_derived() -> None:
    """A few subscribers raise many of the complaints, so repeat complainers appear over a
    month (two days of 20 000 lines expect fewer than one, so this reads the rates)."""
    pop = build(seed=7, chunk=0, lo=0, n=20_000, start=date(2026, 11, 1), province=PROVINCE)
    rate = np.sort(pop.complaint_rate)[::-1]
    assert rate[: len(rate) // 20].sum() > 0.2 * rate.sum()
    month = 30 * rate
    expected_repeaters = float((1 - np.exp(-month) * (1 + month)).sum())
    assert expected_repeaters > 20


def test_vip_levels_are_rare_and_follow_spend(province: Province) -> None:
    levels = dict(
        province.sql(
            """select vip_level, avg(monthly_fee) from '{out}/profile_20261101.parquet'
               group by 1"""
        ).fetchall()
    )
    assert levels["diamond"] > levels["gold"] > levels["silver"] > levels["none"]
    share = province.scalar(
        "select avg((vip_level <> 'none')::int) from '{out}/profile_20261101.parquet'"
    )
    assert 0.03 <= share <= 0.10


def test_households_call_each_other_in_both_directions(province: Province) -> None:
    """R-MINE-5: a housemate's call shows as "mo" for the caller and "mt" for the callee."""
    shares = province.one(
        """
        with members as (select msisdn, household_id, household_size
                         from '{truth}/subscribers.parquet'),
             calls as (select v.msisdn, v.other_party, v.direction, v.start_time,
                              a.household_id = b.household_id as home
                       from '{out}/voice_*.parquet' v
                       join members a on a.msisdn = v.msisdn
                       left join members b on b.msisdn = v.other_party
                       where a.household_size > 1)
        select avg(coalesce(home, false)::int),
               (select count(*) from calls c join calls d
                  on c.home and c.direction = 'mo' and d.direction = 'mt'
                 and d.msisdn = c.other_party and d.other_party = c.msisdn
                 and d.start_time = c.start_time + interval 1 second)
               / (select count(*) from calls where home and direction = 'mo')
        from calls
        """
    )
    home_share, mirrored = shares
    assert 0.15 <= home_share <= 0.6
    assert mirrored > 0.95


def test_data_card_and_cancelled_lines_make_no_calls(province: Province) -> None:
    callers = province.scalar(
        """select count(*) from '{out}/voice_*.parquet' v
           join '{out}/profile_20261101.parquet' p using (msisdn)
           where p.is_data_card or p.status = 'cancelled'"""
    )
    usage = province.scalar(
        """select count(*) from '{out}/data_*.parquet' d
           join '{out}/profile_20261101.parquet' p using (msisdn) where p.status <> 'active'"""
    )
    assert callers == 0
    assert usage == 0


def test_churn_hazard_shows_in_complaints_usage_tenure_and_contracts(province: Province) -> None:
    by_decile = province.sql(
        """
        with t as (select msisdn, ntile(10) over (order by churn_hazard_30d) as decile
                   from '{truth}/subscribers.parquet'),
             c as (select msisdn, count(*) as n from '{out}/complaint_*.parquet'
                   where kind = 'complaint' group by 1),
             v as (select msisdn, count(*) as n from '{out}/voice_*.parquet' group by 1),
             b as (select msisdn, total from '{out}/bill_20261001.parquet')
        select decile, avg(coalesce(c.n, 0)), avg(coalesce(v.n, 0)),
               avg(date '2026-11-01' - p.activation_date),
               avg((p.contract_type in ('none', 'monthly'))::int), avg(b.total)
        from t join '{out}/profile_20261101.parquet' p using (msisdn)
        left join c using (msisdn) left join v using (msisdn) join b using (msisdn)
        where decile in (1, 10) group by decile order by decile
        """
    ).fetchall()
    low, high = by_decile
    assert high[1] > 3 * low[1]  # complaints
    assert high[2] < 0.85 * low[2]  # recent usage
    assert high[3] < low[3]  # tenure
    assert high[4] > low[4]  # month-to-month
    assert high[5] < low[5]  # ARPU


def test_churners_fade_before_they_leave(province: Province) -> None:
    """Lines that churn in the window use less than the rest, and nothing after leaving."""
    usage = dict(
        province.sql(
            """
            with t as (select msisdn, churn_date is not null as churns
                       from '{truth}/subscribers.parquet' where churn_hazard_30d < 1)
            select churns, count(d.msisdn) / count(distinct t.msisdn)
            from t left join '{out}/data_*.parquet' d using (msisdn) group by 1
            """
        ).fetchall()
    )
    assert usage[True] < 0.8 * usage[False]
    after = province.scalar(
        """select count(*) from '{out}/voice_*.parquet' v join '{truth}/subscribers.parquet' t
           using (msisdn) where v.start_time >= t.churn_date"""
    )
    assert after == 0


def test_preferred_channel_takes_most_contacts(province: Province) -> None:
    share = province.scalar(
        """select avg((c.channel = t.preferred_channel)::int)
           from '{out}/contact_*.parquet' c join '{truth}/subscribers.parquet' t using (msisdn)"""
    )
    assert share > 0.45


def test_data_affinity_means_more_bytes(province: Province) -> None:
    quartiles = province.sql(
        """
        with t as (select msisdn, ntile(4) over (order by affinity_data) as q
                   from '{truth}/subscribers.parquet'),
             d as (select msisdn, sum(bytes_down) as b from '{out}/data_*.parquet' group by 1)
        select q, avg(coalesce(b, 0)) from t left join d using (msisdn) group by q order by q
        """
    ).fetchall()
    volumes = [v for _, v in quartiles]
    assert volumes == sorted(volumes)
    assert volumes[-1] > 3 * volumes[0]


def test_segments_are_visible_in_the_profile(province: Province) -> None:
    row = province.one(
        """
        select avg((p.brand = 'mzone')::int) filter (where t.is_student),
               avg((p.brand = 'mzone')::int) filter (where not t.is_student),
               avg((p.id_region <> p.city)::int) filter (where t.is_migrant),
               avg((p.id_region <> p.city)::int) filter (where not t.is_migrant),
               avg((p.brand = 'gotone')::int) filter (where p.payment_type = 'postpaid'),
               avg(t.is_roamer::int)
        from '{out}/profile_20261101.parquet' p join '{truth}/subscribers.parquet' t
        using (msisdn)
        """
    )
    student_mzone, other_mzone, migrant_away, local_away, postpaid_gotone, roamers = row
    assert student_mzone > 2 * other_mzone
    assert migrant_away > 0.95 > 0.2 > local_away
    assert postpaid_gotone > 0.5
    assert 0.02 <= roamers <= 0.12
    roaming = province.scalar(
        """select avg((v.roaming <> 'none')::int) from '{out}/voice_*.parquet' v
           join '{truth}/subscribers.parquet' t using (msisdn) where t.is_roamer"""
    )
    assert roaming > 0.1


def test_calls_follow_the_daily_curve(province: Province) -> None:
    hours = dict(
        province.sql(
            "select hour(start_time), count(*) from '{out}/voice_*.parquet' group by 1"
        ).fetchall()
    )
    night = hours[3] + hours[4]
    assert hours[10] > 10 * night / 2
    assert hours[20] > 10 * night / 2


def test_balances_carry_over_recharges_and_spend(province: Province) -> None:
    """Next day's balance = balance + recharges - rent - usage charges, for live lines."""
    off = province.scalar(
        """
        with fees as (select s.msisdn, sum(p.monthly_fee) / 30 as rent
                      from '{out}/subscription_20261101.parquet' s
                      join '{out}/product_20261101.parquet' p using (product_id)
                      where s.status = 'active' group by 1),
             usage as (select msisdn, sum(charge) as charge from (
                         select msisdn, charge from '{out}/voice_20261102.parquet'
                         union all select msisdn, charge from '{out}/data_20261102.parquet'
                         union all select msisdn, charge from '{out}/sms_20261102.parquet')
                       group by 1),
             paid as (select msisdn, sum(amount) as amount from '{out}/recharge_20261102.parquet'
                      group by 1)
        select max(abs(b2.balance - (b1.balance + coalesce(paid.amount, 0) - fees.rent
                                     - coalesce(usage.charge, 0))))
        from '{out}/balance_20261101.parquet' b1
        join '{out}/balance_20261102.parquet' b2 using (msisdn)
        join '{out}/profile_20261101.parquet' p using (msisdn)
        join '{truth}/subscribers.parquet' t using (msisdn)
        join fees using (msisdn) left join usage using (msisdn) left join paid using (msisdn)
        where p.status = 'active' and (t.churn_date is null or t.churn_date > date '2026-11-02')
          and abs(b2.balance) < 99999
        """
    )
    assert off <= 0.02
