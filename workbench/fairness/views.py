"""Frames of a :class:`~workbench.fairness.FairnessReview` made fit for an audience.

Every chart and table of notebook 03 is built from one of these, never from the raw
frames: investigators see everything, auditors the same rows with pseudonyms, and the
public only aggregates (breakdowns by district, kind, year or caseworker suppressed as
``docs/disclosure.md`` says: 1–4 hidden, with complementary cells, and every share or
median beside a hidden count blanked by :func:`workbench.suppression.suppress`; a breakdown too fine
for that is coarsened or withheld, with a ``note``). A ``caseworker`` column is a display
label added after fitting: the handler id, its pseudonym, or for the public an anonymous
"caseworker 1, 2, ..." in order of rate.
"""

from __future__ import annotations

import polars as pl

from ..audience import Audience, fit
from ..evidence import PII
from ..i18n import translate
from ..notes.reviews import review_column
from ..suppression import TooFewToShow, withheld_note
from ..wording import say
from . import caseworkers as cw, fakes, groups, mde, redflags
from .public import public_groups, public_queue_time
from .review import FairnessReview
from .tags import TAGS

__all__ = [
    "RANK_BINS",
    "TAGS",
    "allocation_reviews",
    "caseworker_rates",
    "flag_timeline",
    "group_disparities",
    "power_table",
    "queue_time",
    "rank_distribution",
    "skipped_members",
    "suspected_profiles",
]

RANK_BINS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "1"),
    (2, 2, "2"),
    (3, 3, "3"),
    (4, 5, "4–5"),
    (6, 10, "6–10"),
    (11, 20, "11–20"),
    (21, 50, "21–50"),
    (51, 10**9, "51+"),
)
"""Winner-rank bins (low, high, label); a tenant not in the queue is "not in queue"."""


def _labelled(frame: pl.DataFrame, audience: Audience) -> pl.DataFrame:
    """Fit ``frame`` (with ``handler_id``) and add the ``caseworker`` display label."""
    fitted = fit(frame, audience, columns=TAGS)
    return fitted.with_columns(caseworker=pl.col("handler_id").cast(pl.String))


def rank_distribution(review: FairnessReview, audience: str) -> pl.DataFrame:
    """Contracts per winner-rank bin and outcome: ``rank_bin``, ``outcome``, ``n``."""
    rank = pl.col("winner_rank")
    label = pl.lit("not in queue")
    for low, high, name in reversed(RANK_BINS):
        label = pl.when(rank.is_between(low, high)).then(pl.lit(name)).otherwise(label)
    counts = review.replay.allocations.group_by(rank_bin=label, outcome="outcome").agg(n=pl.len().cast(pl.Int64))
    order = {name: i for i, (_, _, name) in enumerate(RANK_BINS)}
    counts = counts.sort(pl.col("rank_bin").replace_strict(order, default=len(order), return_dtype=pl.Int64), "outcome")
    return fit(counts, Audience.parse(audience), columns=TAGS)


def caseworker_rates(review: FairnessReview, audience: str) -> pl.DataFrame:
    """One row per caseworker: rate with its interval, peers' rate, threshold, effect, p-values, flag, MDE."""
    who = Audience.parse(audience)
    frame = review.caseworkers
    if not who.sees_rows:
        # No ids, no counts, and nothing they can be worked back from (docs/disclosure.md, "Rates
        # per caseworker"): a rate with its interval gives n and k back, and so can a p-value,
        # the MDE or the peers' rate. The public sees the rate's band, the effect's words and the
        # flag; caseworkers numbered by band, then flag (never by the exact rate).
        label, low, high = cw.rate_band(pl.col("rate"))
        frame = frame.with_columns(rate_band=label, rate_from=low, rate_to=high).sort(
            "rate_from", "flagged", "handler_id", descending=[True, True, False]
        )
        frame = frame.select(
            "rate_band",
            pl.when("too_few").then(pl.lit(mde.TOO_FEW)).otherwise("effect_label").alias("effect_label"),
            "flagged",
        )
        return fit(frame, who, columns=TAGS).with_columns(
            caseworker=pl.format(say("caseworker_n", n="{}"), pl.int_range(1, pl.len() + 1))  # "handläggare 1"
        )
    # the analysis labels in English (it runs once for every copy of a run): here, in the report's language
    too_few = pl.format(f"{translate(mde.TOO_FEW)} (n = {{}})", "n_with_peers")
    return _labelled(frame.with_columns(effect_label=pl.when("too_few").then(too_few).otherwise("effect_label")), who)


def power_table(review: FairnessReview, audience: str) -> pl.DataFrame:
    """The power curve: ``fraud_rate``, ``power`` with its interval, simulations and detections."""
    return fit(review.power, Audience.parse(audience), columns=TAGS)


def queue_time(review: FairnessReview, audience: str) -> pl.DataFrame:
    """Winners' median queue time in years by district and year, with the number of allocations ``n``."""
    who = Audience.parse(audience)
    if who.sees_rows:
        frame = (
            review.replay.allocations.group_by("district", "year")
            .agg(n=pl.len().cast(pl.Int64), median_queue_years=(pl.col("winner_queue_days") / 365.25).median())
            .sort("district", "year")
        )
        return fit(frame, who, columns=TAGS, counts=["n"])
    # For the public a median beside any hidden count (1–4 or complementary) is blanked by the
    # suppression itself; the districts and years the group view pools or hides are pooled or
    # hidden here too (a count hidden in the table beside it must not be printed in the chart).
    return public_queue_time(review.replay.allocations, who)


def flag_timeline(review: FairnessReview, audience: str, handlers: list[int] | None = None) -> pl.DataFrame:
    """Red flags of the caseworkers of interest (flagged, a serious red flag, too few to judge; or ``handlers``) over time.

    Investigators and auditors get one row per flag with its evidence (``action_id``,
    ``detail``); the public gets flags per month and kind, ``n`` — or per quarter, per year or
    over the whole period, with a ``note`` saying so, when a finer period would let a hidden
    count be pinned (:func:`_flags_by_period`).
    """
    who = Audience.parse(audience)
    chosen = review.caseworkers_of_interest if handlers is None else handlers
    flags = review.red_flags.filter(pl.col("handler_id").is_in(chosen))
    if not who.sees_rows:
        return _flags_by_period(flags, who)
    return _labelled(
        redflags.with_details(flags).select(
            "time", "handler_id", "flag", "applicant_id", "listing_id", "action_id", "detail"
        ),
        who,
    )


def skipped_members(review: FairnessReview, audience: str) -> pl.DataFrame:
    """Members skipped in unexplained allocations; for the public, per district and year."""
    who = Audience.parse(audience)
    skipped = review.replay.skipped.join(
        review.replay.allocations.select("listing_id", "district", "year"), on="listing_id"
    )
    if not who.sees_rows:
        per = (
            skipped.group_by("district", "year")
            .agg(n=pl.len().cast(pl.Int64), queue_days_jumped=pl.col("queue_days_jumped").sum())
            .sort("district", "year")
        )
        return fit(per, who, columns=TAGS, counts=["n"], measures=["queue_days_jumped"])
    return _labelled(
        skipped.select(
            "listing_id",
            "district",
            "year",
            "handler_id",
            "winner_applicant_id",
            "skipped_applicant_id",
            "queue_rank",
            "winner_queue_rank",
            "positions_lost",
            "queue_days_jumped",
        ),
        who,
    )


def suspected_profiles(review: FairnessReview, audience: str) -> pl.DataFrame:
    """Suspected fake profiles with their evidence; for the public, how many show each signal."""
    who = Audience.parse(audience)
    suspected = review.fake_profiles.filter("suspected")
    if not who.sees_rows:
        per = pl.DataFrame(
            {"signal": list(fakes.SIGNALS), "n": [int(suspected[s].sum()) for s in fakes.SIGNALS]},
            schema={"signal": pl.String, "n": pl.Int64},
        )
        return fit(per, who, columns={"signal": PII.NONE}, counts=["n"])
    return fit(suspected, who, columns=TAGS)


def group_disparities(review: FairnessReview, audience: str) -> pl.DataFrame:
    """The group view: share in queue order and queue time by district, kind and year, with disparity ratios."""
    who = Audience.parse(audience)
    frame = review.groups
    if not who.sees_rows:
        parts = [public_groups(review.replay.allocations, grouping, who) for grouping in groups.GROUPINGS]
        shown = pl.concat(parts, how="diagonal_relaxed")
        return shown.drop("note") if shown["note"].null_count() == shown.height else shown
    return fit(frame, who, columns=TAGS, counts=["n_allocations", "n_in_order", "n_unexplained"])


def _flags_by_period(flags: pl.DataFrame, who: Audience) -> pl.DataFrame:
    """Red flags per period and kind for the public: by month, else quarter, else year (docs/disclosure.md).

    The finest period at which complementary suppression protects every hidden count is
    used; when none does (every period's total is itself small), the totals per kind of flag
    over the whole period, which point at no month, are shown exactly. A ``note`` column says
    what was withheld, so the table, its CSV and the chart say it alike.
    """
    local = pl.col("time").dt.convert_time_zone(redflags.ZONE)
    periods = {
        "month": local.dt.strftime("%Y-%m"),
        "quarter": pl.format("{}-Q{}", local.dt.year(), local.dt.quarter()),
        "year": local.dt.year().cast(pl.String),
    }
    tried: list[str] = []
    for name, period in periods.items():
        counts = flags.group_by(period.alias(name), "flag").agg(n=pl.len().cast(pl.Int64)).sort(name, "flag")
        try:
            shown = fit(counts, who, columns=TAGS, counts=["n"])
        except TooFewToShow:
            tried.append(name)
            continue
        return shown.with_columns(note=pl.lit(withheld_note(" or ".join(tried), f"by {name}"))) if tried else shown
    totals = flags.group_by("flag").agg(n=pl.len().cast(pl.Int64)).sort("flag")
    shown = fit(totals, who, columns=TAGS, counts=["n"], breakdown=False)  # per kind, whole period: a total
    return shown.with_columns(
        note=pl.lit(withheld_note(", ".join(tried[:-1]) + " or " + tried[-1], "for the whole period"))
    )


def allocation_reviews(review: FairnessReview, audience: str) -> pl.DataFrame:
    """The review state of the allocations of the caseworkers of interest (flagged, a serious red flag, too few to judge).

    Investigators and auditors: one row per caseworker of interest with ``n_allocations`` and how
    many an investigator ``confirmed`` (tag confirmed), ``dismissed`` (false-positive) or has
    not reviewed (from the notes, :mod:`workbench.notes.reviews`). The public: the same allocations counted by ``review`` over all these
    caseworkers, never per caseworker.
    """
    who = Audience.parse(audience)
    allocations = review.replay.allocations.filter(pl.col("handler_id").is_in(review.caseworkers_of_interest))
    marked = review_column(
        allocations.select("handler_id", "listing_id"), review.annotations, "allocation", "listing_id"
    )
    if not who.sees_rows:
        counts = marked.group_by("review").agg(n=pl.len().cast(pl.Int64)).sort("review")
        return fit(counts, who, columns=TAGS, counts=["n"])
    said = pl.col("review")
    per = (
        marked.group_by("handler_id")
        .agg(
            n_allocations=pl.len().cast(pl.Int64),
            n_confirmed=(said == "confirmed").sum().cast(pl.Int64),
            n_dismissed=(said == "dismissed").sum().cast(pl.Int64),
            n_not_reviewed=(said == "not reviewed").sum().cast(pl.Int64),
        )
        .sort("handler_id")
    )
    return _labelled(per, who)
