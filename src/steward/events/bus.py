"""The event bus: events partitioned by subscriber, acknowledged after their effects commit.

Two adapters behind one small interface. ``InProcessBus`` is the embedded default (no server:
``steward run`` on a laptop); ``RedisStreamsBus`` is the production broker, one Redis stream
a partition read through a consumer group, so an unacknowledged entry stays pending and is
reclaimed by another worker after a crash. The decision code sees only ``Bus``; a Kafka or
NATS JetStream adapter has the same shape (a partition is a Kafka partition or a JetStream
subject; ``ack`` commits the offset or acks the message; ``reclaim`` is redelivery).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_PARTITIONS = 8
GROUP = "deciders"


def partition_of(msisdn: str, partitions: int) -> int:
    """A subscriber's partition: all their events go to one worker, in order."""
    return zlib.crc32(msisdn.encode()) % partitions


@dataclass(frozen=True)
class Delivery:
    partition: int
    token: str  # the broker's id of the entry: what ``ack`` needs
    payload: dict[str, Any]  # the event as sent (checked again by the worker)


class Bus(Protocol):
    partitions: int

    def publish(self, events: Iterable[Mapping[str, Any]]) -> None: ...

    def consume(
        self, consumer: str, partitions: Sequence[int], *, count: int, block_ms: int
    ) -> list[Delivery]: ...

    def ack(self, deliveries: Sequence[Delivery]) -> None: ...

    def reclaim(
        self, consumer: str, partitions: Sequence[int], *, idle_ms: int, count: int
    ) -> list[Delivery]: ...


def _json(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


class InProcessBus:
    """Queues in memory, one a partition. Lost with the process — which is why the HTTP path
    stores each event in the inbox first and ``steward run`` republishes what is unprocessed."""

    def __init__(self, partitions: int = DEFAULT_PARTITIONS) -> None:
        self.partitions = partitions
        self._queues: list[deque[Delivery]] = [deque() for _ in range(partitions)]
        self._pending: dict[str, tuple[Delivery, float]] = {}  # token -> (delivery, taken at)
        self._ready = threading.Condition()
        self._next = 0

    def publish(self, events: Iterable[Mapping[str, Any]]) -> None:
        with self._ready:
            for event in events:
                partition = partition_of(str(event.get("msisdn", "")), self.partitions)
                self._next += 1
                payload = json.loads(_json(event))
                self._queues[partition].append(Delivery(partition, str(self._next), payload))
            self._ready.notify_all()

    def consume(
        self, consumer: str, partitions: Sequence[int], *, count: int, block_ms: int
    ) -> list[Delivery]:
        with self._ready:
            if not any(self._queues[p] for p in partitions):
                self._ready.wait(block_ms / 1000)
            taken: list[Delivery] = []
            for p in partitions:
                queue = self._queues[p]
                while queue and len(taken) < count:
                    delivery = queue.popleft()
                    self._pending[delivery.token] = (delivery, time.monotonic())
                    taken.append(delivery)
            return taken

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        with self._ready:
            for delivery in deliveries:
                self._pending.pop(delivery.token, None)

    def reclaim(
        self, consumer: str, partitions: Sequence[int], *, idle_ms: int, count: int
    ) -> list[Delivery]:
        """Deliveries taken but not acknowledged for ``idle_ms`` (their batch failed)."""
        now = time.monotonic()
        with self._ready:
            stale = [
                token
                for token, (delivery, taken_at) in self._pending.items()
                if delivery.partition in partitions and now - taken_at >= idle_ms / 1000
            ][:count]
            for token in stale:
                self._pending[token] = (self._pending[token][0], now)
            return [self._pending[token][0] for token in stale]


class RedisStreamsBus:
    """One stream a partition (``<prefix>:<n>``), read through the consumer group ``deciders``."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "steward:events",
        partitions: int = DEFAULT_PARTITIONS,
        max_length: int = 5_000_000,
    ) -> None:
        import redis

        self.partitions = partitions
        self.prefix = prefix
        self.max_length = max_length
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        for p in range(partitions):
            try:
                self._redis.xgroup_create(self._stream(p), GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _stream(self, partition: int) -> str:
        return f"{self.prefix}:{partition}"

    def publish(self, events: Iterable[Mapping[str, Any]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for event in events:
            partition = partition_of(str(event.get("msisdn", "")), self.partitions)
            pipe.xadd(
                self._stream(partition),
                {"e": _json(event)},
                maxlen=self.max_length,
                approximate=True,
            )
        pipe.execute()

    def consume(
        self, consumer: str, partitions: Sequence[int], *, count: int, block_ms: int
    ) -> list[Delivery]:
        streams: dict[Any, Any] = {self._stream(p): ">" for p in partitions}
        each = max(1, count // max(1, len(partitions)))  # ``count`` over all the partitions
        answer = self._redis.xreadgroup(GROUP, consumer, streams, count=each, block=block_ms)
        return self._deliveries(answer or [])

    def _deliveries(self, answer: Any) -> list[Delivery]:
        found = []
        for stream, entries in answer:
            partition = int(str(stream).rsplit(":", 1)[1])
            for token, fields in entries:
                if fields:  # an entry trimmed away while pending comes back empty
                    found.append(Delivery(partition, token, json.loads(fields["e"])))
        return found

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for delivery in deliveries:
            pipe.xack(self._stream(delivery.partition), GROUP, delivery.token)
        pipe.execute()

    def reclaim(
        self, consumer: str, partitions: Sequence[int], *, idle_ms: int, count: int
    ) -> list[Delivery]:
        """Entries another consumer took and never acknowledged (it crashed), now ours."""
        found: list[Delivery] = []
        for p in partitions:
            answer = self._redis.xautoclaim(
                self._stream(p), GROUP, consumer, min_idle_time=idle_ms, count=count
            )
            found += self._deliveries([(self._stream(p), answer[1])])
        return found

    def pending(self) -> int:
        return sum(
            int(self._redis.xpending(self._stream(p), GROUP)["pending"])
            for p in range(self.partitions)
        )

    def lag(self) -> int:
        """Entries not yet delivered to the group, over every partition."""
        total = 0
        for p in range(self.partitions):
            for group in self._redis.xinfo_groups(self._stream(p)):
                if group["name"] == GROUP:
                    total += int(group.get("lag") or 0)
        return total

    def drop(self) -> None:
        """Remove the streams (tests and benchmarks start clean)."""
        self._redis.delete(*(self._stream(p) for p in range(self.partitions)))


def open_bus(url: str, partitions: int = DEFAULT_PARTITIONS, prefix: str = "steward:events") -> Bus:
    """The bus the settings name: the in-process queue when ``url`` is empty."""
    if not url:
        return InProcessBus(partitions)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStreamsBus(url, partitions=partitions, prefix=prefix)
    raise ValueError(f"bus_url {url!r}: expected empty (in-process) or redis://…")
