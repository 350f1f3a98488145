"""Tag refresh on a small hand-made lake: windows, snapshots, joins, defaults, derived tags."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.tags import batch, service
from steward.tags.schemas import TagCatalogue
from tests.tags import factories as f

AS_OF = date(2026, 11, 30)
A, B = "13800000001", "13800000002"


@pytest.fixture
def catalogue() -> TagCatalogue:
    return service.load_catalogue()


def snapshot(
    session: Session, lake: Lake, catalogue: TagCatalogue, as_of: date = AS_OF
) -> dict[str, dict[str, Any]]:
    service.refresh(session, lake, catalogue, as_of)
    latest = service.latest_snapshot(session, lake)
    assert latest is not None
    rows = lake.engine.query(f"SELECT * FROM {latest[1]}").to_pylist()
    return {r["msisdn"]: r for r in rows}


def base(session: Session, lake: Lake, day: date = date(2026, 11, 1)) -> None:
    f.publish(
        session,
        lake,
        "profile",
        day,
        [
            f.profile(A),
            f.profile(
                B,
                brand="mzone",
                birth_date=None,
                status="suspended",
                vip_level="silver",
                id_region="tianshui",
            ),
        ],
    )


def test_the_catalogue_covers_the_sources_dictionaries(catalogue: TagCatalogue) -> None:
    names = {t.name for t in catalogue.tags}
    assert len(names) >= 80
    dnd = {n for n in names if n.startswith("dnd_")}
    assert {
        "dnd_optout_sms",
        "dnd_vip_diamond_gold",
        "dnd_vip_silver",
        "dnd_corporate_group",
        "dnd_staff",
        "dnd_government",
        "dnd_special_org",
        "dnd_unit_account",
        "dnd_foreigner",
        "dnd_blacklisted",
        "dnd_data_card",
        "dnd_suspended",
        "dnd_cancelled",
    } <= dnd
    assert {
        "complaint_sensitive",
        "arpu_1m",
        "arpu_3m",
        "arpu_6m",
        "arpu_trend",
        "city",
        "county",
        "tenure_months",
        "handset_age_months",
        "birth_month",
        "voice_minutes_evening_30d",
        "contacts_sms_30d",
        "has_data_pack",
    } <= names


def test_daily_windows_count_only_their_days(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake)
    for day, seconds in [
        (date(2026, 11, 30), 60),
        (date(2026, 11, 24), 120),
        (date(2026, 11, 1), 600),
        (date(2026, 10, 31), 6000),
    ]:
        at = datetime(day.year, day.month, day.day, 20, 0)
        f.publish(session, lake, "voice", day, [f.call(A, at, seconds)])
    tags = snapshot(session, lake, catalogue)
    assert tags[A]["voice_calls_7d"] == 2
    assert tags[A]["voice_minutes_7d"] == pytest.approx(3.0)
    assert tags[A]["voice_calls_30d"] == 3  # 31 October is outside the 30 days
    assert tags[A]["voice_minutes_evening_30d"] == pytest.approx(13.0)
    assert tags[A]["voice_minutes_morning_30d"] == 0
    assert tags[B]["voice_calls_30d"] == 0  # no rows: the default, not NULL
    assert tags[B]["avg_call_seconds_30d"] is None  # no default: NULL


def test_profile_tags_read_the_latest_snapshot_on_or_before_the_date(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake, date(2026, 11, 1))
    f.publish(session, lake, "profile", date(2026, 12, 1), [f.profile(A, brand="easyown")])
    tags = snapshot(session, lake, catalogue)
    assert set(tags) == {A, B}
    assert tags[A]["brand"] == "gotone"
    assert tags[A]["age"] == 36
    assert tags[A]["birthday_this_month"] is True
    assert tags[A]["tenure_months"] == 82
    assert tags[B]["age"] is None
    assert tags[B]["age_band"] is None
    assert tags[B]["dnd_suspended"]
    assert tags[B]["dnd_vip_silver"]
    assert tags[B]["is_migrant"]
    assert not tags[A]["dnd_suspended"]


def test_subscriptions_join_the_catalogue_and_only_active_ones_count(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake)
    f.publish(
        session,
        lake,
        "product",
        date(2026, 11, 1),
        [
            f.product("PLAN_GT_128", "plan", "voice", 128),
            f.product("DP_10GB", "data_pack", "data", 30),
            f.product("CT_VIDEO", "vas", "content", 15),
        ],
    )
    f.publish(
        session,
        lake,
        "subscription",
        date(2026, 11, 1),
        [
            f.subscription(A, "PLAN_GT_128"),
            f.subscription(A, "DP_10GB"),
            f.subscription(A, "CT_VIDEO", status="ended"),
            f.subscription(B, "PLAN_GT_128"),
        ],
    )
    tags = snapshot(session, lake, catalogue)
    assert (tags[A]["has_data_pack"], tags[A]["has_content"]) == (True, False)
    assert (tags[A]["active_products"], tags[A]["addon_fee"]) == (2, 30.0)
    assert (tags[B]["has_data_pack"], tags[B]["addon_fee"]) == (False, 0.0)


def test_bill_windows_take_complete_months_before_the_as_of_month(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake)
    for month, total in [
        (date(2026, 11, 1), 999.0),
        (date(2026, 10, 1), 100.0),
        (date(2026, 9, 1), 50.0),
        (date(2026, 8, 1), 30.0),
        (date(2026, 5, 1), 20.0),
        (date(2026, 4, 1), 1.0),
    ]:
        f.publish(session, lake, "bill", month, [f.bill(A, month, total)])
    tags = snapshot(session, lake, catalogue)
    assert tags[A]["arpu_1m"] == 100.0
    assert tags[A]["arpu_3m"] == pytest.approx(60.0)
    assert tags[A]["arpu_6m"] == pytest.approx(50.0)
    assert tags[A]["arpu_trend"] == pytest.approx(2.0)
    assert tags[B]["arpu_1m"] is None
    assert tags[B]["arpu_trend"] is None


def test_contact_history_tags_are_empty_until_the_ledger_exists(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake)
    tags = snapshot(session, lake, catalogue)
    assert tags[A]["contacts_30d"] == 0
    assert tags[A]["last_contacted_date"] is None


def test_a_refresh_without_a_profile_is_refused(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(service.TagError, match="no profile snapshot on or before 2026-11-30"):
        service.refresh(session, lake, catalogue, AS_OF)


def test_refreshing_the_same_date_replaces_the_snapshot(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    base(session, lake)
    snapshot(session, lake, catalogue)
    f.publish(session, lake, "profile", date(2026, 11, 2), [f.profile(A)])
    assert set(snapshot(session, lake, catalogue)) == {A}
    assert service.snapshot_dates(session) == [AS_OF]


def catalogue_of(*tags: dict[str, Any]) -> TagCatalogue:
    common = {"label_zh": "x", "label_en": "x", "description": "x", "owner": "t"}
    return TagCatalogue.model_validate({"tags": [common | t for t in tags]})


BRAND = {
    "name": "brand",
    "type": "category",
    "source": "profile",
    "window": "snapshot",
    "expression": "brand",
}


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            {
                "name": "x",
                "type": "int",
                "source": "voice",
                "window": "30d",
                "expression": "sum(minutes)",
            },
            "'minutes' is not a column of voice",
        ),
        (
            {
                "name": "x",
                "type": "int",
                "source": "voice",
                "window": "30d",
                "expression": "duration_s",
            },
            "must aggregate",
        ),
        (
            {
                "name": "x",
                "type": "int",
                "source": "profile",
                "window": "snapshot",
                "expression": "count(*)",
            },
            "must not aggregate",
        ),
        (
            {
                "name": "x",
                "type": "int",
                "source": "voice",
                "window": "30d",
                "expression": "(SELECT 1)",
            },
            "subqueries",
        ),
        (
            {
                "name": "x",
                "type": "int",
                "source": "derived",
                "window": "snapshot",
                "expression": "y + 1",
            },
            "cycle",
        ),
        (
            {
                "name": "x",
                "type": "int",
                "source": "voice",
                "window": "30d",
                "expression": "sum(v.duration_s)",
            },
            "write duration_s",
        ),
    ],
)
def test_a_tag_that_cannot_compile_is_named_with_the_reason(
    tag: dict[str, Any], message: str
) -> None:
    other = {
        "name": "y",
        "type": "int",
        "source": "derived",
        "window": "snapshot",
        "expression": "x + 1",
    }
    with pytest.raises(batch.CatalogueError, match=message):
        batch.check(catalogue_of(BRAND, tag, other))


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ({"source": "voice", "window": "snapshot"}, "takes window <N>d"),
        ({"source": "bill", "window": "30d"}, "takes window <N>m"),
        ({"source": "nowhere"}, "unknown source"),
        ({"name": "Bad-Name"}, "lower-case"),
    ],
)
def test_a_malformed_definition_is_refused(tag: dict[str, Any], message: str) -> None:
    base_tag = {
        "name": "x",
        "type": "int",
        "source": "voice",
        "window": "30d",
        "expression": "count(*)",
    }
    with pytest.raises(ValueError, match=message):
        catalogue_of(base_tag | tag)


def test_a_tag_declared_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    common = {"label_zh": "x", "label_en": "x", "description": "x", "owner": "t"}
    path.write_text(yaml.safe_dump({"tags": [common | BRAND, common | BRAND]}))
    with pytest.raises(batch.CatalogueError, match="declared twice"):
        service.load_catalogue(path)


def test_a_short_window_inside_a_shared_scan_keeps_its_own_filter(
    session: Session, lake: Lake
) -> None:
    base(session, lake)
    catalogue = catalogue_of(
        BRAND,
        {
            "name": "either_7d",
            "type": "int",
            "source": "voice",
            "window": "7d",
            "expression": "count(*) FILTER (WHERE direction = 'mt' OR roaming = 'domestic')",
        },
        {
            "name": "calls_30d",
            "type": "int",
            "source": "voice",
            "window": "30d",
            "expression": "count(*)",
            "default": 0,
        },
    )
    calls = [
        (date(2026, 11, 30), "mt", "none"),
        (date(2026, 11, 29), "mo", "domestic"),
        (date(2026, 11, 28), "mo", "none"),
        (date(2026, 11, 2), "mt", "domestic"),
    ]
    for day, direction, roaming in calls:
        at = datetime(day.year, day.month, day.day, 9, 0)
        f.publish(
            session, lake, "voice", day, [f.call(A, at, 30, direction=direction, roaming=roaming)]
        )
    tags = snapshot(session, lake, catalogue)
    assert tags[A]["either_7d"] == 2
    assert tags[A]["calls_30d"] == 4
