"""The tag catalogue's shapes: a tag definition as declared in ``catalogue.yaml``."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from steward.rules import TagType
from steward.rules.to_sql import SQL_TYPES
from steward.tags.sources import SOURCES, SourceKind

__all__ = ["SQL_TYPES", "Refresh", "TagCatalogue", "TagDefinition", "TagType"]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
WINDOW = re.compile(r"^(snapshot|(?P<n>[1-9][0-9]{0,3})(?P<unit>[dm]))$")


class Refresh(StrEnum):
    DAILY = "daily"  # computed by the daily batch
    EVENT = "event"  # computed daily and kept current by events between refreshes


class TagDefinition(BaseModel):
    """One tag: what it means, where it comes from and how it is computed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label_zh: str
    label_en: str
    description: str
    type: TagType
    source: str
    window: str
    expression: str
    default: bool | int | float | str | None = None
    refresh: Refresh = Refresh.DAILY
    owner: str
    group: str = Field(default="", description="Where the tag shows in the library.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(f"{value!r}: lower-case letters, digits and _ only")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}; known: {sorted(SOURCES)}")
        return value

    @model_validator(mode="after")
    def _window_fits_source(self) -> TagDefinition:
        match = WINDOW.match(self.window)
        if match is None:
            raise ValueError(f"window {self.window!r}: use snapshot, <N>d or <N>m")
        kind = SOURCES[self.source].kind
        expected = {
            SourceKind.SNAPSHOT: None,
            SourceKind.DERIVED: None,
            SourceKind.DAILY: "d",
            SourceKind.MONTHLY: "m",
        }[kind]
        if match["unit"] != expected:
            wanted = "snapshot" if expected is None else f"<N>{expected}"
            raise ValueError(f"source {self.source!r} takes window {wanted}, not {self.window!r}")
        return self

    @property
    def window_length(self) -> int:
        match = WINDOW.match(self.window)
        return int(match["n"]) if match and match["n"] else 0


class TagCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: list[TagDefinition]

    @model_validator(mode="after")
    def _unique_names(self) -> TagCatalogue:
        seen: set[str] = set()
        for tag in self.tags:
            if tag.name in seen:
                raise ValueError(f"tag {tag.name!r} is declared twice")
            seen.add(tag.name)
        return self

    def get(self, name: str) -> TagDefinition | None:
        return next((t for t in self.tags if t.name == name), None)
