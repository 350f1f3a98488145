"""This machine's Redis for the tests, and what happens when it is not there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from steward.events.bus import RedisStreamsBus
from tests.postgres import IN_CI

REDIS_URL = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_bus() -> Iterator[RedisStreamsBus]:
    """A Redis Streams bus on streams of its own, removed after the test."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} unavailable: {exc}")
    bus = RedisStreamsBus(REDIS_URL, prefix=f"test:{uuid.uuid4().hex[:8]}", partitions=4)
    yield bus
    bus.drop()
