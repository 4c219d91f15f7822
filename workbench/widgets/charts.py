"""Chart builders: pure functions from an audience-fit DataFrame to an ``alt.Chart``.

They never mutate their input. Times are shown in Stockholm wall-clock time: the frame's
UTC instants are converted and passed without a zone, so every viewer sees the same hours
whatever their own time zone.
"""

from __future__ import annotations

import os
from typing import Any

import altair as alt
import polars as pl

from ..errors import WorkbenchError
from ..settings import DISPLAY_TZ, in_report_run

__all__ = ["DISPLAY_TZ", "activity_chart", "local_time", "milestones", "setup", "show_in"]


def setup(context: str | None = None) -> str:
    """Make Altair charts work offline here; call once at the top of a notebook. Returns the context.

    ``context`` is ``"live"`` (JupyterLab: interactive charts whose JavaScript comes from
    vl-convert, no network; needs anywidget) or ``"export"`` (a headless run for a report:
    the HTML renderer, whose output the offline report template completes with the inlined
    Vega libraries). By default it is ``"export"`` when ``workbench run``/``report`` runs the
    notebook (they set ``WORKBENCH_RUN=papermill`` for the kernel), ``"live"`` in a kernel
    started by a Jupyter server (JupyterLab sets ``JPY_SESSION_NAME``), and ``"export"``
    anywhere else (plain papermill, nbconvert, scripts), where no one is there to interact.
    """
    if context is None:
        live = not in_report_run() and bool(os.environ.get("JPY_SESSION_NAME"))
        context = "live" if live else "export"
    if context == "export":
        # Not "mimetype" (fails nbformat validation) nor png/svg (static).
        alt.renderers.enable("html")
    elif context == "live":
        try:
            import anywidget  # noqa: F401
        except ImportError:
            raise WorkbenchError("live charts need anywidget: pip install anywidget") from None
        alt.renderers.enable("jupyter", offline=True)
    else:
        raise WorkbenchError(f"chart context {context!r} is not one of: live, export")
    return context


def show_in(area: Any, obj: Any) -> None:
    """Make the ipywidgets ``Output`` ``area`` show ``obj`` (e.g. a chart) instead of what it showed.

    The outputs are set from the kernel, never captured with ``with area: display(obj)``.
    A capture makes a headless client (nbclient, under papermill) send the captured outputs
    back to the kernel on the shell channel while it is waiting on that channel for the
    cell's reply; under load the reply then arrives unnoticed and the run waits for ever
    (reproduced here: the kernel's execute_reply was on the wire, 2.5 ms after the client's
    first comm_msg). Setting the outputs needs nothing back from any client.
    """
    area.outputs = ()
    area.append_display_data(obj)


def local_time(frame: pl.DataFrame, *columns: str, timezone: str = DISPLAY_TZ) -> pl.DataFrame:
    """Convert zoned timestamp columns to naive wall-clock time in ``timezone`` for display."""
    return frame.with_columns([pl.col(c).dt.convert_time_zone(timezone).dt.replace_time_zone(None) for c in columns])


def activity_chart(
    activity: pl.DataFrame,
    milestones: pl.DataFrame | None = None,
    *,
    timezone: str = DISPLAY_TZ,
    title: str = "Activity per hour",
) -> alt.VConcatChart:
    """Small multiples of hourly counts, one row per kind of activity, with milestone rules.

    Parameters
    ----------
    activity : one row per hour: ``hour`` (UTC) and one count column per kind, e.g.
        ``logins``, ``page_views``. Suppressed cells (text such as ``"<5"``) are drawn as gaps.
    milestones : optional ``name`` and ``time`` (UTC) rows, e.g. ``("login disabled", …)``.
    """
    kinds = [c for c in activity.columns if c != "hour"]
    numeric = activity.with_columns([pl.col(c).cast(pl.Int64, strict=False) for c in kinds])
    long = local_time(numeric, "hour", timezone=timezone).unpivot(
        index="hour", on=kinds, variable_name="kind", value_name="count"
    )
    x = alt.X("hour:T", title=None, axis=alt.Axis(format="%a %d %b %H:%M", labelAngle=-30))
    base = alt.Chart(long).mark_line(point=alt.OverlayMarkDef(size=12), interpolate="step-after")
    rules = None
    if milestones is not None and milestones.height:
        marks = local_time(milestones.select("name", "time"), "time", timezone=timezone)
        rules = (
            alt.Chart(marks)
            .mark_rule(color="firebrick", strokeDash=[4, 3])
            .encode(x="time:T", tooltip=["name:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M")])
        )
    rows = []
    for i, kind in enumerate(kinds):
        line = (
            base.transform_filter(alt.datum.kind == kind)
            .encode(
                x=x if i == len(kinds) - 1 else x.axis(labels=False, ticks=False),
                y=alt.Y("count:Q", title=kind.replace("_", " ")),
                color=alt.value("#4c78a8"),
                tooltip=[
                    alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M", title=f"hour ({timezone})"),
                    alt.Tooltip("count:Q", title=kind),
                ],
            )
            .properties(width=720, height=80)
        )
        rows.append(line + rules if rules is not None else line)
    return alt.vconcat(*rows, spacing=6).properties(title=title)


def milestones(window: pl.DataFrame) -> pl.DataFrame:
    """Milestone rows (``name``, ``time``) from a one-row frame of zoned ``*_at`` columns.

    ``window`` is e.g. the result of the ``incident_window`` query; a column
    ``login_disabled_at`` becomes the milestone ``"login disabled"``.
    """
    cols = [c for c, t in window.schema.items() if isinstance(t, pl.Datetime) and c.endswith("_at")]
    return (
        window.select(cols)
        .unpivot(on=cols, variable_name="name", value_name="time")
        .drop_nulls("time")
        .with_columns(pl.col("name").str.strip_suffix("_at").str.replace_all("_", " "))
        .sort("time")
    )
