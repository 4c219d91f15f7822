"""Replay of every allocation: who should have got each apartment, and who was skipped.

:func:`load_allocation_evidence` reads what a replay needs with the registered fairness
queries; :func:`replay_allocations` applies the queue model (:mod:`workbench.fairness.queue_model`) to every listing
at once, as polars frames, with no loop over allocations.

Each contract gets an ``outcome``:

* ``in_order``: the tenant is the one queue order gives once recorded declines, no
  answers, disqualifications and rule-ineligible members are passed over;
* ``explained``: the tenant is not, but a recorded legitimate exception accounts for it:
  a priority decision for the tenant, or a recorded skip (with its reason) of whoever
  stood before them. A recorded exception is never counted as a skip;
* ``unexplained``: someone eligible, with nothing recorded, was ranked before the
  tenant; or the tenant was not in the queue, or not eligible.

For an unexplained allocation every such member is *skipped*: ``positions_lost`` is how
many places in queue order they stood before the tenant, ``queue_days_jumped`` how many
more days they had queued than the tenant. The rightful recipient is skipped too where it
stood behind an ineligible tenant: with 0 places and 0 days, never a negative count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from ..errors import UnknownNameError
from ..evidence import PII
from ..queries import run
from . import queue_model
from .snapshot import (
    PARTITION_BY,
    RECORDED,
    AllocationEvidence,
    QueueReader,
    candidates,
    member_facts,
    pair_decisions,
    partitions,
    selected,
)
from .threads import ahead, side_by_side

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = [
    "COLUMNS",
    "OUTCOMES",
    "RECORDED",
    "AllocationEvidence",
    "Replay",
    "load_allocation_evidence",
    "replay_allocations",
]

OUTCOMES: tuple[str, ...] = ("in_order", "explained", "unexplained")
_MEMBER_RESPONSES = ("declined", "no_answer", "disqualified")
PART_WORKERS: int | None = 1
"""Parts ranked at a time (None: one per core; 1: one after another in this thread); the frames do not depend on it.
Two side by side cost more CPU (national, under a load of 15: 231 CPU-s against 198) and memory (5.8 GB at the
replay's peak), and saved no wall time there, so one at a time, with the next part read ahead."""

COLUMNS: dict[str, PII] = {
    "year": PII.NONE,
    "outcome": PII.NONE,
    "deviation": PII.NONE,
    "winner_rank": PII.NONE,
    "winner_queue_date": PII.QUASI,
    "winner_queue_days": PII.NONE,
    "expected_applicant_id": PII.DIRECT,
    "n_interested": PII.NONE,
    "n_skipped": PII.NONE,
    "queue_days_jumped": PII.NONE,
    "skipped_applicant_id": PII.DIRECT,
    "queue_rank": PII.NONE,
    "rank": PII.NONE,
    "positions_lost": PII.NONE,
    "queue_date": PII.QUASI,
    "status": PII.NONE,
    "winner_applicant_id": PII.DIRECT,
    "winner_queue_rank": PII.NONE,
    "queue_date_source": PII.NONE,
}
"""Personal-data tags of the derived columns of :class:`Replay` frames, for ``fit(columns=...)``."""


def load_allocation_evidence(
    case: CaseLike,
    period_start: date | str | None = None,
    period_end: date | str | None = None,
    *,
    districts: Sequence[str] | None = None,
    withdrawals: bool = False,
) -> AllocationEvidence:
    """Read the replay's evidence from ``case`` (a case, engine or URL) for listings closing in the period.

    ``districts`` (e.g. ``["Södermalm", "Farsta"]``) limits the replay to listings there;
    ``withdrawals=True`` also reads members' own withdrawals (only the withdrawal block needs them).
    The queue rows are not read here: the replay reads them a (year, district) part at a time
    (:class:`workbench.fairness.snapshot.QueueReader`).
    """
    period = {"period_start": period_start, "period_end": period_end}
    return AllocationEvidence(
        listings=run("allocated_listings", case),
        queues=QueueReader(case, _as_date(period_start), _as_date(period_end)),  # read a part at a time
        members=run("queue_members", case),
        fees=run("fee_standing", case),
        decisions=run("allocation_decisions", case, **period),
        actions=run("caseworker_actions", case),
        withdrawals=run("interest_withdrawals", case) if withdrawals else None,
        period_start=_as_date(period_start),
        period_end=_as_date(period_end),
        districts=tuple(districts) if districts else None,
    )


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Replay:
    """The replay's result.

    ``allocations``: one row per contract with its outcome; ``skipped``: one row per member
    skipped in an unexplained allocation; ``passed_over``: everyone ranked before each tenant,
    with why they did not get it (the dashboard's detail).
    """

    allocations: pl.DataFrame
    skipped: pl.DataFrame
    passed_over: pl.DataFrame

    def count(self, outcome: str) -> int:
        """Allocations with ``outcome`` (one of :data:`OUTCOMES`), e.g. ``count("unexplained")``."""
        if outcome not in OUTCOMES:
            raise UnknownNameError("outcome", outcome, OUTCOMES)
        return int((self.allocations["outcome"] == outcome).sum())

    @property
    def applicants_skipped(self) -> int:
        """Distinct members skipped at least once."""
        return self.skipped["skipped_applicant_id"].n_unique()

    @property
    def queue_days_jumped(self) -> int:
        """Queue days the tenants of unexplained allocations lacked against the expected recipients."""
        return int(self.allocations["queue_days_jumped"].sum())


def replay_allocations(
    evidence: AllocationEvidence, *, block_after: int | None = None, partition_by: tuple[str, ...] = PARTITION_BY
) -> Replay:
    """Replay every contract of the period by the queue model; see the module doc for the outcomes.

    ``block_after`` turns on the withdrawal block (:func:`workbench.fairness.queue_model.withdrawal_rule`).
    The queues are ranked one part at a time (:func:`workbench.fairness.snapshot.partitions`,
    ``partition_by``: by closing year and district; ``()``: every queue at once), with the same result.
    """
    members = member_facts(evidence)
    # the tenant's queue date and fee standing, joined once for every contract, not per part
    listings = selected(evidence).join(
        members.select("applicant_id", "paid_through_year", winner_queue_date="queue_date"),
        on="applicant_id",
        how="left",
    )
    decisions = pair_decisions(evidence.decisions)
    # Each part joins only its own listings' decisions: the left join then hashes a part's few
    # thousand, not the period's (1.3 million at national), and finds the same rows. The next
    # part's queue rows are read (by DuckDB, outside Python's lock) while this one is ranked;
    # with PART_WORKERS > 1, parts are ranked side by side on threads, each on its own, and
    # come back in order, so the frames are the same as one part after another.

    def replay_part(item: tuple[pl.DataFrame, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
        part, queues = item
        narrowed = decisions.filter(pl.col("listing_id").is_in(part["listing_id"].implode()))
        found = candidates(evidence, members, block_after=block_after, listings=part, queues=queues, decisions=narrowed)
        return _replay_part(part, queue_model.rank_queue(found.collect()))

    parts = list(
        side_by_side(replay_part, ahead(partitions(listings, evidence.queues, partition_by, members)), PART_WORKERS)
    )
    if parts:
        a, passed = pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts]).sort("listing_id", "queue_rank")
    else:  # nothing selected: the frames of one empty part, for their columns
        a, passed = _replay_part(
            listings, queue_model.rank_queue(candidates(evidence, members, listings=listings).collect())
        )
    skipped = (
        passed.filter(pl.col("status") == "skipped").rename({"applicant_id": "skipped_applicant_id"}).drop("status")
    )
    n_skipped = skipped.group_by("listing_id").agg(n_skipped=pl.len())
    allocations = (
        a.join(n_skipped, on="listing_id", how="left")
        .with_columns(
            pl.col("n_skipped").fill_null(0).cast(pl.Int64), pl.col("n_interested").fill_null(0).cast(pl.Int64)
        )
        .select(
            "listing_id",
            "district",
            "kind",
            "rooms",
            "rent",
            "year",
            "closes_at",
            "signed_at",
            "handler_id",
            "applicant_id",
            "winner_rank",
            "winner_queue_date",
            "winner_queue_days",
            "expected_applicant_id",
            "outcome",
            "deviation",
            "n_interested",
            "n_skipped",
            "queue_days_jumped",
        )
        .sort("listing_id")
    )
    return Replay(allocations=allocations, skipped=skipped, passed_over=passed)


def _replay_part(listings: pl.DataFrame, ranked: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One part's contracts with their outcome (before the skipped counts), and everyone passed over in them."""
    available = pl.col("why").is_null() & pl.col("recorded").is_null()
    # By the rules alone: members' own responses and the rules pass people over; recorded
    # skips and priority decisions (the exceptions) do not.
    by_rules = pl.col("why").is_null() & ~pl.col("recorded").is_in(_MEMBER_RESPONSES).fill_null(False)
    # only the listings someone is available for: the left joins below give the others null, as before
    expected = queue_model.expected_recipients(ranked, available, every_listing=False)
    plain = queue_model.expected_recipients(ranked, by_rules, by="queue_rank", name="plain", every_listing=False)
    # inner join with the (small) contracts side, so the hash table is built on it
    winner_rows = ranked.join(listings.select("listing_id", "applicant_id"), on=["listing_id", "applicant_id"]).select(
        "listing_id",
        "applicant_id",
        winner_rank="queue_rank",
        _winner_full_rank="rank",
        _winner_why="why",
        _winner_priority="priority",
    )
    # the expected recipient stands in the queue: their queue date is on their row there (a member's
    # queue date is the same on each of their rows); looked up for the part's few expected recipients
    # only, not made unique over every queue row of the part
    expected_dates = (
        ranked.select("listing_id", expected_applicant_id="applicant_id", _expected_queue_date="queue_date")
        .join(expected.drop_nulls(), on=["listing_id", "expected_applicant_id"], how="semi")
        .unique(["listing_id", "expected_applicant_id"])
    )
    sizes = ranked.group_by("listing_id").agg(n_interested=pl.len())

    a = (
        listings.select(
            "listing_id",
            "district",
            "kind",
            "rooms",
            "rent",
            "closes_at",
            "handler_id",
            "applicant_id",
            "signed_at",
            "paid_through_year",
            "winner_queue_date",
        )
        .with_columns(year=pl.col("closes_at").dt.year().cast(pl.Int64))
        .join(winner_rows, on=["listing_id", "applicant_id"], how="left")
        .join(expected, on="listing_id", how="left")
        .join(plain, on="listing_id", how="left")
        .join(sizes, on="listing_id", how="left")
        .join(expected_dates, on=["listing_id", "expected_applicant_id"], how="left")
    )
    is_expected = (pl.col("applicant_id") == pl.col("expected_applicant_id")).fill_null(False)
    is_plain = (pl.col("applicant_id") == pl.col("plain_applicant_id")).fill_null(False)
    outcome = (
        pl.when(~is_expected)
        .then(pl.lit("unexplained"))
        .when(is_plain)
        .then(pl.lit("in_order"))
        .otherwise(pl.lit("explained"))
    )
    deviation = (
        pl.when(is_expected & is_plain)
        .then(None)
        .when(is_expected & pl.col("_winner_priority").fill_null(False))
        .then(pl.lit("priority decision"))
        .when(is_expected)
        .then(pl.lit("recorded skip"))
        .when(pl.col("winner_rank").is_null())
        .then(pl.lit("tenant not in the queue"))
        .when(pl.col("_winner_why").is_not_null())
        .then(pl.format("tenant ineligible: {}", "_winner_why"))
        .otherwise(pl.lit("eligible members skipped"))
    )
    jumped = (pl.col("winner_queue_date") - pl.col("_expected_queue_date")).dt.total_days().clip(lower_bound=0)
    a = a.with_columns(
        outcome=outcome,
        deviation=deviation,
        winner_queue_days=queue_model.queue_days(
            pl.col("winner_queue_date"), pl.col("closes_at").dt.date(), pl.col("paid_through_year")
        ),
    ).with_columns(queue_days_jumped=pl.when(pl.col("outcome") == "unexplained").then(jumped.fill_null(0)).otherwise(0))

    winners = a.select(
        "listing_id",
        "outcome",
        "handler_id",
        "expected_applicant_id",
        winner_applicant_id="applicant_id",
        winner_queue_rank="winner_rank",
        _wr="_winner_full_rank",
        _wq="winner_queue_date",
    )
    r = ranked.join(winners, on="listing_id")
    # Skipped: available and ranked before the tenant, or the rightful recipient (who may stand
    # after a tenant who was not eligible); a tenant not in the queue stands after everyone.
    before_tenant = pl.col("_wr").is_null() | (pl.col("rank") < pl.col("_wr"))
    rightful = pl.col("applicant_id") == pl.col("expected_applicant_id")
    is_skipped = available & (pl.col("outcome") == "unexplained") & (before_tenant | rightful)
    before = (pl.col("queue_rank") < pl.col("winner_queue_rank")) | (pl.col("rank") < pl.col("_wr"))
    status = (
        pl.when(is_skipped)
        .then(pl.lit("skipped"))
        .when(pl.col("recorded").is_not_null())
        .then(pl.col("recorded"))
        .when(pl.col("why").is_not_null())
        .then(pl.format("ineligible: {}", "why"))
        .otherwise(pl.lit("behind a priority decision"))
    )
    passed = (
        r.filter(is_skipped | before.fill_null(False))
        .with_columns(
            status=status,
            # The rightful recipient may stand behind an ineligible tenant: no places before the
            # tenant, no days more than the tenant (never negative, never subtracted in a total).
            positions_lost=(pl.col("winner_queue_rank") - pl.col("queue_rank")).clip(lower_bound=0),
            queue_days_jumped=(pl.col("_wq") - pl.col("queue_date")).dt.total_days().clip(lower_bound=0),
        )
        .select(
            "listing_id",
            "handler_id",
            "winner_applicant_id",
            "winner_queue_rank",
            "applicant_id",
            "queue_rank",
            "rank",
            "queue_date",
            "status",
            "positions_lost",
            "queue_days_jumped",
        )
        .sort("listing_id", "queue_rank")
    )
    return a, passed
