"""The columns made of the good lines of an IIS log (:mod:`.iis`), and the record of a refused one.

A read may cut only the fields its mapping reads (:class:`Where`); the record of a row refused
then is made again from its line's text, every field, as an unprojected read makes it
(:class:`Records`), so the quarantine loses nothing by the projection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import polars as pl

from ..ingest.batch import LINE
from .weblogs import ABSENT, FIELDS_LINE

__all__ = ["Records", "Where", "by_position", "made", "wrong_reason"]


class Where(NamedTuple):
    """The log's name (in errors), every field of its directives, and the fields the mapping reads (None: all)."""

    label: str
    all_fields: list[str]
    needed: frozenset[str] | None

    def keep(self, fields: list[str]) -> list[int] | None:
        """The positions under ``fields`` to read, or None for all."""
        if self.needed is None:
            return None
        want = self.needed | ({"date", "time"} if "datetime" in self.needed else set())
        return [i for i, f in enumerate(fields) if f in want] or [0]  # one, to count the rows


def by_position(fields: list[str]) -> tuple[Callable[[str], pl.Expr], Callable[[str], pl.Expr]]:
    """A field's value and its raw text in a stretch read by :func:`.iis.stretch` ('-' was read as null)."""

    def value(f: str) -> pl.Expr:
        return pl.col(f"f{fields.index(f)}")

    return value, lambda f: value(f).fill_null("-")


def made(
    good: pl.DataFrame,
    fields: list[str],
    fields_at: int,
    where: Where,
    value: Callable[[str], pl.Expr],
    raw: Callable[[str], pl.Expr],
    projected: bool = True,
) -> pl.DataFrame:
    """The columns of the good lines under a directive: ``value`` of a field ('-' null), ``raw`` its text.

    Those of ``where.needed`` when ``projected`` (and it is not None), else those of ``where.all_fields``.
    """
    all_fields, needed = where.all_fields, where.needed if projected else None
    absent = [f for f in all_fields if f not in fields and f != "datetime"]
    columns = [
        value(f).alias(f) if f in fields else pl.lit(None, pl.String).alias(f)
        for f in all_fields
        if f != "datetime" and (needed is None or f in needed)
    ]
    dated = {"date", "time"} <= set(fields) and (needed is None or "datetime" in needed)
    return good.select(
        *columns,
        (pl.format("{}T{}Z", raw("date"), raw("time")) if dated else pl.lit(None, pl.String)).alias("datetime"),
        pl.lit("|" + "|".join(absent) + "|" if absent else None, pl.String).alias(ABSENT),
        pl.lit(fields_at, pl.Int64).alias(FIELDS_LINE),
        LINE,
    )


@dataclass(frozen=True)
class Records:
    """The rows of some good lines under one directive with every field, as if read unprojected (a batch's ``records``).

    ``text``: the lines' texts by their numbers in the file. The line is cut again, in Python, as
    both roads cut it: by single spaces, ``-`` for none. Called only for refused lines.
    """

    where: Where
    fields: list[str]
    fields_at: int
    text: Callable[[list[int]], list[str]]

    def __call__(self, line: pl.Series) -> pl.DataFrame:
        numbers = line.unique(maintain_order=True).to_list()
        cut = [t.split(" ") for t in self.text(numbers)]
        good = pl.DataFrame(
            {
                **{f"f{i}": [None if c[i] == "-" else c[i] for c in cut] for i in range(len(self.fields))},
                LINE: numbers,
            },
            schema={**{f"f{i}": pl.String() for i in range(len(self.fields))}, LINE: pl.Int64()},
        )
        return made(good, self.fields, self.fields_at, self.where, *by_position(self.fields), projected=False)


def wrong_reason(text: str, fields_at: int, n: int) -> str:
    """Why a line without its directive's ``n`` fields is quarantined."""
    return (
        f"malformed line: {_count_fields(text)} where the #Fields: directive "
        f"of line {fields_at} names {n}; allowed: one space-separated value per field ('-' for none)"
    )


def _count_fields(text: str) -> str:
    if not text:
        return "an empty line"
    n = len(text.split(" "))
    return f"{n} field{'s' if n != 1 else ''}" + (
        " (separated by tabs? IIS separates by spaces)" if "\t" in text else ""
    )
