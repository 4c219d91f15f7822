"""The queue model: the organisation's allocation rules, as the investigator replays them.

Each rule is one small function returning a polars expression over named columns of a
*candidate* frame (one row per interest in a listing's queue, see :data:`CANDIDATE_COLUMNS`),
so a rule can be read, tested on a hand-built frame, and applied to millions of rows at once.

The rules (DESIGN §1, made precise enough to replay):

* **Queue.** A listing's queue is fixed when registration of interest closes: every
  interest registered at or before ``closes_at`` and not withdrawn by then (the
  ``allocation_queues`` query reads exactly these).
* **Queue date** (:func:`queue_dates`). Queue time counts from ``queue_start`` as the
  system held it *before any caseworker changed it*: where the audit log has a
  ``queue_date_change`` for the member, the ``old_value`` of the first one. A profile that a
  caseworker created with a ``queue_start`` before its ``registered_at`` counts from the day
  it was registered (UTC): queue time cannot predate the member.
* **Queue time** (:func:`queue_days`) on a day: days since the queue date, or none at all
  once a fee year is unpaid (a member who leaves the 200 SEK fee unpaid loses their time).
* **Eligibility**, each rule true when met: registered as a member before registering the
  interest (:func:`registered_rule`); fees paid without a break through the year the listing
  was published (:func:`fee_rule`); not already housed through the queue when the listing
  closed (:func:`housed_rule`); the student flag for student listings (:func:`student_rule`);
  age 18–25 for youth and 65 or more for senior listings, in whole years on the UTC day the
  listing closed (:func:`age_rule`); the landlord's income rule, yearly income at least
  k × 12 × monthly rent for k = 2 or 3 (:func:`income_rule`); and, where the organisation
  applies one, a block after repeated withdrawals (:func:`withdrawal_rule`, off by default:
  the published rules of this case have none).
* **Ranking** (:func:`rank_queue`): a member with a recorded priority decision for the
  listing first; then queue date ascending; ties by the member's ``registered_at``, then by
  the lower ``applicant_id`` (customer numbers are issued in order).
* **Expected recipient** (:func:`expected_recipients`): walk the ranking past every
  candidate who is ineligible or has a recorded decline, no answer, disqualification or
  skip; the first one left is who should have got the apartment. A member who would win
  two listings keeps one and declines the other; the decline is recorded, so the walk
  needs no rule of its own for it.
"""

from __future__ import annotations

from typing import SupportsInt, cast

import polars as pl

__all__ = [
    "AGE_LIMITS",
    "CANDIDATE_COLUMNS",
    "INCOME_MULTIPLIER",
    "RANK_ORDER",
    "RULES",
    "age_on",
    "age_rule",
    "birth_date",
    "expected_recipients",
    "fee_rule",
    "housed_rule",
    "income_rule",
    "ineligibility",
    "member_order",
    "queue_dates",
    "queue_days",
    "rank_queue",
    "registered_rule",
    "student_rule",
    "withdrawal_rule",
    "withdrawals_before_close",
    "written_date",
    "ymd",
]

INCOME_MULTIPLIER: dict[str, int] = {"none": 0, "2x_rent": 2, "3x_rent": 3}
"""The landlord's income rule as k in: yearly income >= k × 12 × monthly rent."""
AGE_LIMITS: dict[str, tuple[int, int | None]] = {"youth": (18, 25), "senior": (65, None)}
"""Whole years of age a listing kind requires, inclusive; None = no upper limit."""
RULES: tuple[str, ...] = ("registered", "fee", "housed", "student", "age", "income", "withdrawals")
"""Eligibility rules in the order a reason is reported (the first one failed)."""
RANK_ORDER: tuple[str, ...] = ("priority", "queue_date", "member_registered_at", "applicant_id")
"""Sort keys of a listing's queue, most significant first; priority holders sort first."""
CANDIDATE_COLUMNS: dict[str, str] = {
    "listing_id": "the listing",
    "applicant_id": "the interested member",
    "interest_at": "when the interest was registered",
    "published_at": "when the listing was published",
    "closes_at": "when registration of interest closed (the queue is fixed then)",
    "kind": "listing kind: regular, student, youth, senior, short_term, new_build",
    "rent": "monthly rent in SEK",
    "income_rule": "none, 2x_rent or 3x_rent",
    "member_registered_at": "when the member's customer record was created",
    "birth": "birth date (from the personnummer)",
    "student": "registered as a student",
    "annual_income": "stated yearly income in SEK",
    "queue_date": "queue date from queue_dates()",
    "first_paid_year": "first fee year paid",
    "paid_through_year": "last year of the unbroken run of fees from the first",
    "housed_at": "when the member signed a lease for another listing, if ever",
    "priority": "a recorded priority decision for this listing",
    "withdrawals_before_close": "the member's own withdrawals in the year before closing (only for the block)",
}
"""Columns the rules read, with their meaning (the replay builds this frame)."""


def birth_date(personnummer: pl.Expr) -> pl.Expr:
    """Birth date from a personnummer or its first 8 digits, e.g. "19850412-2383" -> 1985-04-12.

    A samordningsnummer (coordination number) writes the day plus 60: "19920472-1236" was born
    on 1992-04-12 (found from outside: its age was unknown, so a lawful youth allocation was
    reported as a departure).
    """
    digits = personnummer.str.slice(0, 8)
    day = digits.str.slice(6, 2).cast(pl.Int32, strict=False)
    shifted = pl.concat_str(digits.str.slice(0, 6), (day - 60).cast(pl.String).str.zfill(2))
    return pl.when(day > 60).then(shifted).otherwise(digits).str.to_date("%Y%m%d", strict=False)


def written_date(text: pl.Expr) -> pl.Expr:
    """A date as an audit log writes it: "2012-01-01", "2012-01-01 00:00:00", "2012-01-01T…" or "20120101".

    Found from outside: a queue-date change whose old value was "20120101" was read as no
    date, so the member counted from the backdated date and the departure went unseen.
    """
    return pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        pl.when(text.str.contains(r"^\d{8}$")).then(text.str.to_date("%Y%m%d", strict=False)),
    )


def age_on(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Whole years of age on ``day``; a 29 February birthday is reached on 1 March."""
    mmdd = lambda d: d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)  # noqa: E731
    return day.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - (mmdd(day) < mmdd(birth)).cast(pl.Int32)


def queue_dates(members: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """The queue date each member counts from, and where it comes from.

    Parameters
    ----------
    members : ``applicant_id``, ``queue_start`` (date), ``registered_at`` (UTC) and
        ``created_by_handler_id`` (null when the member registered themself).
    actions : audit-log rows with ``action``, ``applicant_id``, ``time`` and ``old_value``;
        only ``queue_date_change`` rows are used (``old_value`` an ISO date, "2009-05-01").

    Returns ``applicant_id``, ``queue_date`` and ``queue_date_source``: ``"queue_start"``,
    ``"before_change"`` (the date before the first caseworker change) or ``"registered"``
    (a caseworker-made profile dated before it existed).
    """
    first_change = (
        actions.filter(pl.col("action") == "queue_date_change")
        .sort("time")
        .group_by("applicant_id")
        .agg(before=written_date(pl.col("old_value").first()))
    )
    registered = pl.col("registered_at").dt.date()
    made_early = pl.col("created_by_handler_id").is_not_null() & (pl.col("queue_start") < registered)
    return members.join(first_change, on="applicant_id", how="left").select(
        "applicant_id",
        queue_date=pl.when(made_early).then(registered).otherwise(pl.coalesce("before", "queue_start")),
        queue_date_source=pl.when(made_early)
        .then(pl.lit("registered"))
        .when(pl.col("before").is_not_null())
        .then(pl.lit("before_change"))
        .otherwise(pl.lit("queue_start")),
    )


def queue_days(queue_date: pl.Expr, day: pl.Expr, paid_through_year: pl.Expr) -> pl.Expr:
    """Queue time in days on ``day`` (a date); 0 once a fee year up to ``day`` is unpaid.

    ``paid_through_year`` is the last year of the member's unbroken run of fee payments
    (null: never paid). Fees are per calendar year, so the time is lost from 1 January of
    the first unpaid year.
    """
    days = (day - queue_date).dt.total_days()
    lapsed = paid_through_year.is_null() | (day.dt.year().cast(pl.Int64) > paid_through_year)
    return pl.when(lapsed).then(0).otherwise(days.clip(lower_bound=0))


def registered_rule() -> pl.Expr:
    """The member existed when the interest was registered: ``member_registered_at <= interest_at``."""
    return pl.col("member_registered_at") <= pl.col("interest_at")


def fee_rule() -> pl.Expr:
    """Fees paid without a break through the publication year: first_paid <= year <= paid_through."""
    year = pl.col("published_at").dt.year().cast(pl.Int64)
    return (pl.col("first_paid_year") <= year).fill_null(False) & (year <= pl.col("paid_through_year")).fill_null(False)


def housed_rule() -> pl.Expr:
    """Not already housed through the queue: no lease on another listing signed before closing."""
    return pl.col("housed_at").is_null() | (pl.col("housed_at") >= pl.col("closes_at"))


def student_rule() -> pl.Expr:
    """Student listings go to registered students only."""
    return (pl.col("kind") != "student") | pl.col("student")


def ymd(day: pl.Expr) -> pl.Expr:
    """A date as the integer yyyymmdd (Int32): the whole years from one date to another are the
    difference of theirs floor-divided by 10,000, as :func:`age_on` counts them."""
    return day.dt.year().cast(pl.Int32) * 10_000 + day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)


def age_rule(*, coded: bool = False) -> pl.Expr:
    """Youth listings need age 18–25, senior listings 65 or more, on the UTC closing day.

    ``coded``: read the age from ``_birth_ymd`` and ``_closes_ymd`` (:func:`ymd` of ``birth``
    and of the UTC closing day), computed once per member and per listing, instead of taking
    every candidate row's dates apart; the same ages.
    """
    age = (
        (pl.col("_closes_ymd") - pl.col("_birth_ymd")).floordiv(10_000)
        if coded
        else age_on(pl.col("birth"), pl.col("closes_at").dt.date())
    )
    ok = pl.lit(True)
    for kind, (low, high) in AGE_LIMITS.items():
        within = age >= low if high is None else age.is_between(low, high)
        ok = ok & ((pl.col("kind") != kind) | within.fill_null(False))
    return ok


def income_rule() -> pl.Expr:
    """Yearly income at least k × 12 × monthly rent, k from the listing's ``income_rule``."""
    k = pl.col("income_rule").replace_strict(INCOME_MULTIPLIER, return_dtype=pl.Int64)
    return pl.col("annual_income").fill_null(0) >= k * 12 * pl.col("rent")


def withdrawal_rule(block_after: int | None) -> pl.Expr:
    """Blocked after ``block_after`` withdrawals in the year before closing; None: no block.

    Reads ``withdrawals_before_close`` (see :func:`withdrawals_before_close`).
    """
    if block_after is None:
        return pl.lit(True)
    return pl.col("withdrawals_before_close").fill_null(0) < block_after


def withdrawals_before_close(candidates: pl.DataFrame, withdrawals: pl.DataFrame, days: int = 365) -> pl.DataFrame:
    """Add ``withdrawals_before_close``: the member's withdrawals in the ``days`` before closing.

    ``withdrawals`` has ``applicant_id`` and ``withdrawn_at``. Counted with two sorted
    as-of joins on a running count per member, so it stays vectorised.
    """
    # A running count per member, then two as-of joins (sorted on the time key) read it
    # just before closing and at the start of the window; the difference is the window's.
    running = (
        withdrawals.select("applicant_id", "withdrawn_at")
        .sort("applicant_id", "withdrawn_at")
        .with_columns(n=pl.int_range(1, pl.len() + 1).over("applicant_id"))
        .sort("withdrawn_at")
    )
    keys = candidates.select("listing_id", "applicant_id", "closes_at").with_columns(
        since=pl.col("closes_at") - pl.duration(days=days)
    )

    def count_at(column: str, strict: bool) -> pl.DataFrame:
        probe = keys.select("listing_id", "applicant_id", at=pl.col(column)).sort("at")
        found = probe.join_asof(
            running,
            left_on="at",
            right_on="withdrawn_at",
            by="applicant_id",
            strategy="backward",
            allow_exact_matches=not strict,
            check_sortedness=False,
        )  # sorted on the key overall, so within each member too
        return found.select("listing_id", "applicant_id", pl.col("n").fill_null(0).alias(column))

    counts = count_at("closes_at", strict=True).join(count_at("since", strict=False), on=["listing_id", "applicant_id"])
    return candidates.join(
        counts.select("listing_id", "applicant_id", withdrawals_before_close=pl.col("closes_at") - pl.col("since")),
        on=["listing_id", "applicant_id"],
        how="left",
    )


def ineligibility(block_after: int | None = None, *, coded: bool = False) -> pl.Expr:
    """Name of the first rule in :data:`RULES` a candidate fails, null when eligible (``coded``: see :func:`age_rule`)."""
    checks = {
        "registered": registered_rule(),
        "fee": fee_rule(),
        "housed": housed_rule(),
        "student": student_rule(),
        "age": age_rule(coded=coded),
        "income": income_rule(),
        "withdrawals": withdrawal_rule(block_after),
    }
    reason = pl.lit(None, pl.String)
    for name in reversed(RULES):  # the first failed rule wins: build the chain from the last
        reason = pl.when(~checks[name].fill_null(False)).then(pl.lit(name)).otherwise(reason)
    return reason


def member_order(members: pl.DataFrame) -> pl.DataFrame:
    """Each member's place in queue order, the same in every listing: ``applicant_id``, ``member_order``.

    Queue order is queue date ascending, ties to the earlier ``member_registered_at``, then
    the lower ``applicant_id`` (customer numbers are issued in order). Numbering members once
    lets every listing's queue be sorted on one integer.
    """
    return (
        members.select("applicant_id", "queue_date", "member_registered_at")
        .unique("applicant_id")
        .sort("queue_date", "member_registered_at", "applicant_id", nulls_last=True)
        .select("applicant_id", member_order=pl.int_range(pl.len(), dtype=pl.Int64))
    )


def rank_queue(candidates: pl.DataFrame) -> pl.DataFrame:
    """Add ``queue_rank`` (by queue time alone) and ``rank`` (priority decisions first), both from 1.

    Queue order is :func:`member_order` (computed here unless the frame has a
    ``member_order`` column). Rows come back in queue order within each listing. ``rank``
    is derived without a second sort: a priority holder's place is their count among the
    listing's priority holders; anyone else moves down by the holders queued behind them.
    """
    if "member_order" not in candidates.columns:
        candidates = candidates.join(member_order(candidates), on="applicant_id", how="left")
    order = candidates["member_order"]
    span = int(cast(SupportsInt, order.max() or 0)) + 2
    if (
        order.null_count()
        or candidates.is_empty()
        or int(cast(SupportsInt, candidates["listing_id"].max())) * span >= 2**62
    ):
        ranked = candidates.sort("listing_id", "member_order", nulls_last=True)
    else:  # one packed integer key sorts several times faster than two columns
        ranked = candidates.sort(pl.col("listing_id") * span + pl.col("member_order"))
    prio = pl.col("priority").fill_null(False)
    queue_rank = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("listing_id")
    ranked = ranked.with_columns(queue_rank=queue_rank, _holders=prio.cast(pl.Int64).cum_sum().over("listing_id"))
    n_holders = pl.col("_holders").max().over("listing_id")
    return ranked.with_columns(
        rank=pl.when(prio).then(pl.col("_holders")).otherwise(pl.col("queue_rank") - pl.col("_holders") + n_holders)
    ).drop("_holders")


def expected_recipients(
    ranked: pl.DataFrame, available: pl.Expr, *, by: str = "rank", name: str = "expected", every_listing: bool = True
) -> pl.DataFrame:
    """Per listing, the first candidate in order ``by`` for whom ``available`` holds.

    Returns ``listing_id`` and ``{name}_applicant_id`` (null when nobody is available).
    ``available`` is typically: eligible, and no recorded decline, no answer,
    disqualification or skip. ``by`` is ``"rank"`` (priority decisions first) or
    ``"queue_rank"`` (queue time alone). ``every_listing=False`` leaves out the listings nobody is
    available for, for a caller that joins the result to its listings (they get null there too)
    and need not find every listing of a large frame.
    """
    best = (
        ranked.filter(available)
        .group_by("listing_id")
        .agg(pl.col("applicant_id").get(pl.col(by).arg_min()).alias(f"{name}_applicant_id"))
    )
    if not every_listing:
        return best
    return ranked.select("listing_id").unique().join(best, on="listing_id", how="left")
