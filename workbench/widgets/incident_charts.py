"""Chart builders for the incident: the milestone timeline over the hourly series, and the counterfactual curve.

Pure functions from audience-fit frames to Altair charts; inputs are never mutated.
Suppressed counts (text such as ``"<5"``) are drawn as gaps. Times are shown in the
wall-clock time of ``timezone``. Every word drawn is the catalogue's (``chart.*``), in the
report's language.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from ..settings import DISPLAY_TZ
from .charts import chart_label, chart_text, labelled, local_time, time_title

__all__ = ["counterfactual_chart", "events_chart", "timeline_chart"]

_SERIES = ("n_logins", "n_sessions_open", "n_mismatched_sessions", "n_fault_reports")
"""The hourly series drawn, by column; their names are the catalogue's ``chart.series.<column>``."""
_KIND_ORDER = ["deployment", "mismatch", "report", "action"]
_KIND_COLOURS = ["#4c78a8", "#e45756", "#f58518", "#54a24b"]
_X_FORMAT = "%a %d %b %H:%M"


def _numeric(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.Int64, strict=False) for c in columns])


def _milestone_layers(marks: pl.DataFrame | None, timezone: str, x: alt.X) -> tuple[alt.Chart | None, alt.Chart | None]:
    """(rules for every panel, a labelled strip) from milestone rows (milestone, kind, time)."""
    if marks is None or marks.is_empty():
        return None, None
    # Alternate labels of the same kind up and down so neighbours (fix, re-enabled) stay legible.
    local = local_time(marks.select("milestone", "kind", "time"), "time", timezone=timezone).with_columns(
        lane=(pl.int_range(pl.len()).over("kind") % 2).cast(pl.Int64)
    )
    local = labelled(labelled(local, "milestone", "milestone"), "kind", "kind")
    kinds = [chart_label("kind", k) for k in _KIND_ORDER]
    tooltip = [
        alt.Tooltip("milestone:N", title=chart_text("milestone")),
        alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title=time_title(timezone)),
    ]
    colour = alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=_KIND_COLOURS), legend=None)
    rules = alt.Chart(local).mark_rule(strokeDash=[4, 3], opacity=0.7).encode(x="time:T", color=colour, tooltip=tooltip)
    y = alt.Y("kind:N", sort=kinds, title=None)
    points = alt.Chart(local).mark_point(filled=True, size=70).encode(x=x, y=y, color=colour, tooltip=tooltip)
    labels = (
        alt.Chart(local)
        .transform_filter(alt.datum.kind != chart_label("kind", "report"))
        .mark_text(align="left", dx=6, fontSize=10)
        .encode(
            x="time:T",
            y=y,
            text="milestone:N",
            yOffset=alt.YOffset("lane:Q", scale=alt.Scale(domain=[0, 1], range=[-5, 5])),
        )
    )
    return rules, (points + labels).properties(width=720, height=90, title=chart_text("milestones"))


def timeline_chart(
    hourly: pl.DataFrame,
    marks: pl.DataFrame | None = None,
    *,
    timezone: str = DISPLAY_TZ,
    title: str | None = None,
) -> alt.VConcatChart:
    """The milestone timeline above the hourly series, milestones ruled through every panel.

    Parameters
    ----------
    hourly : one row per hour: ``hour`` (UTC) and any of ``n_logins``, ``n_sessions_open``,
        ``n_mismatched_sessions``, ``n_fault_reports`` (e.g. ``incident.hourly_series``,
        made fit for the audience).
    marks : milestone rows ``milestone``, ``kind``, ``time`` (e.g. ``incident.milestones``).
    """
    title = title or chart_text("timeline_title")
    present = [c for c in _SERIES if c in hourly.columns]
    names = {c: chart_label("series", c) for c in present}
    long = (
        local_time(_numeric(hourly.select("hour", *present), present), "hour", timezone=timezone)
        .unpivot(index="hour", on=present, variable_name="series", value_name="count")
        .with_columns(pl.col("series").replace_strict(names, return_dtype=pl.String))
    )
    x = alt.X("hour:T", title=time_title(timezone), axis=alt.Axis(format=_X_FORMAT, labelAngle=-30))
    rules, strip = _milestone_layers(
        marks, timezone, alt.X("time:T", title=None, axis=alt.Axis(format=_X_FORMAT, labels=False))
    )
    tooltip = [
        alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M", title=time_title(timezone, chart_text("hour"))),
        alt.Tooltip("series:N", title=chart_text("series_title")),
        alt.Tooltip("count:Q", title=chart_text("count")),
    ]
    base = alt.Chart(long)
    panels = []
    activity = [names[c] for c in ("n_logins", "n_sessions_open") if c in present]
    if activity:
        panels.append(
            base.transform_filter(alt.FieldOneOfPredicate(field="series", oneOf=activity))
            .mark_line(interpolate="step-after")
            .encode(
                x=x.axis(labels=False, ticks=False),
                y=alt.Y("count:Q", title=chart_text("per_hour")),
                color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
                tooltip=tooltip,
            )
            .properties(width=720, height=140, title=chart_text("activity_panel"))
        )
    for column, colour in (("n_mismatched_sessions", "#e45756"), ("n_fault_reports", "#f58518")):
        if column in present:
            name = names[column]
            panels.append(
                base.transform_filter(alt.datum.series == name)
                .mark_bar(color=colour, width=2)
                .encode(
                    x=x.axis(labels=False, ticks=False),
                    y=alt.Y("count:Q", title=name, axis=alt.Axis(tickMinStep=1)),  # counts: no "0.5" tick
                    tooltip=tooltip,
                )
                .properties(width=720, height=70)
            )
    if panels:
        panels[-1] = panels[-1].encode(x=x)
    if rules is not None:
        # the rules' colours are the milestone kinds, not the series: keep the two scales apart
        panels = [alt.layer(p, rules).resolve_scale(color="independent") for p in panels]
    rows = ([strip] if strip is not None else []) + panels
    return alt.vconcat(*rows, spacing=6).resolve_scale(x="shared").properties(title=title)


_MEASURES = ("n_mismatched_sessions", "n_exposed_accounts", "n_changed_accounts")
"""The counterfactual's measures, by column; their names are the catalogue's ``chart.series.<column>``."""


def counterfactual_chart(
    curve: pl.DataFrame,
    named: pl.DataFrame | None = None,
    *,
    timezone: str = DISPLAY_TZ,
    title: str | None = None,
) -> alt.LayerChart:
    """Step curves of the measures against the shutdown time, with the named alternatives ruled.

    ``curve`` has ``shutdown_at`` and count columns ``n_mismatched_sessions``,
    ``n_exposed_accounts``, ``n_changed_accounts`` (``counterfactual.shutdown_curve``);
    ``named`` has ``alternative`` and ``shutdown_at`` (``counterfactual.alternatives``).
    """
    title = title or chart_text("counterfactual_title")
    present = [c for c in _MEASURES if c in curve.columns]
    names = {c: chart_label("series", c) for c in present}
    long = (
        local_time(_numeric(curve.select("shutdown_at", *present), present), "shutdown_at", timezone=timezone)
        .unpivot(index="shutdown_at", on=present, variable_name="measure", value_name="count")
        .with_columns(pl.col("measure").replace_strict(names, return_dtype=pl.String))
    )
    x = alt.X(
        "shutdown_at:T",
        title=time_title(timezone, chart_text("login_disabled_at")),
        axis=alt.Axis(format=_X_FORMAT, labelAngle=-30),
    )
    lines = (
        alt.Chart(long)
        .mark_line(interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("count:Q", title=chart_text("still_happened")),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top", labelLimit=0)),
            tooltip=[
                alt.Tooltip(
                    "shutdown_at:T", format="%Y-%m-%d %H:%M", title=time_title(timezone, chart_text("shutdown"))
                ),
                alt.Tooltip("measure:N", title=chart_text("measure_title")),
                alt.Tooltip("count:Q", title=chart_text("count")),
            ],
        )
        .properties(width=720, height=260, title=title)
    )
    if named is None or named.is_empty():
        return alt.LayerChart(layer=[lines])
    marks = labelled(
        local_time(named.select("alternative", "shutdown_at"), "shutdown_at", timezone=timezone),
        "alternative",
        "alternatives",
    )
    rules = (
        alt.Chart(marks)
        .mark_rule(color="#555", strokeDash=[2, 2])
        .encode(
            x="shutdown_at:T",
            tooltip=[
                alt.Tooltip("alternative:N", title=chart_text("alternative")),
                alt.Tooltip("shutdown_at:T", format="%Y-%m-%d %H:%M", title=time_title(timezone)),
            ],
        )
    )
    labels = (
        alt.Chart(marks)
        .mark_text(angle=270, align="left", dx=-4, dy=-4, fontSize=10)
        .encode(x="shutdown_at:T", y=alt.value(250), text="alternative:N")
    )
    return alt.LayerChart(layer=[lines, rules, labels])


def events_chart(
    counts: pl.DataFrame, marks: pl.DataFrame | None = None, *, timezone: str = DISPLAY_TZ
) -> alt.LayerChart:
    """Events per hour by kind (``hour``, ``kind``, ``n``), with milestone rules; for the timeline explorer."""
    local = labelled(local_time(_numeric(counts, ["n"]), "hour", timezone=timezone), "kind", "kind")
    bars = (
        alt.Chart(local)
        .mark_bar()
        .encode(
            x=alt.X("hour:T", title=time_title(timezone), axis=alt.Axis(format=_X_FORMAT, labelAngle=-30)),
            y=alt.Y("n:Q", title=chart_text("events_per_hour")),
            color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M", title=time_title(timezone, chart_text("hour"))),
                alt.Tooltip("kind:N", title=chart_text("kind_title")),
                alt.Tooltip("n:Q", title=chart_text("count")),
            ],
        )
        .properties(width=720, height=180)
    )
    rules, _ = _milestone_layers(marks, timezone, alt.X("time:T"))
    if rules is None:
        return alt.LayerChart(layer=[bars])
    return alt.LayerChart(layer=[bars, rules]).resolve_scale(color="independent")
