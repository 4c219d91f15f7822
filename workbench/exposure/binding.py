"""Which account each window session was bound to: observed, ruled out, or estimated.

The fault bound a login to the session of another member that had opened last among
those still open at that instant, and only sometimes. So for every session that logged in
during the window the evidence leaves three cases:

- **observed**: a page, a profile change or an interest names the account it used. A
  foreign account means bound; the owner's own account means not bound.
- **ruled out**: nothing names the account, but no other member's session was open at
  login, so the fault had nothing to bind it to.
- **unknown**: nothing names the account and a candidate existed. The session counts in
  the maximum, not in the minimum, and in ``likely`` with the probability that a session
  like it was bound: the swap rate among candidate sessions whose pages name the account,
  corrected for the fact that it shows no profile change or interest (bound sessions act
  more often than owners do).

Every rate is smoothed with Jeffreys' prior (:func:`_rate`): measured on few sessions (a
small organisation's hand-over, a short window), "0 of 4" must not make an unsettled session
impossible, nor "4 of 4" certain. ``min`` and ``max`` do not move; ``likely`` moves little
where many sessions are settled.

Whether a bound session rendered the account is decided the same way: a rendering page
(or a change or interest) proves it; a session whose pages are incomplete (a gap in the
page log) may have; a complete session without rendering pages did not.

A session need not be bound from its login: it can show the member's own pages first and
another member's account later. Once it shows the other account it is taken not to return
to the owner's. So the owner's own pages prove the session unbound only up to the last of
them: a session whose evidence names only its owner, but which has rendering pages without
account_id (or a gap in the page log) after that, and a candidate, is **unknown** as well
("possibly swapped later"), counted in the maximum and in ``likely`` at the rate at which
sessions that showed their owner's pages went on to show another account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from ..queries import run
from ..queries.exposure import PAGE_PREFIX, window_sessions_with_foreign_pages
from ..queries.runner import run_together
from ..queries.websessions import DEFAULT_IDLE_TIMEOUT_MINUTES
from .candidates import binding_candidates

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["SessionBinding", "bind_sessions", "merge_gaps"]


@dataclass
class SessionBinding:
    """The binding of every window session, with the rates used for the estimates.

    ``sessions``: one row per window session (the ``window_sessions`` query) plus
    ``status`` (bound / own / ruled_out / unknown), ``bound_account_id``, ``bound_from``
    (the first page or change naming the foreign account, the session's own onset),
    ``late_open`` (only the owner's account seen, but pages after the last of them unsettled),
    ``p_bound``, ``p_render`` and ``widened_by`` (why the session is uncertain, or null).
    ``links``: one row per (session, account it was or may have been bound to):
    session_id, applicant_id (the viewer), account_id, p_bound, p_render, p_profile (a page
    showing the whole profile), incomplete (pages missing), certain, reason.
    ``gaps``: detected page-log gaps (gap_from, gap_to, missing_pages, label).
    ``pages``: the ``foreign_page_views`` query: rendering pages of window sessions whose
    account_id names another member or is missing.
    """

    start: datetime
    end: datetime
    idle_timeout_minutes: int
    sessions: pl.DataFrame
    links: pl.DataFrame
    gaps: pl.DataFrame
    pages: pl.DataFrame
    rates: dict[str, float | None] = field(default_factory=dict)

    def describe_gaps(self) -> str:
        """The detected page-log gaps in words, e.g. "page log gap 2013-12-14 09:54:49Z – … (24 pages missing)"."""
        if self.gaps.height == 0:
            return "none detected"
        return "; ".join(
            f"{label} ({n} expected pages missing)"
            for label, n in self.gaps.select("label", "missing_pages").iter_rows()
        )

    @property
    def unexplained(self) -> pl.DataFrame:
        """Observed bindings the mechanism does not explain (not to the candidate, or to several accounts)."""
        return self.sessions.filter((pl.col("status") == "bound") & ~pl.col("explained"))


_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2999, 1, 1, tzinfo=UTC)


def _fmt(t: datetime | None) -> str:
    return "?" if t is None else t.strftime("%Y-%m-%d %H:%M:%SZ")


def merge_gaps(missing: pl.DataFrame | None) -> pl.DataFrame:
    """Page-log gaps from missing expected pages: overlapping (gap_from, gap_to) spans merged.

    ``missing`` is the ``page_log_gaps`` query result (None: nothing missing). A gap with no
    observed page on one side is open on that side (null bound).
    """
    schema = pl.Schema(
        {
            "gap_from": pl.Datetime("us", "UTC"),
            "gap_to": pl.Datetime("us", "UTC"),
            "missing_pages": pl.Int64(),
            "label": pl.String(),
        }
    )
    if missing is None or missing.height == 0:
        return pl.DataFrame(schema=schema)
    spans = missing.group_by("gap_from", "gap_to").agg(missing_pages=pl.len()).sort("gap_from", nulls_last=False)
    merged: list[dict] = []
    for row in spans.iter_rows(named=True):
        last = merged[-1] if merged else None
        if last and (last["gap_to"] is None or (row["gap_from"] is not None and row["gap_from"] <= last["gap_to"])):
            last["gap_to"] = (
                None if row["gap_to"] is None or last["gap_to"] is None else max(last["gap_to"], row["gap_to"])
            )
            last["missing_pages"] += row["missing_pages"]
        else:
            merged.append(dict(row))
    for gap in merged:
        gap["label"] = f"page log gap {_fmt(gap['gap_from'])} – {_fmt(gap['gap_to'])}"
    return pl.DataFrame(merged, schema=schema)


def _overlapping_gap(
    sessions: pl.DataFrame, gaps: pl.DataFrame, since: pl.Expr | None = None, name: str = "gap"
) -> pl.DataFrame:
    """Each session with the label of the first gap overlapping [since, ended_at] (since: the login), or null."""
    if gaps.height == 0:
        return sessions.with_columns(pl.lit(None, pl.String).alias(name))
    lo = pl.col("gap_from").fill_null(_EARLIEST)
    hi = pl.col("gap_to").fill_null(_LATEST)
    hits = (
        sessions.select("session_id", "ended_at", _since=pl.col("login_at") if since is None else since)
        .join(gaps.select("gap_from", "gap_to", "label"), how="cross")
        .filter((pl.col("_since") < hi) & (pl.col("ended_at") > lo))
        .sort("gap_from", nulls_last=False)
        .group_by("session_id", maintain_order=True)
        .agg(pl.col("label").first().alias(name))
    )
    return sessions.join(hits, on="session_id", how="left")


def _missing_after_own(sessions: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    """Per session, rendering pages without account_id served after its last own page (all, without one)."""
    last_own = sessions.select("session_id", "last_own_at")
    after = (
        pages.filter(pl.col("account_id").is_null())
        .join(last_own, on="session_id")
        .filter(pl.col("last_own_at").is_null() | (pl.col("time") > pl.col("last_own_at")))
        .group_by("session_id")
        .agg(missing_after_own=pl.len().cast(pl.Int64))
    )
    return sessions.join(after, on="session_id", how="left").with_columns(pl.col("missing_after_own").fill_null(0))


def _rate(hits: int, total: int) -> float:
    """The rate ``hits`` of ``total`` as an estimate: the posterior mean under Jeffreys' prior Beta(½, ½).

    ``(hits + ½) / (total + 1)``: half a session is added on either side. An estimate from
    few sessions must not claim certainty: 0 of 3 settled sessions is no proof that an
    unsettled one was not bound, and 3 of 3 no proof that it was, yet the raw share gives 0
    and 1. The smoothed rate lies strictly between 0 and 1 (0 of 3 gives 1/8, 0 of 0 gives
    ½: nothing is known) and moves a raw share by at most 1 / (2·(total + 1)), under 0.1
    percentage point once 500 sessions are settled. Jeffreys' prior is the usual
    uninformative prior for a proportion (its interval is the one Brown, Cai and DasGupta,
    2001, recommend); add-one (Laplace) smoothing pulls twice as hard at small counts
    (0 of 3 gives 1/5).
    """
    return (hits + 0.5) / (total + 1)


def _estimate(sessions: pl.DataFrame) -> dict[str, float | None]:
    """Swap rate, action rates and render rate from the sessions whose pages settle the question.

    ``sessions`` needs ``late_open``. Every rate that enters a probability is smoothed
    (:func:`_rate`), so no unsettled session gets probability 0 or 1 from a count of few sessions. ``swap_rate`` alone is the share
    observed (bound of settled), the figure the report's sentence states, and None (unknown)
    when no session is settled; the probabilities use ``swap_estimate``.
    """
    settled = sessions.filter(pl.col("has_candidate") & ((pl.col("own_views") > 0) | (pl.col("foreign_views") > 0)))
    bound = settled.filter(pl.col("foreign_views") > 0)
    own = settled.filter(pl.col("foreign_views") == 0)

    def acted(f):
        return f.filter((pl.col("own_actions") + pl.col("foreign_actions")) > 0).height

    swap = _rate(bound.height, settled.height)
    # Sessions that showed their owner's pages: how many went on to show another account. A
    # session whose pages after its owner's last are unsettled (late_open) cannot tell, so it
    # is left out rather than counted as one that did not: it is what the rate is for.
    shown_own = settled.filter((pl.col("own_views") > 0) & ~pl.col("late_open"))
    late = _rate(shown_own.filter(pl.col("foreign_views") > 0).height, shown_own.height)
    a_bound = _rate(acted(bound), bound.height)
    a_own = _rate(acted(own), own.height)
    # An unsettled session made no change or interest: Bayes' rule with the two action rates.
    silent_bound = swap * (1 - a_bound)
    silent = silent_bound + (1 - swap) * (1 - a_own)
    complete = sessions.filter(~pl.col("incomplete"))
    return {
        "settled_sessions": settled.height,
        "swap_rate": bound.height / settled.height if settled.height else None,  # not the prior's ½
        "swap_estimate": swap,
        "action_rate_bound": a_bound,
        "action_rate_own": a_own,
        "p_bound_unknown": silent_bound / silent,
        "late_swap_rate": late,
        "render_rate": _rate(complete.filter(pl.col("render_views") > 0).height, complete.height),
        "profile_rate": _rate(complete.filter(pl.col("profile_views") > 0).height, complete.height),
    }


def bind_sessions(
    case: Case,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES,
) -> SessionBinding:
    """Decide, for every session that logged in in [start, end), which account it was bound to.

    ``start``/``end`` default to the deployment and the fix (``incident_window``).
    """
    if start is None or end is None:
        # Read the window once; each query would otherwise derive it again.
        window = run("incident_window", case)
        start = start or window["deployed_at"].item()
        end = end or window["fix_deployed_at"].item()
    params = {"start": start, "end": end, "idle_timeout_minutes": idle_timeout_minutes}
    # The window sessions and their foreign pages from one read of the window's pages.
    both = run_together(
        case,
        window_sessions_with_foreign_pages(start, end, idle_timeout_minutes),
        {"window_sessions": ("", params), "foreign_page_views": (PAGE_PREFIX, {"start": start, "end": end})},
    )
    sessions, pages = both["window_sessions"], both["foreign_page_views"]
    # The same rows as the binding_candidates query, by a sweep over login times (candidates.py).
    candidates = binding_candidates(case, start=start, end=end, idle_timeout_minutes=idle_timeout_minutes)
    # Locating gaps costs a scan of the page log; it is only needed when a page is missing.
    missing = run("page_log_gaps", case, **params) if sessions["expected_page_missing"].any() else None
    gaps = merge_gaps(missing)

    per_session = candidates.group_by("session_id").agg(
        candidate_accounts=pl.col("candidate_account_id").unique().sort()
    )
    s = _overlapping_gap(sessions.join(per_session, on="session_id", how="left"), gaps)
    s = _overlapping_gap(s, gaps, pl.col("last_own_at").fill_null(pl.col("login_at")), "gap_after_own")
    s = _missing_after_own(s, pages).with_columns(
        has_candidate=pl.col("candidate_accounts").list.len().fill_null(0) > 0,
        incomplete=pl.col("pages_incomplete") | pl.col("gap").is_not_null(),
    )
    seen_foreign = pl.col("n_foreign_accounts") > 0
    seen_own = (pl.col("own_views") + pl.col("own_actions")) > 0
    # Pages after the owner's last own page that could have shown another account.
    unsettled_tail = (
        (pl.col("missing_after_own") > 0)
        | pl.col("gap_after_own").is_not_null()
        # a page missing (or a long pause) after the owner's last own page; a pause before it
        # unsettles nothing after it (found from outside: such a session was "unknown")
        | (
            (pl.col("expected_page_missing") | (pl.col("last_pause_end_at") > pl.col("last_own_at")).fill_null(False))
            & pl.col("gap").is_null()
        )
    )
    late_open = seen_own & ~seen_foreign & pl.col("has_candidate") & unsettled_tail
    s = s.with_columns(late_open=late_open)
    rates = _estimate(s)
    status = (
        pl.when(seen_foreign)
        .then(pl.lit("bound"))
        .when(seen_own & ~late_open)
        .then(pl.lit("own"))
        .when(~pl.col("has_candidate"))
        .then(pl.lit("ruled_out"))
        .otherwise(pl.lit("unknown"))
    )
    rendered = (pl.col("render_views") + pl.col("own_actions") + pl.col("foreign_actions")) > 0
    gap_reason = pl.coalesce(pl.col("gap"), pl.lit("pages missing inside the session"))
    late_reason = (
        pl.when(pl.col("gap_after_own").is_not_null())
        .then(pl.col("gap_after_own"))
        .when(pl.col("missing_after_own") > 0)
        .then(pl.lit("account_id missing on its pages after the member's own"))
        .otherwise(pl.lit("pages missing inside the session"))
    )
    s = s.with_columns(status=status).with_columns(
        bound_account_id=pl.when(pl.col("status") == "bound").then(pl.col("foreign_account_id")),
        bound_from=pl.when(pl.col("status") == "bound").then(pl.col("first_foreign_at")),
        explained=(pl.col("n_foreign_accounts") == 1)
        & pl.col("candidate_accounts").list.contains(pl.col("foreign_account_id")).fill_null(False),
        p_bound=pl.when(pl.col("status") == "bound")
        .then(1.0)
        .when(pl.col("late_open"))
        .then(rates["late_swap_rate"])
        .when(pl.col("status") == "unknown")
        .then(rates["p_bound_unknown"])
        .otherwise(0.0),
        p_render=pl.when(rendered).then(1.0).when(pl.col("incomplete")).then(rates["render_rate"]).otherwise(0.0),
        p_profile=pl.when(pl.col("profile_views") > 0)
        .then(1.0)
        .when(pl.col("incomplete"))
        .then(rates["profile_rate"])
        .otherwise(0.0),
        widened_by=pl.when(pl.col("late_open"))
        .then(late_reason)
        .when(pl.col("status") == "unknown")
        .then(
            pl.when(pl.col("incomplete"))
            .then(gap_reason)
            .when(pl.col("render_views_missing_account") > 0)
            .then(pl.lit("account_id missing on its rendering pages"))
            .otherwise(pl.lit("no page names the account"))
        )
        .when((pl.col("status") == "bound") & ~rendered & pl.col("incomplete"))
        .then(gap_reason),
    )

    bound = s.filter(pl.col("status") == "bound")
    # Every foreign account a bound session's rendering pages name, not only the least one the
    # session row keeps: a session can show two members' accounts (found from outside: the
    # second, a protected identity, was lost from every count).
    named = pages.filter(pl.col("account_id").is_not_null()).select("session_id", "account_id").unique()
    certain = (
        pl.concat(
            [
                bound.select("session_id", "applicant_id", account_id="bound_account_id"),
                named.join(bound.select("session_id", "applicant_id"), on="session_id").select(
                    "session_id", "applicant_id", "account_id"
                ),
            ]
        )
        .unique(["session_id", "account_id"], keep="first", maintain_order=True)
        .with_columns(p_bound=pl.lit(1.0), weight=pl.lit(1.0))
    )
    possible = (
        s.filter(pl.col("status") == "unknown")
        .select("session_id", "applicant_id", "p_bound", account_id="candidate_accounts")
        .with_columns(weight=1.0 / pl.col("account_id").list.len())
        .explode("account_id")
        .with_columns(p_bound=pl.col("p_bound") * pl.col("weight"))
    )
    links = (
        pl.concat([certain, possible.select(certain.columns)])
        .join(
            s.select("session_id", "p_render", "p_profile", "incomplete", "widened_by", "login_at"),
            on="session_id",
            how="left",
        )
        .with_columns(certain=pl.col("p_bound") >= 1.0)
        .rename({"widened_by": "reason"})
        .drop("weight")
        .sort("login_at", "session_id", "account_id")
    )
    return SessionBinding(
        start, end, idle_timeout_minutes, s.drop("gap", "gap_after_own", "missing_after_own"), links, gaps, pages, rates
    )
