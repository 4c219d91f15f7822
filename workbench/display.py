"""Readable tables in notebooks and reports, always made fit for the audience first."""

from __future__ import annotations

import hashlib
import html
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from .audience import Audience, fit
from .markup import MAX_TEXT_CHARS, cut, shown, visible
from .settings import DISPLAY_TZ, OUT_DIR_ENV

__all__ = ["Table", "show", "show_rows", "table"]


class Table:
    """An HTML table of a frame for notebooks and reports; long frames and long texts are cut with a note.

    Every value is HTML-escaped, with bidirectional and zero-width characters shown as
    markers (:func:`workbench.markup.visible`); a text longer than
    :data:`~workbench.markup.MAX_TEXT_CHARS` is cut. When a shown text is cut and
    ``full_text_csv`` is true (:func:`table`, :func:`show_rows`, and :func:`show` for the
    audiences that see rows; not widgets, whose tables a report does not show), the whole
    table is written, as given, as a CSV beside the report (in a report run), and the note
    links to it.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        max_rows: int = 40,
        caption: str | None = None,
        csv: str | None = None,
        full_text_csv: bool = False,
    ):
        self.frame, self.max_rows, self.caption, self.csv = frame, max_rows, caption, csv
        self.texts_cut = _texts_cut(frame.head(max_rows))
        if self.texts_cut and csv is None and full_text_csv:
            self.csv = _write_csv(frame, caption or "table")

    @staticmethod
    def _cell(value) -> str:
        if value is None:
            return '<span class="wb-null">–</span>'
        if isinstance(value, datetime) and value.tzinfo is not None:
            from zoneinfo import ZoneInfo

            return html.escape(value.astimezone(ZoneInfo(DISPLAY_TZ)).strftime("%Y-%m-%d %H:%M:%S %Z"))
        elif isinstance(value, int) and not isinstance(value, bool):
            return f'<span class="wb-num">{value:,}</span>'.replace(",", "\u202f")
        elif isinstance(value, float):
            return f'<span class="wb-num">{value:,.4g}</span>'.replace(",", "\u202f")
        text = str(value)
        if len(text) <= MAX_TEXT_CHARS:
            return html.escape(visible(text))
        note = cut(text)[0][MAX_TEXT_CHARS:]  # "… [cut: 1 000 000 characters in all]"
        return f'{html.escape(visible(text[:MAX_TEXT_CHARS]))}<span class="wb-cut">{html.escape(note)}</span>'

    def _repr_html_(self) -> str:
        rows = self.frame.head(self.max_rows)
        head = "".join(f"<th>{html.escape(shown(c))}</th>" for c in rows.columns)
        body = "".join("<tr>" + "".join(f"<td>{self._cell(v)}</td>" for v in row) + "</tr>" for row in rows.iter_rows())
        note = ""
        link = f'<a href="{html.escape(self.csv)}">{html.escape(self.csv)}</a>' if self.csv else ""
        if self.frame.height > self.max_rows:
            note = f"Showing {self.max_rows:,} of {self.frame.height:,} rows.".replace(",", "\u202f")
            if link:
                note += f" All rows{', full text' if self.texts_cut else ''}: {link}."
        elif self.frame.height == 0:
            note = "No rows."
        if self.texts_cut:
            note += f" {self.texts_cut:,} text(s) over {MAX_TEXT_CHARS:,} characters cut here".replace(",", "\u202f")
            note += f"; full text: {link}." if link and self.frame.height <= self.max_rows else "."
        note = f'<p class="wb-note">{note.strip()}</p>' if note else ""
        caption = f"<caption>{html.escape(shown(self.caption))}</caption>" if self.caption else ""
        style = (
            "<style>.wb-table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
            ".wb-table th,.wb-table td{padding:2px 8px;border-bottom:1px solid #e3e3e3;text-align:left}"
            ".wb-table th{border-bottom:2px solid #999}.wb-num{display:block;text-align:right}"
            ".wb-null{color:#aaa}.wb-note{font-size:11px;color:#666}.wb-cut{color:#888;font-style:italic}</style>"
        )
        return (
            f'{style}<table class="wb-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}'
        )

    def __repr__(self) -> str:
        return repr(self.frame)


def _texts_cut(frame: pl.DataFrame) -> int:
    """How many values of ``frame`` a table shows as text longer than :data:`~workbench.markup.MAX_TEXT_CHARS`."""
    plain = (type(None), bool, int, float, datetime)  # shown as numbers, times or a dash
    return sum(1 for row in frame.iter_rows() for v in row if not isinstance(v, plain) and len(str(v)) > MAX_TEXT_CHARS)


def table(frame: pl.DataFrame, *, max_rows: int = 40, caption: str | None = None) -> Table:
    """Display an already audience-fit frame as a clean HTML table (times in Stockholm)."""
    return Table(frame, max_rows=max_rows, caption=caption, full_text_csv=True)


def _write_csv(frame: pl.DataFrame, name: str) -> str | None:
    """Write a long, audience-fit table beside the report; its path relative to the report.

    Only inside a report run (``WORKBENCH_OUT_DIR`` set): in live JupyterLab nothing is written.
    """
    out_dir = os.environ.get(OUT_DIR_ENV)  # set by workbench.reportset.execution for a report run
    if not out_dir:
        return None
    from .csvout import csv_text

    text = csv_text(frame)  # no cell can start a spreadsheet formula
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:48] or "table"
    relative = f"tables/{slug}-{hashlib.sha256(text.encode()).hexdigest()[:8]}.csv"
    path = Path(out_dir) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return relative


def show(frame: pl.DataFrame, audience: str, *, max_rows: int = 40, caption: str | None = None, **fit_options) -> Table:
    """Make ``frame`` fit for ``audience`` (see :func:`workbench.audience.fit`) and display it.

    ``fit_options`` go to ``fit``, e.g. ``query="manifest"`` to use a query's column tags.
    In a report run, a table longer than ``max_rows``, or with a text cut for display, is also
    written whole, audience-fit, as a CSV beside the report (``tables/<caption or
    query>-<hash>.csv``) for investigators and auditors; the public report shows the
    truncation note only.
    """
    fitted = fit(frame, audience, **fit_options)
    csv = None
    if fitted.height > max_rows and Audience.parse(audience).sees_rows:
        csv = _write_csv(fitted, caption or fit_options.get("query") or fit_options.get("table") or "table")
    return Table(fitted, max_rows=max_rows, caption=caption, csv=csv, full_text_csv=Audience.parse(audience).sees_rows)


def show_rows(
    frame: pl.DataFrame, audience: str, *, caption: str | None = None, max_rows: int = 40, **fit_options
) -> Any:
    """Per-person rows for an audience that sees rows (as :func:`show`); for the public, a note that they are withheld."""
    if not Audience.parse(audience).sees_rows:
        from IPython.display import Markdown

        return Markdown(
            f"*{frame.height:,} per-person rows are not shown in the public report.*".replace(",", "\u202f")
            if frame.height >= 5
            else "*Per-person rows are not shown in the public report.*"
        )
    return Table(fit(frame, audience, **fit_options), max_rows=max_rows, caption=caption, full_text_csv=True)
