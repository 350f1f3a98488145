"""Small random worlds for arbitration: subscribers, offers, campaigns, a ledger's past."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from steward.contacts.models import Arm, State
from steward.offers.models import Channel
from steward.policy.arbitration import CARE, MARKETING, CampaignSpec, OfferSpec
from steward.tags.sources import PROPENSITY_CATEGORIES

DAY = date(2026, 6, 15)
FLAGS = (
    "complaint_sensitive",
    "dnd_vip_silver",
    "dnd_staff",
    "dnd_foreigner",
    "dnd_cancelled",
    "dnd_optout_sms",
    "dnd_optout_outbound",
    "dnd_optout_app",
)
# The policy's other categories: present, mostly clear, so the rules can read them.
QUIET_FLAGS = (
    "dnd_vip_diamond_gold",
    "dnd_corporate_group",
    "dnd_government",
    "dnd_special_org",
    "dnd_unit_account",
    "dnd_blacklisted",
    "dnd_data_card",
    "dnd_suspended",
)
INCLUDABLE = ("complaint_sensitive", "vip_silver", "foreigner")
CHANNELS = (Channel.SMS, Channel.OUTBOUND, Channel.APP)
RULES = ("TRUE", "age >= 40", "arpu_3m > 50", "brand = 'mzone'", "NOT dnd_vip_silver")
HISTORY_STATES = (
    State.RESERVED,
    State.HELD_BACK,
    State.SENT,
    State.FAILED,
    State.CANCELLED,
    State.ANSWERED,
    State.ORDERED,
)


@dataclass
class World:
    profiles: list[dict[str, Any]]
    offers: list[OfferSpec]
    campaigns: list[CampaignSpec]
    members: list[tuple[int, str]]
    history: list[dict[str, Any]] = field(default_factory=list)
    capacity: dict[Channel, int] = field(default_factory=dict)
    opt_outs: list[tuple[str, str]] = field(default_factory=list)  # the opt-out list
    chunk: int = 1_000  # subscribers the batch judges at once

    def profile_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.profiles)

    def member_table(self) -> pa.Table:
        return pa.table(
            {
                "campaign_id": pa.array([m[0] for m in self.members], pa.int64()),
                "msisdn": pa.array([m[1] for m in self.members], pa.string()),
            }
        )


@st.composite
def profiles(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    found = []
    for i in range(n):
        row: dict[str, Any] = {
            "msisdn": f"1380000{i:04d}",
            "brand": draw(st.sampled_from(["gotone", "mzone", "easyown", None])),
            "vip_level": draw(st.sampled_from(["none", "silver", "gold"])),
            "age": draw(st.one_of(st.none(), st.integers(18, 80))),
            "arpu_3m": draw(st.one_of(st.none(), st.sampled_from([10.0, 50.0, 88.5]))),
        }
        for category in PROPENSITY_CATEGORIES:  # a published model's scores, or none yet
            row[f"propensity_{category}"] = draw(
                st.one_of(st.none(), st.sampled_from([0.003, 0.04, 0.31]))
            )
        for flag in FLAGS:
            row[flag] = draw(st.sampled_from([False] * 12 + [True, None]))
        for flag in QUIET_FLAGS:
            row[flag] = draw(st.sampled_from([False] * 30 + [True]))
        found.append(row)
    return found


@st.composite
def offers(draw: st.DrawFn) -> list[OfferSpec]:
    count = draw(st.integers(1, 4))
    return [
        OfferSpec(
            id=i + 1,
            category=draw(st.sampled_from(["data", "voice", "care"])),
            group=draw(st.sampled_from([None, "packs"])),
            eligibility=draw(st.sampled_from(RULES)),
            value=draw(st.sampled_from([1.0, 5.0, 20.0])),
            fit=tuple(
                draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3, unique=True))
            ),
        )
        for i in range(count)
    ]


@st.composite
def campaigns(draw: st.DrawFn, offer_ids: list[int]) -> list[CampaignSpec]:
    count = draw(st.integers(1, 4))
    ids = list(range(1, count + 1))
    return [
        CampaignSpec(
            id=i,
            kind=draw(st.sampled_from([CARE, MARKETING, MARKETING])),
            priority=draw(st.sampled_from([10, 50, 90])),
            expected_rate=draw(st.sampled_from([0.01, 0.02, 0.05])),
            control_share=draw(st.sampled_from([0.0, 0.2, 0.5])),
            channels=tuple(
                draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3, unique=True))
            ),
            offers=tuple(
                draw(st.lists(st.sampled_from(offer_ids), min_size=1, max_size=3, unique=True))
            ),
            wave_start=DAY - timedelta(days=draw(st.sampled_from([0, 7, 40]))),
            dnd_include=tuple(draw(st.lists(st.sampled_from(INCLUDABLE), max_size=2, unique=True))),
            exclude_campaigns=tuple(
                draw(st.lists(st.sampled_from([c for c in ids if c != i] or [99]), max_size=1))
            ),
            learned=tuple(
                (offer_id, draw(st.sampled_from([0.5, 1.0, 1.7])))
                for offer_id in offer_ids
                if draw(st.booleans())
            ),
        )
        for i in ids
    ]


@st.composite
def history(draw: st.DrawFn, world: World) -> list[dict[str, Any]]:
    rows = []
    msisdns = [p["msisdn"] for p in world.profiles]
    for n in range(draw(st.integers(0, 60))):
        offer = draw(st.sampled_from(world.offers))
        rows.append(
            {
                "contact_key": f"past-{n}",
                "state": draw(st.sampled_from(HISTORY_STATES)).value,
                "day": DAY - timedelta(days=draw(st.sampled_from([0, 0, 1, 10, 45, 100, 200]))),
                "msisdn": draw(st.sampled_from(msisdns)),
                "campaign_id": draw(st.sampled_from([c.id for c in world.campaigns])),
                "kind": draw(st.sampled_from([CARE, MARKETING, MARKETING])),
                "offer_id": offer.id,
                "category": offer.category,
                "exclusion_group": offer.group,
                "channel": draw(st.sampled_from(CHANNELS)).value,
                "arm": draw(st.sampled_from([Arm.TARGET, Arm.TARGET, Arm.CONTROL])).value,
                "detail": draw(st.sampled_from([None, "rejected", "accepted"])),
                "source": "test",
            }
        )
    return rows


@st.composite
def worlds(draw: st.DrawFn) -> World:
    people = draw(profiles(draw(st.integers(1, 15))))
    offered = draw(offers())
    run = draw(campaigns([o.id for o in offered]))
    members = sorted({(c.id, p["msisdn"]) for c in run for p in people if draw(st.booleans())})
    world = World(people, offered, run, members)
    world.history = draw(history(world))
    msisdns = [p["msisdn"] for p in people]
    world.opt_outs = sorted(
        set(
            draw(
                st.lists(st.tuples(st.sampled_from(msisdns), st.sampled_from(CHANNELS)), max_size=4)
            )
        )
    )
    world.opt_outs = [(m, c.value) for m, c in world.opt_outs]
    world.chunk = draw(st.sampled_from([1, 2, 5, 1_000]))
    world.capacity = {ch: draw(st.integers(0, 8)) for ch in CHANNELS if draw(st.booleans())}
    return world
