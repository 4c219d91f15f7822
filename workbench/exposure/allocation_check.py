"""The claim "queue times and allocation were not affected", checked against the evidence.

A session bound to another member's account acted on that account: interests it
registered or withdrew, and offers it answered, belong to the account, not to the person
at the keyboard. Each such act is listed with its evidence (the interest row, the page
that made it, the offer), with what followed (an offer, a contract) and whether the
listing closed during the window, so that a withdrawn applicant could not put it back.
Profile fields that decide eligibility (income, under the landlords' income rules) are
reported beside, from the change log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ..evidence import PII
from ..queries import run
from .binding import SessionBinding
from .changes import ChangeLog

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["ACT_COLUMNS", "ELIGIBILITY_FIELDS", "AllocationCheck", "check_allocation"]

ELIGIBILITY_FIELDS = ("annual_income",)
"""Profile fields the queue rules read: income decides eligibility under a landlord's income rule."""

ACT_COLUMNS: dict[str, PII] = {
    "kind": PII.NONE,
    "key": PII.DIRECT,
    "listing_id": PII.NONE,
    "account_id": PII.DIRECT,
    "owner_applicant_id": PII.DIRECT,
    "session_id": PII.DIRECT,
    "time": PII.NONE,
    "closes_at": PII.NONE,
    "closed_in_window": PII.NONE,
    "offered": PII.NONE,
    "contract_signed": PII.NONE,
    "certain": PII.NONE,
    "evidence": PII.NONE,
}


@dataclass
class AllocationCheck:
    """Queue-relevant acts of window sessions, resolved to the account they acted on.

    ``acts``: one row per (kind, listing, session): kind (interest_registered,
    interest_withdrawn, offer_answered), listing_id, account_id (null when unresolved),
    owner_applicant_id, session_id, time, closes_at, closed_in_window, offered,
    contract_signed, by_other (true, false, or null when the binding is unknown), certain,
    evidence (which tables show it).
    """

    acts: pl.DataFrame
    eligibility_changes: pl.DataFrame

    @property
    def touched(self) -> pl.DataFrame:
        """Acts proven to have been made on another member's account (the claim's counter-evidence)."""
        return self.acts.filter(pl.col("by_other").fill_null(False)).select(list(ACT_COLUMNS))

    @property
    def possibly_touched(self) -> pl.DataFrame:
        """Acts of sessions whose binding is unknown: they may have landed on another account."""
        return self.acts.filter(pl.col("by_other").is_null()).select(list(ACT_COLUMNS))

    def counts(self) -> dict[str, int]:
        """allocation_affected and its parts, each a number of acts, listings or people."""
        t = self.touched
        withdrawn = t.filter(pl.col("kind") == "interest_withdrawn")
        return {
            "allocation_affected": t.height,
            "allocation_possibly_affected": self.possibly_touched.height,
            "interests_registered_by_others": t.filter(pl.col("kind") == "interest_registered").height,
            "interests_withdrawn_by_others": withdrawn.height,
            "offers_answered_by_others": t.filter(pl.col("kind") == "offer_answered").height,
            "listings_losing_applicants": withdrawn["listing_id"].n_unique(),
            "listings_closed_in_window_losing_applicants": withdrawn.filter("closed_in_window")[
                "listing_id"
            ].n_unique(),
            "offers_after_others_registration": t.filter(
                (pl.col("kind") == "interest_registered") & pl.col("offered").fill_null(False)
            ).height,
            "income_changed_by_others": self.eligibility_changes["account_id"].n_unique(),
        }

    def verdict(self) -> str:
        """The claim "allocation was not affected" in words: "does not hold", "cannot be confirmed" or "holds"."""
        c = self.counts()
        if c["allocation_affected"]:
            return "does not hold"
        if c["allocation_possibly_affected"]:
            return "cannot be confirmed"
        return "holds on this evidence"

    def summary(self) -> pl.DataFrame:
        """Acts by another person per kind: kind, n_acts, n_accounts, n_listings."""
        return (
            self.touched.group_by("kind")
            .agg(
                n_acts=pl.len(), n_accounts=pl.col("account_id").n_unique(), n_listings=pl.col("listing_id").n_unique()
            )
            .with_columns(pl.col("n_acts", "n_accounts", "n_listings").cast(pl.Int64))
            .sort("kind")
        )


def check_allocation(case: Case, binding: SessionBinding, changes: ChangeLog) -> AllocationCheck:
    """Resolve every queue-relevant act of a window session to an account, and flag those on another's."""
    raw = run("allocation_actions", case, start=binding.start, end=binding.end)
    acts = (
        raw.group_by("kind", "listing_id", "session_id", maintain_order=True)
        .agg(
            account_id=pl.col("account_id").drop_nulls().first(),
            owner_applicant_id=pl.col("owner_applicant_id").first(),
            time=pl.col("time").min(),
            closes_at=pl.col("closes_at").first(),
            offered=pl.col("offered").drop_nulls().first(),
            contract_signed=pl.col("contract_signed").drop_nulls().first(),
            evidence=pl.col("source").unique().sort().str.join("+"),
        )
        .join(binding.sessions.select("session_id", "status", "bound_account_id"), on="session_id", how="left")
    )
    # A page that lost its account_id acted on whatever account the session was bound to.
    resolved = (
        pl.when(pl.col("account_id").is_not_null())
        .then("account_id")
        .when(pl.col("status") == "bound")
        .then("bound_account_id")
        .when(pl.col("status").is_in(["own", "ruled_out"]))
        .then("owner_applicant_id")
    )
    acts = (
        acts.with_columns(account_id=resolved)
        .with_columns(
            by_other=pl.col("account_id") != pl.col("owner_applicant_id"),
            certain=pl.col("account_id").is_not_null(),
            key=pl.format("{}:{}", "listing_id", pl.col("account_id")),
            closed_in_window=(pl.col("closes_at") >= binding.start) & (pl.col("closes_at") < binding.end),
        )
        .sort("time", "session_id", "listing_id", "kind")
    )
    acts = pl.concat([acts, _lost_withdrawals(case, binding).select(acts.columns)]).sort(
        "time", "session_id", "listing_id", "kind"
    )
    eligibility = changes.by_others.filter(pl.col("field").is_in(list(ELIGIBILITY_FIELDS)))
    return AllocationCheck(acts, eligibility)


def _lost_withdrawals(case: Case, binding: SessionBinding) -> pl.DataFrame:
    """Withdrawals inside a page-log gap, while a session (possibly) bound to that account was open.

    Their page is lost, so the session that made them is unknown: the owner's own session
    or the bound one. They are possible touches, never proven ones.
    """
    found = run("withdrawals_without_page", case, start=binding.start, end=binding.end)
    gaps = binding.gaps.select("gap_from", "gap_to")
    in_gap = (
        found.join(gaps, how="cross")
        .filter(
            (pl.col("withdrawn_at") > pl.col("gap_from").fill_null(binding.start))
            & (pl.col("withdrawn_at") < pl.col("gap_to").fill_null(binding.end))
        )
        .unique(["listing_id", "applicant_id", "withdrawn_at"])
    )
    spans = binding.sessions.select("session_id", "login_at", "ended_at")
    return (
        in_gap.join(
            binding.links.select("session_id", owner_applicant_id="applicant_id", account_id="account_id"),
            left_on="applicant_id",
            right_on="account_id",
        )
        .join(spans, on="session_id")
        .filter((pl.col("login_at") <= pl.col("withdrawn_at")) & (pl.col("withdrawn_at") <= pl.col("ended_at")))
        .select(
            kind=pl.lit("interest_withdrawn"),
            listing_id="listing_id",
            session_id="session_id",
            account_id=pl.lit(None, pl.Int64),
            owner_applicant_id="owner_applicant_id",
            time="withdrawn_at",
            closes_at="closes_at",
            offered=pl.lit(None, pl.Boolean),
            contract_signed=pl.lit(None, pl.Boolean),
            evidence=pl.lit("interests (page lost in a gap)"),
            status=pl.lit("unknown"),
            bound_account_id=pl.lit(None, pl.Int64),
            by_other=pl.lit(None, pl.Boolean),
            certain=pl.lit(False),
            key=pl.format("{}:{}", "listing_id", "applicant_id"),
            closed_in_window=(pl.col("closes_at") >= binding.start) & (pl.col("closes_at") < binding.end),
        )
    )
