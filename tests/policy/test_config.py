"""The contact policy's defaults are the sources' tables, and a bad policy is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from steward.policy.config import DEFAULTS, Exclusion, PolicyError, load_policy
from steward.tags.schemas import TagCatalogue
from steward.tags.service import load_catalogue


@pytest.fixture(scope="module")
def catalogue() -> TagCatalogue:
    return load_catalogue()


def test_the_defaults_hold_every_dnd_category_of_r_pol_2(catalogue: TagCatalogue) -> None:
    policy = load_policy(catalogue)
    names = {d.name for d in policy.dnd}
    assert names == {
        "optout_channel",
        "complaint_sensitive",
        "vip_diamond_gold",
        "vip_silver",
        "corporate_group",
        "staff",
        "government",
        "special_org",
        "unit_account",
        "foreigner",
        "blacklisted",
        "data_card",
        "suspended",
        "cancelled",
    }
    always = {d.name for d in policy.dnd if d.exclusion is Exclusion.ALWAYS}
    assert {"blacklisted", "suspended", "cancelled", "optout_channel"} <= always
    assert "vip_silver" not in always  # a planner may include silver VIPs


def test_the_default_caps_are_the_r_pol_3_table(catalogue: TagCatalogue) -> None:
    caps = load_policy(catalogue).caps
    assert caps.table["vip"] == {"overall": 3, "sms": 2, "outbound": 1, "inbound": 1, "web": 3}
    assert caps.table["gotone"]["overall"] == 4
    assert caps.table["mzone"]["sms"] == caps.table["easyown"]["sms"] == 4
    assert caps.periods["outbound"] == "3m"
    assert [c.value for c in caps.outside_overall] == ["web"]


def write(tmp_path: Path, change: dict[str, Any]) -> Path:
    policy = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node: Any = policy
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dnd.1.rule": "complaint_sensitve"}, r"dnd\.complaint_sensitive: .*unknown tag"),
        ({"caps.table.vip": {"overall": 3, "fax": 1}}, r"unknown channel\(s\) \['fax'\]"),
        ({"caps.classes": {"vip": "TRUE"}}, "every class needs a row"),
        ({"caps.table.vip": {"overall": -1}}, "cannot be negative"),
        ({"dnd.0.exclusion": "sometimes"}, r"dnd\.0\.exclusion"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_place(
    catalogue: TagCatalogue, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(catalogue, write(tmp_path, change))
