"""What a load tells its operator: per file, rows read / loaded / quarantined, by reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class FileStatus(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "unchanged"  # the same content is already published: nothing to do
    REJECTED = "rejected"
    NOT_LOADED = "not_loaded"  # fine itself, but the load it belonged to did not publish


class LoadStatus(StrEnum):
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass
class FileReport:
    file: str
    interface: str
    day: str
    part: str
    encoding: str
    sha256: str
    status: FileStatus = FileStatus.LOADED
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_field: dict[str, int] = field(default_factory=dict)
    message: str = ""
    quarantine_file: str | None = None

    @property
    def bad_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass
class LoadReport:
    load_id: str
    source: str
    status: LoadStatus = LoadStatus.PUBLISHED
    message: str = ""
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "source": self.source,
            "status": self.status.value,
            "message": self.message,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "seconds": round(self.seconds, 3),
            "files": [asdict(f) for f in self.files],
        }
