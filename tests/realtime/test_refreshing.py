"""Compiled state is rebuilt when what it was built from changes, and only then."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from steward.campaigns import service as campaigns
from steward.campaigns.models import Status
from steward.realtime.service import Refreshing
from tests.campaigns.test_batch import Day

DAY = date(2026, 12, 2)


def test_a_moved_campaign_or_a_newer_snapshot_rebuilds_and_nothing_else_does(d: Day) -> None:
    builds: list[date] = []

    def build(session: Session, day: date) -> int:
        builds.append(day)
        return len(builds)

    held = Refreshing(build, every_s=0.0)  # look every time
    assert held.get(d.session, DAY, d.lake) == 1
    assert held.get(d.session, DAY, d.lake) == 1  # nothing changed: no rebuild
    campaign = d.launch()
    assert held.get(d.session, DAY, d.lake) == 2  # campaigns moved
    campaigns.move(d.session, campaign, to=Status.PAUSED, by=d.people["maker"])
    assert held.get(d.session, DAY, d.lake) == 3
    assert held.get(d.session, date(2026, 12, 3), d.lake) == 4  # another day, its own state
    assert held.get(d.session, DAY, d.lake) == 3


def test_between_looks_the_state_is_kept_without_a_query(d: Day) -> None:
    builds: list[date] = []

    def build(session: Session, day: date) -> int:
        builds.append(day)
        return len(builds)

    held = Refreshing(build, every_s=3600.0)
    held.get(d.session, DAY, d.lake)
    d.launch()
    assert held.get(d.session, DAY, d.lake) == 1  # not looked again yet
