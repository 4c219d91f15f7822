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

from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import evidence
from .batch import LINE, PROBLEMS_SCHEMA

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


def _record(names: list[str]) -> pl.Expr:
    return pl.struct(pl.col(n).cast(pl.String) for n in names).struct.json_encode().alias("record")


class KeyTracker:
    """Remembers the primary keys loaded so far from one file, to refuse later duplicates.

    Candidates are found with a sorted array of 64-bit hashes of the keys (merging a batch
    into it is linear, where a hash join against every earlier row would be quadratic over
    batches), then decided by comparing the key values themselves, so a hash collision
    never refuses a row.
    """

    def __init__(self, table: str, unit: str = "line"):
        self.table = table
        self.unit = unit  # what __line counts: "line" (CSV) or "row" (Parquet)
        self.key = [str(c.name) for c in evidence.table(table).primary_key.columns]
        self._hashes = np.empty(0, dtype=np.uint64)  # sorted, unique
        self._seen: list[pl.DataFrame] = []  # __h, key columns, __line of rows loaded so far

    def check(self, good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Split typed rows into first occurrences and quarantined duplicates."""
        if not self.key or good.is_empty():
            return good, _empty()
        batch = good.with_columns(pl.struct(self.key).hash(seed=0).alias("__h"))
        merged = np.concatenate([self._hashes, np.sort(batch["__h"].to_numpy())])
        merged.sort(kind="stable")  # two sorted runs: a linear merge
        equal = merged[1:] == merged[:-1]
        suspect = np.unique(merged[1:][equal])
        self._hashes = merged[np.concatenate([[True], ~equal])]
        if len(suspect) == 0:
            repeats = batch.clear()
        else:
            # Decide among the few rows whose hash occurs more than once, on the key values.
            suspect_h = pl.Series("__h", suspect, dtype=pl.UInt64)
            suspects = batch.filter(pl.col("__h").is_in(suspect_h.implode()))
            pool = suspects.select(*self.key, LINE)
            if self._seen:
                earlier = pl.concat(self._seen, rechunk=False).filter(pl.col("__h").is_in(suspect_h.implode()))
                pool = pl.concat([earlier.select(*self.key, LINE), pool])
            first = pool.group_by(self.key).agg(pl.col(LINE).min().alias("__first_line"))
            suspects = suspects.join(first, on=self.key, how="left", nulls_equal=True)
            repeats = suspects.filter(pl.col(LINE) != pl.col("__first_line"))
        firsts = batch.join(repeats.select(LINE), on=LINE, how="anti") if repeats.height else batch
        self._seen.append(firsts.select("__h", *self.key, LINE))
        firsts = firsts.drop("__h")
        if repeats.is_empty():
            return firsts, _empty()
        return firsts, self._describe(repeats.sort(LINE), [c for c in good.columns if c != LINE])

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
            _record(names),
        ).cast(PROBLEMS_SCHEMA)


class ParentKeys:
    """The loaded key values of referenced parent columns, and which parents had no file."""

    def __init__(self, present: set[str]):
        self.present = present
        self._values: dict[tuple[str, str], list[pl.Series]] = {}
        self._merged: dict[tuple[str, str], pl.Series] = {}  # parents load first: merged once
        self._wanted = {(r.parent, r.parent_column) for r in REFERENCES}

    def remember(self, table: str, loaded: pl.DataFrame) -> None:
        """Keep the referenced columns of rows just loaded into ``table``."""
        for parent, column in self._wanted:
            if parent == table:
                self._values.setdefault((parent, column), []).append(loaded[column].unique())
                self._merged.pop((parent, column), None)

    def values(self, parent: str, column: str) -> pl.Series:
        """The distinct values loaded so far into ``parent.column``."""
        key = (parent, column)
        if key not in self._merged:
            parts = self._values.get(key, [])
            dtype = evidence.polars_schema(parent)[column]
            self._merged[key] = pl.concat(parts).unique() if parts else pl.Series(column, [], dtype=dtype)
        return self._merged[key]

    def skipped(self, table: str) -> list[Reference]:
        """References of ``table`` not checked because the parent table had no file."""
        return [r for r in REFERENCES if r.table == table and r.parent not in self.present]


def check_references(good: pl.DataFrame, table: str, parents: ParentKeys) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split typed rows into those whose references resolve and quarantined orphans."""
    refs = [r for r in REFERENCES if r.table == table and r.parent in parents.present]
    if not refs or good.is_empty():
        return good, _empty()
    names = [c for c in good.columns if c != LINE]
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
    checked = good.with_columns(whys).with_columns(pl.coalesce(f"__o{i}" for i in range(len(refs))).alias("__orphan"))
    ok = checked.filter(pl.col("__orphan").is_null()).select(good.columns)
    bad = checked.filter(pl.col("__orphan").is_not_null())
    if bad.is_empty():
        return ok, _empty()
    problems = bad.select(LINE, pl.col("__orphan").struct.unnest(), _record(names))
    return ok, problems.select(list(PROBLEMS_SCHEMA)).cast(PROBLEMS_SCHEMA)


def _article(word: str) -> str:
    """'an' before a vowel (an applicant_id), else 'a' (a session_id)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
