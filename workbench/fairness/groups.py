"""The group view (Aequitas / Fairlearn style): queue order and queue time by district, kind and year.

For each group: the share of allocations made in queue order (outcome ``in_order``; the
"selection rate" of Fairlearn's ``MetricFrame`` with in-order as the prediction) and the
winners' median queue time. Each is compared with the whole period as a disparity ratio,
group / overall; a ratio outside :data:`BAND` (0.8–1.25, the four-fifths rule and its
inverse) marks a group that differs notably from the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ..evidence import PII

__all__ = ["BAND", "COLUMNS", "GROUPINGS", "group_view"]

BAND: tuple[float, float] = (0.8, 1.25)
GROUPINGS: tuple[str, ...] = ("district", "kind", "year")
COLUMNS: dict[str, PII] = {
    "grouping": PII.NONE,
    "group": PII.NONE,
    "n_allocations": PII.NONE,
    "n_in_order": PII.NONE,
    "n_unexplained": PII.NONE,
    "share_in_order": PII.NONE,
    "disparity": PII.NONE,
    "within_band": PII.NONE,
    "median_queue_years": PII.NONE,
    "queue_time_ratio": PII.NONE,
}


def group_view(allocations: pl.DataFrame, by: Sequence[str] = GROUPINGS) -> pl.DataFrame:
    """One row per group of each grouping in ``by``, with shares, queue time and disparity ratios.

    ``allocations`` is :attr:`workbench.fairness.Replay.allocations`. The ``group`` column
    holds the group's value as text (a district, a kind, a year).
    """
    in_order = pl.col("outcome") == "in_order"
    years = pl.col("winner_queue_days") / 365.25
    overall = allocations.select(share=in_order.mean(), years=years.median())
    share, median = overall["share"].item(), overall["years"].item()
    parts = []
    for grouping in by:
        parts.append(
            allocations.group_by(group=pl.col(grouping).cast(pl.String))
            .agg(
                n_allocations=pl.len().cast(pl.Int64),
                n_in_order=in_order.sum().cast(pl.Int64),
                n_unexplained=(pl.col("outcome") == "unexplained").sum().cast(pl.Int64),
                median_queue_years=years.median(),
            )
            .with_columns(grouping=pl.lit(grouping))
            .sort("group")
        )
    low, high = BAND
    view = pl.concat(parts) if parts else pl.DataFrame()
    return view.select(
        "grouping",
        "group",
        "n_allocations",
        "n_in_order",
        "n_unexplained",
        share_in_order=pl.col("n_in_order") / pl.col("n_allocations"),
        disparity=(pl.col("n_in_order") / pl.col("n_allocations")) / share if share else pl.lit(None, pl.Float64),
        median_queue_years="median_queue_years",
        queue_time_ratio=pl.col("median_queue_years") / median if median else pl.lit(None, pl.Float64),
    ).with_columns(within_band=pl.col("disparity").is_between(low, high))
