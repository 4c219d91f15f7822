"""Small-count suppression with complementary suppression, for breakdowns shown to the public.

The policy (``docs/disclosure.md``): only breakdowns by district, kind, year, caseworker,
protected identity or a cross of quasi-identifiers describe groups small enough to point at
people; :func:`is_breakdown` says which frames are such breakdowns, and only they come here.

A count of 1 to threshold - 1 is hidden and shown as ``"1–4"`` (primary); a true zero is
shown as ``0``. Every "line" of cells whose sum a reader may know — each row across the
count columns, each count column as a whole, and each count column along every key column
(the other keys held fixed) — is then checked by interval propagation
(:mod:`workbench.intervals`): a hidden cell must keep at least threshold - 1 possible values
(as many as ``"1–4"`` says). While one does not, another cell of one of its lines is hidden
too (``"[suppressed]"``, complementary; preferring cells that are not totals). Only a count
of threshold or more is hidden so: the marker tells the reader "5 or more", which a zero
would make false (and a reader who trusts it would then know the zero). Float
columns are measures, never keys: a measure (a share, a median) on a row with a hidden count
is blanked, since a share times a visible count gives the hidden one back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from .errors import WorkbenchError
from .pinning import HIDDEN, THRESHOLD, exposed, known_lines, pinned_whatever_hidden, small_marker

__all__ = [
    "BREAKDOWN_FINDINGS",
    "BREAKDOWN_KEYS",
    "HIDDEN",
    "THRESHOLD",
    "SuppressionError",
    "TooFewToShow",
    "hidden_marker",
    "hidden_markers",
    "is_breakdown",
    "is_hidden_label",
    "pinned_whatever_hidden",
    "shown_count",
    "small_marker",
    "suppress",
    "too_fine",
    "withheld_note",
]

BREAKDOWN_KEYS = frozenset(
    {
        "district",
        "listing_kind",
        "year",
        "month",
        "quarter",
        "handler_id",
        "caseworker",
        "protected_identity",
        "grouping",
        "group",
        "postal_code",
        "city",
        "employer",
        "annual_income",
    }
)
"""Key columns that make a table of counts a breakdown of small groups (see docs/disclosure.md)."""
BREAKDOWN_FINDINGS = frozenset({"protected_identity_exposed"})
"""Recorded figures that are a cell of a breakdown; every other recorded count is a total, shown exactly."""


def hidden_marker(language: str | None = None) -> str:
    """What a complementary (or protected) hidden cell is shown as in ``language``: "[suppressed]", "[undertryckt]".

    One marker per language, in the catalogues (``hidden_marker``); :data:`HIDDEN` is the
    English one, which the suppression works with until it writes the shown frame.
    """
    from .wording import say

    return say("hidden_marker", language)


def hidden_markers() -> frozenset[str]:
    """The hidden-cell marker of every language the reports are written in."""
    from .i18n import LANGUAGES

    return frozenset(hidden_marker(language) for language in LANGUAGES)


def is_hidden_label(label: object, threshold: int = THRESHOLD) -> bool:
    """Whether ``label`` is a hidden cell's label: "1–4", or the hidden marker of any language."""
    return isinstance(label, str) and (label == small_marker(threshold) or label in hidden_markers())


def is_breakdown(keys: Iterable[str], quasi: Iterable[str] = ()) -> bool:
    """Whether a table of counts keyed by ``keys`` is a breakdown (``quasi``: keys tagged quasi-identifier)."""
    keys = set(keys)
    return bool(keys & BREAKDOWN_KEYS) or bool(keys & set(quasi))


class SuppressionError(WorkbenchError, ValueError):
    """A frame that cannot be suppressed as asked (bad count column, inconsistent totals)."""


class TooFewToShow(SuppressionError):
    """A breakdown too fine for its groups: after complementary suppression a hidden cell is still pinned.

    It happens when the totals of the lines are themselves small (every month has 1–4 red
    flags): hiding more cells cannot help. The rule (``docs/disclosure.md``) is to coarsen the
    breakdown (months to quarters to years, small districts pooled as "other districts") and,
    when no coarser level protects every hidden cell, to withhold it with a visible note.
    ``keys`` are the breakdown's key columns, ``pinned`` how many hidden cells stayed pinned.
    """

    def __init__(self, keys: Sequence[str], pinned: int):
        self.keys, self.pinned = list(keys), pinned
        super().__init__(
            f"the breakdown by {', '.join(self.keys) or 'nothing'} is too fine to publish: {pinned} hidden "
            "cell(s) can still be pinned from the totals after complementary suppression. Coarsen it "
            "(e.g. months to quarters, small districts pooled) or withhold it (docs/disclosure.md)"
        )


def withheld_note(by: str, shown_by: str | None = None) -> str:
    """What the public page says of a breakdown it does not show at ``by``, e.g. "withheld: too few to show by month"."""
    from .i18n import translate

    note = translate("withheld: too few to show by {by}").format(by=translate(by))
    return translate("{note}; shown {shown_by}").format(note=note, shown_by=translate(shown_by)) if shown_by else note


def shown_count(value: int, threshold: int = THRESHOLD) -> int | str:
    """One count of a breakdown as the public sees it: 0 and counts from ``threshold`` up exactly, else ``"1–4"``."""
    return small_marker(threshold) if 0 < value < threshold else value


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


def _columns(frame: pl.DataFrame, counts: Sequence[str], measures: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """Check the count columns; the key columns and the measures (default: the float columns)."""
    for name in counts:
        if name not in frame.columns:
            raise SuppressionError(f"count column {name!r} is not in the frame; columns: {frame.columns}")
        if not frame[name].dtype.is_integer():
            raise SuppressionError(f"count column {name!r} must hold integers, got dtype {frame[name].dtype}")
    measures = (
        [c for c in frame.columns if c not in counts and frame[c].dtype.is_float()]
        if measures is None
        else list(measures)
    )
    return [c for c in frame.columns if c not in counts and c not in measures], measures


def _primary(
    values: Sequence[Sequence[Any]], protected: pl.Series | None, threshold: int
) -> dict[tuple[int, int], str]:
    """The cells hidden for their own sake: counts of 1 to threshold - 1, and protected rows' counts."""
    hidden: dict[tuple[int, int], str] = {}
    shielded = protected.to_list() if protected is not None else [False] * len(values[0] if values else ())
    for c, column in enumerate(values):
        for r, v in enumerate(column):
            if v is None or v == 0:
                continue
            if v < threshold:
                hidden[(r, c)] = small_marker(threshold)
            elif shielded[r]:
                hidden[(r, c)] = HIDDEN
    return hidden


def _reader_lines(
    frame: pl.DataFrame, counts: Sequence[str], keys: Sequence[str], values: Sequence[Sequence[Any]]
) -> list[list[tuple[int, int]]]:
    return [
        [cell for cell in line if values[cell[1]][cell[0]] is not None] for line in known_lines(frame, counts, keys)
    ]


def too_fine(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    threshold: int = THRESHOLD,
    protected: pl.Series | None = None,
    measures: Iterable[str] | None = None,
) -> int:
    """How many cells :func:`suppress` would hide that a reader pins whatever else is hidden (0: maybe publishable).

    A cheap test (one propagation) a caller choosing a coarsening level can run on the counts
    alone: a positive answer means :func:`suppress` raises :class:`TooFewToShow` for this
    frame; 0 means it may not (the search decides).
    """
    counts = list(counts)
    keys, _ = _columns(frame, counts, measures)
    values = [frame[c].to_list() for c in counts]
    hidden = _primary(values, protected, threshold)
    return len(pinned_whatever_hidden(values, hidden, _reader_lines(frame, counts, keys, values), threshold))


SEARCH_WIDTH = 128
"""At most this many cells are tried (each one propagation) before one complementary cell is chosen."""


def _least_pinning(ranked: Sequence[tuple[int, int]], preference: Any, left_pinned: Any) -> tuple[int, int]:
    """The cell of ``ranked`` (sorted by ``preference``) whose hiding leaves the fewest cells pinned.

    Totals are spared (only tried when nothing else is left); ties go to the preferred cell.
    The first cell that leaves nothing pinned is taken at once (no later one can beat it),
    and at most :data:`SEARCH_WIDTH` cells are tried, in order of preference, so each
    complementary cell costs a bounded number of propagations however long the lines are.
    """
    spared = preference(ranked[0])[0]
    best, best_left = ranked[0], None
    for cell in [x for x in ranked if preference(x)[0] == spared][:SEARCH_WIDTH]:
        left = left_pinned(cell)
        if best_left is None or left < best_left:
            best, best_left = cell, left
        if left == 0:
            break
    return best


def suppress(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    threshold: int = THRESHOLD,
    totals: Iterable[str | Mapping[str, Any]] | None = None,
    protected: pl.Series | None = None,
    measures: Iterable[str] | None = None,
    complementary: bool = True,
    strict: bool = True,
) -> pl.DataFrame:
    """``frame`` with its ``counts`` columns as strings, small and revealing cells hidden.

    ``totals`` names count columns that are row totals (``"n_total"``) and/or marks total
    rows by key value (``{"district": "Alla"}``); they are checked against the parts and are
    hidden only when no other cell can protect. ``protected`` marks rows (e.g. groups of
    protected-identity persons) whose counts are always hidden. ``measures`` are the columns
    that are neither counts nor keys (default: the float columns); they are blanked on every
    row with a hidden count. ``complementary=False`` hides small cells only: never for
    publication, it exists so a test can show the disclosure audit catching the result.
    When complementary suppression cannot protect every hidden cell (the lines' totals are
    themselves small), :class:`TooFewToShow` is raised: the caller coarsens or withholds the
    breakdown. ``strict=False`` returns the best effort instead (for tests of the audit).
    """
    counts = list(counts)
    keys, measures = _columns(frame, counts, measures)
    total_columns, total_rows = _split_totals(totals)
    is_total_row = _check_totals(frame, counts, keys, total_columns, total_rows).to_list()

    values = [frame[c].to_list() for c in counts]  # values[c][r]
    hidden = _primary(values, protected, threshold)
    lines = _reader_lines(frame, counts, keys, values)
    if complementary and strict:
        # A cheap necessary test before the search (see pinned_whatever_hidden): one
        # propagation instead of a search that must fail.
        pinned = pinned_whatever_hidden(values, hidden, lines, threshold)
        if pinned:
            raise TooFewToShow(keys, len(pinned))
    lines_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        for cell in line:
            lines_of[cell].append(i)

    def candidates(line: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        # Only a cell of threshold or more: "[suppressed]" tells the reader "5 or more", and on
        # a zero that is false. A small cell among zeros is then pinned: too fine, coarsen.
        return [cell for cell in line if cell not in hidden and values[cell[1]][cell[0]] >= threshold]

    n_hidden = [sum(cell in hidden for cell in line) for line in lines]

    def preference(cell: tuple[int, int]) -> tuple:
        # Spare totals; then prefer a cell that also protects another exposed line, so
        # hidden cells form rectangles rather than cascading; then the smallest value.
        r, c = cell
        is_total = is_total_row[r] or counts[c] in total_columns
        return (is_total, -sum(n_hidden[i] == 1 for i in lines_of[cell]), values[c][r], r, c)

    def hide(cell: tuple[int, int]) -> None:
        hidden[cell] = HIDDEN
        for j in lines_of[cell]:
            n_hidden[j] += 1

    # First no line may hide exactly one cell (its sum would give it back) ...
    changed = complementary
    while changed:
        changed = False
        for i, line in enumerate(lines):
            spare = candidates(line) if n_hidden[i] == 1 else []
            if spare:
                hide(min(spare, key=preference))
                changed = True

    def left_pinned(cell: tuple[int, int]) -> int:
        hidden[cell] = HIDDEN
        try:
            return len(exposed(values, hidden, lines, threshold))
        finally:
            del hidden[cell]

    # ... then no cell may be pinned by the lines together (a "1–4" beside a 5 summing to 6).
    while complementary:
        options: list[tuple[int, int]] = []
        for cell in exposed(values, hidden, lines, threshold):
            options = list(dict.fromkeys(x for i in lines_of[cell] for x in candidates(lines[i])))
            if options:
                break
        if not options:  # nothing pinned, or nothing left to hide beside what is
            break
        hide(_least_pinning(sorted(options, key=preference), preference, left_pinned))
    if complementary and strict:
        pinned = exposed(values, hidden, lines, threshold)
        if pinned:
            raise TooFewToShow(keys, len(pinned))

    marker = hidden_marker()  # in the report's language
    shown = []
    for c, name in enumerate(counts):
        shown.append(
            pl.Series(
                name,
                [
                    None if v is None else marker if hidden.get((r, c)) == HIDDEN else hidden.get((r, c), str(v))
                    for r, v in enumerate(values[c])
                ],
                dtype=pl.String,
            )
        )
    rows_hidden = pl.Series(
        [any((r, c) in hidden for c in range(len(counts))) for r in range(frame.height)], dtype=pl.Boolean
    )
    blanked = [pl.when(pl.lit(rows_hidden)).then(None).otherwise(pl.col(m)).alias(m) for m in measures]
    return frame.with_columns(shown).with_columns(blanked)
