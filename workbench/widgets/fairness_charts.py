"""Chart builders for queue fairness: pure functions from an audience-fit frame to an ``alt.Chart``.

Each takes one of the frames of :mod:`workbench.fairness.views` (already fit for the
audience) and never mutates it. A count the public sees hidden (``"1–4"``, ``"[suppressed]"``)
is drawn as an outlined bar labelled with it (:func:`workbench.widgets.charts.hidden_layer`), never dropped.
Every word drawn is the catalogue's (``chart.*``), in the report's language.
"""

from __future__ import annotations

import itertools

import altair as alt
import polars as pl

from ..fairness.caseworkers import RATE_BANDS, rate_band
from ..i18n import column_label, translate
from ..settings import DISPLAY_TZ
from ..wording import say
from .charts import chart_label, chart_text, hidden_cells, hidden_layer, labelled, local_time, time_title

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


def _scale(group: str, colours: dict[str, str]) -> alt.Scale:
    """A colour scale over the labels (:func:`chart_label`) of ``colours``' values, in their order."""
    return alt.Scale(domain=[chart_label(group, v) for v in colours], range=list(colours.values()))


def winner_rank_chart(ranks: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Stacked bars of contracts per winner-rank bin, coloured by outcome.

    ``ranks`` has ``rank_bin`` ("1", "2", ..., "51+", "not in queue"), ``outcome`` and ``n``.
    """
    title = title or chart_text("rank_title")
    data = labelled(labelled(_numeric(ranks, "n"), "outcome", "outcome"), "rank_bin", "rank_bin")
    order = list(dict.fromkeys(data["rank_bin"].to_list()))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("rank_bin:N", sort=order, title=chart_text("rank_axis")),
            y=alt.Y("n:Q", title=chart_text("contracts")),
            color=alt.Color("outcome:N", scale=_scale("outcome", OUTCOME_COLOURS), title=chart_text("outcome_title")),
            tooltip=[
                alt.Tooltip("rank_bin:N", title=chart_text("rank_axis")),
                alt.Tooltip("outcome:N", title=chart_text("outcome_title")),
                alt.Tooltip("n:Q", title=chart_text("contracts")),
            ],
        )
        .properties(width=560, height=260, title=title)
    )


def caseworker_rate_chart(rates: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart | alt.Chart:
    """Each caseworker's rate with its 95 % interval, and the flag threshold (peers' rate + minimum effect).

    ``rates`` has ``caseworker`` (label), ``rate``, ``rate_low``, ``rate_high``, ``threshold``
    and ``flagged``; rows in the order to draw them, top first.
    """
    title = title or chart_text("rates_title")
    if "rate_band" in rates.columns:
        return _rate_band_chart(rates, title)
    data = rates.select(
        "caseworker",
        "rate",
        "rate_low",
        "rate_high",
        "threshold",
        "flagged",
        *[c for c in ("peer_rate", "effect_label", "p_holm", "mde") if c in rates.columns],
    )
    # flagged as a word ("yes"/"no"), as the table beside it says it; the effect as the table labels it
    data = data.with_columns(
        pl.col("flagged").replace_strict({True: say("yes"), False: say("no")}, return_dtype=pl.String, default=None)
    )
    if "effect_label" in data.columns:
        data = data.with_columns(
            pl.col("effect_label").map_elements(translate, return_dtype=pl.String, skip_nulls=True)
        )
    order = data["caseworker"].to_list()
    y = alt.Y("caseworker:N", sort=order, title=None)
    base = alt.Chart(data)
    interval = base.mark_rule(strokeWidth=2, color="#888").encode(
        y=y,
        x=alt.X("rate_low:Q", title=chart_text("rates_axis"), axis=alt.Axis(format="%")),
        x2="rate_high:Q",
    )
    # shares as the table writes them ("6.2%", "6,2 %"), a p-value with its significant digits
    tooltip = [
        alt.Tooltip(f"{c}:N", title=column_label(c))
        if c in ("caseworker", "effect_label", "flagged")
        else alt.Tooltip(f"{c}:Q", format="~g" if c == "p_holm" else ".1%", title=column_label(c))
        for c in data.columns
    ]
    point = base.mark_point(filled=True, size=70).encode(
        y=y,
        x="rate:Q",
        color=alt.Color(
            "flagged:N",
            scale=alt.Scale(domain=[say("no"), say("yes")], range=["#4c78a8", "#e45756"]),
            title=chart_text("flagged"),
        ),
        tooltip=tooltip,
    )
    threshold = base.mark_tick(color="#e45756", thickness=2, size=14).encode(y=y, x="threshold:Q", tooltip=tooltip)
    return alt.LayerChart(layer=[interval, threshold, point]).properties(
        width=520,
        height=max(120, 18 * len(order)),
        title=alt.TitleParams(title, subtitle=chart_text("rates_subtitle")),
    )


def _rate_band_chart(rates: pl.DataFrame, title: str) -> alt.Chart:
    """The public's chart of the caseworkers: each one's rate band as a bar, red when flagged; no exact figure."""
    middles = pl.DataFrame({"middle": [(a + b) / 2 for a, b in itertools.pairwise(RATE_BANDS)]})
    label, low, high = rate_band(pl.col("middle"))
    bands = middles.select(rate_band=label, rate_from=low, rate_to=high)
    data = rates.select("caseworker", "rate_band", "effect_label", "flagged").join(
        bands, on="rate_band", how="left", maintain_order="left"
    )
    data = data.with_columns(
        pl.col("flagged").replace_strict({True: say("yes"), False: say("no")}, return_dtype=pl.String, default=None),
        pl.col("effect_label").map_elements(translate, return_dtype=pl.String, skip_nulls=True),
    )
    order = data["caseworker"].to_list()
    return (
        alt.Chart(data)
        .mark_bar(height=10)
        .encode(
            y=alt.Y("caseworker:N", sort=order, title=None),
            x=alt.X(
                "rate_from:Q", title=chart_text("rates_axis"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            x2="rate_to:Q",
            color=alt.Color(
                "flagged:N",
                scale=alt.Scale(domain=[say("no"), say("yes")], range=["#4c78a8", "#e45756"]),
                title=chart_text("flagged"),
            ),
            tooltip=[
                alt.Tooltip(f"{c}:N", title=column_label(c))
                for c in ("caseworker", "rate_band", "effect_label", "flagged")
            ],
        )
        .properties(
            width=520,
            height=max(120, 18 * len(order)),
            title=alt.TitleParams(title, subtitle=chart_text("rates_band_subtitle")),
        )
    )


def power_chart(power: pl.DataFrame, *, target: float = 0.8, title: str | None = None) -> alt.LayerChart:
    """Power to flag a corrupt caseworker against the share of their allocations sold, with its interval.

    ``power`` has ``fraud_rate``, ``power``, ``power_low`` and ``power_high``.
    """
    title = title or chart_text("power_title")
    x = alt.X("fraud_rate:Q", title=chart_text("power_axis"), axis=alt.Axis(format="%"))
    base = alt.Chart(power)
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(x=x, y="power_low:Q", y2="power_high:Q")
    line = base.mark_line(point=True, color="#4c78a8").encode(
        x=x,
        y=alt.Y(
            "power:Q",
            title=chart_text("power_y"),
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        tooltip=[
            alt.Tooltip("fraud_rate:Q", format=".1%", title=chart_text("power_axis")),
            alt.Tooltip("power:Q", format=".0%", title=chart_text("power")),
            alt.Tooltip("power_low:Q", format=".0%", title=chart_text("power_low")),
            alt.Tooltip("power_high:Q", format=".0%", title=chart_text("power_high")),
        ],
    )
    rule = (
        alt.Chart(pl.DataFrame({"target": [target]}))
        .mark_rule(strokeDash=[4, 3], color="firebrick")
        .encode(y="target:Q")
    )
    return alt.LayerChart(layer=[band, line, rule]).properties(width=520, height=260, title=title)


def queue_time_chart(queue_time: pl.DataFrame, *, title: str | None = None) -> alt.Chart | alt.LayerChart:
    """Heat map of the winners' median queue time by district and year.

    ``queue_time`` has ``district``, ``year``, ``n`` and ``median_queue_years``, and for the
    public maybe a ``note`` saying the districts were pooled or the figures withheld; the
    chart shows it as its subtitle.
    """
    title = title or chart_text("queue_time_title")
    note = (
        [translate(n) for n in queue_time["note"].drop_nulls().unique().to_list()]
        if "note" in queue_time.columns
        else []
    )
    heading: str | alt.TitleParams = alt.TitleParams(title, subtitle=note) if note else title
    queue_time = queue_time.drop("note", strict=False)
    data = _numeric(queue_time, "n").with_columns(shown_n=queue_time["n"].cast(pl.String))
    cells = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("district:N", title=None),
            color=alt.Color("median_queue_years:Q", title=chart_text("years"), scale=alt.Scale(scheme="blues")),
            tooltip=[
                alt.Tooltip("district:N", title=chart_text("district")),
                alt.Tooltip("year:O", title=chart_text("year")),
                alt.Tooltip("median_queue_years:Q", format=".1f", title=chart_text("median_years")),
                alt.Tooltip("shown_n:N", title=chart_text("contracts")),
            ],
        )
        .properties(
            width=60 * max(1, data["year"].n_unique()), height=16 * max(1, data["district"].n_unique()), title=heading
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
    flags: pl.DataFrame, *, timezone: str = DISPLAY_TZ, title: str | None = None
) -> alt.Chart | alt.LayerChart:
    """Red flags over time, one row per caseworker (or per kind, for monthly public counts).

    ``flags`` has ``time``, ``caseworker``, ``flag`` and ``detail`` (one row per flag), or
    ``month`` (or ``quarter`` or ``year``, or none), ``flag``, ``n`` and maybe ``note`` (aggregated for the public).
    """
    title = title or chart_text("flags_title")
    colour = alt.Color("flag:N", scale=_scale("flag", FLAG_COLOURS), title=chart_text("red_flag"))
    flags = labelled(flags, "flag", "flag")
    if "time" not in flags.columns:
        # Public counts per month (or quarter, or year; or per kind over the whole period when
        # finer periods were withheld, which its ``note`` says: docs/disclosure.md).
        period = next((c for c in ("month", "quarter", "year") if c in flags.columns), None)
        x = alt.X(f"{period}:O", title=None) if period else alt.X("flag:N", title=None)
        note = [translate(n) for n in flags["note"].drop_nulls().unique().to_list()] if "note" in flags.columns else []
        heading = alt.TitleParams(title, subtitle=note) if note else title
        data = _numeric(flags.drop("note", strict=False), "n")
        offset = {"xOffset": "flag:N"} if period else {}  # one slot per kind, as the hidden cells' outlines
        bars = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=x,
                y=alt.Y("n:Q", title=chart_text("red_flags")),
                color=colour,
                **offset,
                tooltip=[
                    *([alt.Tooltip(f"{period}:O", title=column_label(period))] if period else []),
                    alt.Tooltip("flag:N", title=chart_text("red_flag")),
                    alt.Tooltip("n:Q", title=chart_text("red_flags")),
                ],
            )
            .properties(width=640, height=220, title=heading)
        )
        hidden = hidden_layer(flags.drop("note", strict=False), "n", x, **offset)
        return bars if hidden is None else alt.LayerChart(layer=[bars, hidden]).properties(title=heading)
    data = local_time(flags.select("time", "caseworker", "flag", "detail"), "time", timezone=timezone)
    left_out = 0
    if data.height > MAX_ROWS:
        keep = data.filter(pl.col("flag") != chart_label("flag", "off-hours"))
        left_out = data.height - keep.height
        data = keep.head(MAX_ROWS)
    subtitle = chart_text("flags_left_out", n=left_out) if left_out else chart_text("flags_hover")
    return (
        alt.Chart(data)
        .mark_point(filled=True, size=60, opacity=0.8)
        .encode(
            x=alt.X("time:T", title=time_title(timezone)),
            y=alt.Y("caseworker:N", title=chart_text("caseworker")),
            color=colour,
            shape=alt.Shape("flag:N", legend=None),
            tooltip=[
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title=time_title(timezone)),
                alt.Tooltip("caseworker:N", title=chart_text("caseworker")),
                alt.Tooltip("flag:N", title=chart_text("red_flag")),
                alt.Tooltip("detail:N", title=column_label("detail")),
            ],
        )
        .properties(
            width=640,
            height=max(80, 40 * data["caseworker"].n_unique()),
            title=alt.TitleParams(title, subtitle=subtitle),
        )
    )
