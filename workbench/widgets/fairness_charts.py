"""Chart builders for queue fairness: pure functions from an audience-fit frame to an ``alt.Chart``.

Each takes one of the frames of :mod:`workbench.fairness.views` (already fit for the
audience) and never mutates it. A count the public sees hidden (``"1–4"``, ``"[suppressed]"``)
is drawn as an outlined bar labelled with it (:func:`workbench.widgets.charts.hidden_layer`), never dropped.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from ..settings import DISPLAY_TZ
from .charts import hidden_cells, hidden_layer, local_time

__all__ = [
    "caseworker_rate_chart",
    "power_chart",
    "queue_time_chart",
    "red_flag_timeline_chart",
    "winner_rank_chart",
]

OUTCOME_COLOURS = {"in_order": "#4c78a8", "explained": "#9ecae9", "unexplained": "#e45756"}
FLAG_COLOURS = {
    "backdating then lease": "#b2182b",
    "backdating": "#ef8a62",
    "manual offer": "#e08214",
    "repeated pair": "#8073ac",
    "edit before offer": "#542788",
    "off-hours": "#999999",
}
MAX_ROWS = 5000  # Altair's embedded-data limit; above it the least serious flags are left out


def _numeric(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.Float64, strict=False) for c in columns if c in frame.columns])


def winner_rank_chart(ranks: pl.DataFrame, *, title: str = "Where in the queue the tenant stood") -> alt.Chart:
    """Stacked bars of contracts per winner-rank bin, coloured by outcome.

    ``ranks`` has ``rank_bin`` ("1", "2", ..., "51+", "not in queue"), ``outcome`` and ``n``.
    """
    data = _numeric(ranks, "n")
    order = list(dict.fromkeys(data["rank_bin"].to_list()))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("rank_bin:N", sort=order, title="tenant's place in queue order (1 = longest queue time)"),
            y=alt.Y("n:Q", title="contracts"),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=list(OUTCOME_COLOURS), range=list(OUTCOME_COLOURS.values())),
                title="outcome",
            ),
            tooltip=["rank_bin:N", "outcome:N", alt.Tooltip("n:Q", title="contracts")],
        )
        .properties(width=560, height=260, title=title)
    )


def caseworker_rate_chart(
    rates: pl.DataFrame, *, title: str = "Unexplained deviations per caseworker"
) -> alt.LayerChart:
    """Each caseworker's rate with its 95 % interval, and the flag threshold (peers' rate + minimum effect).

    ``rates`` has ``caseworker`` (label), ``rate``, ``rate_low``, ``rate_high``, ``threshold``
    and ``flagged``; rows in the order to draw them, top first.
    """
    data = rates.select(
        "caseworker",
        "rate",
        "rate_low",
        "rate_high",
        "threshold",
        "flagged",
        *[c for c in ("peer_rate", "effect_label", "p_holm", "mde") if c in rates.columns],
    )
    order = data["caseworker"].to_list()
    y = alt.Y("caseworker:N", sort=order, title=None)
    base = alt.Chart(data)
    interval = base.mark_rule(strokeWidth=2, color="#888").encode(
        y=y,
        x=alt.X(
            "rate_low:Q", title="share of allocations out of order without a recorded reason", axis=alt.Axis(format="%")
        ),
        x2="rate_high:Q",
    )
    tooltip = [
        alt.Tooltip(f"{c}:N") if c in ("caseworker", "effect_label", "flagged") else alt.Tooltip(f"{c}:Q", format=".3f")
        for c in data.columns
    ]
    point = base.mark_point(filled=True, size=70).encode(
        y=y,
        x="rate:Q",
        color=alt.Color(
            "flagged:N", scale=alt.Scale(domain=[False, True], range=["#4c78a8", "#e45756"]), title="flagged"
        ),
        tooltip=tooltip,
    )
    threshold = base.mark_tick(color="#e45756", thickness=2, size=14).encode(y=y, x="threshold:Q", tooltip=tooltip)
    return alt.LayerChart(layer=[interval, threshold, point]).properties(
        width=520,
        height=max(120, 18 * len(order)),
        title=alt.TitleParams(title, subtitle="dot: rate with 95 % interval; red tick: flag threshold"),
    )


def power_chart(
    power: pl.DataFrame, *, target: float = 0.8, title: str = "How large a fraud this case could have detected"
) -> alt.LayerChart:
    """Power to flag a corrupt caseworker against the share of their allocations sold, with its interval.

    ``power`` has ``fraud_rate``, ``power``, ``power_low`` and ``power_high``.
    """
    x = alt.X(
        "fraud_rate:Q", title="share of one caseworker's allocations sold out of order", axis=alt.Axis(format="%")
    )
    base = alt.Chart(power)
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(x=x, y="power_low:Q", y2="power_high:Q")
    line = base.mark_line(point=True, color="#4c78a8").encode(
        x=x,
        y=alt.Y(
            "power:Q",
            title="probability the caseworker is flagged",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        tooltip=[
            alt.Tooltip("fraud_rate:Q", format=".1%"),
            alt.Tooltip("power:Q", format=".0%"),
            alt.Tooltip("power_low:Q", format=".0%"),
            alt.Tooltip("power_high:Q", format=".0%"),
        ],
    )
    rule = (
        alt.Chart(pl.DataFrame({"target": [target]}))
        .mark_rule(strokeDash=[4, 3], color="firebrick")
        .encode(y="target:Q")
    )
    return alt.LayerChart(layer=[band, line, rule]).properties(width=520, height=260, title=title)


def queue_time_chart(
    queue_time: pl.DataFrame, *, title: str = "Tenants' queue time at allocation (median years)"
) -> alt.Chart | alt.LayerChart:
    """Heat map of the winners' median queue time by district and year.

    ``queue_time`` has ``district``, ``year``, ``n`` and ``median_queue_years``.
    """
    data = _numeric(queue_time, "n").with_columns(shown_n=queue_time["n"].cast(pl.String))
    cells = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("district:N", title=None),
            color=alt.Color("median_queue_years:Q", title="years", scale=alt.Scale(scheme="blues")),
            tooltip=[
                "district:N",
                "year:O",
                alt.Tooltip("median_queue_years:Q", format=".1f", title="median years"),
                alt.Tooltip("shown_n:N", title="contracts"),
            ],
        )
        .properties(
            width=60 * max(1, data["year"].n_unique()), height=16 * max(1, data["district"].n_unique()), title=title
        )
    )
    # A hidden cell has no median (blanked); it is outlined and labelled "1–4" or "[suppressed]".
    hidden = hidden_cells(queue_time, "n")
    if not hidden.height:
        return cells
    marks = alt.Chart(hidden.drop("n", "median_queue_years")).encode(x="year:O", y="district:N")
    outline = marks.mark_rect(fillOpacity=0, stroke="#555", strokeDash=[3, 2])
    label = marks.mark_text(fontSize=8, color="#333").encode(text="shown_as:N")
    return alt.LayerChart(layer=[cells, outline, label])


def red_flag_timeline_chart(
    flags: pl.DataFrame, *, timezone: str = DISPLAY_TZ, title: str = "Red flags of the flagged caseworkers"
) -> alt.Chart | alt.LayerChart:
    """Red flags over time, one row per caseworker (or per kind, for monthly public counts).

    ``flags`` has ``time``, ``caseworker``, ``flag`` and ``detail`` (one row per flag), or
    ``month`` (or ``quarter`` or ``year``, or none), ``flag``, ``n`` and maybe ``note`` (aggregated for the public).
    """
    colour = alt.Color(
        "flag:N", scale=alt.Scale(domain=list(FLAG_COLOURS), range=list(FLAG_COLOURS.values())), title="red flag"
    )
    if "time" not in flags.columns:
        # Public counts per month (or quarter, or year; or per kind over the whole period when
        # finer periods were withheld, which its ``note`` says: docs/disclosure.md).
        period = next((c for c in ("month", "quarter", "year") if c in flags.columns), None)
        x = alt.X(f"{period}:O", title=None) if period else alt.X("flag:N", title=None)
        note = flags["note"].drop_nulls().unique().to_list() if "note" in flags.columns else []
        heading = alt.TitleParams(title, subtitle=note) if note else title
        data = _numeric(flags.drop("note", strict=False), "n")
        bars = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=x,
                y=alt.Y("n:Q", title="red flags"),
                color=colour,
                tooltip=[*([f"{period}:O"] if period else []), "flag:N", alt.Tooltip("n:Q", title="red flags")],
            )
            .properties(width=640, height=220, title=heading)
        )
        offset = {"xOffset": "flag:N"} if period else {}
        hidden = hidden_layer(flags.drop("note", strict=False), "n", x, **offset)
        return bars if hidden is None else alt.LayerChart(layer=[bars, hidden]).properties(title=heading)
    data = local_time(flags.select("time", "caseworker", "flag", "detail"), "time", timezone=timezone)
    left_out = 0
    if data.height > MAX_ROWS:
        keep = data.filter(pl.col("flag") != "off-hours")
        left_out = data.height - keep.height
        data = keep.head(MAX_ROWS)
    subtitle = (
        f"{left_out} off-hours flags left out to keep the chart readable" if left_out else "hover for the evidence"
    )
    return (
        alt.Chart(data)
        .mark_point(filled=True, size=60, opacity=0.8)
        .encode(
            x=alt.X("time:T", title=f"time ({timezone})"),
            y=alt.Y("caseworker:N", title="caseworker"),
            color=colour,
            shape=alt.Shape("flag:N", legend=None),
            tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), "caseworker:N", "flag:N", "detail:N"],
        )
        .properties(
            width=640,
            height=max(80, 40 * data["caseworker"].n_unique()),
            title=alt.TitleParams(title, subtitle=subtitle),
        )
    )
