"""Per-person lists (changes, restore values, notifications): shown and exported through the audience layer.

Investigators see and export the rows as they are; auditors the pseudonymised rows with
free text withheld; the public audience gets counts by the given non-personal columns,
suppressed, and no CSV at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from .audience import Audience, fit
from .csvout import write_csv
from .errors import WorkbenchError
from .evidence import PII

__all__ = ["export_csv", "person_rows"]


def person_rows(
    frame: pl.DataFrame,
    audience: str,
    *,
    columns: Mapping[str, PII],
    by: Sequence[str] = (),
    rows_for: Sequence[str] | None = None,
    key: str | bytes | None = None,
) -> pl.DataFrame:
    """``frame`` fit for ``audience`` if it may see the rows (``rows_for``); else the rows counted per ``by``.

    Example: ``person_rows(restore, "public", columns=RESTORE_COLUMNS, by=["field"])`` gives
    ``field, n`` with small counts suppressed; ``rows_for=("investigator",)`` keeps even
    auditors to counts (protected identity). By default the audiences that see per-person
    rows (:attr:`Audience.sees_rows`: investigators and auditors) get them.
    """
    who = Audience.parse(audience)
    may_see_rows = who.sees_rows if rows_for is None else who.value in rows_for
    if may_see_rows:
        return fit(frame, who, columns=columns, key=key)
    counts = frame.group_by(list(by)).agg(n=pl.len().cast(pl.Int64)) if by else frame.select(n=pl.len().cast(pl.Int64))
    if by:
        counts = counts.sort(list(by))
    return fit(counts, who, columns={c: columns.get(c, PII.NONE) for c in by}, counts=["n"], key=key)


def export_csv(
    frame: pl.DataFrame, out_dir: str | os.PathLike, name: str, audience: str, **fit_options: Any
) -> Path | None:
    """Write ``frame`` made fit for ``audience`` to ``out_dir/name``; None (nothing written) for the public.

    ``name`` is a file name such as ``"restore_list.csv"``; ``fit_options`` go to
    :func:`workbench.audience.fit`, e.g. ``columns=RESTORE_COLUMNS``. Times are written
    as ISO 8601 in UTC; text that a spreadsheet would read as a formula starts with ``'``
    (see :mod:`workbench.csvout`).
    """
    who = Audience.parse(audience)
    if not who.sees_rows:
        return None
    if Path(name).name != name or not name.endswith(".csv"):
        raise WorkbenchError(
            f"export name must be a plain file name ending in .csv, e.g. 'restore_list.csv'; got {name!r}"
        )
    fitted = fit(frame, who, **fit_options)
    lists = [c for c, t in fitted.schema.items() if isinstance(t, pl.List)]
    fitted = fitted.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join(" ") for c in lists)
    path = Path(out_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(fitted, path, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")  # text that could start a formula gets a quote
    return path
