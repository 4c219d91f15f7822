"""Readable tables in notebooks and reports, always made fit for the audience first."""

from __future__ import annotations

import hashlib
import html
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from .audience import Audience, fit
from .i18n import column_label, current_language, messages, translate
from .markup import MAX_TEXT_CHARS, cut, shown, visible
from .quarantine_reasons import reason_kind, reason_shown
from .settings import DISPLAY_TZ, OUT_DIR_ENV
from .values import format_value
from .wording import say

__all__ = ["Table", "show", "show_rows", "table"]


SEARCH_FROM = 10
"""A table showing more rows than this gets a search box (the report page's inline script)."""

_STYLE = (
    "<style>.wb-table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
    ".wb-table th,.wb-table td{padding:2px 8px;border-bottom:1px solid #e3e3e3;vertical-align:top}"
    # text left, numbers right: JupyterLab right-aligns every output cell (specificity 0,2,1)
    ".wb-table th,.wb-table td,.jp-RenderedHTMLCommon .wb-table th,.jp-RenderedHTMLCommon .wb-table td{text-align:left}"
    ".wb-table .wb-num,.jp-RenderedHTMLCommon .wb-table .wb-num{text-align:right}"
    ".wb-table th{border-bottom:2px solid #999}"
    ".wb-null{color:#aaa}.wb-note{font-size:11px;color:#666}.wb-cut{color:#888;font-style:italic}</style>"
)


_NUM = ' class="wb-num"'


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


class Table:
    """An HTML table of a frame for notebooks and reports; long frames and long texts are cut with a note.

    Every value is HTML-escaped, with bidirectional and zero-width characters shown as
    markers (:func:`workbench.markup.visible`); a text longer than
    :data:`~workbench.markup.MAX_TEXT_CHARS` is cut. Numbers are written as their column's
    name says (:func:`workbench.values.value_kind`: no separator in ``*_id`` and ``year``
    columns, rates as percentages, money in kr, durations in h and min) and right-aligned;
    text is left-aligned; booleans are yes/no. Each numeric or time cell carries its raw
    value in ``data-v`` so the report page's script sorts it as a number.

    ``csv_for`` names the audience the table is shown to (:func:`table`, :func:`show`,
    :func:`show_rows`; None for widgets, whose tables a report does not show): in a report
    run, a table cut for display (rows or texts) is then also written whole as a CSV beside
    the report, linked as "all N rows (CSV)". For the public it is written only when rows
    are cut, with texts cut as on the page, so it holds the page's cells and no more.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        max_rows: int = 40,
        caption: str | None = None,
        csv: str | None = None,
        csv_for: str | None = None,
        csv_name: str | None = None,
    ):
        self.frame, self.max_rows, self.caption, self.csv = frame, max_rows, caption, csv
        self.texts_cut = _texts_cut(frame.head(max_rows))
        if csv is None and csv_for is not None:
            public = not Audience.parse(csv_for).sees_rows
            if frame.height > max_rows or (self.texts_cut and not public):
                self.csv = _write_csv(_cut_texts(frame) if public else frame, csv_name or caption or "table")
        self.csv_full_text = bool(self.csv) and not (csv_for is not None and not Audience.parse(csv_for).sees_rows)

    @staticmethod
    def _cell(value, column: str = "") -> str:
        if value is None:
            return '<td><span class="wb-null">–</span></td>'
        if isinstance(value, bool):
            return f"<td>{html.escape(format_value(value))}</td>"
        if isinstance(value, datetime):
            stamp = f' data-v="{value.timestamp()}"' if value.tzinfo is not None else ""
            if value.tzinfo is not None:
                value = value.astimezone(ZoneInfo(DISPLAY_TZ))
                return f"<td{stamp}>{html.escape(value.strftime('%Y-%m-%d %H:%M:%S %Z'))}</td>"
            return f"<td>{html.escape(value.isoformat(sep=' '))}</td>"
        if isinstance(value, int | float):
            raw = html.escape(repr(value))
            return f'<td class="wb-num" data-v="{raw}">{html.escape(format_value(value, column))}</td>'
        if isinstance(value, timedelta):
            return f'<td class="wb-num" data-v="{value.total_seconds()}">{html.escape(format_value(value))}</td>'
        text = value_label(
            column, str(value)
        )  # a label the workbench wrote ("login disabled when it was"); evidence stays
        if len(text) <= MAX_TEXT_CHARS:
            return f"<td>{html.escape(visible(text))}</td>"
        note = cut(text)[0][MAX_TEXT_CHARS:]  # "… [cut: 1 000 000 characters in all]"
        return f'<td>{html.escape(visible(text[:MAX_TEXT_CHARS]))}<span class="wb-cut">{html.escape(note)}</span></td>'

    def _repr_html_(self) -> str:
        rows = self.frame.head(self.max_rows)
        numeric = {c for c, t in rows.schema.items() if t.is_numeric()}
        head = "".join(
            f'<th{_NUM if c in numeric else ""} data-col="{html.escape(shown(c))}">{html.escape(shown(column_label(c)))}</th>'
            for c in rows.columns
        )
        body = "".join(
            "<tr>" + "".join(self._cell(v, c) for c, v in zip(rows.columns, row, strict=True)) + "</tr>"
            for row in rows.iter_rows()
        )
        notes = []
        link = ""
        if self.csv:
            words = "full_text_csv" if self.texts_cut and self.csv_full_text else "all_rows_csv"
            text = say(words, n=_thousands(self.frame.height))
            link = f'<a class="wb-csv" href="{html.escape(self.csv)}">{html.escape(text)}</a>'
        if self.frame.height > self.max_rows:
            notes.append(say("showing_rows", shown=_thousands(self.max_rows), total=_thousands(self.frame.height)))
        elif self.frame.height == 0:
            notes.append(say("no_rows"))
        if self.texts_cut:
            notes.append(say("texts_cut", n=_thousands(self.texts_cut), limit=_thousands(MAX_TEXT_CHARS)) + ".")
        note = " ".join(html.escape(n) for n in notes) + (f" {link}" if link else "")
        note = f'<p class="wb-note">{note.strip()}</p>' if note.strip() else ""
        caption = f"<caption>{html.escape(shown(translate(self.caption)))}</caption>" if self.caption else ""
        search = f' data-wb-search="{html.escape(say("search_rows"))}"' if rows.height > SEARCH_FROM else ""
        attrs = f' data-wb-sort="{html.escape(say("sort_hint"))}"{search}'
        return (
            f'{_STYLE}<table class="wb-table"{attrs}>{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{note}"
        )

    def __repr__(self) -> str:
        return repr(self.frame)


VALUE_GROUPS = {
    "flag": "flag",
    "alternative": "alternatives",
    "actor_type": "actor_type",
    "outcome": "outcome",
    "measure": "measure",
    "channel": "channel",
    "end_reason": "end_reason",
    "field": "profile_field",
    "action": "action",
    "kind": "kind",  # a milestone's kind; a queue act's (interest_registered)
    "group": "listing_kind",  # the groups table: a listing kind (new_build); districts and years stay as they are
    "signal": "signal",
    "message_category": "message_category",
}
"""Columns whose values are the workbench's own categories, by the catalogue group (``chart.<group>``) that labels them."""


_P_LISTS = ("possible_viewers", "possible_sessions")
"""Columns listing ids each with its probability, ``1104 (p 0.13)`` (:func:`workbench.exposure.tiers.p_label`)."""
_P_POINT = re.compile(r"\(p (<?\d+)\.(\d+)\)")


def value_label(column: str, value: str) -> str:
    """A text cell as shown: a category of :data:`VALUE_GROUPS` by its label ("off-hours": "utanför arbetstid"),
    else a sentence the workbench wrote in the report's language (:func:`translate`), else the value as it is."""
    if column == "reason" and reason_kind(value) is not None:
        return reason_shown(value)  # a quarantine reason: its kind in the report's language first
    if column in _P_LISTS and current_language() == "sv":
        return _P_POINT.sub(r"(p \1,\2)", value)  # "1104 (p 0,13)": a decimal comma; the CSV keeps 0.13
    if column == "fields":  # the fields a page shows, "name, applicant_id": each by its label
        return ", ".join(value_label("field", part) for part in value.split(", "))
    group = VALUE_GROUPS.get(column)
    found = messages(current_language()).get(f"chart.{group}.{value}") if group else None
    return found if isinstance(found, str) else translate(value)


def _cut_texts(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cut as a table shows it (:func:`workbench.markup.cut`)."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(pl.col(c).map_elements(lambda v: cut(v)[0], return_dtype=pl.String) for c in text)


def _texts_cut(frame: pl.DataFrame) -> int:
    """How many values of ``frame`` a table shows as text longer than :data:`~workbench.markup.MAX_TEXT_CHARS`."""
    plain = (type(None), bool, int, float, datetime)  # shown as numbers, times or a dash
    return sum(1 for row in frame.iter_rows() for v in row if not isinstance(v, plain) and len(str(v)) > MAX_TEXT_CHARS)


def table(frame: pl.DataFrame, *, max_rows: int = 40, caption: str | None = None) -> Table:
    """Display an already audience-fit frame as a clean HTML table (times in Stockholm).

    In a report run a cut table is also written whole beside the report (see :class:`Table`).
    """
    return Table(frame, max_rows=max_rows, caption=caption, csv_for="investigator")


def _write_csv(frame: pl.DataFrame, name: str) -> str | None:
    """Write a cut, audience-fit table beside the report; its path relative to the report.

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


def show(frame: pl.DataFrame, audience: str, *, max_rows: int = 40, caption: str | None = None, **fit_options) -> Any:
    """Make ``frame`` fit for ``audience`` (see :func:`workbench.audience.fit`) and display it.

    ``fit_options`` go to ``fit``, e.g. ``query="manifest"`` to use a query's column tags.
    In a report run, a table longer than ``max_rows``, or with a text cut for display, is also
    written whole, audience-fit, as a CSV beside the report (``tables/<caption or
    query>-<hash>.csv``) and linked under the table as "all N rows (CSV)"; for the public,
    only when rows are cut, with texts cut as on the page (see :class:`Table`). A public
    breakdown too fine to publish even with complementary suppression
    (:class:`~workbench.suppression.TooFewToShow`) is withheld: a note says so in its place.
    """
    from .suppression import TooFewToShow, withheld_note

    try:
        fitted = fit(frame, audience, **fit_options)
    except TooFewToShow as exc:
        # No coarser level is known here: the public page withholds the table and says so,
        # rather than the whole report failing on one breakdown (docs/disclosure.md).
        from IPython.display import Markdown

        note = withheld_note(", ".join(column_label(k).lower() for k in exc.keys))
        return Markdown(f"*{caption}: {note}.*" if caption else f"*{note[:1].upper()}{note[1:]}.*")
    name = caption or fit_options.get("query") or fit_options.get("table") or "table"
    return Table(fitted, max_rows=max_rows, caption=caption, csv_for=audience, csv_name=name)


def show_rows(
    frame: pl.DataFrame, audience: str, *, caption: str | None = None, max_rows: int = 40, **fit_options
) -> Any:
    """Per-person rows for an audience that sees rows (as :func:`show`); for the public, a note that they are withheld."""
    if not Audience.parse(audience).sees_rows:
        from IPython.display import Markdown

        text = say("rows_withheld", n=_thousands(frame.height)) if frame.height >= 5 else say("rows_withheld_few")
        return Markdown(f"*{text}*")
    return Table(fit(frame, audience, **fit_options), max_rows=max_rows, caption=caption, csv_for=audience)
