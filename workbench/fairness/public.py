"""The public's group view and queue-time heat map, pooled and suppressed alike (docs/disclosure.md).

Both are on notebook 03's public page: a count one of them hides, the other must not print.
:func:`public_groups` pools the smallest groups of a grouping until complementary
suppression protects every hidden count; :func:`public_queue_time` then pools the same
districts and years in the heat map and hides every cell of a district or year whose total
the group view hides, before suppressing the rest.
"""

from __future__ import annotations

import polars as pl

from ..audience import Audience, fit
from ..evidence import PII
from ..i18n import translate
from ..suppression import TooFewToShow, too_fine, withheld_note
from . import groups
from .tags import TAGS

__all__ = ["pinned_whatever_pooled", "public_groups", "public_queue_time"]

_KEPT = ["share_in_order", "disparity", "within_band", "median_queue_years", "queue_time_ratio"]


def public_groups(allocations: pl.DataFrame, grouping: str, who: Audience) -> pl.DataFrame:
    """One grouping of the group view for the public, small groups pooled until no hidden count is pinned.

    The groups with the fewest contracts are pooled, one more at a time, as "other
    districts" (kinds, years) until complementary suppression protects every hidden count;
    the pooled row says so in ``note``. When only the pool would be left, the grouping is
    withheld: one row with its ``note`` and no figures.
    """
    other = f"other {grouping}s"
    in_order = (pl.col("outcome") == "in_order").sum().cast(pl.Int64)
    sizes = (
        allocations.group_by(group=pl.col(grouping).cast(pl.String))
        .agg(n=pl.len(), n_in_order=in_order)
        .sort("n", "group")
    )
    names = sizes["group"].to_list()
    for k in [0, *range(2, len(names))]:  # pooling one group alone only renames it
        pooled = names[:k]
        if pinned_whatever_pooled(sizes, grouping, k, other):
            continue  # too fine at this k whatever suppression hides: no need to build the view
        label = pl.col(grouping).cast(pl.String)
        frame = groups.group_view(
            allocations.with_columns(pl.when(label.is_in(pooled)).then(pl.lit(other)).otherwise(label).alias(grouping)),
            by=[grouping],
        )
        # A share gives its counts back (out of order = n - share × n), so the counts it is
        # made of are published as counts and suppressed together; the share and the other
        # measures are blanked on every row with a hidden count.
        frame = frame.sort(pl.col("group") == other, "group").select(
            "grouping",
            "group",
            "n_allocations",
            "n_in_order",
            (pl.col("n_allocations") - pl.col("n_in_order")).alias("n_out_of_order"),
            *_KEPT,
        )
        try:
            shown = fit(
                frame,
                who,
                columns={**TAGS, "n_out_of_order": PII.NONE},
                counts=["n_allocations", "n_in_order", "n_out_of_order"],
                totals=["n_allocations"],
                measures=_KEPT,
            )
        except TooFewToShow:
            continue
        note = (
            translate("withheld: too few to show these {k} {groups} one by one; pooled").format(
                k=k, groups=translate(f"{grouping}s")
            )
            if k
            else None
        )
        return shown.with_columns(note=pl.when(pl.col("group") == other).then(pl.lit(note)).otherwise(None))
    return pl.DataFrame(
        {"grouping": [grouping], "group": [None], "note": [withheld_note(grouping)]},
        schema={"grouping": pl.String, "group": pl.String, "note": pl.String},
    )


def pinned_whatever_pooled(sizes: pl.DataFrame, grouping: str, k: int, other: str) -> int:
    """The cheap test of :func:`public_groups` at pooling ``k``: cells pinned whatever is hidden (see :func:`too_fine`).

    ``sizes`` (``group``, ``n``, ``n_in_order``, fewest first) gives the counts the view will
    publish with the ``k`` smallest groups pooled, summed in one pass, without building it.
    """
    first_k = (pl.int_range(pl.len()) < k) & pl.col("group").is_not_null()  # as is_in(pooled): a null is never pooled
    pooled = sizes.with_columns(group=pl.when(first_k).then(pl.lit(other)).otherwise("group"))
    counts = pooled.group_by("group").agg(
        grouping=pl.lit(grouping),
        n_allocations=pl.col("n").sum().cast(pl.Int64),
        n_in_order=pl.col("n_in_order").sum().cast(pl.Int64),
    )
    counts = counts.select(
        "grouping",
        "group",
        "n_allocations",
        "n_in_order",
        n_out_of_order=pl.col("n_allocations") - pl.col("n_in_order"),
    )
    return too_fine(counts, ["n_allocations", "n_in_order", "n_out_of_order"])


def _exact(value: object) -> bool:
    return isinstance(value, str) and value.isdigit()


def _linked(view: pl.DataFrame, values: pl.Series, grouping: str) -> tuple[set, set] | None:
    """From one grouping of the public group view: the values it pools, and the groups whose total it hides.

    Groups are compared as text (the view's ``group``); ``None`` when the view withholds the grouping.
    """
    if view["group"].null_count() == view.height and "n_allocations" not in view.columns:
        return None
    other = f"other {grouping}s"
    shown = set(view["group"].to_list())
    pooled = {v for v in values.cast(pl.String).unique().to_list() if v is not None and v not in shown}
    hidden = {g for g, n in zip(view["group"], view["n_allocations"], strict=True) if not _exact(n)}
    return pooled, {translate(other) if g == other else g for g in hidden}


def _relabel(frame: pl.DataFrame, column: str, pooled: set, label: str) -> pl.DataFrame:
    if not pooled:
        return frame
    text = pl.col(column).cast(pl.String)
    return frame.with_columns(pl.when(text.is_in(list(pooled))).then(pl.lit(label)).otherwise(text).alias(column))


def _per_cell(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return (
        frame.group_by(*by)
        .agg(n=pl.len().cast(pl.Int64), median_queue_years=(pl.col("winner_queue_days") / 365.25).median())
        .sort(*by, nulls_last=True)
    )


def _hidden_rows(frame: pl.DataFrame, hidden: dict[str, set]) -> pl.Series:
    keys = list(hidden)
    rows = frame.select(pl.col(k).cast(pl.String) for k in keys).rows()
    return pl.Series([any(v in hidden[k] for k, v in zip(keys, row, strict=True)) for row in rows], dtype=pl.Boolean)


def public_queue_time(allocations: pl.DataFrame, who: Audience) -> pl.DataFrame:
    """Winners' median queue time by district and year for the public, linked to the group view.

    The districts and years the group view pools are pooled here too ("other districts"), and
    every cell of a district or year whose total the group view hides is hidden, the other
    cells protecting it as usual. When that cannot be protected: all districts per year, with
    a ``note`` saying so; else the figures are withheld.
    """
    years = _linked(public_groups(allocations, "year", who), allocations["year"], "year")
    districts = _linked(public_groups(allocations, "district", who), allocations["district"], "district")
    if years is not None:
        pooled_years, hidden_years = years
        frame = _relabel(allocations, "year", pooled_years, translate("other years"))
        if districts is not None:
            pooled, hidden = districts
            cells = _per_cell(_relabel(frame, "district", pooled, translate("other districts")), ["district", "year"])
            linked = _hidden_rows(cells, {"district": hidden, "year": hidden_years})
            try:
                shown = fit(cells, who, columns=TAGS, counts=["n"], hidden=linked)
            except TooFewToShow:
                pass
            else:
                return _noted(_noted(shown, "district", pooled), "year", pooled_years)
        per_year = _per_cell(frame, ["year"]).select(
            pl.lit(translate("all districts")).alias("district"), "year", "n", "median_queue_years"
        )
        linked = _hidden_rows(per_year, {"year": hidden_years})
        try:
            shown = fit(per_year, who, columns=TAGS, counts=["n"], hidden=linked)
        except TooFewToShow:
            pass
        else:
            return _noted(shown.with_columns(note=pl.lit(withheld_note("district", "by year"))), "year", pooled_years)
    return pl.DataFrame(
        {"district": [translate("all districts")], "year": [None], "n": [None], "median_queue_years": [None]},
        schema={
            "district": pl.String,
            "year": allocations.schema["year"],
            "n": pl.String,
            "median_queue_years": pl.Float64,
        },
    ).with_columns(note=pl.lit(withheld_note("district")))


def _noted(shown: pl.DataFrame, column: str, pooled: set) -> pl.DataFrame:
    """``shown`` with the group view's note on the rows of its pooled ``column`` values, as the table says it."""
    if not pooled:
        return shown
    note = translate("withheld: too few to show these {k} {groups} one by one; pooled").format(
        k=len(pooled), groups=translate(f"{column}s")
    )
    on_pool = pl.col(column).cast(pl.String) == translate(f"other {column}s")
    before = pl.col("note") if "note" in shown.columns else pl.lit(None, pl.String)
    return shown.with_columns(note=pl.when(on_pool).then(pl.lit(note)).otherwise(before))
