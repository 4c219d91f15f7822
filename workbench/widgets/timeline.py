"""``TimelineExplorer``: pick a time range and event kinds; see those events as a table and a chart.

The state is plain Python: ``range`` (UTC start and end), ``kinds``, and the derived
``table`` (audience-fit) and ``chart``. The ipywidgets only feed that state, so it can be
tested headless by setting a child's value::

    explorer = TimelineExplorer(events, marks, audience="investigator")
    explorer._w_range.value = (start, end)      # or explorer.set_range(start, end)
    explorer.table                              # the events in range, as shown
    explorer._w_all.click()                     # every kind, logins too (explorer.kinds)

It opens on the incident's own events, every kind but :data:`HIDDEN_AT_FIRST` (logins, which
outnumber the rest by far and would bury the mismatched sessions); logins are one click away.

Given ``notes`` (investigators only, see :mod:`.annotate_box`), it shows a tag field and a note
box for the sessions and fault-report messages of the rows the table shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

import altair as alt
import polars as pl

from ..audience import Audience, fit
from ..display import Table
from ..errors import WorkbenchError
from ..evidence import PII
from ..notes import Notes
from ..settings import DISPLAY_TZ, in_report_run
from .annotate_box import annotation_box
from .charts import show_in
from .hooks import ChangeHooks
from .incident_charts import events_chart

__all__ = ["HIDDEN_AT_FIRST", "TimelineExplorer"]

HIDDEN_AT_FIRST = ("login",)
"""Event kinds the explorer leaves out until asked: every ordinary login of the days around the incident."""

_TAGS = {"time": PII.NONE, "kind": PII.NONE, "detail": PII.NONE, "session_id": PII.DIRECT, "hour": PII.NONE}


class TimelineExplorer(ChangeHooks):
    """Events of the incident between two hours, filtered by kind, with the milestones inside that range.

    Parameters
    ----------
    events : rows ``time`` (UTC), ``kind``, ``detail``, ``session_id``, e.g. ``incident.timeline_events``.
    marks : milestone rows ``milestone``, ``kind``, ``time``, e.g. ``incident.milestones``.
    audience : ``"investigator"`` and ``"auditor"`` see event rows; the public sees counts per kind.
    timezone : wall-clock zone for the slider labels and the chart, e.g. ``"Europe/Stockholm"``.
    max_rows : rows shown in the table (the ``table`` property holds them all).
    kinds : the event kinds shown at first, e.g. ``["mismatched session", "fault report"]``; default:
        every kind but :data:`HIDDEN_AT_FIRST` (all of them when the events hold no other kind).
    notes : where an investigator's tags and notes on the sessions and messages shown are saved
        (:func:`workbench.widgets.annotate_box.notes_for`); None: no note box.

    ``TimelineExplorer.or_note(events, marks, ...)`` gives a plain note instead when there is
    no event to explore (a case without the web log, the mailbox and the incident log).
    """

    @classmethod
    def or_note(cls, events: pl.DataFrame, marks: pl.DataFrame, **options) -> Any:
        """The explorer of ``events``, or a Markdown note saying there is nothing to explore when there is none."""
        if events.is_empty():
            from IPython.display import Markdown

            return Markdown(
                "*No event to explore: the case holds no login, page view, support message or incident-log "
                "action in the window.*"
            )
        return cls(events, marks, **options)

    def __init__(
        self,
        events: pl.DataFrame,
        marks: pl.DataFrame,
        *,
        audience: str = "investigator",
        timezone: str = DISPLAY_TZ,
        max_rows: int = 50,
        kinds: Iterable[str] | None = None,
        notes: Notes | None = None,
    ):
        import ipywidgets as w

        missing = {"time", "kind"} - set(events.columns)
        if missing:
            raise WorkbenchError(f"TimelineExplorer needs event columns time and kind; missing {sorted(missing)}")
        if events.is_empty():
            raise WorkbenchError("TimelineExplorer needs at least one event; the frame is empty")
        self.audience = Audience.parse(audience)
        self.timezone, self.max_rows = timezone, max_rows
        self._events = events.sort("time")
        self._marks = marks
        # Not empty (checked above), and typed as a time by the schema.
        first = cast(datetime, self._events["time"].min()).replace(minute=0, second=0, microsecond=0)
        last = cast(datetime, self._events["time"].max()).replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=1
        )
        hours = pl.datetime_range(first, last, "1h", time_unit="us", time_zone="UTC", eager=True).to_list()
        labels = [h.astimezone(_zone(timezone)).strftime("%a %d %b %H:%M") for h in hours]
        self._hours = hours
        all_kinds = sorted(self._events["kind"].unique().to_list())
        first_kinds = (
            _known(kinds, all_kinds)
            if kinds is not None
            else [k for k in all_kinds if k not in HIDDEN_AT_FIRST] or all_kinds
        )
        # The slider's own readout is at most ~150 px wide and cuts "Fri 13 Dec 16:00 – Sun …":
        # the range is spelled out in full beside it instead.
        self._w_range = w.SelectionRangeSlider(
            options=list(zip(labels, hours, strict=True)),
            index=(0, len(hours) - 1),
            description="Range",
            readout=False,
            layout=w.Layout(flex="1 1 auto", min_width="300px"),
            continuous_update=False,
        )
        self._w_range_text = w.HTML(layout=w.Layout(width="auto", margin="0 0 0 8px"))
        self._w_range_text.add_class("wb-timeline-range")
        self._w_kinds = w.SelectMultiple(
            options=all_kinds,
            value=tuple(first_kinds),
            description="Events",
            rows=min(6, len(all_kinds)),
            layout=w.Layout(width="260px"),
        )
        self._w_all = w.Button(description="All kinds, logins too", icon="list", layout=w.Layout(width="auto"))
        self._w_all.add_class("wb-timeline-all")
        self._w_all.on_click(lambda _b: self.set_kinds(all_kinds))
        self._w_summary = w.HTML()
        self._w_table = w.HTML()
        self._w_chart = w.Output()
        self.annotate = annotation_box(notes, self.audience, name="timeline")
        self._w_box = w.VBox(
            [
                w.HBox([self._w_range, self._w_range_text], layout=w.Layout(width="95%")),
                w.HBox([self._w_kinds, self._w_all]),
                self._w_summary,
                self._w_chart,
                self._w_table,
                *([self.annotate.widget] if self.annotate else []),
            ]
        )
        self.table = pl.DataFrame()
        self.chart: alt.LayerChart | None = None
        self._displayed = False
        self._w_range.observe(self._refresh, names="value")
        self._w_kinds.observe(self._refresh, names="value")
        self._refresh()

    # -- plain-Python state -------------------------------------------------------------
    @property
    def range(self) -> tuple[datetime, datetime]:
        """(start, end) in UTC: events with start <= time < end are in range."""
        start, end = self._w_range.value
        return start, end

    @property
    def kinds(self) -> tuple[str, ...]:
        """The event kinds shown, e.g. ``("fault report", "milestone")``."""
        return tuple(self._w_kinds.value)

    @property
    def value(self) -> dict:
        """The selection as one value: ``{"start": ..., "end": ..., "kinds": (...)}``."""
        start, end = self.range
        return {"start": start, "end": end, "kinds": self.kinds}

    def set_range(self, start: datetime, end: datetime) -> None:
        """Select the hours from ``start`` to ``end`` (both rounded down to the hour, end made exclusive)."""
        lo = self._index(start)
        hi = self._index(end)
        self._w_range.index = (lo, max(hi, lo))

    def set_kinds(self, kinds: Iterable[str]) -> None:
        """Show only ``kinds``; an unknown kind is an error listing the known ones."""
        self._w_kinds.value = _known(kinds, self._w_kinds.options)

    def in_range(self) -> pl.DataFrame:
        """Events in the selected range and kinds, before fitting for the audience."""
        start, end = self.range
        return self._events.filter(
            (pl.col("time") >= start) & (pl.col("time") < end) & pl.col("kind").is_in(list(self.kinds))
        )

    def milestones_in_range(self) -> pl.DataFrame:
        """Milestones between the range's start and end."""
        start, end = self.range
        return self._marks.filter((pl.col("time") >= start) & (pl.col("time") < end))

    # -- refresh ---------------------------------------------------------------------------
    def _index(self, t: datetime) -> int:
        hour = t.astimezone(self._hours[0].tzinfo).replace(minute=0, second=0, microsecond=0)
        if hour <= self._hours[0]:
            return 0
        if hour >= self._hours[-1]:
            return len(self._hours) - 1
        return self._hours.index(hour)

    def _refresh(self, _change=None) -> None:
        rows = self.in_range()
        counts = rows.group_by("kind").agg(n=pl.len().cast(pl.Int64)).sort("kind")
        if not self.audience.sees_rows:
            self.table = fit(counts, self.audience, columns=_TAGS)
        else:
            self.table = fit(
                rows.select([c for c in ("time", "kind", "detail", "session_id") if c in rows.columns]),
                self.audience,
                columns=_TAGS,
            )
        hourly = (
            rows.group_by(hour=pl.col("time").dt.truncate("1h"), kind="kind")
            .agg(n=pl.len().cast(pl.Int64))
            .sort("hour", "kind")
        )
        shown_hourly = fit(hourly, self.audience, columns=_TAGS) if not self.audience.sees_rows else hourly
        self.chart = events_chart(shown_hourly, self.milestones_in_range(), timezone=self.timezone)
        start, end = self.range
        first, last = (f"{t.astimezone(_zone(self.timezone)):%a %d %b %H:%M}" for t in (start, end))
        self._w_range_text.value = f"{first} – {last}"
        hidden = sorted(set(self._w_kinds.options) - set(self.kinds))
        self._w_all.disabled = not hidden
        count = f"{rows.height:,}".replace(",", "\u202f")
        self._w_summary.value = (
            f"<b>{count}</b> event(s) from {first} to {last}; {self.milestones_in_range().height} milestone(s) inside."
            + (f" Not shown: {' and '.join(hidden)} (choose under Events, or <i>All kinds</i>)." if hidden else "")
        )
        self._w_table.value = Table(self.table, max_rows=self.max_rows)._repr_html_()
        if self.annotate:
            self.annotate.offer(_targets(rows.head(self.max_rows), self.timezone))
        self._draw()
        self._changed()

    def _draw(self) -> None:
        """Draw the chart into its output area (:func:`show_in`), once the explorer is on screen.

        Headless (tests, scripts) and in report runs (WORKBENCH_RUN=papermill, where a report
        cannot show widgets anyway) the chart stays state only.
        """
        if not self._displayed or in_report_run():
            return
        show_in(self._w_chart, self.chart)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._w_box)
        self._displayed = True
        self._draw()


def _targets(rows: pl.DataFrame, timezone: str) -> list[tuple[str, str, str]]:
    """The sessions and fault-report messages of the rows shown, to annotate, in the table's order."""
    found = []
    for row in rows.iter_rows(named=True):
        at = f"{row['time'].astimezone(_zone(timezone)):%d %b %H:%M}"
        if row.get("session_id"):
            found.append((f"session {row['session_id']} ({row['kind']}, {at})", "session", row["session_id"]))
        if row.get("message_id"):
            found.append((f"message {row['message_id']} ({row['kind']}, {at})", "support_message", row["message_id"]))
    return found


def _known(kinds: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """``kinds`` as a tuple, or an error naming the unknown ones and listing ``known``."""
    kinds, known = tuple(kinds), list(known)
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise WorkbenchError(f"unknown event kind(s) {unknown}; known: {known}")
    return kinds


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
