"""Gaps in the page log: the pages a complete log must hold but this one does not.

A window session's log must hold its login page, the logout page of a user logout and the
last page an idle timeout counts from. ``page_log_gaps`` lists each one missing, with the
observed pages around it in the whole page log (the gap lies between them).

The nearest page before and after an instant is found through minute buckets, not by
comparing each missing page with every page of the log (a range join whose output is
missing pages × pages: 34 CPU-seconds at stockholm on a degraded log): the log is read once
into per-minute first and last times, a window over those few thousand rows gives the last
page of an earlier minute and the first of a later one, and only the pages in the missing
page's own minute are compared with it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..evidence import PII
from .registry import query
from .websessions import (
    END,
    IDLE_TIMEOUT,
    INT,
    LOGIN_PATH,
    LOGOUT_PATH,
    LOGOUTS,
    PAGES,
    START,
    STR,
    TS,
    flag,
    idle_minutes,
    plus_minutes,
    session_end,
    window_logins,
)

__all__ = ["minute_key", "page_log_gaps"]

DOMAIN = "exposure"


class minute_key(FunctionElement):  # lower case: reads like the SQL function it stands for
    """A key for the UTC minute a timestamp falls in, cheap on each engine.

    Only its order and equality matter: it never decreases as the timestamp grows, so a
    page with a smaller key is earlier and one with a larger key later. SQLite keeps the
    minute's text ('2013-12-14 10:05'), DuckDB and PostgreSQL a number of minutes.
    """

    type = sa.BigInteger()
    inherit_cache = True
    name = "minute_key"


@compiles(minute_key)
def _minute_key_default(element, compiler, **kw):
    return f"floor(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 60)"


@compiles(minute_key, "sqlite")
def _minute_key_sqlite(element, compiler, **kw):
    # Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.ffffff': the first 16 characters sort as the time does.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 16)"


@compiles(minute_key, "duckdb")
def _minute_key_duckdb(element, compiler, **kw):
    return f"(epoch_us({compiler.process(element.clauses, **kw)}) // 60000000)"


def _expected(start: datetime, end: datetime, timeout: sa.ColumnElement) -> sa.CTE:
    """(session_id, expected, expected_at) of every expected page missing from a window session.

    One pass over the window sessions' pages gives what each holds (its login page, its
    logout page, its last page), and with the logout row its span (the one session model).
    """
    wl = window_logins(start, end)
    p = PAGES
    held = (
        sa.select(
            p.c.session_id,
            sa.func.max(flag(p.c.path == LOGIN_PATH)).label("login_view"),
            sa.func.max(flag(p.c.path == LOGOUT_PATH)).label("logout_view"),
            sa.func.max(p.c.time).label("last_view_at"),
        )
        .join(wl, wl.c.session_id == p.c.session_id)
        .group_by(p.c.session_id)
        .subquery("held")
    )
    ended_at, end_reason = session_end(wl.c.login_at, LOGOUTS.c.time, LOGOUTS.c.reason, held.c.last_view_at, timeout)
    w = (
        sa.select(
            wl.c.session_id,
            wl.c.login_at,
            ended_at.label("ended_at"),
            end_reason.label("end_reason"),
            sa.func.coalesce(held.c.login_view, 0).label("login_view"),
            sa.func.coalesce(held.c.logout_view, 0).label("logout_view"),
            held.c.last_view_at,
        )
        .select_from(wl)
        .outerjoin(LOGOUTS, LOGOUTS.c.session_id == wl.c.session_id)
        .outerjoin(held, held.c.session_id == wl.c.session_id)
        .cte("w")  # read by three branches: once, not once per branch (SQLite would repeat it)
    )
    before_timeout = plus_minutes(w.c.ended_at, -timeout)
    return sa.union_all(
        sa.select(
            w.c.session_id, sa.literal("login page", STR).label("expected"), w.c.login_at.label("expected_at")
        ).where(w.c.login_view == 0),
        sa.select(
            w.c.session_id, sa.literal("logout page", STR).label("expected"), w.c.ended_at.label("expected_at")
        ).where(w.c.end_reason == "user", w.c.logout_view == 0),
        # No page at or after the instant the timeout counts from (none at all, or all earlier).
        sa.select(
            w.c.session_id,
            sa.literal("last page before timeout", STR).label("expected"),
            sa.type_coerce(before_timeout, TS).label("expected_at"),
        ).where(w.c.end_reason != "user", sa.or_(w.c.last_view_at.is_(None), w.c.last_view_at < before_timeout)),
    ).cte("expected")


@query(
    domain=DOMAIN,
    description="Pages the log should hold but does not (a login, a logout, the last page before a timeout), with the observed pages around the gap.",
    params=(START, END, IDLE_TIMEOUT),
    columns={"expected": PII.NONE, "expected_at": PII.NONE, "gap_from": PII.NONE, "gap_to": PII.NONE},
    sort=("expected_at", "session_id", "expected"),
)
def page_log_gaps(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.Select:
    """Every expected page missing from the page log; the gap lies between gap_from and gap_to.

    ``gap_from`` is the last page of the whole log served before ``expected_at``, ``gap_to``
    the first served after it (null: none on that side).
    """
    expected = _expected(start, end, idle_minutes(idle_timeout_minutes))
    p = PAGES
    page_minute = minute_key(p.c.time)
    instants = (
        sa.select(expected.c.expected_at.label("at"), minute_key(expected.c.expected_at).label("minute"))
        .distinct()
        .cte("instants")
    )
    # The page log's minutes with their first and last page; an instant sorts before the
    # minute it falls in, whichever way the window runs, so only other minutes count.
    minutes = sa.select(
        page_minute.label("minute"),
        sa.func.min(p.c.time).label("first_at"),
        sa.func.max(p.c.time).label("last_at"),
    ).group_by(page_minute)
    marks = sa.union_all(
        minutes.add_columns(sa.literal(1, INT).label("kind"), sa.type_coerce(sa.null(), TS).label("at")),
        sa.select(
            instants.c.minute,
            sa.type_coerce(sa.null(), TS).label("first_at"),
            sa.type_coerce(sa.null(), TS).label("last_at"),
            sa.literal(0, INT).label("kind"),
            instants.c.at,
        ),
    ).subquery("marks")
    earlier = sa.func.max(marks.c.last_at).over(order_by=(marks.c.minute, marks.c.kind), rows=(None, 0))
    later = sa.func.min(marks.c.first_at).over(order_by=(marks.c.minute.desc(), marks.c.kind), rows=(None, 0))
    swept = sa.select(marks.c.at, marks.c.kind, earlier.label("before"), later.label("after")).subquery("swept")
    across = sa.select(swept.c.at, swept.c.before, swept.c.after).where(swept.c.kind == 0).subquery("across")
    # The pages in an instant's own minute, compared with it one by one.
    within = (
        sa.select(
            instants.c.at,
            sa.func.max(sa.case((p.c.time < instants.c.at, p.c.time))).label("before"),
            sa.func.min(sa.case((p.c.time > instants.c.at, p.c.time))).label("after"),
        )
        .select_from(instants)
        # The time range is implied by the minute; it lets SQLite and PostgreSQL use the index on time.
        .join(
            p,
            sa.and_(
                page_minute == instants.c.minute,
                p.c.time > plus_minutes(instants.c.at, sa.literal(-1, INT)),
                p.c.time < plus_minutes(instants.c.at, sa.literal(1, INT)),
            ),
        )
        .group_by(instants.c.at)
        .subquery("within")
    )
    return (
        sa.select(
            expected.c.session_id,
            expected.c.expected,
            expected.c.expected_at,
            sa.type_coerce(sa.func.coalesce(within.c.before, across.c.before), TS).label("gap_from"),
            sa.type_coerce(sa.func.coalesce(within.c.after, across.c.after), TS).label("gap_to"),
        )
        .select_from(expected)
        .join(across, across.c.at == expected.c.expected_at)
        .outerjoin(within, within.c.at == expected.c.expected_at)
    )
