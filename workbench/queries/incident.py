"""Incident reconstruction: sessions, mismatches, the affected population, the hourly series.

Column contract (notebook 02 and the exposure queries build on these; keep them stable):

``sessions`` — one row per web session overlapping [start, end), in the one session model
    of :mod:`workbench.queries.websessions`: session_id, applicant_id (the owner: the member
    who authenticated), login_at, ended_at, end_reason ("user", "timeout" or "no logout
    logged"), last_request_at, n_requests, method, ip, user_agent.
``mismatched_sessions`` — one row per (session, foreign account) for sessions that rendered
    an account other than their owner's: session_id, applicant_id (owner), account_id
    (the foreign account), bound_at (the session's first page showing another member's
    account: the onset of its binding, which may come after some of the owner's own pages),
    login_at, first_rendered_at, last_rendered_at, n_pages.
``mismatched_changes`` — one row per (session, foreign account) that a session changed:
    session_id, applicant_id, account_id, login_at, n_changes, first_changed_at, last_changed_at.
``possibly_affected`` — one row per member who logged in during [start, end):
    applicant_id, first_login_at, last_login_at, n_logins.
``incident_hourly`` — one row per UTC hour in [start, end): hour, n_logins,
    n_mismatched_sessions (by the hour of each session's first foreign page), n_sessions_open (sessions
    open at some moment of the hour).
``support_inbox`` — every support message as received (mail clock), for classification.
``triage_members`` — members a support message is checked against: applicant_id, name, address, email,
    phone, employer, annual_income, co_applicant_name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from .. import evidence
from ..evidence import PII
from . import clock_pairs as _clock_pairs  # noqa: F401 - registers the clock-pair queries
from .portable import hour_bucket
from .registry import query
from .timeshift import add_seconds
from .websessions import (
    AROUND_END,
    AROUND_START,
    DEFAULT_IDLE_TIMEOUT_MINUTES,
    END,
    IDLE_TIMEOUT,
    START,
    check_window,
    idle_minutes,
    rendering,
    session_end,
)

__all__ = [
    "DEFAULT_IDLE_TIMEOUT_MINUTES",
    "incident_hourly",
    "mismatched_changes",
    "mismatched_select",
    "mismatched_sessions",
    "possibly_affected",
    "sessions",
    "sessions_select",
    "support_inbox",
    "triage_members",
]

DOMAIN = "incident"

_LOGINS = evidence.table("logins")
_LOGOUTS = evidence.table("logouts")
_VIEWS = evidence.table("page_views")
_CHANGES = evidence.table("profile_changes")
_TS = sa.DateTime(timezone=True)


def sessions_select(idle_timeout_minutes: Any = DEFAULT_IDLE_TIMEOUT_MINUTES) -> sa.Select:
    """Every session with its span (:func:`workbench.queries.websessions.session_end`) and activity.

    Adds to the span the last request, the number of requests and the login method.
    """
    activity = (
        sa.select(
            _VIEWS.c.session_id,
            sa.func.max(_VIEWS.c.time).label("last_request_at"),
            sa.func.count().label("n_requests"),
        )
        .group_by(_VIEWS.c.session_id)
        .subquery("activity")
    )
    ended_at, end_reason = session_end(
        _LOGINS.c.time,
        _LOGOUTS.c.time,
        _LOGOUTS.c.reason,
        activity.c.last_request_at,
        idle_minutes(idle_timeout_minutes),
    )
    return sa.select(
        _LOGINS.c.session_id,
        _LOGINS.c.applicant_id,
        _LOGINS.c.time.label("login_at"),
        ended_at.label("ended_at"),
        end_reason.label("end_reason"),
        sa.type_coerce(sa.func.coalesce(activity.c.last_request_at, _LOGINS.c.time), _TS).label("last_request_at"),
        sa.cast(sa.func.coalesce(activity.c.n_requests, 0), sa.BigInteger()).label("n_requests"),
        _LOGINS.c.method,
        _LOGINS.c.ip,
        _LOGINS.c.user_agent,
    ).select_from(
        _LOGINS.outerjoin(activity, activity.c.session_id == _LOGINS.c.session_id).outerjoin(
            _LOGOUTS, _LOGOUTS.c.session_id == _LOGINS.c.session_id
        )
    )


def _ts(value: Any) -> Any:
    """A time as a typed bound value (a placeholder column when describe() shows the SQL)."""
    return value if isinstance(value, sa.ColumnElement) else sa.literal(value, _TS)


_SESSION_TAGS = {
    "login_at": PII.NONE,
    "ended_at": PII.NONE,
    "end_reason": PII.NONE,
    "last_request_at": PII.NONE,
    "n_requests": PII.NONE,
}


@query(
    domain=DOMAIN,
    description="Web sessions overlapping [start, end), rebuilt from login, requests and logout or idle timeout.",
    params=(IDLE_TIMEOUT, AROUND_START, AROUND_END),
    columns=_SESSION_TAGS,
    sort=("login_at", "session_id"),
)
def sessions(idle_timeout_minutes: int, start: datetime, end: datetime) -> sa.Select:
    """Sessions that logged in before ``end`` and ended after ``start``."""
    check_window("sessions", start, end)
    s = sessions_select(idle_timeout_minutes).subquery("s")
    return sa.select(s).where(s.c.login_at < end, s.c.ended_at > start)


def mismatched_select() -> sa.Select:
    """(session, foreign account) pairs: pages a session rendered for an account not its owner's.

    ``bound_at`` is the session's first page showing any foreign account, not its login: a
    session can be swapped after some of its owner's own pages.
    """
    first_page = sa.func.min(_VIEWS.c.time)
    return (
        sa.select(
            _VIEWS.c.session_id,
            _LOGINS.c.applicant_id,
            _VIEWS.c.account_id,
            sa.type_coerce(sa.func.min(first_page).over(partition_by=_VIEWS.c.session_id), _TS).label("bound_at"),
            _LOGINS.c.time.label("login_at"),
            first_page.label("first_rendered_at"),
            sa.func.max(_VIEWS.c.time).label("last_rendered_at"),
            sa.func.count().label("n_pages"),
        )
        .select_from(_VIEWS.join(_LOGINS, _LOGINS.c.session_id == _VIEWS.c.session_id))
        .where(
            _VIEWS.c.account_id.is_not(None),
            _VIEWS.c.account_id != _LOGINS.c.applicant_id,
            # An error page (a 500 with the account id in its log line) rendered nothing.
            rendering(_VIEWS.c.path, _VIEWS.c.status),
        )
        .group_by(_VIEWS.c.session_id, _LOGINS.c.applicant_id, _VIEWS.c.account_id, _LOGINS.c.time)
    )


@query(
    domain=DOMAIN,
    description="Sessions that rendered an account other than their owner's: when it began and which accounts.",
    columns={
        "bound_at": PII.NONE,
        "login_at": PII.NONE,
        "first_rendered_at": PII.NONE,
        "last_rendered_at": PII.NONE,
        "n_pages": PII.NONE,
    },
    sort=("bound_at", "session_id", "account_id"),
)
def mismatched_sessions() -> sa.Select:
    """Every (session, foreign account) pair in the whole web log, not only in the window."""
    return mismatched_select()


@query(
    domain=DOMAIN,
    description="Profile changes a session made to an account other than its owner's, per session and account.",
    columns={"login_at": PII.NONE, "n_changes": PII.NONE, "first_changed_at": PII.NONE, "last_changed_at": PII.NONE},
    sort=("login_at", "session_id", "account_id"),
)
def mismatched_changes() -> sa.Select:
    """Changes whose account differs from the authenticated member of the session that saved them."""
    return (
        sa.select(
            _CHANGES.c.session_id,
            _LOGINS.c.applicant_id,
            _CHANGES.c.account_id,
            _LOGINS.c.time.label("login_at"),
            sa.func.count().label("n_changes"),
            sa.func.min(_CHANGES.c.time).label("first_changed_at"),
            sa.func.max(_CHANGES.c.time).label("last_changed_at"),
        )
        .select_from(_CHANGES.join(_LOGINS, _LOGINS.c.session_id == _CHANGES.c.session_id))
        .where(_CHANGES.c.account_id != _LOGINS.c.applicant_id)
        .group_by(_CHANGES.c.session_id, _LOGINS.c.applicant_id, _CHANGES.c.account_id, _LOGINS.c.time)
    )


@query(
    domain=DOMAIN,
    description="Members who logged in during [start, end): the population the organisation called possibly affected.",
    params=(START, END),
    columns={"first_login_at": PII.NONE, "last_login_at": PII.NONE, "n_logins": PII.NONE},
    sort=("applicant_id",),
)
def possibly_affected(start: datetime, end: datetime) -> sa.Select:
    """One row per member with a login in the window."""
    check_window("possibly_affected", start, end)
    t = _LOGINS.c.time
    return (
        sa.select(
            _LOGINS.c.applicant_id,
            sa.func.min(t).label("first_login_at"),
            sa.func.max(t).label("last_login_at"),
            sa.func.count().label("n_logins"),
        )
        .where(t >= start, t < end)
        .group_by(_LOGINS.c.applicant_id)
    )


# (output column, branch name); "opened"/"closed" are folded into n_sessions_open in polars.
_HOURLY = ("n_logins", "n_mismatched_sessions", "opened", "closed")


def _open_sessions(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """Every hour from start to end is a row; open sessions = sessions opened so far - closed so far."""
    start, end = values["start"], values["end"]
    grid = pl.datetime_range(
        start.replace(minute=0, second=0, microsecond=0),
        end,
        "1h",
        closed="left",
        time_unit="us",
        time_zone="UTC",
        eager=True,
    ).alias("hour")
    return (
        grid.to_frame()
        .join(frame, on="hour", how="left")
        .with_columns(pl.col(_HOURLY).fill_null(0))
        .sort("hour")
        .with_columns(n_sessions_open=pl.col("opened").cum_sum() - pl.col("closed").cum_sum())
        .select("hour", "n_logins", "n_mismatched_sessions", "n_sessions_open")
    )


@query(
    domain=DOMAIN,
    description="Per UTC hour: logins, sessions newly showing another member's account, and sessions open at some moment of the hour.",
    params=(AROUND_START, AROUND_END, IDLE_TIMEOUT),
    columns={
        "hour": PII.NONE,
        "n_logins": PII.NONE,
        "n_mismatched_sessions": PII.NONE,
        "n_sessions_open": PII.NONE,
        "opened": PII.NONE,
        "closed": PII.NONE,
    },
    sort=("hour",),
    finish=_open_sessions,
)
def incident_hourly(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.Select:
    """Count per hour on the engine; the running count of open sessions is summed in polars.

    A session is open during hour h when it started before h + 1 h and ended after h: it
    is counted as opened in the hour it started (or the first hour, if earlier) and closed
    in the first hour that begins at or after its end.
    """
    check_window("incident_hourly", start, end)
    logins = _LOGINS.c.time
    mm = mismatched_select().subquery("mm")
    s = sessions_select(idle_timeout_minutes).subquery("s")
    overlapping = (s.c.login_at < end, s.c.ended_at > start)
    opened = hour_bucket(sa.case((s.c.login_at < start, _ts(start)), else_=s.c.login_at))
    end_hour = hour_bucket(s.c.ended_at)
    closed = sa.case(
        (s.c.ended_at > end_hour, add_seconds(end_hour, sa.bindparam("one_hour", 3600, sa.BigInteger()))),
        else_=end_hour,
    )
    branches = [
        sa.select(
            hour_bucket(logins).label("hour"),
            sa.literal("n_logins", sa.String()).label("kind"),
            sa.func.count().label("n"),
        )
        .where(logins >= start, logins < end)
        .group_by(hour_bucket(logins)),
        sa.select(
            hour_bucket(mm.c.bound_at).label("hour"),
            sa.literal("n_mismatched_sessions", sa.String()).label("kind"),
            sa.func.count(sa.distinct(mm.c.session_id)).label("n"),
        )
        .where(mm.c.bound_at >= start, mm.c.bound_at < end)
        .group_by(hour_bucket(mm.c.bound_at)),
        sa.select(opened.label("hour"), sa.literal("opened", sa.String()).label("kind"), sa.func.count().label("n"))
        .where(*overlapping)
        .group_by(opened),
        sa.select(closed.label("hour"), sa.literal("closed", sa.String()).label("kind"), sa.func.count().label("n"))
        .where(*overlapping)
        .group_by(closed),
    ]
    per_kind = sa.union_all(*branches).subquery("per_kind")
    pivot = [
        sa.cast(sa.func.sum(sa.case((per_kind.c.kind == kind, per_kind.c.n), else_=0)), sa.BigInteger()).label(kind)
        for kind in _HOURLY
    ]
    return sa.select(per_kind.c.hour, *pivot).group_by(per_kind.c.hour)


_INBOX = evidence.table("support_messages")


@query(
    domain=DOMAIN,
    description="Every support message as received, by the mail server's clock, for fault-report classification.",
    sort=("received_at", "message_id"),
)
def support_inbox() -> sa.Select:
    """All support messages; the mail clock is corrected later (see workbench.incident.clocks)."""
    return sa.select(_INBOX)


_MEMBERS = evidence.table("applicants")


@query(
    domain=DOMAIN,
    description="Members the fault-report triage checks a message against: its senders (by customer number or "
    "e-mail) and everyone with a session in the window or shown by one, with the details a message could name.",
    params=(START, END),
    sort=("applicant_id",),
)
def triage_members(start: datetime, end: datetime) -> sa.Select:
    """Senders of support messages, and members logged in or shown to a session logged in during [start, end).

    Every account a session of the window could have shown is among them, so a message naming
    another member's details can be checked against them without reading the whole register.
    """
    check_window("triage_members", start, end)
    m, a = _INBOX, _MEMBERS
    window = sa.select(_LOGINS.c.session_id).where(_LOGINS.c.time >= start, _LOGINS.c.time < end)
    ids = sa.union(
        sa.select(m.c.sender_applicant_id.label("applicant_id")).where(m.c.sender_applicant_id.is_not(None)),
        sa.select(_LOGINS.c.applicant_id).where(_LOGINS.c.time >= start, _LOGINS.c.time < end),
        sa.select(_VIEWS.c.account_id).where(_VIEWS.c.session_id.in_(window), _VIEWS.c.account_id.is_not(None)),
    ).subquery("ids")
    by_address = sa.select(sa.func.lower(m.c.sender_address)).where(m.c.sender_address.is_not(None))
    return sa.select(
        a.c.applicant_id,
        a.c.name,
        a.c.address,
        a.c.email,
        a.c.phone,
        a.c.employer,
        a.c.annual_income,
        a.c.co_applicant_name,
    ).where(sa.or_(a.c.applicant_id.in_(sa.select(ids.c.applicant_id)), sa.func.lower(a.c.email).in_(by_address)))
