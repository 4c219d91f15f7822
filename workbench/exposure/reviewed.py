"""Sessions and accounts an investigator confirmed or dismissed, beside what the analysis says of them.

A session or an account tagged ``confirmed`` or ``false-positive`` in the notes (see
:mod:`workbench.notes.reviews`) is listed with the analysis's own verdict, so a reader sees
where a judgement by hand agrees with the evidence and where it does not. The counts of
notebook 02 stay the evidence's: a judgement by hand is shown, never silently counted.

>>> reviewed_sessions(review)     # session_id, applicant_id, status, review      # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..evidence import PII
from ..notes.reviews import reviewed_rows

if TYPE_CHECKING:
    from .review import ExposureReview

__all__ = ["REVIEWED_COLUMNS", "reviewed_accounts", "reviewed_sessions"]

REVIEWED_COLUMNS: dict[str, PII] = {
    "session_id": PII.DIRECT,
    "applicant_id": PII.DIRECT,
    "account_id": PII.DIRECT,
    "status": PII.NONE,
    "analysis": PII.NONE,
    "review": PII.NONE,
}
"""Personal-data tags of the columns below, for :func:`workbench.person_lists.person_rows`."""


def reviewed_sessions(review: ExposureReview) -> pl.DataFrame:
    """Window sessions an investigator confirmed or dismissed: session_id, applicant_id, status (bound, own, …), review."""
    sessions = review.binding.sessions.select("session_id", "applicant_id", "status")
    return reviewed_rows(sessions, review.annotations, "session", "session_id").sort("session_id")


def reviewed_accounts(review: ExposureReview) -> pl.DataFrame:
    """Accounts an investigator confirmed or dismissed: account_id, analysis (bound, possibly bound, not bound), review."""
    links = review.binding.links
    proven = set(links.filter(pl.col("certain"))["account_id"].to_list())
    possible = set(links["account_id"].to_list()) - proven
    keys = sorted({int(a.key) for a in review.annotations if a.kind == "account"})
    accounts = pl.DataFrame({"account_id": keys}, schema={"account_id": pl.Int64}).with_columns(
        analysis=pl.when(pl.col("account_id").is_in(list(proven)))
        .then(pl.lit("bound"))
        .when(pl.col("account_id").is_in(list(possible)))
        .then(pl.lit("possibly bound"))
        .otherwise(pl.lit("not bound"))
    )
    return reviewed_rows(accounts, review.annotations, "account", "account_id")
