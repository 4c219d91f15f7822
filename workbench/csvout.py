"""The one writer of CSV files for readers: no cell can start a spreadsheet formula.

Evidence comes from the organisation under investigation, and its text from anyone who ever
wrote to it. A CSV beside a report is opened in a spreadsheet, where a cell such as
``=HYPERLINK("http://x","y")`` or ``@SUM(A1)`` runs as a formula. Following the OWASP
recommendation on CSV injection, a text cell (and a column name) that starts with ``=``,
``+``, ``-`` or ``@``, also after leading blanks or quotes, or that starts with a tab, carriage
return or line feed, is written with a single quote in front: ``'=HYPERLINK(...)``. A
spreadsheet shows it as text; a program reading the file gets the quote too and can strip it.
Numeric, boolean and time columns are written as they are, so ``-3`` in a number column stays
the number -3; the same text in a text column is written ``'-3``.

Reports, per-person lists and query-browser exports go through :func:`write_csv` or
:func:`csv_text`; ``tests/test_csvout.py`` fails if another module writes a CSV. Evidence
files written by the synthetic generator and the ingest's bulk-load stream are data for
programs, not for readers, and are written as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["FORMULA_START", "csv_text", "neutralise", "on_write", "write_csv"]

# = + - @, and their full-width forms, which some spreadsheets also read as a formula.
_TRIGGERS = "=+@\uff1d\uff0b\uff20\uff0d-"
FORMULA_START = rf"^(?:[\t\r\n]|[\s\"']*[{_TRIGGERS}])"
"""A cell matching this (Rust and Python regex) is prefixed with a single quote."""
_FORMULA = re.compile(FORMULA_START)
_TEXT = (pl.String, pl.Categorical, pl.Enum)
_ON_WRITE: list[Callable[[Path], None]] = []


def on_write(callback: Callable[[Path], None]) -> None:
    """Call ``callback(path)`` after each file :func:`write_csv` writes (once per callback): the journal's export hook."""
    if callback not in _ON_WRITE:
        _ON_WRITE.append(callback)


def _safe_name(name: str) -> str:
    return f"'{name}" if _FORMULA.match(name) else name


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell and column name that could start a formula prefixed with ``'``.

    Example: a ``district`` of ``"=1+1"`` becomes ``"'=1+1"``; an Int64 ``-2`` stays ``-2``.
    Categorical and enum columns become text.
    """
    text = [c for c, dtype in frame.schema.items() if isinstance(dtype, _TEXT)]
    if text:
        frame = frame.with_columns(
            pl.when(pl.col(c).cast(pl.String).str.contains(FORMULA_START))
            .then(pl.lit("'") + pl.col(c).cast(pl.String))
            .otherwise(pl.col(c).cast(pl.String))
            .alias(c)
            for c in text
        )
    return frame.rename({c: _safe_name(c) for c in frame.columns if _FORMULA.match(c)})


def csv_text(frame: pl.DataFrame, **options: Any) -> str:
    """The CSV of ``frame`` neutralised (see :func:`neutralise`); ``options`` go to ``polars.DataFrame.write_csv``."""
    return neutralise(frame).write_csv(**options)


def write_csv(frame: pl.DataFrame, path: str | os.PathLike, **options: Any) -> Path:
    """Write ``frame`` neutralised to ``path`` as UTF-8 CSV; returns the path.

    ``options`` go to ``polars.DataFrame.write_csv``, e.g.
    ``write_csv(rows, "out/restore_list.csv", datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")``.
    """
    path = Path(path)
    neutralise(frame).write_csv(path, **options)
    for callback in _ON_WRITE:
        callback(path)
    return path
