"""Incident reconstruction: milestones, response times, the hourly and daily series, the explorer's events.

The registered queries (:mod:`workbench.queries.incident`) do the counting on the engine;
this module puts their frames together in polars for notebook 01 and the timeline explorer,
with the fault reports of :mod:`workbench.incident.inbox`:

>>> offsets = clocks.estimate_offsets(case)                            # doctest: +SKIP
>>> reports = fault_reports(case, offsets)                             # doctest: +SKIP
>>> marks = milestones(run("incident_window", case), run("mismatched_sessions", case), reports, offsets)  # doctest: +SKIP
>>> response_times(marks)                                              # doctest: +SKIP

Every time here is UTC on the web server's clock; local time appears only in text columns.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import polars as pl

from ..errors import WorkbenchError
from ..i18n import DEFAULT_LANGUAGE, current_language, t as t_
from ..queries import run
from ..settings import DISPLAY_TZ
from . import clocks
from .inbox import classified_inbox, fault_reports, unclassified_messages
from .tags import TAGS

if TYPE_CHECKING:
    from ..case import Case

__all__ = [
    "DISPLAY_TZ",
    "MILESTONE_SCHEMA",
    "TAGS",
    "classified_inbox",
    "daily_summary",
    "fault_reports",
    "hourly_series",
    "local_label",
    "milestone_time",
    "milestones",
    "response_times",
    "timeline_events",
    "unclassified_messages",
]

MILESTONE_SCHEMA = pl.Schema(
    {
        "milestone": pl.String(),
        "kind": pl.String(),
        "time": pl.Datetime("us", "UTC"),
        "source": pl.String(),
        "clock_offset_seconds": pl.Int64(),
        "uncertainty_seconds": pl.Int64(),
    }
)


def _row(milestone: str, kind: str, time: datetime | None, source: str, offsets: pl.DataFrame, clock: str) -> dict:
    row = offsets.filter(pl.col("source") == clock).row(0, named=True)
    return {
        "milestone": milestone,
        "kind": kind,
        "time": time,
        "source": source,
        "clock_offset_seconds": row["offset_seconds"],
        "uncertainty_seconds": row["uncertainty_seconds"],
    }


def _source(name: str, offsets: pl.DataFrame, clock: str) -> str:
    """Where a milestone comes from, and whether its time was moved onto the web clock.

    "support mail (corrected)" only when the mail clock was estimated: a clock without pairs
    leaves its times as logged (:func:`clocks.offset_of`), and the timeline must not call them corrected.
    """
    known = offsets.filter(pl.col("source") == clock)["offset_seconds"].drop_nulls().len() > 0
    return f"{name} (corrected)" if known else f"{name} (not corrected: its clock is unknown)"


def milestones(
    window: pl.DataFrame, mismatched: pl.DataFrame, reports: pl.DataFrame, offsets: pl.DataFrame
) -> pl.DataFrame:
    """The milestone timeline, in time order, every time on the web clock.

    Rows: the deployment, the first mismatched session, the first fault report, each later
    report, login disabled, the fix and login re-enabled. ``window`` is the
    ``incident_window`` query, ``mismatched`` the ``mismatched_sessions`` query, ``reports``
    from :func:`fault_reports`. Incident-log times are corrected by that log's offset.
    """
    if window.height != 1:
        raise WorkbenchError(f"milestones needs the one-row incident_window frame, got {window.height} rows")
    w = window.row(0, named=True)
    log_shift = clocks.offset_of(offsets, "incident log")

    def logged(column: str) -> datetime | None:
        return None if w[column] is None else w[column] - timedelta(seconds=log_shift)

    rows = [_row("deployment", "deployment", w["deployed_at"], "deployment log", offsets, clocks.REFERENCE)]
    if mismatched.height:
        onset = cast("datetime | None", mismatched["bound_at"].min())
        rows.append(_row("first mismatched session", "mismatch", onset, "web log", offsets, clocks.REFERENCE))
    for i, t in enumerate(reports.sort("reported_at")["reported_at"].to_list()):
        name = "first fault report" if i == 0 else f"fault report {i + 1}"
        rows.append(_row(name, "report", t, _source("support mail", offsets, "mail"), offsets, "mail"))
    for column, name in (
        ("login_disabled_at", "login disabled"),
        ("fix_deployed_at", "fix deployed"),
        ("login_enabled_at", "login re-enabled"),
    ):
        rows.append(
            _row(
                name,
                "action",
                logged(column),
                _source("incident log", offsets, "incident log"),
                offsets,
                "incident log",
            )
        )
    frame = pl.DataFrame(rows, schema=MILESTONE_SCHEMA).drop_nulls("time")
    return frame.sort("time", maintain_order=True)


def milestone_time(marks: pl.DataFrame, milestone: str) -> datetime | None:
    """The time of ``milestone`` (e.g. ``"first fault report"``), None when the timeline lacks it."""
    found = marks.filter(pl.col("milestone") == milestone)["time"]
    return found[0] if found.len() else None


def local_label(t: datetime | None, timezone: str = DISPLAY_TZ) -> str | None:
    """A time as a reader says it, in ``timezone`` and the report's language: ``"Fri 13 Dec 2013 18:52"``, ``"fre 13 dec. 2013 18.52"``."""
    if t is None:
        return None
    local = t.astimezone(ZoneInfo(timezone))
    if current_language() == DEFAULT_LANGUAGE:
        return local.strftime("%a %d %b %Y %H:%M")
    from babel.dates import format_datetime

    return format_datetime(local, "EEE d MMM y HH.mm", locale=t_("locale"))


def weekday_name(day: object) -> str:
    """A day's short weekday name in the report's language: ``"Sat"``, ``"lör"``."""
    from babel.dates import format_date

    if current_language() == DEFAULT_LANGUAGE:
        return cast(datetime, day).strftime("%a")
    return format_date(cast(datetime, day), "EEE", locale=t_("locale"))


# (measure, from milestone, to milestone), after NIST SP 800-61 r2 §3.4.2.
_MEASURES = (
    ("time_to_detect", "first mismatched session", "first fault report"),
    ("time_to_contain", "first fault report", "login disabled"),
    ("onset_to_fix", "first mismatched session", "fix deployed"),
)


def response_times(marks: pl.DataFrame, timezone: str = DISPLAY_TZ) -> pl.DataFrame:
    """Detection by users, containment and onset to fix, in hours, with local weekday and time.

    ``hours`` is rounded to 0.01; ``uncertainty_minutes`` adds up the clock uncertainty of
    both ends (the mail clock for reports, the incident log for actions); it is null when the
    clock of either end could not be estimated (:func:`clocks.why_unknown`).
    """
    rows = []
    for measure, start, end in _MEASURES:
        a = marks.filter(pl.col("milestone") == start)
        b = marks.filter(pl.col("milestone") == end)
        t0 = a["time"][0] if a.height else None
        t1 = b["time"][0] if b.height else None
        # An end whose clock could not be estimated has an unknown uncertainty, and so has the measure.
        ends = [f["uncertainty_seconds"][0] for f in (a, b) if f.height]
        unc = None if any(u is None for u in ends) else sum(int(u) for u in ends)
        rows.append(
            {
                "measure": measure,
                "from": start,
                "to": end,
                "from_at": t0,
                "to_at": t1,
                "from_local": local_label(t0, timezone),
                "to_local": local_label(t1, timezone),
                "hours": None if t0 is None or t1 is None else round((t1 - t0).total_seconds() / 3600, 2),
                "uncertainty_minutes": None if unc is None else round(unc / 60, 1),
            }
        )
    schema = pl.Schema(
        {
            "measure": pl.String(),
            "from": pl.String(),
            "to": pl.String(),
            "from_at": pl.Datetime("us", "UTC"),
            "to_at": pl.Datetime("us", "UTC"),
            "from_local": pl.String(),
            "to_local": pl.String(),
            "hours": pl.Float64(),
            "uncertainty_minutes": pl.Float64(),
        }
    )
    return pl.DataFrame(rows, schema=schema)


def hourly_series(
    case: Case,
    reports: pl.DataFrame,
    *,
    idle_timeout_minutes: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.DataFrame:
    """The ``incident_hourly`` query plus ``n_fault_reports`` per hour (by ``reported_at``)."""
    hourly = run("incident_hourly", case, start=start, end=end, idle_timeout_minutes=idle_timeout_minutes)
    per_hour = reports.group_by(hour=pl.col("reported_at").dt.truncate("1h")).agg(
        n_fault_reports=pl.len().cast(pl.Int64)
    )
    return (
        hourly.join(per_hour, on="hour", how="left").with_columns(pl.col("n_fault_reports").fill_null(0)).sort("hour")
    )


def daily_summary(
    mismatched: pl.DataFrame, reports: pl.DataFrame | None = None, timezone: str = DISPLAY_TZ
) -> pl.DataFrame:
    """Per local day: mismatched sessions, accounts shown to another person, and (given ``reports``) fault reports.

    Keep the reports out of a table for the public: complementary suppression treats each
    row as a total, so a small report count would hide a day's session count with it.
    """

    def day(column: str) -> pl.Expr:
        return pl.col(column).dt.convert_time_zone(timezone).dt.date().alias("day")

    out = mismatched.group_by(day("bound_at")).agg(
        n_mismatched_sessions=pl.col("session_id").n_unique().cast(pl.Int64),
        n_accounts_shown=pl.col("account_id").n_unique().cast(pl.Int64),
    )
    counts = ["n_mismatched_sessions", "n_accounts_shown"]
    if reports is not None:
        mail = reports.group_by(day("reported_at")).agg(n_fault_reports=pl.len().cast(pl.Int64))
        out = out.join(mail, on="day", how="full", coalesce=True)
        counts.append("n_fault_reports")
    return (
        out.sort("day")
        .with_columns(
            pl.col(counts).fill_null(0), weekday=pl.col("day").map_elements(weekday_name, return_dtype=pl.String)
        )
        .select("day", "weekday", *counts)
    )


_EVENT_SCHEMA = pl.Schema(
    {
        "time": pl.Datetime("us", "UTC"),
        "kind": pl.String(),
        "detail": pl.String(),
        "session_id": pl.String(),
        "message_id": pl.String(),
    }
)


def timeline_events(
    case: Case,
    mismatched: pl.DataFrame,
    reports: pl.DataFrame,
    marks: pl.DataFrame,
    changes: pl.DataFrame | None = None,
    *,
    idle_timeout_minutes: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.DataFrame:
    """Every event of the incident as one row (time, kind, detail, session_id, message_id), for the explorer.

    Kinds: ``login``, ``mismatched session``, ``change by another``, ``fault report`` and
    ``milestone``. ``detail`` is how a login's session ended, a report's rule, or the milestone's
    name. ``message_id`` is a fault report's message (null for the other kinds; it may embed the
    sender's address, so the explorer never shows it as a column), kept so an investigator can
    confirm or reject the report from the explorer. Logins are those of the
    ``sessions`` query over [start, end) (by default a day either side of the incident).
    """
    frames = [
        run("sessions", case, start=start, end=end, idle_timeout_minutes=idle_timeout_minutes).select(
            time="login_at",
            kind=pl.lit("login"),
            detail="end_reason",
            session_id="session_id",
            message_id=pl.lit(None, pl.String),
        ),
        mismatched.unique("session_id", keep="first").select(
            time="bound_at",
            kind=pl.lit("mismatched session"),
            detail=pl.lit("bound to another account"),
            session_id="session_id",
            message_id=pl.lit(None, pl.String),
        ),
        reports.select(
            time="reported_at",
            kind=pl.lit("fault report"),
            detail="rule",
            session_id=pl.lit(None, pl.String),
            message_id="message_id",
        ),
        marks.select(
            "time",
            kind=pl.lit("milestone"),
            detail="milestone",
            session_id=pl.lit(None, pl.String),
            message_id=pl.lit(None, pl.String),
        ),
    ]
    if changes is not None:
        frames.append(
            changes.select(
                time="first_changed_at",
                kind=pl.lit("change by another"),
                detail=pl.format("{} field(s) changed", "n_changes"),
                session_id="session_id",
                message_id=pl.lit(None, pl.String),
            )
        )
    events = pl.concat([f.cast(_EVENT_SCHEMA) for f in frames])
    return events.sort("time", "kind", maintain_order=True)
