"""Chart builders for exposure and changes: pure functions from audience-fit frames to charts.

Counts may arrive as text after public suppression (``"<5"``, ``"[suppressed]"``); they
are drawn as gaps, never guessed. Inputs are never mutated.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from ..settings import DISPLAY_TZ
from ..wording import say
from .charts import local_time

__all__ = ["changes_over_time", "fields_exposed_chart", "tier_funnel"]

_ACTOR_COLOURS = {"own": "#4c78a8", "other": "#e45756", "unknown": "#bab0ac"}


def _numbers(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String).cast(pl.Int64, strict=False) for c in columns)


def tier_funnel(tiers: pl.DataFrame, *, title: str = "Exposure tiers") -> alt.LayerChart:
    """The nested tiers as bars of the likely count, with a rule from min to max.

    ``tiers`` has tier, label, min, likely and max (the ``Exposure.tiers()`` frame, fit for
    the audience). The tiers are drawn in their order, widest first.
    """
    data = _numbers(tiers.select("tier", "label", "min", "likely", "max"), "min", "likely", "max").with_columns(
        name=pl.col("tier") + "  " + pl.col("label")
    )
    order = data["name"].to_list()
    y = alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    tooltip = ["label:N", "min:Q", "likely:Q", "max:Q"]
    bars = (
        alt.Chart(data)
        .mark_bar(color="#4c78a8")
        .encode(
            y=y,
            x=alt.X(
                "likely:Q",
                title=say("log_scale", title="people or accounts (likely; rule: min to max)"),
                scale=alt.Scale(type="symlog"),
            ),
            tooltip=tooltip,
        )
    )
    rule = alt.Chart(data).mark_rule(color="black").encode(y=y, x="min:Q", x2="max:Q", tooltip=tooltip)
    ticks = alt.Chart(data).mark_tick(color="black", thickness=2).encode(y=y, x="max:Q", tooltip=tooltip)
    return (bars + rule + ticks).properties(title=title, width=520, height=28 * max(len(order), 1))


def fields_exposed_chart(fields: pl.DataFrame, *, title: str = "Fields shown to another person") -> alt.LayerChart:
    """Accounts per profile field shown to a non-owner: proven (bar) and possible (tick).

    ``fields`` has field, n_accounts and n_accounts_max (``Exposure.fields()``, fit for the audience).
    """
    data = _numbers(fields.select("field", "n_accounts", "n_accounts_max"), "n_accounts", "n_accounts_max")
    order = data["field"].to_list()
    y = alt.Y("field:N", sort=order, title=None)
    tooltip = [
        "field:N",
        alt.Tooltip("n_accounts:Q", title="accounts (proven)"),
        alt.Tooltip("n_accounts_max:Q", title="accounts (at most)"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar(color="#f58518")
        .encode(y=y, x=alt.X("n_accounts:Q", title="accounts"), tooltip=tooltip)
    )
    ticks = alt.Chart(data).mark_tick(color="black", thickness=2).encode(y=y, x="n_accounts_max:Q", tooltip=tooltip)
    return (bars + ticks).properties(title=title, width=520, height=22 * max(len(order), 1))


def changes_over_time(
    per_period: pl.DataFrame, *, timezone: str = DISPLAY_TZ, title: str = "Profile changes by actor type"
) -> alt.Chart:
    """Stacked bars of profile changes per period, coloured by actor type (own, other, unknown).

    ``per_period`` has period (UTC), actor_type and n_changes (``ChangeLog.per_period()``,
    fit for the audience). Periods are shown in ``timezone`` wall-clock time.
    """
    # An ordinal axis of period labels gives each period a full-width bar whatever its length.
    data = local_time(
        _numbers(per_period.select("period", "actor_type", "n_changes"), "n_changes"), "period", timezone=timezone
    )
    data = data.with_columns(starts=pl.col("period").dt.strftime("%a %d %b %H:%M"))
    order = data.sort("period")["starts"].unique(maintain_order=True).to_list()
    colour = alt.Color(
        "actor_type:N",
        title="actor",
        scale=alt.Scale(domain=list(_ACTOR_COLOURS), range=list(_ACTOR_COLOURS.values())),
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("starts:O", sort=order, title=f"period starting ({timezone})", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("n_changes:Q", title="changes", stack=True),
            color=colour,
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d %H:%M", title=f"from ({timezone})"),
                "actor_type:N",
                "n_changes:Q",
            ],
        )
        .properties(title=title, width=720, height=200)
    )
