"""The fault's candidates, found by a sweep over login times instead of a range join.

For each login in the window the fault could only bind it to the session of another
member that had opened last among those still open at that instant. The registered query
``binding_candidates`` says so in SQL, as a range join of every window login with every
session open at it: its work grows with logins × concurrent sessions, about 4× per doubling
of the case. :func:`binding_candidates` gives exactly the same rows from the
``candidate_sessions`` query (one row per session that can matter) with work bounded by
time order:

1. sessions are sorted by login time, and a sparse table holds, for each position and each
   power of two, the latest end among that many sessions up to it;
2. for each window login, the sessions that logged in before it are the prefix below its
   place in that order (a binary search); the last of them still open (ended after the login)
   is found by skipping, largest block first, every block that ended by then: one step per
   power of two;
3. when that session is the member's own, the search goes on below it.

Ties are taken back as the query does: every session of another member that logged in at
that same instant and has no logout at or before the login.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..queries import run

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = ["binding_candidates", "candidates_from_spans", "latest_open_other"]

_COLUMNS = {
    "session_id": pl.String(),
    "candidate_session_id": pl.String(),
    "candidate_account_id": pl.Int64(),
    "candidate_login_at": pl.Datetime("us", "UTC"),
}


def latest_open_other(
    login_at: np.ndarray, ended_at: np.ndarray, applicant: np.ndarray, at: np.ndarray, who: np.ndarray
) -> np.ndarray:
    """For each query (``at[q]``, ``who[q]``): the index of the session that logged in last among
    those with ``login_at < at[q] < ended_at`` and ``applicant != who[q]``, or -1 when none.

    ``login_at`` must be sorted ascending. All arrays are integers (times as microseconds).
    Work is O((sessions + queries) × log sessions), plus one more descent per query for each
    of its own member's sessions that stand above the answer.
    """
    n = len(login_at)
    found = np.full(len(at), -1, dtype=np.int64)
    if n == 0 or len(at) == 0:
        return found
    # levels[k][i]: the latest end among sessions max(0, i - 2**k + 1) .. i
    levels = [ended_at.astype(np.int64, copy=True)]
    while (1 << len(levels)) <= n:
        step = 1 << (len(levels) - 1)
        prev = levels[-1]
        nxt = prev.copy()
        np.maximum(prev[step:], prev[:-step], out=nxt[step:])
        levels.append(nxt)
    # the last session that logged in strictly before each query
    start = np.searchsorted(login_at, at, side="left").astype(np.int64) - 1
    todo = np.arange(len(at))
    while len(todo):
        i, t = start[todo], at[todo]
        for k in range(len(levels) - 1, -1, -1):
            live = i >= 0
            skip = np.zeros(len(i), dtype=bool)
            skip[live] = levels[k][i[live]] <= t[live]
            i = np.where(skip, i - (1 << k), i)
        i = np.maximum(i, -1)
        own = i >= 0
        own[own] = applicant[i[own]] == who[todo][own]
        found[todo[~own]] = i[~own]
        # the member's own session: search on below it
        start[todo[own]] = i[own] - 1
        todo = todo[own]
    return found


def binding_candidates(case: CaseLike, *, start: datetime, end: datetime, idle_timeout_minutes: int) -> pl.DataFrame:
    """The rows of the ``binding_candidates`` query, computed by the sweep of the module doc.

    Columns ``session_id``, ``candidate_session_id``, ``candidate_account_id`` and
    ``candidate_login_at``, sorted by the first two, as the query returns them.
    """
    spans = run("candidate_sessions", case, start=start, end=end, idle_timeout_minutes=idle_timeout_minutes)
    return candidates_from_spans(spans, start, end)


def candidates_from_spans(spans: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Candidates from a ``candidate_sessions`` frame: session_id, applicant_id, login_at, ended_at, logout_at."""
    us = pl.col("login_at").dt.epoch("us")
    # A session without a member can match nobody (the query's != is null there).
    open_ = spans.filter(pl.col("applicant_id").is_not_null() & pl.col("ended_at").is_not_null()).sort(
        "login_at", "session_id"
    )
    logins = spans.filter(
        (pl.col("login_at") >= start) & (pl.col("login_at") < end) & pl.col("applicant_id").is_not_null()
    )
    hit = latest_open_other(
        open_.select(us).to_series().to_numpy(),
        open_.select(pl.col("ended_at").dt.epoch("us")).to_series().to_numpy(),
        open_["applicant_id"].to_numpy(),
        logins.select(us).to_series().to_numpy(),
        logins["applicant_id"].to_numpy(),
    )
    found = (
        logins.select("session_id", "applicant_id", "login_at")
        .with_columns(_hit=pl.Series(hit))
        .filter(pl.col("_hit") >= 0)
    )
    found = found.with_columns(latest_at=open_["login_at"].gather(found["_hit"])).drop("_hit")
    ties = spans.select(
        candidate_session_id="session_id",
        candidate_account_id="applicant_id",
        candidate_login_at="login_at",
        _logout_at="logout_at",
    )
    return (
        found.join(ties, left_on="latest_at", right_on="candidate_login_at", how="inner", coalesce=False)
        .filter(
            (pl.col("candidate_account_id") != pl.col("applicant_id"))
            & (pl.col("_logout_at").is_null() | (pl.col("_logout_at") > pl.col("login_at")))
        )
        .select(*_COLUMNS)
        .cast(_COLUMNS)  # type: ignore[arg-type]
        .sort("session_id", "candidate_session_id")
    )
