"""The online profile: the latest tag snapshot held in memory, plus what events changed since.

The snapshot stays columnar — one NumPy array a tag (text as dictionary codes, a validity
mask where a tag can be NULL), numbers sorted for a binary search — so a province of 18 M
subscribers costs the size of its columns, not 18 M Python objects, and reading one tag of
one subscriber is an index into an array. Only the tags events change are kept per
subscriber, and only for the subscribers events touched (R-TAG-2). A late event never undoes
what a newer one set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from steward.events.library import Event
from steward.events.triggers import event_values, newer, online_updates
from steward.rules import Rule, to_python

Reader = Callable[[int], Any]  # a column's value at a row, as Python
EPOCH = date(1970, 1, 1)
MAX_DICTIONARY = 1_000_000  # a text column with more distinct values is read through Arrow


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
        self._readers = {
            name: column_reader(snapshot.column(name).combine_chunks())
            for name in snapshot.column_names
        }
        self._fresh: dict[str, dict[str, Any]] = {}
        self._seen: dict[str, dict[str, datetime]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def row(self, msisdn: str) -> int | None:
        """The subscriber's row in the snapshot, or None."""
        if not msisdn.isdigit():
            return None
        key = int(msisdn)
        at = int(self._keys.searchsorted(key))
        if at == len(self._keys) or self._keys[at] != key:
            return None
        return int(self._order[at])

    def view(self, msisdn: str, event: Event | None = None) -> ProfileView | None:
        """The subscriber as a rule reads them now (None when not in the snapshot)."""
        row = self.row(msisdn)
        if row is None:
            return None
        fresh = self._fresh.get(msisdn, {})
        extra = dict(fresh)
        if event is not None:
            extra |= event_values(event)
        view = ProfileView(self._readers, row, extra)
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


def column_reader(column: pa.Array) -> Reader:
    """A reader of one column that indexes NumPy arrays (Arrow's scalars are slow to make)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = pc.dictionary_encode(column)
        if len(encoded.dictionary) > MAX_DICTIONARY:
            return lambda row: column[row].as_py()
        column, kind = encoded, encoded.type
    if pa.types.is_dictionary(kind):
        words = column.dictionary.to_pylist()
        codes = column.indices.fill_null(0).to_numpy(zero_copy_only=False)
        return _masked(column, lambda row: words[codes[row]])
    if pa.types.is_boolean(kind):
        flags = column.fill_null(False).to_numpy(zero_copy_only=False)
        return _masked(column, lambda row: bool(flags[row]))
    if pa.types.is_integer(kind):
        ints = column.fill_null(0).to_numpy(zero_copy_only=False)
        return _masked(column, lambda row: int(ints[row]))
    if pa.types.is_floating(kind):
        floats = column.fill_null(0).to_numpy(zero_copy_only=False)
        return _masked(column, lambda row: float(floats[row]))
    if pa.types.is_date32(kind):
        days = column.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return _masked(column, lambda row: EPOCH + timedelta(days=int(days[row])))
    return lambda row: column[row].as_py()


def _masked(column: pa.Array, read: Reader) -> Reader:
    if column.null_count == 0:
        return read
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    return lambda row: read(row) if valid[row] else None


class ProfileView(Mapping[str, Any]):
    """One subscriber's tags, read from the columns on demand: event values first."""

    __slots__ = ("_extra", "_readers", "_row")

    def __init__(self, readers: Mapping[str, Reader], row: int, extra: dict[str, Any]) -> None:
        self._readers = readers
        self._row = row
        self._extra = extra

    def __getitem__(self, name: str) -> Any:
        found = self.get(name, _MISSING)
        if found is _MISSING:
            raise KeyError(name)
        return found

    def get(self, name: str, default: Any = None) -> Any:
        extra = self._extra
        if name in extra:
            return extra[name]
        read = self._readers.get(name)
        if read is None:
            return default
        value = extra[name] = read(self._row)  # later readers of the tag find it here
        return value

    def __iter__(self) -> Iterator[str]:
        yield from self._extra
        yield from (n for n in self._readers if n not in self._extra)

    def __len__(self) -> int:
        return len(set(self._readers) | set(self._extra))


_MISSING = object()
