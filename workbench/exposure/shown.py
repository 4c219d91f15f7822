"""Which pages showed an account to someone who is not its owner, and the co-applicants on them.

A page that names the foreign account proves itself. A page whose account_id is missing
proves nothing by itself: a session can show its owner's pages first and another
member's account later, so such a page counts as shown only where the evidence shows the
binding already held (see :func:`pages_shown`). Co-applicants are read off the profile
pages as they were at that moment.
"""

from __future__ import annotations

import polars as pl

from .binding import SessionBinding
from .changes import ChangeLog

__all__ = ["co_applicants_shown", "pages_shown"]

_UNBRACKETED = "account_id missing on a page of a bound session outside its foreign pages"


def pages_shown(binding: SessionBinding, links: pl.DataFrame) -> pl.DataFrame:
    """Each rendering page shown (or possibly shown) to a non-owner, with its own certainty.

    A page naming the foreign account proves itself. A page without account_id in a bound
    session is proven only when the evidence shows the binding already held and still held
    around it: it lies between the session's first and last page (or change) naming the
    foreign account, and no page names the owner's own account after the first foreign one.
    Otherwise it may have shown the account (``max``): ``p_bound`` is 1 after the last
    foreign page (a binding is taken not to undo itself) and 0.5 between the owner's last
    page and the first foreign one (the swap equally likely before or after it). Pages
    without account_id served before the owner's last own page showed the owner's account.
    """
    spans = binding.sessions.select("session_id", "first_foreign_at", "last_foreign_at", "last_own_at")
    first, last, own = pl.col("first_foreign_at"), pl.col("last_foreign_at"), pl.col("last_own_at")
    t, unnamed = pl.col("time"), pl.col("page_account_id").is_null()
    held = (first <= t) & (t <= last) & (own.is_null() | (own < first))
    return (
        binding.pages.rename({"account_id": "page_account_id"})
        .join(
            links.select("session_id", "account_id", "p_bound", "certain", "protected_identity", "reason"),
            on="session_id",
        )
        .filter(unnamed | (pl.col("page_account_id") == pl.col("account_id")))
        .join(spans, on="session_id", how="left")
        .filter(~unnamed | own.is_null() | (t > own))
        .with_columns(
            proven=pl.col("certain") & (~unnamed | held.fill_null(False)),
            weight=pl.when(~unnamed | held.fill_null(False) | ~pl.col("certain") | (t > last).fill_null(False))
            .then(1.0)
            .otherwise(0.5),
        )
        .select(
            "session_id",
            "time",
            "path",
            viewer="owner_applicant_id",
            account_id="account_id",
            p_bound=pl.col("p_bound") * pl.col("weight"),
            certain="proven",
            protected_identity="protected_identity",
            reason=pl.when(pl.col("certain") & ~pl.col("proven"))
            .then(pl.lit(_UNBRACKETED))
            .otherwise(pl.col("reason")),
        )
    )


def co_applicants_shown(
    links: pl.DataFrame, views: pl.DataFrame, changes: ChangeLog, subjects: pl.DataFrame
) -> pl.DataFrame:
    """Co-applicants on profile pages shown (or possibly shown) to a non-owner, as they were at that time."""
    profile = views.filter(pl.col("fields").list.contains("co_applicant_personnummer"))
    observed = profile.select("session_id", "account_id", "reason", at="time", p="p_bound", proven="certain")
    # Sessions with lost pages may have shown the profile: take the value at login. A complete
    # session's profile pages are all in ``views``; one it showed its owner before a swap is not.
    unseen = links.join(
        observed.select("session_id", "account_id").unique(), on=["session_id", "account_id"], how="anti"
    )
    possible = unseen.filter((pl.col("p_profile") > 0) & pl.col("incomplete")).select(
        "session_id",
        "account_id",
        "reason",
        at="login_at",
        p=pl.col("p_bound") * pl.col("p_profile"),
        proven=pl.lit(False),
    )
    at = pl.concat([observed, possible])
    history = changes.changes
    keys = at.select("account_id", "at")
    at = at.with_columns(
        pl.col("reason").fill_null(pl.when(~pl.col("proven")).then(pl.lit("pages missing inside the session")))
    )
    co = pl.concat(
        [
            at,
            _value_at(history, subjects, keys, "co_applicant_personnummer"),
            _value_at(history, subjects, keys, "co_applicant_name"),
        ],
        how="horizontal",
    )
    # A co-applicant the viewer typed in themselves in this session is not a third party's data.
    co = co.filter(
        pl.col("co_applicant_personnummer").is_not_null()
        & ~pl.col("co_applicant_personnummer_set_by").eq_missing(pl.col("session_id"))
    ).drop("co_applicant_personnummer_set_by", "co_applicant_name_set_by")
    return co.sort("at", "session_id")


def _value_at(changes: pl.DataFrame, snapshot: pl.DataFrame, at: pl.DataFrame, field: str) -> pl.DataFrame:
    """``field`` as a page showed it at each (account_id, at) row, and the session whose change set it.

    A page rendered at the instant of a save shows the saved value. Before the first
    change in the log the value is the first change's old value; without changes, the
    export snapshot.
    """
    mine = changes.filter(pl.col("field") == field).select(
        "account_id", "time", "change_id", "session_id", "old_value", "new_value"
    )
    rows = at.with_row_index("row")
    pairs = rows.join(mine, on="account_id", how="inner")
    before = (
        pairs.filter(pl.col("time") <= pl.col("at"))
        .sort("time", "change_id")
        .group_by("row")
        .agg(_v=pl.col("new_value").last(), _by=pl.col("session_id").last(), _hit=pl.lit(True))
    )
    after = (
        pairs.filter(pl.col("time") > pl.col("at"))
        .sort("time", "change_id")
        .group_by("row")
        .agg(_w=pl.col("old_value").first(), _later=pl.lit(True))
    )
    out = (
        rows.join(before, on="row", how="left")
        .join(after, on="row", how="left")
        .join(
            snapshot.select("applicant_id", _now=pl.col(field)),
            left_on="account_id",
            right_on="applicant_id",
            how="left",
        )
        .sort("row")
    )
    return out.select(
        pl.when(pl.col("_hit")).then("_v").when(pl.col("_later")).then("_w").otherwise("_now").alias(field),
        pl.col("_by").alias(f"{field}_set_by"),
    )
