"""Wiring between the live widgets: timeline → account inspector, dashboard → applicant, hourly brush → timeline.

Each link is a plain object that observes the widgets it is given (no globals, no registry),
so a notebook wires them in order and a papermill rerun builds the same links::

    accounts = TimelineAccounts(timeline, inspector, mismatched)   # accounts in the timeline's range
    applicant = AllocationApplicant(dashboard, review, inspector)  # the applicant of an allocation
    brush = range_brush(activity, timeline)                        # brushing the chart sets the range

The links read the widgets' plain-Python state (``timeline.in_range()``,
``dashboard.allocations``) from the widgets' ``on_change`` hook, which runs after the
widget has refreshed for the new selection.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import polars as pl

from ..audience import Audience, fit, pseudonym, pseudonym_key
from ..display import Table
from ..errors import WorkbenchError
from ..evidence import PII
from ..fairness.redflags import with_details
from ..settings import DISPLAY_TZ
from ..wording import say
from .caseworker import in_outcome_order
from .charts import local_time, time_title

__all__ = ["AllocationApplicant", "TimelineAccounts", "hourly_brush_chart", "link_brush", "range_brush"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)


def _labeller(audience: Audience, key: str | bytes | None):
    """Customer number -> the label the audience's widgets use: the number, or the auditor's pseudonym."""
    if audience.pseudonymised:
        secret = pseudonym_key(key)
        return lambda account: pseudonym(account, "account_id", secret)
    return str


class TimelineAccounts:
    """The accounts that the timeline's selected sessions rendered; choosing one opens it in the inspector.

    Parameters
    ----------
    timeline : a :class:`~workbench.widgets.TimelineExplorer`.
    inspector : an :class:`~workbench.widgets.AccountInspector` for the same audience.
    sessions : rows ``session_id``, ``account_id`` (the account a session rendered), e.g. the
        ``mismatched_sessions`` query.
    """

    def __init__(self, timeline: Any, inspector: Any, sessions: pl.DataFrame, *, key: str | bytes | None = None):
        import ipywidgets as w

        missing = {"session_id", "account_id"} - set(sessions.columns)
        if missing:
            raise WorkbenchError(
                f"TimelineAccounts needs session columns session_id and account_id; missing {sorted(missing)}"
            )
        self.audience = Audience.parse(inspector.audience)
        self._timeline, self._inspector = timeline, inspector
        self._sessions = sessions.select("session_id", "account_id").drop_nulls().unique()
        self._label = _labeller(self.audience, key) if self.audience.sees_rows else None
        self._w_account = w.Dropdown(
            options=[("", None)],
            value=None,
            description="Open account",
            style={"description_width": "initial"},
            layout=w.Layout(width="460px"),
        )
        self._w_account.add_class("wb-link-account")
        self._w_status = w.HTML()
        self._w_status.add_class("wb-link-account-status")
        self.accounts = pl.DataFrame()
        timeline.on_change(lambda _timeline: self._refresh())
        self._w_account.observe(lambda _change: self._open(), names="value")
        self._refresh()

    @property
    def options(self) -> list[str]:
        """Accounts one can open, as the audience sees them (customer numbers or pseudonyms)."""
        return [value for _, value in self._w_account.options if value is not None]

    @property
    def value(self) -> str | None:
        """The chosen account's label, or None."""
        return self._w_account.value

    def select(self, account: int | str) -> None:
        """Open ``account`` (customer number, or pseudonym for auditors); it must be in the timeline's range."""
        label = str(account)
        if label not in self.options:
            raise WorkbenchError(
                f"account {label} was not rendered by any session in the timeline's range and kinds; "
                f"widen the range or choose one of: {', '.join(self.options) or '(none)'}"
            )
        self._w_account.value = label

    def _refresh(self) -> None:
        if self._label is None:
            self._w_account.disabled = True
            self._w_status.value = "<p>The public audience sees aggregates only; there is no account to open.</p>"
            return
        events = self._timeline.in_range().drop_nulls("session_id")
        self.accounts = (
            events.join(self._sessions, on="session_id")
            .group_by("account_id")
            .agg(first=pl.col("time").min(), n_sessions=pl.col("session_id").n_unique())
            .sort("first", "account_id")
        )
        chosen = self._w_account.value
        options = [
            (f"{self._label(r['account_id'])} · {r['n_sessions']} session(s) in range", self._label(r["account_id"]))
            for r in self.accounts.iter_rows(named=True)
        ]
        values = [v for _, v in options]
        if chosen not in values:
            self._w_account.value = None
        self._w_account.options = [("", None), *options]
        self._w_status.value = (
            f"{len(options)} account(s) rendered to another person by sessions in the selected range."
        )

    def _open(self) -> None:
        label = self._w_account.value
        if label is None:
            return
        if label in self._inspector.options:
            self._inspector.select(label)
            self._w_status.value = f"Opened <b>{html.escape(label)}</b> in the account inspector."
        else:
            self._w_status.value = (
                f"<b>{html.escape(label)}</b> is not among the accounts the exposure analysis "
                "counts; the inspector has nothing on it."
            )

    def _ipython_display_(self) -> None:
        import ipywidgets as w
        from IPython.display import display

        display(w.VBox([self._w_account, self._w_status]))


_MEMBER_TAGS = {"birth_digits": PII.QUASI, "queue_start": PII.NONE, "registered_at": PII.NONE}


class AllocationApplicant:
    """Choose one of the dashboard's allocations; see its applicant's queue record, decisions, actions and flags.

    The allocations are listed as the dashboard orders them: unexplained departures from queue
    order first, then explained ones, then those in order. Typing in the search box keeps those
    whose listing id, district or tenant (customer number or pseudonym) contains the text, e.g.
    ``applicant._w_find.value = "Farsta"``. When the applicant's account is one the inspector
    holds (their data was exposed in the incident), it is opened there too.

    Parameters
    ----------
    dashboard : a :class:`~workbench.widgets.CaseworkerDashboard`.
    review : the :class:`~workbench.fairness.FairnessReview` the dashboard shows.
    inspector : optional :class:`~workbench.widgets.AccountInspector` for the same audience.
    """

    def __init__(self, dashboard: Any, review: Any, inspector: Any = None, *, key: str | bytes | None = None):
        import ipywidgets as w

        from ..fairness.views import TAGS

        self.audience = Audience.parse(dashboard.audience)
        self._dashboard, self._review, self._inspector, self._key = dashboard, review, inspector, key
        self._tags = {**TAGS, **_MEMBER_TAGS}
        self._label = _labeller(self.audience, key) if self.audience.sees_rows else None
        self._w_allocation = w.Dropdown(
            options=[("", None)],
            value=None,
            description="Open the applicant of",
            style={"description_width": "initial"},
            layout=w.Layout(width="760px"),
        )
        self._w_allocation.add_class("wb-link-allocation")
        self._w_find = w.Text(
            value="",
            placeholder="listing id, district or tenant",
            description="Search",
            continuous_update=True,
            style={"description_width": "initial"},
            layout=w.Layout(width="300px"),
        )
        self._w_find.add_class("wb-link-allocation-find")
        self._w_count = w.HTML()
        self._w_count.add_class("wb-link-allocation-count")
        self._w_summary = w.HTML()
        self._w_summary.add_class("wb-link-applicant")
        self._w_tables = w.HTML()
        self.member = self.decisions = self.actions = self.flags = pl.DataFrame()
        dashboard.on_change(lambda _dashboard: self._refresh_options())
        self._w_find.observe(lambda _change: self._refresh_options(), names="value")
        self._w_allocation.observe(self._on_pick, names="value")
        self._refresh_options()

    @property
    def options(self) -> list[int]:
        """Listing ids of the dashboard's allocations shown now that match the search, in the order listed."""
        return [value for _, value in self._w_allocation.options if value is not None]

    @property
    def search(self) -> str:
        """The search text, e.g. ``"Farsta"``; empty lists every allocation the dashboard shows."""
        return self._w_find.value

    @property
    def selected_listing(self) -> int | None:
        """The chosen allocation's listing id, or None."""
        return self._w_allocation.value

    @selected_listing.setter
    def selected_listing(self, listing_id: int | None) -> None:
        if listing_id is not None and listing_id not in self.options:
            raise WorkbenchError(f"listing {listing_id} is not among the dashboard's allocations shown: {self.options}")
        self._w_allocation.value = listing_id

    @property
    def applicant(self) -> str | None:
        """The chosen allocation's tenant as the audience sees them (customer number or pseudonym)."""
        row = self._row()
        return None if row is None or self._label is None else self._label(row["applicant_id"])

    def _row(self) -> dict | None:
        if self._w_allocation.value is None:
            return None
        rows = self._dashboard.allocations.filter(pl.col("listing_id") == self._w_allocation.value)
        return rows.row(0, named=True) if rows.height else None

    def _refresh_options(self) -> None:
        if self._label is None:
            self._w_allocation.disabled = self._w_find.disabled = True
            self._w_summary.value = "<p>The public audience sees aggregates only; there is no applicant to open.</p>"
            return
        rows = in_outcome_order(self._dashboard.allocations)
        text = self._w_find.value.strip().casefold()
        options = []
        for r in rows.iter_rows(named=True):
            tenant = self._label(r["applicant_id"])
            if text and not any(text in str(v).casefold() for v in (r["listing_id"], r["district"], tenant)):
                continue
            label = f"listing {r['listing_id']} · {r['district']} · {r['year']} · {r['outcome']} → {tenant}"
            options.append((label, r["listing_id"]))
        before = self._w_allocation.value
        chosen = before if before in [v for _, v in options] else None
        # New options reset the choice; keep it without closing and reopening the applicant.
        self._w_allocation.unobserve(self._on_pick, names="value")
        try:
            self._w_allocation.options = [("", None), *options]
            self._w_allocation.value = chosen
        finally:
            self._w_allocation.observe(self._on_pick, names="value")
        if chosen != before:
            self._open()
        self._w_count.value = f"{len(options)} of {rows.height} allocation(s)" + (
            f" match “{html.escape(self._w_find.value.strip())}”" if text else ""
        )

    def _fit(self, frame: pl.DataFrame) -> pl.DataFrame:
        return fit(frame, self.audience, columns=self._tags, key=self._key)

    def _on_pick(self, _change: dict) -> None:
        self._open()

    def _open(self) -> None:
        row = self._row()
        if row is None:
            self.member = self.decisions = self.actions = self.flags = pl.DataFrame()
            self._w_summary.value = self._w_tables.value = ""
            return
        who, evidence = row["applicant_id"], self._review.evidence
        self.member = self._fit(evidence.members.filter(pl.col("applicant_id") == who))
        self.decisions = self._fit(evidence.decisions.filter(pl.col("applicant_id") == who).sort("time"))
        self.actions = self._fit(evidence.actions.filter(pl.col("applicant_id") == who).sort("time"))
        self.flags = self._fit(with_details(self._review.red_flags.filter(pl.col("applicant_id") == who)).sort("time"))
        label = html.escape(self.applicant or "")
        opened = ""
        if self._inspector is not None and self.applicant in self._inspector.options:
            self._inspector.select(self.applicant)
            opened = " Their account was exposed in the incident: it is open in the account inspector."
        self._w_summary.value = (
            f"<p>Listing <b>{row['listing_id']}</b> ({html.escape(row['outcome'])}) went to applicant <b>{label}</b>: "
            f"{self.decisions.height} recorded decision(s), {self.actions.height} caseworker action(s) and "
            f"{self.flags.height} red flag(s) concern them.{opened}</p>"
        )
        self._w_tables.value = "".join(
            Table(frame, caption=caption, max_rows=25)._repr_html_()
            for frame, caption in (
                (self.member, "Queue record"),
                (self.decisions, "Offers, skips and priority decisions"),
                (self.actions, "Caseworker actions on this applicant"),
                (self.flags, "Red flags"),
            )
        )

    def _ipython_display_(self) -> None:
        import ipywidgets as w
        from IPython.display import display

        display(w.VBox([w.HBox([self._w_find, self._w_count]), self._w_allocation, self._w_summary, self._w_tables]))


# ---- the hourly brush ----------------------------------------------------------------------


def hourly_brush_chart(
    activity: pl.DataFrame,
    *,
    timezone: str = DISPLAY_TZ,
    title: str = "Activity per hour: drag across it to set the timeline's range",
) -> alt.Chart:
    """Hourly counts by kind in one view with an interval selection ``brush`` on time.

    ``activity`` has ``hour`` (UTC) and one count column per kind (the ``activity_per_hour``
    query, made fit for the audience; suppressed cells such as ``"<5"`` are drawn as gaps).
    """
    kinds = [c for c in activity.columns if c != "hour"]
    long = (
        local_time(
            activity.with_columns([pl.col(c).cast(pl.Int64, strict=False) for c in kinds]), "hour", timezone=timezone
        )
        .unpivot(index="hour", on=kinds, variable_name="kind", value_name="count")
        .with_columns(pl.col("kind").str.strip_prefix("n_").str.replace_all("_", " "))  # n_page_views: page views
    )
    brush = alt.selection_interval(name="brush", encodings=["x"])
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("hour:T", title=time_title(timezone), axis=alt.Axis(format="%a %d %b %H:%M", labelAngle=-30)),
            y=alt.Y("count:Q", title=say("log_scale", title="per hour"), scale=alt.Scale(type="symlog")),
            color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M", title=f"hour ({timezone})"), "kind:N", "count:Q"],
        )
        .add_params(brush)
        .properties(width=720, height=160, title=title)
    )


def _instant(value: Any, browser_tz: str | None, display_tz: str) -> datetime:
    """A brushed time (ms since the epoch, or ISO text) as a UTC instant.

    The chart's times are wall-clock times in ``display_tz`` that the browser read in its own
    zone; reading them back in that zone gives the wall-clock time again.
    """
    if isinstance(value, str):
        seen = datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z
    else:
        seen = _EPOCH + timedelta(milliseconds=float(value))
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    wall = seen.astimezone(ZoneInfo(browser_tz or "UTC")).replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo(display_tz)).astimezone(UTC)


def link_brush(chart: alt.JupyterChart, timeline: Any, *, timezone: str = DISPLAY_TZ, selection: str = "brush") -> None:
    """Brushing ``chart`` sets ``timeline``'s range (whole hours, the brushed part included); clearing it resets."""

    def on_brush(change: dict) -> None:
        value = change["new"].value
        if not value:
            timeline.set_range(_EPOCH, _END_OF_TIME)  # the timeline clamps to its first and last hour
            return
        lo, hi = next(iter(value.values()))
        start, end = sorted(_instant(v, chart.local_tz, timezone) for v in (lo, hi))
        if end != end.replace(minute=0, second=0, microsecond=0):
            end += timedelta(hours=1)  # include the hour the brush ends in
        timeline.set_range(start, end)

    chart.selections.observe(on_brush, names=[selection])


def range_brush(activity: pl.DataFrame, timeline: Any, *, timezone: str = DISPLAY_TZ) -> alt.JupyterChart:
    """The hourly chart as a live ``alt.JupyterChart`` whose brush sets ``timeline``'s range; display it.

    The chart's JavaScript comes from vl-convert, so it renders with no network.
    """
    alt.JupyterChart.enable_offline()
    chart = alt.JupyterChart(hourly_brush_chart(activity, timezone=timezone))
    chart.add_class("wb-brush")
    link_brush(chart, timeline, timezone=timezone)
    return chart
