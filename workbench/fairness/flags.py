"""The review's findings that need no statistics: queue-date changes, red flags, fake profiles, groups.

They read only the evidence and the replay, so :func:`workbench.fairness.review_evidence`
computes them on a second thread while the power simulation runs.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from .fakes import fake_profiles
from .groups import group_view
from .redflags import queue_date_changes, red_flags

if TYPE_CHECKING:
    from .snapshot import AllocationEvidence

__all__ = ["OFFER_RESPONSES", "flags_and_profiles"]

OFFER_RESPONSES = ("accepted", "declined", "no_answer", "disqualified")


def _in_period(frame: pl.DataFrame, start: date | None, end: date | None, column: str = "time") -> pl.DataFrame:
    day = pl.col(column).dt.date()
    if start is not None:
        frame = frame.filter(day >= start)
    if end is not None:
        frame = frame.filter(day <= end)
    return frame


def flags_and_profiles(
    evidence: AllocationEvidence, login_ips: pl.DataFrame, allocations: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Queue date changes, red flags, fake profiles and group view, from the evidence and the replay's allocations."""
    handlers = allocations["handler_id"].unique().implode()
    actions = _in_period(evidence.actions, evidence.period_start, evidence.period_end)
    if evidence.districts:
        actions = actions.filter(pl.col("handler_id").is_in(handlers))
    offers = (
        evidence.decisions.filter(pl.col("decision").is_in(OFFER_RESPONSES))
        .join(allocations.select("listing_id"), on="listing_id", how="semi")
        .select("listing_id", "applicant_id", "handler_id", "time")
    )
    contracts = evidence.listings.select("listing_id", "applicant_id", "handler_id", "signed_at")
    fakes = fake_profiles(evidence.members, evidence.fees, login_ips, evidence.actions, contracts)
    return (
        queue_date_changes(actions, contracts),
        red_flags(actions, offers, contracts, allocations),
        fakes,
        group_view(allocations),
    )
