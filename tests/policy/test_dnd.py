"""Do-not-disturb: the first reason is named, batch and online agree, always means always."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.lake.engine import DuckDBEngine
from steward.offers.models import Channel
from steward.policy import dnd
from steward.policy.config import Policy, load_policy
from steward.tags.schemas import TagCatalogue
from steward.tags.service import load_catalogue

FLAGS = [
    "complaint_sensitive",
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
    "dnd_optout_sms",
    "dnd_optout_outbound",
    "dnd_optout_app",
]


@pytest.fixture(scope="module")
def catalogue() -> TagCatalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def policy(catalogue: TagCatalogue) -> Policy:
    return load_policy(catalogue)


def clean(**flags: bool | None) -> dict[str, bool | None]:
    return dict.fromkeys(FLAGS, False) | flags


def test_the_first_category_that_holds_is_the_reason(
    catalogue: TagCatalogue, policy: Policy
) -> None:
    reason = dnd.why_not(catalogue, dnd.checks(policy, channel=Channel.SMS))
    assert reason(clean()) is None
    assert reason(clean(dnd_vip_silver=True)) == "dnd.vip_silver"
    assert reason(clean(dnd_optout_sms=True)) == "dnd.optout_channel"
    assert reason(clean(dnd_optout_outbound=True)) is None  # not this contact's channel
    assert reason(clean(dnd_vip_silver=True, dnd_cancelled=True)) == "dnd.vip_silver"


def test_a_planner_may_include_a_default_category_but_never_an_always_one(
    catalogue: TagCatalogue, policy: Policy
) -> None:
    reason = dnd.why_not(
        catalogue, dnd.checks(policy, include=["vip_silver"], channel=Channel.OUTBOUND)
    )
    assert reason(clean(dnd_vip_silver=True)) is None
    assert reason(clean(dnd_optout_outbound=True)) == "dnd.optout_channel"
    with pytest.raises(
        dnd.DndError, match=r"always excluded, cannot be included: \['blacklisted'\]"
    ):
        dnd.checks(policy, include=["blacklisted"])
    with pytest.raises(dnd.DndError, match="no do-not-disturb"):
        dnd.checks(policy, include=["vip_bronze"])


FLAG = st.one_of(st.none(), st.booleans())
PROFILE = st.fixed_dictionaries(dict.fromkeys(FLAGS, FLAG))
INCLUDABLE = [
    "complaint_sensitive",
    "vip_diamond_gold",
    "vip_silver",
    "corporate_group",
    "unit_account",
    "foreigner",
    "data_card",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profiles=st.lists(PROFILE, min_size=1, max_size=25),
    include=st.lists(st.sampled_from(INCLUDABLE), unique=True),
    channel=st.sampled_from(list(Channel)),
)
def test_batch_and_online_name_the_same_reason_for_every_subscriber(
    catalogue: TagCatalogue,
    policy: Policy,
    profiles: list[dict[str, Any]],
    include: list[str],
    channel: Channel,
) -> None:
    found = dnd.checks(policy, include=include, channel=channel)
    table = pa.Table.from_pylist(profiles, schema=pa.schema([(f, pa.bool_()) for f in FLAGS]))
    connection = duckdb.connect()
    connection.register("profiles", table)
    batch = connection.sql(
        f"SELECT {dnd.exclusion_sql(catalogue, found)} AS reason FROM profiles"
    ).fetchall()
    online = dnd.why_not(catalogue, found)
    assert [r[0] for r in batch] == [online(p) for p in profiles]
    for profile, (reason,) in zip(profiles, batch, strict=True):
        if profile["dnd_blacklisted"] or profile["dnd_cancelled"]:
            assert reason is not None  # an always-excluded subscriber is never contactable


def test_exclusions_are_counted_by_rule_in_one_pass(
    catalogue: TagCatalogue, policy: Policy
) -> None:
    engine = DuckDBEngine(memory_limit="512MB")
    rows = [
        clean(),
        clean(),
        clean(dnd_vip_silver=True),
        clean(dnd_optout_sms=True),
        clean(dnd_cancelled=True, dnd_vip_silver=True),
    ]
    engine.register(
        "snap", pa.Table.from_pylist(rows, schema=pa.schema([(f, pa.bool_()) for f in FLAGS]))
    )
    counts = dnd.exclusion_counts(
        engine, "SELECT * FROM snap", catalogue, dnd.checks(policy, channel=Channel.SMS)
    )
    assert counts == {"contactable": 2, "dnd.vip_silver": 2, "dnd.optout_channel": 1}
    engine.close()
