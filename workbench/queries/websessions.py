"""The one session model and the incident window, with SQL building blocks on them.

Every query that needs a web session's span, in notebooks 01, 02 and 10 and in the query
browser, takes it from here:

* **A session** starts at its login (``login_at``) and belongs to the member who
  authenticated (``applicant_id``).
* **It ends** (``ended_at``, with ``end_reason``) at its logout row when the log holds one,
  whether the member logged out (``"user"``) or the server logged its own idle timeout
  (``"timeout"``): the server's record wins over the ``idle_timeout_minutes`` parameter.
  Only a session with no logout row at all ends ``idle_timeout_minutes`` after its last
  request (or its login, without one), with ``end_reason`` ``"no logout logged"``. Changing
  the parameter therefore moves only sessions whose end the log does not record.
* **The incident window** is [deployment, fix): ``START`` and ``END``, taken from the
  ``incident_window`` query. ``AROUND_START`` and ``AROUND_END`` widen it by a day either
  side, for charts and timelines that show what came before and after.

Also here: the pages that render account data, the listing number inside a path, the
accounts a session's pages, changes and interests name, and the fault's candidates: for a
login, the other member's session opened last among those still open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import evidence
from ..evidence import PAGE_FIELDS
from .registry import FromQuery, Param, QueryParameterError
from .timeshift import add_seconds

__all__ = [
    "APPLICANTS",
    "AROUND_END",
    "AROUND_START",
    "BOOL",
    "CHANGES",
    "CONTRACTS",
    "DEFAULT_IDLE_TIMEOUT_MINUTES",
    "END",
    "END_REASONS",
    "ERROR_STATUS",
    "IDLE_TIMEOUT",
    "INT",
    "INTERESTS",
    "LISTINGS",
    "LOGINS",
    "LOGIN_PATH",
    "LOGOUTS",
    "LOGOUT_PATH",
    "NO_LOGOUT",
    "OFFERS",
    "PAGES",
    "PROFILE_PATHS",
    "REGISTER_PREFIX",
    "REGISTER_SUFFIX",
    "START",
    "STR",
    "TS",
    "WITHDRAW_PREFIX",
    "WITHDRAW_SUFFIX",
    "account_evidence",
    "candidates",
    "check_window",
    "flag",
    "idle_minutes",
    "in_window",
    "known",
    "listing_in_path",
    "plus_minutes",
    "rendering",
    "session_end",
    "session_spans",
    "window_logins",
]

LOGINS = evidence.table("logins")
LOGOUTS = evidence.table("logouts")
PAGES = evidence.table("page_views")
CHANGES = evidence.table("profile_changes")
INTERESTS = evidence.table("interests")
OFFERS = evidence.table("offers")
CONTRACTS = evidence.table("contracts")
LISTINGS = evidence.table("listings")
APPLICANTS = evidence.table("applicants")

LOGIN_PATH, LOGOUT_PATH = "/logga-in", "/logga-ut"
REGISTER_PREFIX, REGISTER_SUFFIX = "/lagenhet/", "/intresse"
WITHDRAW_PREFIX, WITHDRAW_SUFFIX = "/mina-sidor/intressen/", "/ta-bort"

# Pages that show the whole profile, co-applicant included.
PROFILE_PATHS = tuple(path for path, fields in PAGE_FIELDS.items() if "co_applicant_personnummer" in fields)

DEFAULT_IDLE_TIMEOUT_MINUTES = 20
"""The web server's idle timeout as its own logs show it (a timed-out session ends 20 min after its last request)."""
NO_LOGOUT = "no logout logged"
END_REASONS = ("user", "timeout", NO_LOGOUT)
"""``end_reason``: the member logged out, the server logged its timeout, or the log holds no logout."""

START = Param(
    "start",
    datetime,
    FromQuery("incident_window", "deployed_at", fallback=FromQuery("log_span", "first_at")),
    "Window start, inclusive: the deployment (none logged: the first request of the web log), e.g. 2013-12-13T17:52:00+00:00",
)
END = Param(
    "end",
    datetime,
    FromQuery("incident_window", "fix_deployed_at", fallback=FromQuery("log_span", "last_at")),
    "Window end, exclusive: the fix (none logged: just after the last request of the web log), e.g. 2013-12-18T09:20:00+00:00",
)
AROUND_START = Param(
    "start",
    datetime,
    FromQuery("incident_window", "deployed_at", timedelta(days=-1), FromQuery("log_span", "first_at")),
    "Start, inclusive: a day before the deployment by default, e.g. 2013-12-12T17:52:00+00:00",
)
AROUND_END = Param(
    "end",
    datetime,
    FromQuery("incident_window", "fix_deployed_at", timedelta(days=1), FromQuery("log_span", "last_at")),
    "End, exclusive: a day after the fix by default, e.g. 2013-12-19T09:20:00+00:00",
)
IDLE_TIMEOUT = Param(
    "idle_timeout_minutes",
    int,
    DEFAULT_IDLE_TIMEOUT_MINUTES,
    "Minutes after its last request that a session with no logout in the log ends, e.g. 20; "
    "a session whose logout (by the member or the server's timeout) is logged ends there",
)
INT, BOOL, TS, STR = sa.BigInteger(), sa.Boolean(), sa.DateTime(timezone=True), sa.String()


def check_window(name: str, start: Any, end: Any) -> None:
    """Refuse a window whose start is not before its end, naming the query."""
    if isinstance(start, datetime) and isinstance(end, datetime) and start >= end:
        raise QueryParameterError(f"{name} needs start before end, got start={start.isoformat()} end={end.isoformat()}")


def idle_minutes(minutes: Any) -> sa.ColumnElement:
    """The idle timeout as a bound SQL integer of minutes; refuses zero and negative values."""
    if isinstance(minutes, sa.ColumnElement):  # describe() passes a placeholder column
        return minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise QueryParameterError(f"idle_timeout_minutes must be a positive number of minutes, got {minutes}")
    return sa.bindparam("idle_timeout_minutes", minutes, type_=INT)


def session_end(
    login_at: sa.ColumnElement,
    logout_at: sa.ColumnElement,
    logout_reason: sa.ColumnElement,
    last_request_at: sa.ColumnElement,
    timeout: sa.ColumnElement,
) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """``(ended_at, end_reason)`` of a session: the one rule every session query uses.

    The logged logout wins, by the member or by the server's timeout; without one, the last
    request (else the login) plus ``timeout`` minutes, with ``end_reason`` "no logout logged".
    """
    ended = sa.func.coalesce(logout_at, plus_minutes(last_request_at, timeout), plus_minutes(login_at, timeout))
    reason = sa.func.coalesce(logout_reason, sa.literal(NO_LOGOUT, STR))
    return sa.type_coerce(ended, TS), sa.type_coerce(reason, STR)


def plus_minutes(ts: sa.ColumnElement, minutes: sa.ColumnElement) -> sa.ColumnElement:
    """``ts`` plus ``minutes`` (an integer SQL expression, may be negative), on every engine."""
    return add_seconds(ts, minutes * 60)


ERROR_STATUS = 400
"""The first HTTP status of an error: a page served with it rendered nothing, so its account_id is no evidence."""


def rendering(path: sa.ColumnElement, status: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """True for a page that rendered account data: a PAGE_FIELDS path served with status 200."""
    alternatives = []
    for key in PAGE_FIELDS:
        pattern = key.replace("{listing_id}", "%")
        alternatives.append(path == key if pattern == key else path.like(pattern))
        alternatives.append(path.like(pattern + "?%"))  # page_fields() ignores a query string
    return sa.and_(status == 200, sa.or_(*alternatives))


def listing_in_path(path: sa.ColumnElement, prefix: str, suffix: str) -> sa.ColumnElement[int]:
    """The listing number between ``prefix`` and ``suffix`` in a path such as /lagenhet/210345/intresse."""
    start = len(prefix) + 1
    return sa.cast(sa.func.substr(path, start, sa.func.length(path) - len(prefix) - len(suffix)), INT)


def flag(condition: sa.ColumnElement) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def known(account: sa.ColumnElement, condition: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """``condition`` as a boolean, null when the account it is about is unknown."""
    return sa.cast(sa.case((account.is_(None), sa.null()), (condition, True), else_=False), BOOL)


def session_spans(timeout: sa.ColumnElement) -> sa.Subquery:
    """Every session: owner, login_at, ended_at and end_reason (:func:`session_end`), ip and user agent,
    and ``logout_at``, the logged logout (null without one)."""
    # Only sessions without a logout row need their last page: those few sessions are found
    # first (logins against logouts), and only their pages are read, not every page of the log.
    no_logout = sa.select(LOGINS.c.session_id).where(~sa.exists().where(LOGOUTS.c.session_id == LOGINS.c.session_id))
    last_view = (
        sa.select(PAGES.c.session_id, sa.func.max(PAGES.c.time).label("last_view_at"))
        .where(PAGES.c.session_id.in_(no_logout))
        .group_by(PAGES.c.session_id)
        .subquery("last_view")
    )
    ended_at, end_reason = session_end(
        LOGINS.c.time, LOGOUTS.c.time, LOGOUTS.c.reason, last_view.c.last_view_at, timeout
    )
    return (
        sa.select(
            LOGINS.c.session_id,
            LOGINS.c.applicant_id,
            LOGINS.c.time.label("login_at"),
            ended_at.label("ended_at"),
            end_reason.label("end_reason"),
            LOGINS.c.ip,
            LOGINS.c.user_agent,
            LOGOUTS.c.time.label("logout_at"),
        )
        .select_from(LOGINS)
        .outerjoin(LOGOUTS, LOGOUTS.c.session_id == LOGINS.c.session_id)
        .outerjoin(last_view, last_view.c.session_id == LOGINS.c.session_id)
        .subquery("sessions")
    )


def in_window(sessions: sa.Subquery, start, end) -> sa.Subquery:
    """The sessions (with their spans) that logged in during [start, end)."""
    return sa.select(sessions).where(sessions.c.login_at >= start, sessions.c.login_at < end).subquery("w")


def window_logins(start, end, name: str = "wl") -> sa.Subquery:
    """session_id, applicant_id and login_at of the logins in [start, end), straight from ``logins``.

    Use it wherever the span is not needed: it spares the engine the session-end computation.
    """
    return (
        sa.select(LOGINS.c.session_id, LOGINS.c.applicant_id, LOGINS.c.time.label("login_at"))
        .where(LOGINS.c.time >= start, LOGINS.c.time < end)
        .subquery(name)
    )


def account_evidence(w: sa.Subquery, pages: sa.CTE, named: sa.ColumnElement[bool] | None = None) -> sa.Subquery:
    """(session_id, account_id, source, time, owner) for every account a window session is shown to have used.

    ``w`` holds the window's logins (:func:`window_logins`); ``pages`` the window sessions'
    pages with session_id, time, path, account_id and ``owner`` (the session's member), read
    once by the caller. ``time`` is when a page was served or a change saved; it is null for
    an interest, whose row does not say when the session acted on it. ``named`` narrows the
    pages that name an account (e.g. to a foreign one); the acts are always all there.
    """
    named_pages = sa.select(
        pages.c.session_id,
        pages.c.account_id,
        sa.literal("page", STR).label("source"),
        pages.c.time.label("time"),
        pages.c.owner,
    ).where(pages.c.account_id.is_not(None), *([] if named is None else [named]))
    changes = sa.select(
        CHANGES.c.session_id,
        CHANGES.c.account_id,
        sa.literal("change", STR).label("source"),
        CHANGES.c.time.label("time"),
        w.c.applicant_id.label("owner"),
    ).join(w, w.c.session_id == CHANGES.c.session_id)
    interests = sa.select(
        INTERESTS.c.session_id,
        INTERESTS.c.applicant_id.label("account_id"),
        sa.literal("interest", STR).label("source"),
        sa.type_coerce(sa.null(), TS).label("time"),
        w.c.applicant_id.label("owner"),
    ).join(w, w.c.session_id == INTERESTS.c.session_id)
    # A withdrawal page that lost its account_id still names the listing, and the interest
    # withdrawn at that very instant names the account.
    withdrawn = (
        sa.select(
            pages.c.session_id,
            INTERESTS.c.applicant_id.label("account_id"),
            sa.literal("interest", STR).label("source"),
            pages.c.time.label("time"),
            pages.c.owner,
        )
        .select_from(pages)
        .join(
            INTERESTS,
            sa.and_(
                INTERESTS.c.listing_id == listing_in_path(pages.c.path, WITHDRAW_PREFIX, WITHDRAW_SUFFIX),
                INTERESTS.c.withdrawn_at == pages.c.time,
            ),
        )
        .where(pages.c.account_id.is_(None), pages.c.path.like(WITHDRAW_PREFIX + "%" + WITHDRAW_SUFFIX))
    )
    return sa.union_all(named_pages, changes, interests, withdrawn).subquery("evidence")


def candidates(sessions: sa.Subquery, start, end) -> sa.Select:
    """Per window login, the other members' sessions opened last among those still open at login.

    ``sessions`` is referenced once: DuckDB materialises a subquery used twice in one
    statement, and an inequality join on a materialised subquery loses its range-join plan
    (25 s instead of 1 s at stockholm scale). Ties are taken back from ``logins``; a tied
    session without a logout row is kept, which can only widen the maximum.
    """
    lo, o = LOGINS.alias("l"), sessions.alias("o")
    overlap = sa.and_(o.c.login_at < lo.c.time, o.c.ended_at > lo.c.time, o.c.applicant_id != lo.c.applicant_id)
    latest = (
        sa.select(
            lo.c.session_id,
            lo.c.applicant_id,
            lo.c.time.label("login_at"),
            sa.func.max(o.c.login_at).label("latest_at"),
        )
        .select_from(lo)
        .join(o, overlap)
        .where(lo.c.time >= start, lo.c.time < end)
        .group_by(lo.c.session_id, lo.c.applicant_id, lo.c.time)
        .subquery("latest")
    )
    c, e = LOGINS.alias("c"), LOGOUTS.alias("e")
    return (
        sa.select(
            latest.c.session_id,
            c.c.session_id.label("candidate_session_id"),
            c.c.applicant_id.label("candidate_account_id"),
            c.c.time.label("candidate_login_at"),
        )
        .select_from(latest)
        .join(c, sa.and_(c.c.time == latest.c.latest_at, c.c.applicant_id != latest.c.applicant_id))
        .outerjoin(e, e.c.session_id == c.c.session_id)
        .where(sa.or_(e.c.time.is_(None), e.c.time > latest.c.login_at))
    )
