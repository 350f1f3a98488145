"""This machine's PostgreSQL for the tests, and what happens when it is not there."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

POSTGRES_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(exc: Exception) -> NoReturn:
    """Fail in CI (a missing database must not pass as skipped); skip, saying why, elsewhere."""
    if IN_CI:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {exc}")
    pytest.skip(f"PostgreSQL at {POSTGRES_URL} unavailable: {exc}")
