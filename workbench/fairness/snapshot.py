"""The queue snapshots a replay ranks, and the partitions it ranks them in.

A listing's queue is ranked on its own: nothing in one listing's ranking reads another's
queue (queue order is the members' :func:`~workbench.fairness.queue_model.member_order`,
the same in every listing). So :func:`partitions` cuts the period's listings by (closing
year, district) and hands each part's queue rows over separately: the replay builds the
wide candidate frame (:func:`candidates`) for one part at a time, and its memory is bounded
by the largest part, not by every queue row of the period at once.

Read from a case, the queue rows are not loaded at all until then: the evidence holds a
:class:`QueueReader`, and each part's rows are read by a query of their own (the
``allocation_queues`` query for the part's closing days and district), so at most one
part's queue rows are held.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ..errors import WorkbenchError
from ..evidence import ENUMS, polars_dtype
from ..queries import get, run_parts
from . import queue_model

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = [
    "PARTITION_BY",
    "QUEUE_QUERY",
    "RECORDED",
    "AllocationEvidence",
    "QueueReader",
    "candidates",
    "member_facts",
    "pair_decisions",
    "partitions",
    "selected",
]

_KIND = pl.Enum(ENUMS["listing_kind"])
_INCOME_RULE = pl.Enum(ENUMS["income_rule"])
RECORDED: tuple[str, ...] = ("declined", "no_answer", "disqualified", "skip")
"""Recorded decisions that pass a member over legitimately."""
PARTITION_BY: tuple[str, ...] = ("year", "district")
"""What the replay ranks one part at a time: listings closing in one year in one district."""


QUEUE_QUERY = "allocation_queues"
"""The query a :class:`QueueReader` reads each part's queue rows with."""


@dataclass(frozen=True)
class QueueReader:
    """The period's queue rows, left in the case: read a part at a time by :func:`partitions`.

    ``case`` is a case, engine or URL; ``period_start`` and ``period_end`` those the evidence
    was loaded for (findings cite :data:`QUEUE_QUERY` with them, whatever the parts).
    """

    case: CaseLike
    period_start: date | None = None
    period_end: date | None = None

    def read(self, parts: Sequence[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        """The queue rows of each part's listings in turn (frames of :func:`selected` rows), one query each.

        A part is queried for its first to last closing day and, when it lies in one district,
        that district; the rows are then kept to its own listings, so any cut gives exactly
        them (one by year and district reads no other row).
        """
        params = ({**_span(part), "district": _district(part)} for part in parts)
        frames = run_parts(QUEUE_QUERY, self.case, params, period_start=self.period_start, period_end=self.period_end)
        for part, rows in zip(parts, frames, strict=True):
            yield rows.filter(pl.col("listing_id").is_in(part["listing_id"].implode()))

    def rows(self, listings: pl.DataFrame) -> pl.DataFrame:
        """The queue rows of ``listings`` at once (an empty frame of the query's columns for none)."""
        if listings.is_empty():  # no query to run; the provenance is still the period's
            for _ in run_parts(QUEUE_QUERY, self.case, (), period_start=self.period_start, period_end=self.period_end):
                pass
            q = get(QUEUE_QUERY)
            stmt = q.build(**q.bind({}))
            return pl.DataFrame(schema={c.name: polars_dtype(c.type) for c in stmt.selected_columns})
        return next(self.read([listings]))


def _span(part: pl.DataFrame) -> dict[str, Any]:
    days = part["closes_at"].dt.date()
    return {"period_start": days.min(), "period_end": days.max()}


def _district(part: pl.DataFrame) -> str | None:
    districts = part["district"].unique()
    return districts[0] if districts.len() == 1 else None


@dataclass(frozen=True)
class AllocationEvidence:
    """The evidence a replay reads, one frame per fairness query.

    ``listings`` holds every contract (the housed rule looks outside the period);
    ``queues`` and ``decisions`` only the period's listings. ``queues`` is a frame, or a
    :class:`QueueReader` that reads them from the case a part at a time
    (:func:`workbench.fairness.load_allocation_evidence` gives one).
    """

    listings: pl.DataFrame
    queues: pl.DataFrame | QueueReader
    members: pl.DataFrame
    fees: pl.DataFrame
    decisions: pl.DataFrame
    actions: pl.DataFrame
    withdrawals: pl.DataFrame | None = None
    period_start: date | None = None
    period_end: date | None = None
    districts: tuple[str, ...] | None = None


def selected(evidence: AllocationEvidence) -> pl.DataFrame:
    """The contracts to replay: listings closing in the period, in the chosen districts."""
    listings, day = evidence.listings, pl.col("closes_at").dt.date()
    if evidence.period_start is not None:
        listings = listings.filter(day >= evidence.period_start)
    if evidence.period_end is not None:
        listings = listings.filter(day <= evidence.period_end)
    if evidence.districts:
        listings = listings.filter(pl.col("district").is_in(list(evidence.districts)))
    return listings


def member_facts(evidence: AllocationEvidence) -> pl.DataFrame:
    """One row per member with everything the rules read about them, and their place in queue order.

    Adds the queue date (:func:`workbench.fairness.queue_model.queue_dates`), the fee standing, and the
    member's first two leases, so "a lease on another listing" is a pick between columns.
    """
    m = (
        evidence.members.join(queue_model.queue_dates(evidence.members, evidence.actions), on="applicant_id")
        .select(
            "applicant_id",
            "student",
            "annual_income",
            "queue_date",
            "queue_date_source",
            member_registered_at="registered_at",
            birth=queue_model.birth_date(pl.col("birth_digits")),
        )
        .with_columns(_birth_ymd=queue_model.ymd(pl.col("birth")))
    )  # once per member, for the age rule
    leases = (
        evidence.listings.select("applicant_id", "listing_id", "signed_at")
        .sort("applicant_id", "signed_at")
        .group_by("applicant_id", maintain_order=True)
        .agg(
            lease1_listing=pl.col("listing_id").first(),
            lease1_at=pl.col("signed_at").first(),
            lease2_at=pl.col("signed_at").get(1, null_on_oob=True),
        )
    )
    fees = evidence.fees.select("applicant_id", "first_paid_year", "paid_through_year")
    return (
        m.join(queue_model.member_order(m), on="applicant_id")
        .join(fees, on="applicant_id", how="left")
        .join(leases, on="applicant_id", how="left")
    )


def pair_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """Per (listing, member): ``priority`` (a recorded priority decision) and ``recorded`` (first of :data:`RECORDED`)."""
    order = pl.col("decision").replace_strict(
        {r: i for i, r in enumerate(RECORDED)}, default=None, return_dtype=pl.Int64
    )
    return (
        decisions.filter(pl.col("decision").is_in([*RECORDED, "priority"]))
        .with_columns(_o=order)
        .group_by("listing_id", "applicant_id")
        .agg(
            priority=(pl.col("decision") == "priority").any(),
            recorded=pl.col("decision")
            .filter(pl.col("_o").is_not_null())
            .sort_by(pl.col("_o").filter(pl.col("_o").is_not_null()))
            .first(),
        )
    )


def candidates(
    evidence: AllocationEvidence,
    members: pl.DataFrame | None = None,
    *,
    block_after: int | None = None,
    keep: tuple[str, ...] = (),
    listings: pl.DataFrame | None = None,
    queues: pl.DataFrame | None = None,
    decisions: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """The queue snapshot rows with ``queue_date``, ``member_order``, ``priority``, ``recorded`` and ``why``.

    ``why`` is the first eligibility rule failed (:func:`workbench.fairness.queue_model.ineligibility`);
    ``recorded`` the member's recorded decision on the listing (a decline, no answer,
    disqualification or skip). The rules' inputs (:data:`workbench.fairness.queue_model.CANDIDATE_COLUMNS`)
    are dropped afterwards unless named in ``keep``. ``listings``, ``queues`` and ``decisions``
    (:func:`pair_decisions`) narrow it to one part (:func:`partitions`); None: the whole period.
    """
    members = member_facts(evidence) if members is None else members
    listings = selected(evidence) if listings is None else listings
    if queues is None:
        queues = evidence.queues.rows(listings) if isinstance(evidence.queues, QueueReader) else evidence.queues
    if "_birth_ymd" not in members.columns:  # members not from member_facts
        members = members.with_columns(_birth_ymd=queue_model.ymd(pl.col("birth")))
    listings = listings.select(
        "listing_id",
        "published_at",
        "closes_at",
        "rent",
        pl.col("kind").cast(_KIND),
        pl.col("income_rule").cast(_INCOME_RULE),
        _closes_ymd=queue_model.ymd(pl.col("closes_at").dt.date()),  # once per listing, for the age rule
    )
    if "_member" in queues.columns:  # each row's member by position (partitions()): no hash table per part
        # no rule reads the queue date's source (a string): not copied to every queue row unless kept
        unread = ["applicant_id", *(c for c in ("queue_date_source",) if c in members.columns and c not in keep)]
        queues = pl.concat([queues.drop("_member"), members.drop(unread)[queues["_member"]]], how="horizontal")
    else:
        queues = queues.join(members, on="applicant_id", how="left")
    c = (
        queues.lazy()
        .rename({"registered_at": "interest_at"})
        .join(listings.lazy(), on="listing_id")
        .join(
            (pair_decisions(evidence.decisions) if decisions is None else decisions).lazy(),
            on=["listing_id", "applicant_id"],
            how="left",
        )
        .with_columns(
            pl.col("priority").fill_null(False),
            housed_at=pl.when(pl.col("lease1_listing") != pl.col("listing_id"))
            .then("lease1_at")
            .otherwise("lease2_at"),
        )
    )
    if block_after is not None:
        if evidence.withdrawals is None:
            raise WorkbenchError(
                "block_after needs the members' withdrawals: load_allocation_evidence(case, withdrawals=True)"
            )
        c = queue_model.withdrawals_before_close(c.collect(), evidence.withdrawals).lazy()
    out = ("listing_id", "applicant_id", "queue_date", "member_order", "priority", "recorded", "why")
    return c.with_columns(why=queue_model.ineligibility(block_after, coded=True)).select(
        *out, *(k for k in keep if k not in out)
    )


def partitions(
    listings: pl.DataFrame,
    queues: pl.DataFrame | QueueReader,
    by: tuple[str, ...] = PARTITION_BY,
    members: pl.DataFrame | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The selected ``listings`` cut by ``by`` ("year": of closing; or any listing column), each with its queue rows.

    From a :class:`QueueReader`, each part's queue rows are read when the part is reached.
    From a frame, they are put in part order by one join (one narrow copy) and handed out as
    slices of it, so no part is copied again. Parts come in order of their keys, each with its
    rows in listing order. With ``members`` (:func:`member_facts`), each row also gets
    ``_member``, its member's row there (null: none), which :func:`candidates` reads instead
    of joining every part.
    """
    keys = [pl.col("closes_at").dt.year().alias("year") if k == "year" else pl.col(k) for k in by]
    parted = listings.with_columns(
        _part=pl.struct(keys).rank("dense").cast(pl.Int64) if by else pl.lit(1, pl.Int64)
    ).sort("_part", "listing_id")
    if isinstance(queues, QueueReader):
        yield from _read_parts(parted, queues, members)
        return
    plan = parted.select("listing_id", "_part").lazy().join(queues.lazy(), on="listing_id", maintain_order="left")
    if members is not None:
        index = members.select("applicant_id").with_row_index("_member").lazy()
        plan = plan.join(index, on="applicant_id", how="left", maintain_order="left")
    rows = plan.collect()
    sizes = dict(rows.group_by("_part").agg(pl.len()).iter_rows())
    offset = 0
    for part, frame in parted.partition_by("_part", as_dict=True, maintain_order=True).items():
        n = sizes.get(part[0], 0)
        yield frame.drop("_part"), rows.slice(offset, n).drop("_part")
        offset += n


def _read_parts(
    parted: pl.DataFrame, reader: QueueReader, members: pl.DataFrame | None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """:func:`partitions` from a reader: each part's rows read in turn, each row's member found in :class:`_MemberRows`."""
    frames = [f.drop("_part") for f in parted.partition_by("_part", maintain_order=True)]
    rows_of = None if members is None else _MemberRows(members["applicant_id"])
    for part, rows in zip(frames, reader.read(frames), strict=True):
        yield part, rows if rows_of is None else rows.with_columns(_member=rows_of(rows["applicant_id"]))


class _MemberRows:
    """Each applicant id's row in the members, built once so that no part joins every member.

    Ids are integers spread over a range a few times the members' number, so a table over
    that range (4 bytes an id) finds a row in one step; ids spread wider are found by binary search.
    """

    _SPREAD = 32  # largest range, as a multiple of the members, given a table

    def __init__(self, ids: pl.Series) -> None:
        present = ids.drop_nulls()
        self.low = int(present.min()) if present.len() else 0  # type: ignore[arg-type]
        span = int(present.max()) - self.low + 1 if present.len() else 1  # type: ignore[arg-type]
        rows = np.flatnonzero(ids.is_not_null().to_numpy())
        values = present.to_numpy()
        self.table: np.ndarray | None = None
        if span <= self._SPREAD * max(len(values), 1):
            self.table = np.full(span, -1, np.int32)
            self.table[(values - self.low)[::-1]] = rows[::-1]  # a repeated id (a key: none) gets its first row
        else:
            order = np.argsort(values, kind="stable")
            self.sorted, self.rows = values[order], rows[order]

    def __call__(self, ids: pl.Series) -> pl.Series:
        """The row of each of ``ids`` (null: not a member), as ``_member``."""
        wanted = ids.fill_null(self.low - 1).to_numpy()
        if self.table is not None:
            at = wanted - self.low
            inside = (at >= 0) & (at < len(self.table))
            found = np.where(inside, self.table[np.where(inside, at, 0)], -1)
        else:  # ids spread wide (never empty here: no members gives a table)
            at = np.minimum(np.searchsorted(self.sorted, wanted), len(self.sorted) - 1)
            found = np.where(self.sorted[at] == wanted, self.rows[at], -1)
        out = pl.Series("_member", found)
        return out.set(out < 0, None).cast(pl.UInt32)
