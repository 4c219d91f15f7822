"""Duplicate primary keys within one file: the first row (in file order) of a key is loaded,
every later one is quarantined naming the key and the line it was first loaded from.

The keys loaded so far are kept in a few sorted runs merged LSM-style (a run is merged
into the one before it once it is as large), so adding a batch costs O(batch · log rows)
rather than re-sorting everything loaded so far; a batch is looked up in each run with
``np.searchsorted``. A batch whose keys lie above all loaded before (a file sorted by its
key) is kept as it is, as a chunk of a spine, and neither merged nor copied again.

Keys of one integer or timestamp column, or of two whose values all fit in 32 bits, are
encoded exactly in 64 bits: the runs hold (key, first line), 16 bytes a row, and equal
codes are equal keys. Other keys (strings, three columns, wider pairs, nulls) are hashed:
the runs hold the hashes, and rows whose hash was seen before are decided on the key
values themselves, so a hash collision never refuses a row. A file whose keys stop fitting
the exact encoding switches to the hashed path, carrying over what it has loaded (the
exact codes decode back to the key values).
"""

from __future__ import annotations

import bisect
import itertools

import numpy as np
import polars as pl

from .. import evidence
from .batch import LINE, PROBLEMS_SCHEMA

__all__ = ["KeyTracker", "SortedRuns", "record_json"]

_LOW32 = np.uint64(0xFFFFFFFF)
_INT32 = (-(2**31), 2**31 - 1)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEMS_SCHEMA)


class SortedRuns:
    """The (key, line) pairs loaded so far: a spine of ascending chunks, and sorted runs.

    A file sorted by its key (``interests`` and ``fees`` are, by their first column) adds
    batches whose keys all lie above every key loaded before, bar a few at the seam where a
    value spans two batches. Those keys become a chunk of the spine as they are, without
    copying or merging anything loaded before, and a sorted query searches only the chunks
    its range overlaps. The rest (the seams; every batch but the first of a file in no key
    order) goes to runs merged LSM-style: a run is merged into the one before it once it is
    as large, so adding a batch costs O(batch · log rows). Each added key is held once.
    """

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []  # the runs
        self.lines: list[np.ndarray] = []
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []  # the spine: ascending, ranges disjoint
        self._firsts: list[int] = []  # each chunk's first and last key, for bisect
        self._lasts: list[int] = []

    @property
    def rows(self) -> int:
        return sum(len(k) for k in self.keys) + sum(len(k) for k, _ in self._chunks)

    def find(self, query: np.ndarray) -> np.ndarray:
        """The line stored with each query key, or -1; for runs of unique, disjoint keys."""
        found = np.full(len(query), -1, dtype=np.int64)
        if len(query) == 0:
            return found
        if not bool(np.all(query[1:] >= query[:-1])):
            order = np.argsort(query, kind="stable")
            found[order] = self.find(query[order])
            return found
        # The query is sorted: only the chunks its range overlaps, and in a run only the
        # slice of the query within the run's range, can hold a key of it.
        low, high = int(query[0]), int(query[-1])
        chunks = self._chunks[bisect.bisect_left(self._lasts, low) : bisect.bisect_right(self._firsts, high)]
        for keys, lines in itertools.chain(chunks, zip(self.keys, self.lines, strict=True)):
            start = int(np.searchsorted(query, keys[0], side="left"))
            stop = int(np.searchsorted(query, keys[-1], side="right"))
            if start >= stop:
                continue
            part = query[start:stop]
            at = np.searchsorted(keys, part)
            np.minimum(at, len(keys) - 1, out=at)
            hit = keys[at] == part
            found[start:stop][hit] = lines[at[hit]]
        return found

    def contains(self, query: np.ndarray) -> np.ndarray:
        """Whether each query key is in some run (runs may repeat a key)."""
        seen = np.zeros(len(query), dtype=bool)
        for keys in itertools.chain((k for k, _ in self._chunks), self.keys):
            at = np.searchsorted(keys, query)
            np.minimum(at, len(keys) - 1, out=at)
            seen |= keys[at] == query
        return seen

    def add(self, keys: np.ndarray, lines: np.ndarray) -> None:
        """Add keys sorted ascending: those above every chunk of the spine as a chunk of their
        own when they are at least half of them, the others as a run; then merge while the
        last run is as large as the one before."""
        if len(keys) == 0:
            return
        cut = int(np.searchsorted(keys, self._chunks[-1][0][-1], side="right")) if self._chunks else 0
        if 2 * (len(keys) - cut) >= len(keys):
            self._chunks.append((keys[cut:], lines[cut:]))
            self._firsts.append(int(keys[cut]))
            self._lasts.append(int(keys[-1]))
            keys, lines = keys[:cut], lines[:cut]
            if len(keys) == 0:
                return
        self.keys.append(keys)
        self.lines.append(lines)
        while len(self.keys) > 1 and len(self.keys[-2]) <= len(self.keys[-1]):
            b_keys, b_lines = self.keys.pop(), self.lines.pop()
            a_keys, a_lines = self.keys.pop(), self.lines.pop()
            # A linear merge: where each of b's keys lands among a's, shifted by those before it.
            at = np.searchsorted(a_keys, b_keys, side="right") + np.arange(len(b_keys))
            rest = np.ones(len(a_keys) + len(b_keys), dtype=bool)
            rest[at] = False
            merged_keys = np.empty(len(rest), dtype=a_keys.dtype)
            merged_keys[at], merged_keys[rest] = b_keys, a_keys
            del a_keys, b_keys
            merged_lines = np.empty(len(rest), dtype=np.int64)
            merged_lines[at], merged_lines[rest] = b_lines, a_lines
            self.keys.append(merged_keys)
            self.lines.append(merged_lines)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (key, line), unsorted."""
        keys = [k for k, _ in self._chunks] + self.keys
        if not keys:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
        return np.concatenate(keys), np.concatenate([li for _, li in self._chunks] + self.lines)


class KeyTracker:
    """Remembers the primary keys loaded so far from one file, to refuse later duplicates."""

    def __init__(self, table: str, unit: str = "line"):
        self.table = table
        self.unit = unit  # what __line counts: "line" (CSV) or "row" (Parquet)
        self.key = [str(c.name) for c in evidence.table(table).primary_key.columns]
        self._runs = SortedRuns()  # exact: (code, first line); hashed: (hash, line)
        self._exact: bool | None = None  # decided on the first batch, may turn False once
        self._dtypes: list[pl.DataType] = []
        self._seen: list[pl.DataFrame] = []  # hashed path only: __h, key columns, __line

    @property
    def exact(self) -> bool:
        return bool(self._exact)

    def check(self, good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Split typed rows into first occurrences and quarantined duplicates."""
        if not self.key or good.is_empty():
            return good, _empty()
        if self._exact is None:
            self._dtypes = [good.schema[k] for k in self.key]
            self._exact = len(self.key) <= 2 and all(_integral(t) for t in self._dtypes)
        codes = self._encode(good) if self._exact else None
        if self._exact and codes is None:
            self._to_hashed()
        if codes is not None:
            repeat, first_line = self._check_exact(codes, good[LINE].to_numpy())
            if not repeat.any():
                return good, _empty()
            repeats = good.filter(repeat).with_columns(pl.Series("__first_line", first_line[repeat]))
            firsts = good.filter(~repeat)
        else:
            firsts, repeats = self._check_hashed(good)
            if repeats.is_empty():
                return firsts, _empty()
        return firsts, self._describe(repeats.sort(LINE), [c for c in good.columns if c != LINE])

    # -- exact path ---------------------------------------------------------------------

    def _encode(self, good: pl.DataFrame) -> np.ndarray | None:
        """The exact 64-bit codes of the batch's keys, or None if they do not fit."""
        cols = [good[k] for k in self.key]
        if any(c.null_count() for c in cols):
            return None
        values = [c.to_physical().cast(pl.Int64).to_numpy() for c in cols]
        if len(values) == 1:
            return values[0].view(np.uint64)
        high, low = values
        for v in values:
            if len(v) and (v.min() < _INT32[0] or v.max() > _INT32[1]):
                return None
        return (high.view(np.uint64) << np.uint64(32)) | (low.view(np.uint64) & _LOW32)

    def _decode(self, codes: np.ndarray) -> pl.DataFrame:
        if len(self.key) == 1:
            parts = [codes.view(np.int64)]
        else:
            parts = [(codes.view(np.int64) >> 32), (codes & _LOW32).astype(np.uint32).view(np.int32).astype(np.int64)]
        return pl.DataFrame([pl.Series(k, p).cast(t) for k, p, t in zip(self.key, parts, self._dtypes, strict=True)])

    def _check_exact(self, codes: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: is it a repeat, and the line its key was first loaded from."""
        if len(codes) > 1 and bool(np.all(codes[1:] > codes[:-1])):
            # Strictly ascending (a file sorted by its key): no repeat within the batch, so
            # nothing to sort or group; only keys loaded in earlier batches can repeat.
            earlier = self._runs.find(codes)
            new = earlier < 0
            self._runs.add(codes[new], lines[new])
            return ~new, np.where(new, lines, earlier)
        order = np.argsort(codes)  # unstable is twice as fast; the first line is a minimum below
        sorted_codes = codes[order]
        head = np.ones(len(order), dtype=bool)
        head[1:] = sorted_codes[1:] != sorted_codes[:-1]
        group = np.cumsum(head) - 1
        unique = sorted_codes[head]
        batch_first = np.minimum.reduceat(lines[order], np.flatnonzero(head))
        earlier = self._runs.find(unique)  # the runs hold earlier lines only
        first = np.where(earlier >= 0, earlier, batch_first)
        first_line = np.empty(len(order), dtype=np.int64)
        first_line[order] = first[group]
        repeat = first_line != lines
        new = earlier < 0
        self._runs.add(unique[new], batch_first[new])
        return repeat, first_line

    def _to_hashed(self) -> None:
        """Carry the exact state over to the hashed path (codes decode to key values)."""
        self._exact = False
        codes, lines = self._runs.items()
        self._runs = SortedRuns()
        if len(codes):
            seen = self._decode(codes).with_columns(pl.Series(LINE, lines))
            seen = seen.with_columns(_hash(self.key).alias("__h")).select("__h", *self.key, LINE)
            self._seen.append(seen)
            self._runs.add(*_sorted(seen["__h"].to_numpy(), lines))

    # -- hashed path --------------------------------------------------------------------

    def _check_hashed(self, good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        batch = good.with_columns(_hash(self.key).alias("__h"))
        h = batch["__h"].to_numpy()
        # Suspect: a hash seen in an earlier batch, or more than once in this one.
        sorted_h = np.sort(h)
        twice = np.unique(sorted_h[1:][sorted_h[1:] == sorted_h[:-1]])
        before = self._runs.contains(h)
        suspect = np.unique(np.concatenate([h[before], twice]))
        if len(suspect) == 0:
            repeats = batch.clear()
        else:
            suspect_h = pl.Series("__h", suspect, dtype=pl.UInt64).implode()
            suspects = batch.filter(pl.col("__h").is_in(suspect_h))
            pool = suspects.select(*self.key, LINE)
            if self._seen:
                earlier = pl.concat(self._seen, rechunk=False).filter(pl.col("__h").is_in(suspect_h))
                pool = pl.concat([earlier.select(*self.key, LINE), pool])
            first = pool.group_by(self.key).agg(pl.col(LINE).min().alias("__first_line"))
            suspects = suspects.join(first, on=self.key, how="left", nulls_equal=True)
            repeats = suspects.filter(pl.col(LINE) != pl.col("__first_line"))
        firsts = batch.join(repeats.select(LINE), on=LINE, how="anti") if repeats.height else batch
        self._seen.append(firsts.select("__h", *self.key, LINE))
        self._runs.add(*_sorted(firsts["__h"].to_numpy(), firsts[LINE].to_numpy()))
        return firsts.drop("__h"), repeats.drop("__h")

    def _describe(self, repeats: pl.DataFrame, names: list[str]) -> pl.DataFrame:
        key_text = pl.concat_str([pl.col(k).cast(pl.String) for k in self.key], separator=", ")
        label = ", ".join(self.key)
        shown = f"({label})" if len(self.key) > 1 else label
        value = pl.format("({})", key_text) if len(self.key) > 1 else key_text
        return repeats.select(
            LINE,
            pl.lit(label).alias("column"),
            key_text.alias("value"),
            pl.format(
                "duplicate key {}={}: first loaded from {} {}; allowed: one row per key, the first is kept",
                pl.lit(shown),
                value,
                pl.lit(self.unit),
                pl.col("__first_line"),
            ).alias("reason"),
            record_json(names),
        ).cast(PROBLEMS_SCHEMA)


def _hash(names: list[str]) -> pl.Expr:
    """A 64-bit hash of the key columns (equal keys, equal hashes; the converse is checked)."""
    return pl.struct(names).hash(seed=0)


def _integral(dtype: pl.DataType) -> bool:
    return (dtype.is_integer() and dtype != pl.UInt64) or dtype.is_temporal()


def _sorted(keys: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], lines[order]


def record_json(names: list[str]) -> pl.Expr:
    return pl.struct(pl.col(n).cast(pl.String) for n in names).struct.json_encode().alias("record")
