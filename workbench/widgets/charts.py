"""Chart builders: pure functions from an audience-fit DataFrame to an ``alt.Chart``.

They never mutate their input. Times are shown in Stockholm wall-clock time: the frame's
UTC instants are converted and passed without a zone, so every viewer sees the same hours
whatever their own time zone.

Every word a chart shows (title, axes, legend, tooltips, the labels it draws) is a message
of the catalogue's ``chart`` section (:func:`chart_text`, :func:`chart_label`), in the
report's language; in Swedish the axes' dates and numbers follow Swedish conventions too
(:data:`D3_LOCALES`, given to vega-embed).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import altair as alt
import polars as pl

from ..errors import WorkbenchError
from ..i18n import current_language, messages, translate
from ..markup import InlineJSONEncoder, shown, visible
from ..settings import DISPLAY_TZ, in_report_run
from ..suppression import THRESHOLD, hidden_markers, small_marker
from ..wording import say

__all__ = [
    "CHART_ACTIONS",
    "DISPLAY_TZ",
    "EXPORT_RENDERER",
    "LIVE_RENDERER",
    "active_context",
    "activity_chart",
    "chart_label",
    "chart_text",
    "labelled",
    "local_time",
    "milestones",
    "setup",
    "show_in",
    "shown_spec",
    "time_label",
    "time_title",
]

EXPORT_RENDERER = "workbench_html"
LIVE_RENDERER = "workbench_jupyter"
_DATA_KEYS = ("datasets", "values")  # where a spec holds its rows: strings there are evidence
CHART_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}
"""The chart's actions menu: save as SVG or PNG only. "Open in Vega Editor" would send the
chart, with its data, to a web site; the source views would show the data as JSON."""


D3_LOCALES: dict[str, dict[str, Any]] = {
    "sv": {
        # "percent": d3 writes 0.1 with format "%" as "10 %", the Swedish way (as the tables do)
        "formatLocale": {
            "decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0kr"], "percent": "\u202f%",
        },
        "timeFormatLocale": {
            "dateTime": "%A %e %B %Y %X",
            "date": "%Y-%m-%d",
            "time": "%H:%M:%S",
            "periods": ["fm", "em"],
            "days": ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
            "shortDays": ["sön", "mån", "tis", "ons", "tor", "fre", "lör"],
            "months": [
                "januari", "februari", "mars", "april", "maj", "juni",
                "juli", "augusti", "september", "oktober", "november", "december",
            ],
            "shortMonths": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
        },
    }
}  # fmt: skip
"""What vega-embed writes axis numbers and dates with, by language (d3's locale definitions);
English uses vega's own (en-US)."""


def _embed_options(metadata: dict[str, Any]) -> dict[str, Any]:
    """Altair's embed options (``alt.renderers.set_embed_options``), the actions menu cut to :data:`CHART_ACTIONS`.

    The report's language adds its d3 number and time locale (:data:`D3_LOCALES`).
    """
    given = metadata.pop("embed_options", None) or {}
    return {**D3_LOCALES.get(current_language(), {}), **given, "actions": dict(CHART_ACTIONS)}


def chart_text(key: str, /, **values: object) -> str:
    """The catalogue's ``chart.<key>`` in the report's language: a title, an axis, a legend's heading."""
    return say(f"chart.{key}", **values)


def chart_label(group: str, value: object) -> str:
    """A value a chart draws (a series, a legend entry, a milestone), in the report's language.

    The catalogue's ``chart.<group>.<value>``; else the value's translation as a label the
    workbench wrote (``notebook_text``, e.g. "login disabled"); else the value itself (evidence:
    a district, a field name).
    """
    found = messages(current_language()).get(f"chart.{group}.{value}")
    return found if found is not None else translate(str(value))


def labelled(frame: pl.DataFrame, column: str, group: str) -> pl.DataFrame:
    """``frame`` with the values of ``column`` replaced by :func:`chart_label` (``group``)."""
    if column not in frame.columns:
        return frame
    values = frame[column].cast(pl.String).unique().drop_nulls().to_list()
    mapping = {v: chart_label(group, v) for v in values}
    return frame.with_columns(pl.col(column).cast(pl.String).replace_strict(mapping, default=None))


def time_label(local: Any) -> str:
    """A wall-clock time (naive, already local) as an axis label: "Fri 13 Dec 18:00", "fre 13 dec. 18.00"."""
    from babel.dates import format_datetime

    return format_datetime(local, chart_text("period_format"), locale=say("locale"))


def time_title(timezone: str = DISPLAY_TZ, what: str | None = None) -> str:
    """The title of a time axis, naming its zone: ``"time (Europe/Stockholm)"``, ``"tid (Europe/Stockholm)"``."""
    return say("time_axis", what=what or chart_text("time"), zone=timezone)


def shown_spec(spec: dict) -> dict:
    """A chart spec as a report shows it: every string :func:`~workbench.markup.visible`, data strings also cut.

    Every string of the spec (names, titles, expressions, data) goes through the same
    function, so a filter on a value still matches that value. Strings in the data rows are
    also cut to :data:`~workbench.markup.MAX_TEXT_CHARS` characters, so no evidence value
    can make a page too big to open.
    """

    def walk(value: Any, data: bool) -> Any:
        if isinstance(value, str):
            return shown(value) if data else visible(value)
        if isinstance(value, dict):
            return {visible(k): walk(v, data or k in _DATA_KEYS) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, data) for v in value]
        return value

    return walk(spec, False)


def _export_renderer(spec: dict, **metadata: Any) -> dict[str, str]:
    """Altair's "html" renderer, with the spec inlined by a serialiser that no value can break out of.

    Altair's own inlines ``json.dumps(spec)`` in a ``<script>``, so a value holding
    ``</script><script>…`` ends the block and runs; here ``<``, ``>`` and ``&`` are ``\\uXXXX``
    escapes (:class:`~workbench.markup.InlineJSONEncoder`). The markup is otherwise the same
    (the "universal" template), which the offline report template completes with the
    inlined Vega libraries.
    """
    from altair.utils.mimebundle import spec_to_mimebundle

    embed_options = _embed_options(metadata)
    return spec_to_mimebundle(
        shown_spec(spec),
        format="html",
        mode="vega-lite",
        vega_version=alt.VEGA_VERSION,
        vegaembed_version=alt.VEGAEMBED_VERSION,
        vegalite_version=alt.VEGALITE_VERSION,
        template="universal",
        output_div=f"altair-viz-{uuid.uuid4().hex}",
        json_kwds={"cls": InlineJSONEncoder},
        embed_options=embed_options,
        **metadata,
    )


def _live_renderer(spec: dict, offline: bool = True, **metadata: Any) -> Any:
    """Altair's "jupyter" renderer (an offline JupyterChart widget) drawing :func:`shown_spec`."""
    alt.JupyterChart.enable_offline(offline=offline)
    chart = alt.JupyterChart(chart=alt.Chart.from_dict(shown_spec(spec)), embed_options=_embed_options(metadata))
    return chart._repr_mimebundle_()


alt.renderers.register(EXPORT_RENDERER, _export_renderer)
alt.renderers.register(LIVE_RENDERER, _live_renderer)


def setup(context: str | None = None) -> None:
    """Make Altair charts work offline here; call once at the top of a notebook.

    It returns nothing, so a cell ending with ``setup()`` shows no output (a returned
    ``'export'`` would print on every report page); :func:`active_context` says which one is on.

    ``context`` is ``"live"`` (JupyterLab: interactive charts whose JavaScript comes from
    vl-convert, no network; needs anywidget) or ``"export"`` (a headless run for a report:
    Altair's HTML renderer with a safe serialiser, whose output the offline report template
    completes with the inlined Vega libraries). Both draw :func:`shown_spec`: bidirectional
    and zero-width characters as visible markers, data strings cut. By default it is ``"export"`` when ``workbench run``/``report`` runs the
    notebook (they set ``WORKBENCH_RUN=papermill`` for the kernel), ``"live"`` in a kernel
    started by a Jupyter server (JupyterLab sets ``JPY_SESSION_NAME``), and ``"export"``
    anywhere else (plain papermill, nbconvert, scripts), where no one is there to interact.
    """
    if context is None:
        live = not in_report_run() and bool(os.environ.get("JPY_SESSION_NAME"))
        context = "live" if live else "export"
    if context == "export":
        # Not "mimetype" (fails nbformat validation) nor png/svg (static).
        alt.renderers.enable(EXPORT_RENDERER)
    elif context == "live":
        try:
            import anywidget  # noqa: F401
        except ImportError:
            raise WorkbenchError("live charts need anywidget: pip install anywidget") from None
        alt.renderers.enable(LIVE_RENDERER, offline=True)
    else:
        raise WorkbenchError(f"chart context {context!r} is not one of: live, export")


def active_context() -> str | None:
    """The chart context :func:`setup` enabled here (``"live"`` or ``"export"``), None before it ran."""
    return {EXPORT_RENDERER: "export", LIVE_RENDERER: "live"}.get(alt.renderers.active)


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
    title: str | None = None,
) -> alt.VConcatChart:
    """Small multiples of hourly counts, one row per kind of activity, with milestone rules.

    Parameters
    ----------
    activity : one row per hour: ``hour`` (UTC) and one count column per kind, e.g.
        ``logins``, ``page_views``. Incident-wide counts: shown exactly, zeros drawn as zeros.
    milestones : optional ``name`` and ``time`` (UTC) rows, e.g. ``("login disabled", …)``.
    """
    title = title or chart_text("activity_title")
    kinds = [c for c in activity.columns if c != "hour"]
    numeric = activity.with_columns([pl.col(c).cast(pl.Int64, strict=False) for c in kinds])
    long = local_time(numeric, "hour", timezone=timezone).unpivot(
        index="hour", on=kinds, variable_name="kind", value_name="count"
    )
    x = alt.X("hour:T", title=time_title(timezone), axis=alt.Axis(format="%a %d %b %H:%M", labelAngle=-30))
    base = alt.Chart(long).mark_line(point=alt.OverlayMarkDef(size=12), interpolate="step-after")
    rules = None
    if milestones is not None and milestones.height:
        marks = local_time(milestones.select("name", "time"), "time", timezone=timezone)
        rule = (
            alt.Chart(marks)
            .mark_rule(color="firebrick", strokeDash=[4, 3])
            .encode(
                x="time:T",
                tooltip=[
                    alt.Tooltip("name:N", title=chart_text("milestone")),
                    alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title=time_title(timezone)),
                ],
            )
        )
        label = (
            alt.Chart(marks)
            .mark_text(align="left", baseline="top", dx=3, dy=2, fontSize=9, color="firebrick")
            .encode(x="time:T", y=alt.value(0), text="name:N")
        )
        rules = rule + label
    rows = []
    for i, kind in enumerate(kinds):
        name = chart_label("series", kind) if f"chart.series.{kind}" in messages(current_language()) else None
        name = name or kind.removeprefix("n_").replace("_", " ")
        line = (
            base.transform_filter(alt.datum.kind == kind)
            .encode(
                x=x if i == len(kinds) - 1 else x.axis(labels=False, ticks=False),
                y=alt.Y("count:Q", title=name),
                color=alt.value("#4c78a8"),
                tooltip=[
                    alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M", title=time_title(timezone, chart_text("hour"))),
                    alt.Tooltip("count:Q", title=name),
                ],
            )
            .properties(width=720, height=80)
        )
        rows.append(line + rules if rules is not None else line)
    return alt.vconcat(*rows, spacing=6).properties(title=title)


def hidden_cells(frame: pl.DataFrame, count: str) -> pl.DataFrame:
    """The rows of ``frame`` whose ``count`` the public sees hidden, with where to draw them.

    Adds ``shown_as`` (the label: ``"1–4"`` or ``"[suppressed]"``) and ``low``/``high`` (the
    range it stands for: 1 to 4, or from the threshold up, drawn to the threshold).
    """
    if count not in frame.columns or frame[count].dtype != pl.String:
        return frame.clear().with_columns(shown_as=pl.lit(None, pl.String), low=pl.lit(0), high=pl.lit(0))
    small = small_marker()
    return (
        frame.filter(pl.col(count).is_in([small, *hidden_markers()]))
        .with_columns(shown_as=pl.col(count))
        .with_columns(
            low=pl.when(pl.col("shown_as") == small).then(1).otherwise(THRESHOLD),
            high=pl.when(pl.col("shown_as") == small).then(THRESHOLD - 1).otherwise(THRESHOLD),
        )
    )


def hidden_layer(frame: pl.DataFrame, count: str, x: alt.X | str, **encode: Any) -> alt.LayerChart | None:
    """An outlined, dashed bar from ``low`` to ``high`` labelled "1–4" (or "[suppressed]") for each hidden cell.

    A hidden cell of a public breakdown is never dropped from a chart: it is drawn, marked as
    hidden, where the reader can see it. ``encode`` (e.g. ``xOffset``: one slot per series)
    places the label as it places the outline, and the label is written upwards from the
    outline's top, so neither overlaps the other nor a neighbouring slot. None when ``frame``
    has no hidden cell.
    """
    rows = hidden_cells(frame, count)
    if not rows.height:
        return None
    base = alt.Chart(rows.drop(count))
    outline = base.mark_bar(fillOpacity=0, stroke="#555", strokeDash=[3, 2], strokeWidth=1.2).encode(
        x=x, y="low:Q", y2="high:Q", tooltip=[alt.Tooltip("shown_as:N", title=chart_text("hidden"))], **encode
    )
    label = base.mark_text(angle=270, align="left", baseline="middle", dx=4, fontSize=9, color="#333").encode(
        x=x, y="high:Q", text="shown_as:N", **encode
    )
    return outline + label


def milestones(window: pl.DataFrame) -> pl.DataFrame:
    """Milestone rows (``name``, ``time``) from a one-row frame of zoned ``*_at`` columns.

    ``window`` is e.g. the result of the ``incident_window`` query; a column
    ``login_disabled_at`` becomes the milestone ``"login disabled"`` (in the report's language:
    the catalogue's ``chart.window.login_disabled``).
    """
    names = {c: chart_label("window", c.removesuffix("_at")) for c in window.columns}
    names = {c: n if n != c.removesuffix("_at") else n.replace("_", " ") for c, n in names.items()}
    cols = [c for c, t in window.schema.items() if isinstance(t, pl.Datetime) and c.endswith("_at")]
    return (
        window.select(cols)
        .unpivot(on=cols, variable_name="name", value_name="time")
        .drop_nulls("time")
        .with_columns(pl.col("name").replace_strict(names, return_dtype=pl.String))
        .sort("time")
    )
