"""Checks across rows: duplicate keys within a file, and orphans that reference nothing.

Keys: of rows sharing a primary key, the first (in file order) that passed the value checks
is loaded and every later one is quarantined, naming the key and the line it was first
loaded from.

Orphans (:data:`REFERENCES`): a row whose reference has no loaded row in the parent table
is quarantined. The set is the references without which a row cannot be interpreted:

- ``logouts``, ``page_views``, ``profile_changes``: ``session_id`` → ``logins``
  (a session never logged in cannot be attributed to anyone);
- ``interests``, ``offers``, ``contracts``: ``listing_id`` → ``listings``, and
  ``applicant_id`` → ``applicants`` (an allocation to an unknown flat or person cannot be
  replayed in queue order);
- ``fees``: ``applicant_id`` → ``applicants``;
- ``offers``, ``contracts``, ``handler_actions``: ``handler_id`` → ``handlers``.

Deliberately not checked: ``logins.applicant_id`` and the ``account_id`` columns (a page
rendering an unknown account is a finding, not bad evidence, and refusing logins would
cascade into their page views), and the nullable session references of ``interests`` and
``offers`` (their logged period may differ). A reference to a table that has no file at
all is not checked (there is nothing to check against); the report says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import evidence
from .batch import LINE, PROBLEMS_SCHEMA
from .keys import KeyTracker, record_json

__all__ = ["REFERENCES", "KeyTracker", "ParentKeys", "Reference", "check_references", "load_order"]


@dataclass(frozen=True)
class Reference:
    """``table.column`` must match a loaded ``parent.parent_column`` when not null."""

    table: str
    column: str
    parent: str
    parent_column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} → {self.parent}.{self.parent_column}"


REFERENCES: tuple[Reference, ...] = (
    Reference("logouts", "session_id", "logins", "session_id"),
    Reference("page_views", "session_id", "logins", "session_id"),
    Reference("profile_changes", "session_id", "logins", "session_id"),
    Reference("interests", "listing_id", "listings", "listing_id"),
    Reference("offers", "listing_id", "listings", "listing_id"),
    Reference("contracts", "listing_id", "listings", "listing_id"),
    Reference("fees", "applicant_id", "applicants", "applicant_id"),
    Reference("interests", "applicant_id", "applicants", "applicant_id"),
    Reference("offers", "applicant_id", "applicants", "applicant_id"),
    Reference("contracts", "applicant_id", "applicants", "applicant_id"),
    Reference("offers", "handler_id", "handlers", "handler_id"),
    Reference("contracts", "handler_id", "handlers", "handler_id"),
    Reference("handler_actions", "handler_id", "handlers", "handler_id"),
)


def load_order() -> list[str]:
    """Evidence tables with every referenced parent before its children, else in declared order."""
    parents = {t: {r.parent for r in REFERENCES if r.table == t} for t in evidence.TABLES}
    order: list[str] = []
    while len(order) < len(evidence.TABLES):
        for t in evidence.TABLES:
            if t not in order and parents[t] <= set(order):
                order.append(t)
                break
    return order


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEMS_SCHEMA)


class ParentKeys:
    """The loaded key values of referenced parent columns, and which parents had no file."""

    def __init__(self, present: set[str]):
        self.present = present
        self._values: dict[tuple[str, str], list[pl.Series]] = {}
        self._merged: dict[tuple[str, str], pl.Series] = {}  # parents load first: merged once
        self._lookup: dict[tuple[str, str], _IdSet] = {}  # integer ids, looked up without hashing
        self._texts: dict[tuple[str, str], _TextSet] = {}  # text keys, hashed once
        self._wanted = {(r.parent, r.parent_column) for r in REFERENCES}

    def remember(self, table: str, loaded: pl.DataFrame) -> None:
        """Keep the referenced columns of rows just loaded into ``table``."""
        for parent, column in self._wanted:
            if parent == table:
                self._values.setdefault((parent, column), []).append(loaded[column].unique())
                self._merged.pop((parent, column), None)
                self._lookup.pop((parent, column), None)
                self._texts.pop((parent, column), None)

    def values(self, parent: str, column: str) -> pl.Series:
        """The distinct values loaded so far into ``parent.column``."""
        key = (parent, column)
        if key not in self._merged:
            parts = self._values.get(key, [])
            dtype = evidence.polars_schema(parent)[column]
            self._merged[key] = pl.concat(parts).unique() if parts else pl.Series(column, [], dtype=dtype)
        return self._merged[key]

    def missing(self, parent: str, column: str, values: pl.Series) -> np.ndarray:
        """Per value: not null and not loaded into ``parent.column`` (a numpy bool mask)."""
        known = self.values(parent, column)
        key = (parent, column)
        if known.dtype == pl.String() and values.dtype == pl.String():
            if key not in self._texts:
                self._texts[key] = _TextSet(known.drop_nulls())
            found = self._texts[key].contains(values)
        elif known.dtype.is_integer() and values.dtype.is_integer():
            if key not in self._lookup:
                self._lookup[key] = _IdSet(known.drop_nulls().cast(pl.Int64).to_numpy())
            found = self._lookup[key].contains(values.fill_null(0).cast(pl.Int64).to_numpy())
        else:
            found = values.is_in(known.implode()).fill_null(False).to_numpy()
        return ~found & values.is_not_null().to_numpy()

    def skipped(self, table: str) -> list[Reference]:
        """References of ``table`` not checked because the parent table had no file."""
        return [r for r in REFERENCES if r.table == table and r.parent not in self.present]


class _IdSet:
    """Integer ids for membership tests: a table of flags over their range when that is
    dense (one byte an id or so: a lookup is one array index), else a sorted array."""

    def __init__(self, ids: np.ndarray):
        self.low = int(ids.min()) if len(ids) else 0
        span = int(ids.max()) - self.low + 1 if len(ids) else 0
        self.flags: np.ndarray | None = None
        self.sorted = ids[:0]
        if 0 < span <= 16 * len(ids) + 4096:
            self.flags = np.zeros(span, dtype=bool)
            self.flags[ids - self.low] = True
        else:
            self.sorted = np.sort(ids)

    def contains(self, query: np.ndarray) -> np.ndarray:
        if self.flags is not None:
            # The offsets go to a buffer kept by the thread: a fresh 8 MB array a batch costs
            # the kernel a page fault every 4 kB. Below ``low`` wraps above the range as uint64.
            at = np.subtract(query, self.low, out=_scratch(len(query))).view(np.uint64)
            inside = at < len(self.flags)
            np.minimum(at, len(self.flags) - 1, out=at)
            return inside & self.flags[at]
        if len(self.sorted) == 0:
            return np.zeros(len(query), dtype=bool)
        at = np.minimum(np.searchsorted(self.sorted, query), len(self.sorted) - 1)
        return self.sorted[at] == query


def _hash(values: pl.Series) -> np.ndarray:
    return values.hash(seed=0).to_numpy()


class _TextSet:
    """Text keys for membership tests, hashed once.

    ``is_in`` hashes every known value again for each batch (a stockholm IIS log's 46 batches
    of page views against 179,000 sessions: 1.0 of its 1.5 CPU-s). Here a value is found when
    the known value of the same 64-bit hash equals it; a value whose hash some known value
    shares without being equal to it (a collision, or several known values of one hash) is
    looked up exactly, so the answer is ``is_in``'s whatever the hash does.
    """

    def __init__(self, known: pl.Series, hash: Callable[[pl.Series], np.ndarray] = _hash):
        hashes = hash(known)
        order = np.argsort(hashes, kind="stable")
        self.hash = hash
        self.hashes = hashes[order]
        self.by_hash = known.gather(order)  # the known values, in the order of their hashes

    def contains(self, query: pl.Series) -> np.ndarray:
        if len(self.hashes) == 0:
            return np.zeros(len(query), dtype=bool)
        hashes = self.hash(query)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        hit = self.hashes[at] == hashes
        found = hit & (self.by_hash.gather(at) == query).fill_null(False).to_numpy()
        unsure = np.flatnonzero(hit & ~found)
        if len(unsure):
            found[unsure] = query.gather(unsure).is_in(self.by_hash.implode()).fill_null(False).to_numpy()
        return found


_local = threading.local()


def _scratch(rows: int) -> np.ndarray:
    """An int64 buffer of ``rows`` for this thread, reused from batch to batch."""
    buffer = getattr(_local, "buffer", None)
    if buffer is None or len(buffer) < rows:
        buffer = _local.buffer = np.empty(rows, dtype=np.int64)
    return buffer[:rows]


def check_references(good: pl.DataFrame, table: str, parents: ParentKeys) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split typed rows into those whose references resolve and quarantined orphans."""
    refs = [r for r in REFERENCES if r.table == table and r.parent in parents.present]
    if not refs or good.is_empty():
        return good, _empty()
    # Which rows are orphans is decided on arrays; messages are formatted for those rows only.
    orphan = np.zeros(good.height, dtype=bool)
    for ref in refs:
        orphan |= parents.missing(ref.parent, ref.parent_column, good[ref.column])
    if not orphan.any():
        return good, _empty()
    mask = pl.Series(orphan)
    return good.filter(~mask), _orphans(good.filter(mask), refs, parents)


def _orphans(bad: pl.DataFrame, refs: list[Reference], parents: ParentKeys) -> pl.DataFrame:
    """One problem row per orphan: the first of ``refs`` it breaks."""
    names = [c for c in bad.columns if c != LINE]
    whys = []
    for i, ref in enumerate(refs):
        known = parents.values(ref.parent, ref.parent_column)
        col = pl.col(ref.column)
        reason = pl.format(
            f"orphan: {ref.column} '{{}}' has no row in {ref.parent}; "
            f"allowed: {_article(ref.parent_column)} {ref.parent_column} loaded into {ref.parent}.{ref.parent_column}",
            col.cast(pl.String),
        )
        problem = pl.struct(
            pl.lit(ref.column).alias("column"), col.cast(pl.String).alias("value"), reason.alias("reason")
        )
        whys.append(pl.when(col.is_not_null() & ~col.is_in(known.implode())).then(problem).alias(f"__o{i}"))
    checked = bad.with_columns(whys).with_columns(pl.coalesce(f"__o{i}" for i in range(len(refs))).alias("__orphan"))
    problems = checked.select(LINE, pl.col("__orphan").struct.unnest(), record_json(names))
    return problems.select(list(PROBLEMS_SCHEMA)).cast(PROBLEMS_SCHEMA)


def _article(word: str) -> str:
    """'an' before a vowel (an applicant_id), else 'a' (a session_id)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
