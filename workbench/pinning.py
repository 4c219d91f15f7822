"""What a reader of a breakdown can pin: the lines whose sums they know, and the hidden cells those narrow.

The reader's side of :mod:`workbench.suppression` (which decides what to hide) and of the
disclosure audit: every line of a table (a row across its counts, a count column, a column
along each key) is a linear relation on its hidden cells; each hidden cell is bounded by its
label; :mod:`workbench.intervals` tightens the bounds. :func:`pinned_whatever_hidden` is
the cheap test a coarsening step runs first: hiding more never narrows what a reader knows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from .intervals import narrowed, propagate

__all__ = ["HIDDEN", "THRESHOLD", "exposed", "known_lines", "pinned_whatever_hidden", "small_marker"]

HIDDEN = "[suppressed]"
"""Shown for a count of THRESHOLD or more hidden to protect another (complementary) or a protected-identity group.

Never for a zero: the reports tell the reader the marker means "5 or more" (``banner.public``)."""
THRESHOLD = 5
"""Counts of 1 to THRESHOLD - 1 in a breakdown are hidden."""


def small_marker(threshold: int = THRESHOLD) -> str:
    """What a count of 1 to ``threshold`` - 1 is shown as, e.g. ``"1–4"``."""
    return "1" if threshold == 2 else f"1–{threshold - 1}"


def known_lines(frame: pl.DataFrame, counts: Sequence[str], keys: Sequence[str]) -> list[list[tuple[int, int]]]:
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


def _bounds(
    values: Sequence[Sequence[Any]], hidden: Mapping[tuple[int, int], str], threshold: int
) -> dict[tuple[int, int], tuple[float, float]]:
    """What a reader knows of each hidden cell from its label: "1–4" is 1 to 4; "[suppressed]" is the
    threshold or more, as the report tells them (a zero is never hidden, :func:`pinned_whatever_hidden`)."""
    small = small_marker(threshold)
    return {
        cell: (1.0, threshold - 1.0) if label == small else (float(threshold), float("inf"))
        for cell, label in hidden.items()
    }


def exposed(
    values: Sequence[Sequence[Any]],
    hidden: Mapping[tuple[int, int], str],
    lines: Sequence[Sequence[tuple[int, int]]],
    threshold: int,
) -> list[tuple[int, int]]:
    """Hidden cells a reader who knows every line's sum pins to fewer than threshold - 1 values."""
    relations = []
    for line in lines:
        inside = [cell for cell in line if cell in hidden]
        if inside:
            known = sum(values[c][r] for r, c in line)  # the line's sum, assumed known to the reader
            seen = sum(values[c][r] for r, c in line if (r, c) not in hidden)
            relations.append(({cell: 1.0 for cell in inside}, float(known - seen)))
    return narrowed(propagate(_bounds(values, hidden, threshold), relations), threshold - 1)


def pinned_whatever_hidden(
    values: Sequence[Sequence[Any]],
    hidden: Mapping[tuple[int, int], str],
    lines: Sequence[Sequence[tuple[int, int]]],
    threshold: int,
) -> list[tuple[int, int]]:
    """Cells of ``hidden`` a reader pins even when every other (non-null) cell is hidden as well.

    Hiding a cell only widens what a reader knows of it (a number becomes "5 or more"), and
    interval propagation is monotone, so such a cell is pinned by every complementary
    suppression: the breakdown is too fine, whatever the search does. A zero stays shown:
    "[suppressed]" on it would state "5 or more" of a 0.
    """
    everything = dict(hidden)
    for c, column in enumerate(values):
        for r, v in enumerate(column):
            if v:
                everything.setdefault((r, c), HIDDEN)
    return [cell for cell in exposed(values, everything, lines, threshold) if cell in hidden]
