"""The numbers of a report set that are its own figures, set aside from the leak scan's keys.

Customer numbers are dense: at stockholm 7-digit, at national 4.5 M of them fill half the
7-digit range, so a count such as 2 210 728 page views is also some member's number. A
number the set publishes as a figure is that figure, not the member; :func:`without_figures`
takes it out of the keys and names it in ``Identifiers.figures``, and the scan says so rather
than flag every large count. The same number anywhere else in the set cannot be told apart
from the figure, so it is not searched either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableSet
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ..evidence import PII, metadata
from ..suppression import BREAKDOWN_KEYS
from .casekeys import MIN_NUMBER_DIGITS
from .keytable import KindView

if TYPE_CHECKING:
    from .casekeys import Identifiers

__all__ = ["breakdown_figures", "without_figures"]


def without_figures(ids: Identifiers, root: str | Path, records: Iterable[str] = ()) -> Identifiers:
    """``ids`` less the numbers that equal a whole-number figure recorded in a ``findings.json`` under ``root``.

    So are the numbers of the case fingerprint a ``report-set.json`` under ``root`` or in
    ``records`` (its text, about to be written) records: file sizes in bytes and row counts,
    which every page's provenance shows; and the counts and sums of the set's breakdown CSVs
    (:func:`breakdown_figures`). At national, customer numbers run to eight digits
    and a file of 1,616,725 bytes is also a member's number.

    At stockholm scale customer numbers are 7-digit and dense, so a count such as 2 210 728
    page views is also some member's customer number. A figure the set records with its
    description is a count, not that member; it is set aside and named in ``figures``. The
    same number anywhere else in the set cannot be told apart from the count, so it is not
    searched either: the scan says so rather than flag every large count.
    """
    recorded: set[str] = set()
    for path in sorted(Path(root).rglob("findings.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for entry in entries.values() if isinstance(entries, dict) else ():
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= MIN_NUMBER_DIGITS:
                recorded.add(str(abs(value)))
    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(root).rglob("report-set.json"))]
    for text in [*texts, *records]:
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict):
            recorded |= _numbers(record.get("case_fingerprint"))
    for path in sorted(Path(root).rglob("*.csv")):
        recorded |= breakdown_figures(path)
    hidden = set().union(*(_among(found, recorded) for found in ids.keys.values()))
    if not hidden:
        return ids
    out = ids.copy()
    # only the kinds that hold a hidden number change: a case's kinds become views of the same table without them
    out.keys = {kind: _less(found, hidden) if _among(found, hidden) else found for kind, found in ids.keys.items()}
    out.keys = {kind: found for kind, found in out.keys.items() if found}
    out.figures |= hidden
    return out


def _among(keys: MutableSet[str], values: set[str]) -> set[str]:
    """Those of ``values`` that are in ``keys``, looked up together."""
    if isinstance(keys, KindView):
        return keys.matches(keys.table.find(values), values)
    return values & keys


def _less(keys: MutableSet[str], values: set[str]) -> MutableSet[str]:
    return keys.without(values) if isinstance(keys, KindView) else {k for k in keys if k not in values}


def breakdown_figures(path: Path) -> set[str]:
    """The whole numbers of a CSV that is a breakdown: counts and sums per group, not per person.

    A breakdown's text columns are all group keys (district, year, month, listing kind...:
    :data:`workbench.suppression.BREAKDOWN_KEYS`) and none is a personal column of the
    evidence; its numbers are then the set's figures (``skipped_members``: district, year,
    ``n``, ``queue_days_jumped``, whose sums at national equal customer numbers). Any other
    CSV gives nothing: a table with a name, an id or free text is searched as it stands, and
    so is a number column whose name says it holds ids (``*_id``, ``customer_number``).
    """
    try:
        frame = pl.read_csv(path, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
        return set()
    personal = {
        c.name for t in metadata.sorted_tables for c in t.columns if c.info.get("pii") in (PII.DIRECT, PII.FREE_TEXT)
    }
    text = [c for c, dtype in frame.schema.items() if not dtype.is_numeric()]
    keys = set(frame.columns) & BREAKDOWN_KEYS
    if not keys or personal & set(frame.columns) or any(c not in BREAKDOWN_KEYS | {"note"} for c in text):
        return set()
    found: set[str] = set()
    for column, dtype in frame.schema.items():
        if dtype.is_integer() and column not in BREAKDOWN_KEYS and not _names_an_id(column):
            found |= {
                str(abs(v)) for v in frame[column].drop_nulls().to_list() if len(str(abs(v))) >= MIN_NUMBER_DIGITS
            }
    return found


def _names_an_id(column: str) -> bool:
    """Whether a column's name says it holds ids or numbers of people rather than counts."""
    name = column.lower()
    return name.endswith("id") or "number" in name or "nummer" in name


def _numbers(value: object) -> set[str]:
    """The whole numbers of at least :data:`MIN_NUMBER_DIGITS` digits anywhere in a JSON value, as text."""
    if isinstance(value, dict):
        return set().union(*map(_numbers, value.values()))
    if isinstance(value, list):
        return set().union(*map(_numbers, value))
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= MIN_NUMBER_DIGITS:
        return {str(abs(value))}
    return set()
