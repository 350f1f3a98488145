"""One small province, generated once per session and shared by the read-only tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from steward.synth import GenerateSummary, generate

SUBSCRIBERS = 20_000
DAYS = 2
SEED = 11


@dataclass(frozen=True)
class Province:
    summary: GenerateSummary
    out: Path
    truth: Path

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        """Query with ``{out}`` and ``{truth}`` standing for the two folders."""
        relation = duckdb.sql(query.format(out=self.out, truth=self.truth))
        assert relation is not None
        return relation

    def one(self, query: str) -> tuple[Any, ...]:
        rows = self.sql(query).fetchall()
        assert len(rows) == 1
        return tuple(rows[0])

    def scalar(self, query: str) -> float:
        return float(self.one(query)[0])


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    out = tmp_path_factory.mktemp("province") / "delivery"
    summary = generate(subscribers=SUBSCRIBERS, days=DAYS, seed=SEED, out=out)
    return Province(summary, out, summary.truth_out)
