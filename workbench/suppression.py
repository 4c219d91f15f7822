"""Small-count suppression with complementary suppression, for frames shown to the public.

A count under the threshold is suppressed (primary). Then every "line" of cells whose sum
a reader may know — each row across the count columns, each count column as a whole, and
each count column along every key column (the other keys held fixed) — must hide either no
cell or at least two, so no total gives a suppressed cell back. A line with exactly one
hidden cell gets its smallest visible cell hidden too (preferring cells that are not
totals), and this repeats until every line is safe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from .errors import WorkbenchError

__all__ = ["HIDDEN", "SuppressionError", "small_marker", "suppress"]

HIDDEN = "[suppressed]"
"""Shown for a cell hidden to protect another (complementary) or a protected-identity group."""


class SuppressionError(WorkbenchError, ValueError):
    """A frame that cannot be suppressed as asked (bad count column, inconsistent totals)."""


def small_marker(threshold: int) -> str:
    """What a count under ``threshold`` is shown as, e.g. ``"<5"``."""
    return f"<{threshold}"


def _split_totals(totals: Iterable[str | Mapping[str, Any]] | None) -> tuple[set[str], dict[str, Any]]:
    columns: set[str] = set()
    rows: dict[str, Any] = {}
    for item in totals or ():
        if isinstance(item, str):
            columns.add(item)
        elif isinstance(item, Mapping):
            rows.update(item)
        else:
            raise SuppressionError(
                f"totals entries are count column names or {{key column: label}} mappings, got {item!r}"
            )
    return columns, rows


def _check_totals(
    frame: pl.DataFrame,
    counts: Sequence[str],
    keys: Sequence[str],
    total_columns: set[str],
    total_rows: Mapping[str, Any],
) -> pl.Series:
    """Validate declared totals against the parts; the mask of total rows."""
    parts = [c for c in counts if c not in total_columns]
    for col in total_columns:
        if col not in counts:
            raise SuppressionError(f"totals column {col!r} is not one of the count columns {list(counts)}")
        if parts and not frame.select((pl.col(col) == pl.sum_horizontal(parts)).all()).item():
            raise SuppressionError(f"totals column {col!r} is not the row sum of {parts}")
    is_total = pl.Series("total", [False] * frame.height)
    for key, label in total_rows.items():
        if key not in keys:
            raise SuppressionError(f"total rows are marked by key column {key!r}, which is not among {list(keys)}")
        marked = (frame[key] == label).fill_null(False)
        if not marked.any():
            raise SuppressionError(f"no total row has {key} == {label!r}")
        others = [k for k in keys if k != key]
        body = frame.filter(~marked)
        got = frame.filter(marked).select(*others, *counts)
        if others:
            expected = body.group_by(others).agg(pl.col(counts).sum())
            joined = got.join(expected, on=others, how="left", suffix="_sum", nulls_equal=True)
        else:
            expected = body.select(pl.col(counts).sum().name.suffix("_sum"))
            joined = got.join(expected, how="cross")
        for c in counts:
            if not joined.select((pl.col(c) == pl.col(f"{c}_sum")).fill_null(False).all()).item():
                raise SuppressionError(
                    f"total row {key} == {label!r} does not equal the sum of {c!r} over the other rows"
                )
        is_total = is_total | marked
    return is_total


def _lines(frame: pl.DataFrame, counts: Sequence[str], keys: Sequence[str]) -> list[list[tuple[int, int]]]:
    """Every group of cells whose sum a reader may know, as (row, count column) positions."""
    n = frame.height
    lines: list[list[tuple[int, int]]] = []
    if len(counts) > 1:
        lines += [[(r, c) for c in range(len(counts))] for r in range(n)]
    for c in range(len(counts)):
        lines.append([(r, c) for r in range(n)])
    for key in keys:
        others = [k for k in keys if k != key]
        if not others:
            continue  # the whole column, already a line
        groups: dict[tuple, list[int]] = defaultdict(list)
        for r, row in enumerate(frame.select(others).iter_rows()):
            groups[row].append(r)
        for rows in groups.values():
            for c in range(len(counts)):
                lines.append([(r, c) for r in rows])
    return [line for line in lines if len(line) > 1]


def suppress(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    threshold: int = 5,
    totals: Iterable[str | Mapping[str, Any]] | None = None,
    protected: pl.Series | None = None,
) -> pl.DataFrame:
    """``frame`` with its ``counts`` columns as strings, small and revealing cells hidden.

    ``totals`` names count columns that are row totals (``"n_total"``) and/or marks total
    rows by key value (``{"district": "Alla"}``); they are checked against the parts and are
    hidden only when no other cell can protect. ``protected`` marks rows (e.g. groups of
    protected-identity persons) whose counts are always hidden.
    """
    counts = list(counts)
    for name in counts:
        if name not in frame.columns:
            raise SuppressionError(f"count column {name!r} is not in the frame; columns: {frame.columns}")
        if not frame[name].dtype.is_integer():
            raise SuppressionError(f"count column {name!r} must hold integers, got dtype {frame[name].dtype}")
    keys = [c for c in frame.columns if c not in counts]
    total_columns, total_rows = _split_totals(totals)
    is_total_row = _check_totals(frame, counts, keys, total_columns, total_rows).to_list()

    values = [frame[c].to_list() for c in counts]  # values[c][r]
    hidden: dict[tuple[int, int], str] = {}
    shielded = protected.to_list() if protected is not None else [False] * frame.height
    for c, column in enumerate(values):
        for r, v in enumerate(column):
            if v is None:
                continue
            if v < threshold:
                hidden[(r, c)] = small_marker(threshold)
            elif shielded[r]:
                hidden[(r, c)] = HIDDEN

    lines = [[cell for cell in line if values[cell[1]][cell[0]] is not None] for line in _lines(frame, counts, keys)]
    lines_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        for cell in line:
            lines_of[cell].append(i)
    n_hidden = [sum(cell in hidden for cell in line) for line in lines]

    def preference(cell: tuple[int, int]) -> tuple:
        # Spare totals; then prefer a cell that also protects another exposed line, so
        # hidden cells form rectangles rather than cascading; then the smallest value.
        r, c = cell
        is_total = is_total_row[r] or counts[c] in total_columns
        return (is_total, -sum(n_hidden[i] == 1 for i in lines_of[cell]), values[c][r], r, c)

    changed = True
    while changed:
        changed = False
        for i, line in enumerate(lines):
            if n_hidden[i] == 1 and len(line) > 1:
                cell = min((cell for cell in line if cell not in hidden), key=preference)
                hidden[cell] = HIDDEN
                for j in lines_of[cell]:
                    n_hidden[j] += 1
                changed = True

    shown = []
    for c, name in enumerate(counts):
        shown.append(
            pl.Series(
                name,
                [None if v is None else hidden.get((r, c), str(v)) for r, v in enumerate(values[c])],
                dtype=pl.String,
            )
        )
    return frame.with_columns(shown)
