"""Chart builders for exposure and changes: pure functions from audience-fit frames to charts.

Counts may arrive as text after public suppression (``"<5"``, ``"[suppressed]"``); they
are drawn as gaps, never guessed. Inputs are never mutated. Every word drawn is the
catalogue's (``chart.*``), in the report's language.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from ..settings import DISPLAY_TZ
from ..wording import say
from .charts import chart_label, chart_text, labelled, local_time, time_label, time_title

__all__ = ["changes_over_time", "fields_exposed_chart", "tier_funnel"]

_ACTOR_COLOURS = {"own": "#4c78a8", "other": "#e45756", "unknown": "#bab0ac"}


def _numbers(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String).cast(pl.Int64, strict=False) for c in columns)


def tier_funnel(tiers: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """The nested tiers as bars of the likely count, with a rule from min to max.

    ``tiers`` has tier, label, min, likely and max (the ``Exposure.tiers()`` frame, fit for
    the audience). The tiers are drawn in their order, widest first.
    """
    title = title or chart_text("tiers_title")
    data = labelled(
        _numbers(tiers.select("tier", "label", "min", "likely", "max"), "min", "likely", "max"), "label", "tier"
    ).with_columns(name=pl.col("tier") + "  " + pl.col("label"))
    order = data["name"].to_list()
    y = alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    tooltip = [
        alt.Tooltip("label:N", title=chart_text("tier")),
        *(alt.Tooltip(f"{c}:Q", title=chart_text(c)) for c in ("min", "likely", "max")),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar(color="#4c78a8")
        .encode(
            y=y,
            x=alt.X(
                "likely:Q",
                title=say("log_scale", title=chart_text("tiers_axis")),
                scale=alt.Scale(type="symlog"),
            ),
            tooltip=tooltip,
        )
    )
    rule = alt.Chart(data).mark_rule(color="black").encode(y=y, x="min:Q", x2="max:Q", tooltip=tooltip)
    ticks = alt.Chart(data).mark_tick(color="black", thickness=2).encode(y=y, x="max:Q", tooltip=tooltip)
    return (bars + rule + ticks).properties(title=title, width=520, height=28 * max(len(order), 1))


def fields_exposed_chart(fields: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Accounts per profile field shown to a non-owner: proven (bar) and possible (tick).

    ``fields`` has field, n_accounts and n_accounts_max (``Exposure.fields()``, fit for the audience).
    """
    title = title or chart_text("fields_title")
    data = _numbers(fields.select("field", "n_accounts", "n_accounts_max"), "n_accounts", "n_accounts_max")
    order = data["field"].to_list()
    y = alt.Y("field:N", sort=order, title=None)
    tooltip = [
        alt.Tooltip("field:N", title=chart_text("field")),  # the field's name as the evidence has it
        alt.Tooltip("n_accounts:Q", title=chart_text("accounts_proven")),
        alt.Tooltip("n_accounts_max:Q", title=chart_text("accounts_at_most")),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar(color="#f58518")
        .encode(y=y, x=alt.X("n_accounts:Q", title=chart_text("accounts")), tooltip=tooltip)
    )
    ticks = alt.Chart(data).mark_tick(color="black", thickness=2).encode(y=y, x="n_accounts_max:Q", tooltip=tooltip)
    layers = bars + ticks
    # A withheld count (the public's address fields, Exposure.fields) is a gap: say so on its row.
    # Not with the hidden-cell marker, which tells the reader "5 or more": this count may be any.
    gaps = data.filter(pl.col("n_accounts").is_null() | pl.col("n_accounts_max").is_null())
    if gaps.height:
        marker = gaps.select("field").with_columns(note=pl.lit(chart_text("withheld")))
        layers += (
            alt.Chart(marker).mark_text(align="left", dx=4, color="#555").encode(y=y, x=alt.value(0), text="note:N")
        )
    return layers.properties(title=title, width=520, height=22 * max(len(order), 1))


def changes_over_time(per_period: pl.DataFrame, *, timezone: str = DISPLAY_TZ, title: str | None = None) -> alt.Chart:
    """Stacked bars of profile changes per period, coloured by actor type (own, other, unknown).

    ``per_period`` has period (UTC), actor_type and n_changes (``ChangeLog.per_period()``,
    fit for the audience). Periods are shown in ``timezone`` wall-clock time.
    """
    title = title or chart_text("changes_title")
    # An ordinal axis of period labels gives each period a full-width bar whatever its length.
    data = local_time(
        _numbers(per_period.select("period", "actor_type", "n_changes"), "n_changes"), "period", timezone=timezone
    )
    starts = {p: time_label(p) for p in data["period"].unique().drop_nulls().to_list()}
    data = labelled(data, "actor_type", "actor_type").with_columns(
        starts=pl.col("period").replace_strict(starts, return_dtype=pl.String, default=None)
    )
    order = data.sort("period")["starts"].unique(maintain_order=True).to_list()
    colour = alt.Color(
        "actor_type:N",
        title=chart_text("actor"),
        scale=alt.Scale(
            domain=[chart_label("actor_type", a) for a in _ACTOR_COLOURS], range=list(_ACTOR_COLOURS.values())
        ),
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "starts:O",
                sort=order,
                title=time_title(timezone, chart_text("period_starting")),
                axis=alt.Axis(labelAngle=-45),
            ),
            y=alt.Y("n_changes:Q", title=chart_text("changes"), stack=True),
            color=colour,
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d %H:%M", title=time_title(timezone, chart_text("from"))),
                alt.Tooltip("actor_type:N", title=chart_text("actor")),
                alt.Tooltip("n_changes:Q", title=chart_text("changes")),
            ],
        )
        .properties(title=title, width=720, height=200)
    )
