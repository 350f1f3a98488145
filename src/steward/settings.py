"""One Settings object for the whole process, read from the environment (prefix ``STEWARD_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Steward keeps its data and which engines it uses.

    Built by the CLI entry point (and later by ``create_app``), never at import time, so tests
    can hand each run its own home directory.
    """

    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Home of embedded data.")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in home if empty.")
    lake_path: Path | None = Field(default=None, description="Parquet lake; home/lake if empty.")
    analytics_engine: str = Field(default="duckdb", description="Engine that reads the lake.")
    analytics_memory_limit: str = Field(
        default="4GB",
        pattern=r"^[0-9]+(\.[0-9]+)?[KMGT]i?B$",
        description="Memory the engine may hold before it spills to home/tmp.",
    )
    ingest_max_bad_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A file with a larger share of bad rows is rejected.",
    )
    bus_url: str = Field(
        default="",
        description="Event bus: empty for the in-process queue, redis://… for Redis Streams.",
    )
    bus_partitions: int = Field(
        default=8, ge=1, le=256, description="Partitions of the event bus (by subscriber)."
    )
    bus_stream: str = Field(
        default="steward:events",
        pattern=r"^[A-Za-z0-9:_.-]{1,64}$",
        description="Name prefix of the bus's streams (one a partition).",
    )
    event_workers: int = Field(
        default=2, ge=1, le=64, description="Event worker threads of `steward run`."
    )
    lake_vacuum_grace_s: int = Field(
        default=3600, ge=0, description="Unreferenced lake files younger than this are kept."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, url: str) -> str:
        # Operators paste libpq URLs; SQLAlchemy needs the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @model_validator(mode="after")
    def _fill_defaults_from_home(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'steward.db').as_posix()}"
        if self.lake_path is None:
            self.lake_path = self.home / "lake"
        return self

    @property
    def lake(self) -> Path:
        assert self.lake_path is not None  # filled by the validator
        return self.lake_path

    @property
    def quarantine_path(self) -> Path:
        return self.home / "quarantine"
