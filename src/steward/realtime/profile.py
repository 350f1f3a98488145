"""The online profile: the latest tag snapshot held in memory, plus what events changed since.

The snapshot stays columnar (one Arrow array a tag, numbers sorted for a binary search), so a
province of 18 M subscribers costs the size of its columns, not 18 M Python objects. Only the
tags events change are kept per subscriber, and only for the subscribers events touched
(R-TAG-2). A late event never undoes what a newer one set.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.events.library import Event
from steward.events.triggers import event_values, newer, online_updates
from steward.rules import Rule, to_python


class OnlineProfile:
    """The snapshot of ``as_of`` and the event-updated tags of the subscribers seen since."""

    def __init__(
        self, snapshot: pa.Table, as_of: date, rederived: Mapping[str, Rule] | None = None
    ) -> None:
        self.as_of = as_of
        # derived tags that read a freshened tag, worked out again when one is fresh
        self._rederived = {
            name: (to_python(rule, as_of=as_of), rule.tags)
            for name, rule in (rederived or {}).items()
        }
        keys = pc.cast(snapshot["msisdn"], pa.int64()).to_numpy()  # numbers are 11 digits
        self._order = np.argsort(keys, kind="stable")
        self._keys = keys[self._order]
        self._columns = {n: snapshot.column(n).combine_chunks() for n in snapshot.column_names}
        self._fresh: dict[str, dict[str, Any]] = {}
        self._seen: dict[str, dict[str, datetime]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def _row(self, msisdn: str) -> int | None:
        if not msisdn.isdigit():
            return None
        key = int(msisdn)
        at = int(np.searchsorted(self._keys, key))
        if at == len(self._keys) or self._keys[at] != key:
            return None
        return int(self._order[at])

    def view(self, msisdn: str, event: Event | None = None) -> ProfileView | None:
        """The subscriber as a rule reads them now (None when not in the snapshot)."""
        row = self._row(msisdn)
        if row is None:
            return None
        fresh = self._fresh.get(msisdn, {})
        extra = dict(fresh)
        if event is not None:
            extra |= event_values(event)
        view = ProfileView(self._columns, row, extra)
        for name, (holds, reads) in self._rederived.items():
            if reads & fresh.keys():
                extra[name] = holds(view)
        return view

    def apply(self, event: Event) -> dict[str, Any]:
        """Take the tags this event changes; returns those it really set."""
        with self._lock:
            seen = self._seen.setdefault(event.msisdn, {})
            fresh = self._fresh.setdefault(event.msisdn, {})
            taken = {}
            for tag, value in online_updates(event).items():
                if newer(event.at, seen, tag):
                    seen[tag] = event.at
                    fresh[tag] = value
                    taken[tag] = value
            return taken

    def fresh_count(self) -> int:
        return len(self._fresh)


class ProfileView(Mapping[str, Any]):
    """One subscriber's tags, read from the columns on demand: event values first."""

    __slots__ = ("_columns", "_extra", "_row")

    def __init__(self, columns: Mapping[str, pa.Array], row: int, extra: dict[str, Any]) -> None:
        self._columns = columns
        self._row = row
        self._extra = extra

    def __getitem__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        column = self._columns.get(name)
        if column is None:
            raise KeyError(name)
        value = column[self._row].as_py()
        self._extra[name] = value  # a rule reads a tag once; later readers find it here
        return value

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        yield from self._extra
        yield from (n for n in self._columns if n not in self._extra)

    def __len__(self) -> int:
        return len(set(self._columns) | set(self._extra))
