"""What an earlier shutdown would have saved: the counterfactual curve and named alternatives.

The model is the one the evidence shows on the Monday: disabling login at time t stops
every login from t on, and sessions already open run to their end. A mismatched session
therefore still happens when its login came before t, even when it showed the other
member's account only later in the session, and everything it did (pages shown, data
changed) happens with it:

- mismatched sessions still happening = mismatched sessions that logged in before t;
- exposed accounts = accounts first shown to another person by a session that logged in before t;
- changed accounts = accounts first changed by another person in a session that logged in before t.

Each is a step function of t; :func:`shutdown_curve` samples it and :func:`alternatives`
evaluates it at named times. Savings are counted against the actual shutdown.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl

from ..errors import WorkbenchError

__all__ = ["MEASURES", "alternatives", "binding_rate", "first_bindings", "shutdown_curve", "still_happening"]

MEASURES = ("mismatched_sessions", "exposed_accounts", "changed_accounts")


def first_bindings(mismatched: pl.DataFrame, changes: pl.DataFrame) -> dict[str, pl.Series]:
    """Per measure, the sorted login times of the sessions that start each counted item.

    ``mismatched`` is the ``mismatched_sessions`` query, ``changes`` the ``mismatched_changes``
    query (both give ``login_at``).
    """

    def firsts(frame: pl.DataFrame, key: str) -> pl.Series:
        return frame.group_by(key).agg(pl.col("login_at").min())["login_at"].sort()

    return {
        "mismatched_sessions": firsts(mismatched, "session_id"),
        "exposed_accounts": firsts(mismatched, "account_id"),
        "changed_accounts": firsts(changes, "account_id"),
    }


def still_happening(bindings: dict[str, pl.Series], shutdown: datetime, *, actual: bool = False) -> dict[str, int]:
    """How many of each measure would still have happened with login disabled at ``shutdown``.

    ``actual``: ``shutdown`` is when login really was disabled, so a login logged at that very
    instant happened (the evidence shows it) and counts; an earlier, imagined shutdown stops
    the logins from its instant on.
    """
    return {m: int((s <= shutdown).sum() if actual else (s < shutdown).sum()) for m, s in bindings.items()}


def shutdown_curve(
    mismatched: pl.DataFrame, changes: pl.DataFrame, *, start: datetime, end: datetime, step_minutes: int = 15
) -> pl.DataFrame:
    """The three measures for a shutdown swept from ``start`` (the deployment) to ``end`` (the actual shutdown).

    One row per ``step_minutes`` plus one at ``end``: ``shutdown_at`` and one count column
    per measure, named ``n_<measure>`` so the audience layer treats them as counts.
    """
    if start >= end:
        raise WorkbenchError(f"the sweep needs start before end, got {start.isoformat()} and {end.isoformat()}")
    if step_minutes <= 0:
        raise WorkbenchError(f"step_minutes must be positive, got {step_minutes}")
    grid = pl.datetime_range(start, end, timedelta(minutes=step_minutes), time_unit="us", time_zone="UTC", eager=True)
    if grid[-1] != end:
        grid = grid.append(pl.Series([end], dtype=grid.dtype))
    bindings = first_bindings(mismatched, changes)
    columns = {"shutdown_at": grid}
    last = grid.len() - 1
    for measure, times in bindings.items():
        # items whose session logged in strictly before t: the insertion point on the left side;
        # at the actual shutdown (the last point), what happened, its very instant included
        counts = times.search_sorted(grid, side="left").cast(pl.Int64)
        columns[f"n_{measure}"] = counts.scatter(last, times.search_sorted(grid[last], side="right"))
    return pl.DataFrame(columns)


def alternatives(
    mismatched: pl.DataFrame,
    changes: pl.DataFrame,
    *,
    deployed_at: datetime,
    first_report_at: datetime | None,
    login_disabled_at: datetime,
    on_call_delay_hours: float = 1.0,
) -> pl.DataFrame:
    """The actual shutdown and three earlier ones, with what each would still have let happen and saved.

    Alternatives: ``actual`` (login disabled when it was), ``on_call`` (within
    ``on_call_delay_hours`` of the first report), ``at_first_report`` and ``smoke_test``
    (the fault caught before release: nothing happens). An alternative later than the actual
    shutdown is clipped to it and saves nothing; without a first report, ``on_call`` and
    ``at_first_report`` are the actual shutdown.
    """
    if on_call_delay_hours < 0:
        raise WorkbenchError(f"on_call_delay_hours must be zero or more, got {on_call_delay_hours}")
    bindings = first_bindings(mismatched, changes)
    # Without a report there is nothing for on-call staff to act on: those alternatives are the actual one.
    report = first_report_at if first_report_at is not None else login_disabled_at
    named = [
        ("actual", "login disabled when it was", login_disabled_at),
        (
            "on_call",
            f"on-call staff act within {on_call_delay_hours:g} h of the first report",
            report + timedelta(hours=on_call_delay_hours),
        ),
        ("at_first_report", "login disabled at the first report", report),
        ("smoke_test", "deployment smoke-tested with two concurrent logins: caught before release", deployed_at),
    ]
    actual = still_happening(bindings, login_disabled_at, actual=True)
    rows = []
    for key, label, t in named:
        t = min(t, login_disabled_at)
        happened = still_happening(bindings, t, actual=t == login_disabled_at)
        rows.append(
            {
                "alternative": key,
                "description": label,
                "shutdown_at": t,
                **{f"n_{m}": happened[m] for m in MEASURES},
                **{f"n_{m}_avoided": actual[m] - happened[m] for m in MEASURES},
            }
        )
    schema = pl.Schema(
        {
            "alternative": pl.String(),
            "description": pl.String(),
            "shutdown_at": pl.Datetime("us", "UTC"),
            **{f"n_{m}": pl.Int64() for m in MEASURES},
            **{f"n_{m}_avoided": pl.Int64() for m in MEASURES},
        }
    )
    return pl.DataFrame(rows, schema=schema)


def binding_rate(
    sessions: pl.DataFrame, mismatched: pl.DataFrame, *, start: datetime, end: datetime, confidence: float = 0.95
) -> dict[str, float | int | None]:
    """How often a login made while another member's session was open ended up bound to another account.

    ``sessions`` is the ``sessions`` query over [start, end] (e.g. the deployment to the
    shutdown, its very instant included: a login logged then happened), which includes the
    sessions already open at ``start``. The rate counts the
    same logins above and below the line:

    - ``logins_at_risk``: logins in [start, end] made while another member's session was
      open at that instant;
    - ``mismatched``: those of them whose session showed another member's account, at its
      first page or later in the session;
    - ``rate`` = mismatched / logins_at_risk.

    ``mismatched_not_at_risk`` counts the mismatched sessions that logged in in [start, end]
    with no other member's session open: they are outside the rate, and reported beside it.
    ``pairs_needed`` is the number of concurrent login pairs a smoke test needs to trigger the
    fault with probability ``confidence`` (None when the rate is 0 or unknown).
    """
    s = sessions.select("session_id", "applicant_id", "login_at", "ended_at")
    # A login logged at the very instant login was disabled happened: it counts (through_end).
    logins = s.filter((pl.col("login_at") >= start) & (pl.col("login_at") <= end))
    starts, ends = s["login_at"].sort(), s["ended_at"].sort()
    t = logins["login_at"]
    # open at t: started strictly before t and ending after t
    open_all = starts.search_sorted(t, side="left").cast(pl.Int64) - ends.search_sorted(t, side="right").cast(pl.Int64)
    own = (
        logins.select("session_id", "applicant_id", t="login_at")
        .join(s.select("applicant_id", "login_at", "ended_at"), on="applicant_id")
        .filter((pl.col("login_at") < pl.col("t")) & (pl.col("ended_at") > pl.col("t")))
        .group_by("session_id")
        .agg(own=pl.len().cast(pl.Int64))
    )
    risk = (
        logins.select("session_id")
        .with_columns(open_all=open_all)
        .join(own, on="session_id", how="left")
        .select("session_id", at_risk=pl.col("open_all") - pl.col("own").fill_null(0) > 0)
    )
    at_risk = risk.filter("at_risk")["session_id"]
    bound = mismatched["session_id"].unique()
    in_window = risk["session_id"]
    n = at_risk.len()
    hits = int(at_risk.is_in(bound.implode()).sum())
    outside = int(bound.is_in(in_window.implode()).sum()) - hits
    rate = hits / n if n else None
    needed = None
    if rate:
        needed = 1 if rate >= 1 else math.ceil(math.log(1 - confidence) / math.log(1 - rate))
    return {
        "logins_at_risk": n,
        "mismatched": hits,
        "mismatched_not_at_risk": outside,
        "rate": rate,
        "pairs_needed": needed,
        "confidence": confidence,
    }
