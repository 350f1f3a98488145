"""The bus: one subscriber's events in one partition, in order; unacknowledged ones come back."""

from __future__ import annotations

import time
from typing import Any

import pytest

from steward.events.bus import Bus, InProcessBus, RedisStreamsBus, open_bus, partition_of
from tests.redis_server import redis_bus

__all__ = ["redis_bus"]


def events(n: int, subscribers: int = 5) -> list[dict[str, Any]]:
    return [
        {"id": f"e{i}", "type": "recharge", "msisdn": f"1380000000{i % subscribers}", "n": i}
        for i in range(n)
    ]


@pytest.fixture(params=["in-process", "redis"])
def bus(request: pytest.FixtureRequest) -> Bus:
    if request.param == "in-process":
        return InProcessBus(partitions=4)
    found: RedisStreamsBus = request.getfixturevalue("redis_bus")
    return found


def take_all(bus: Bus, consumer: str, partitions: list[int]) -> list[Any]:
    taken = []
    while batch := bus.consume(consumer, partitions, count=7, block_ms=50):
        taken += batch
    return taken


def test_each_subscriber_s_events_stay_in_one_partition_in_order(bus: Bus) -> None:
    bus.publish(events(40))
    taken = take_all(bus, "w1", list(range(bus.partitions)))
    assert sorted(d.payload["n"] for d in taken) == list(range(40))
    for delivery in taken:
        assert delivery.partition == partition_of(delivery.payload["msisdn"], bus.partitions)
    by_subscriber: dict[str, list[int]] = {}
    for delivery in taken:
        by_subscriber.setdefault(delivery.payload["msisdn"], []).append(delivery.payload["n"])
    assert all(ns == sorted(ns) for ns in by_subscriber.values())


def test_workers_on_disjoint_partitions_never_see_each_other_s_events(bus: Bus) -> None:
    bus.publish(events(40))
    first = take_all(bus, "w1", [0, 1])
    second = take_all(bus, "w2", [2, 3])
    assert {d.partition for d in first} <= {0, 1}
    assert {d.partition for d in second} <= {2, 3}
    assert len(first) + len(second) == 40


def test_what_a_worker_took_and_never_acknowledged_is_reclaimed(bus: Bus) -> None:
    bus.publish(events(10))
    taken = take_all(bus, "crashed", list(range(bus.partitions)))
    bus.ack(taken[:4])
    assert bus.reclaim("w2", list(range(bus.partitions)), idle_ms=60_000, count=100) == []
    time.sleep(0.05)
    back = bus.reclaim("w2", list(range(bus.partitions)), idle_ms=10, count=100)
    assert sorted(d.payload["n"] for d in back) == sorted(d.payload["n"] for d in taken[4:])
    bus.ack(back)
    time.sleep(0.05)
    assert bus.reclaim("w3", list(range(bus.partitions)), idle_ms=10, count=100) == []


def test_the_settings_name_the_bus() -> None:
    assert isinstance(open_bus("", 3), InProcessBus)
    with pytest.raises(ValueError, match="redis"):
        open_bus("kafka://broker:9092")
