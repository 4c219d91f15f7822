"""Exposure: who was bound into whose account, and what the pages showed.

Tier 1 (everyone who logged in during the window) is the incident domain's
``possibly_affected`` query. The queries here return facts, not conclusions: for each
session that logged in during the window, what its pages, profile changes and interests
say about the account it was bound to, and which other member's session was open when it
logged in (the fault could only bind a login to the latest still-open session of another
member). ``workbench.exposure.binding`` turns them into bound / own / unknown with probabilities,
and the tiers and lists are built from that in polars. The change and queue-act queries
of the same domain are in :mod:`workbench.queries.acts`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..evidence import PII
from . import (
    acts as _acts,  # noqa: F401 - registers the change and queue-act queries
    exposure_headlines as _headlines,  # noqa: F401 - registers exposure_headlines
)
from .exposure_gaps import page_log_gaps
from .registry import query
from .websessions import (
    APPLICANTS,
    CHANGES,
    END,
    ERROR_STATUS,
    IDLE_TIMEOUT,
    INT,
    INTERESTS,
    LOGIN_PATH,
    LOGINS,
    LOGOUT_PATH,
    LOGOUTS,
    PAGES,
    PROFILE_PATHS,
    REGISTER_PREFIX,
    REGISTER_SUFFIX,
    START,
    STR,
    TS,
    WITHDRAW_PREFIX,
    WITHDRAW_SUFFIX,
    account_evidence,
    candidates,
    flag,
    idle_minutes,
    plus_minutes,
    rendering,
    session_end,
    session_spans,
    window_logins,
)

__all__ = [
    "binding_candidates",
    "candidate_sessions",
    "exposure_subjects",
    "foreign_page_views",
    "page_log_gaps",
    "window_sessions",
]

DOMAIN = "exposure"

_SESSION_TAGS = {
    "login_at": PII.NONE,
    "ended_at": PII.NONE,
    "end_reason": PII.NONE,
    "n_views": PII.NONE,
    "render_views": PII.NONE,
    "render_views_missing_account": PII.NONE,
    "own_views": PII.NONE,
    "foreign_views": PII.NONE,
    "foreign_account_id": PII.DIRECT,
    "n_foreign_accounts": PII.NONE,
    "first_foreign_at": PII.NONE,
    "last_foreign_at": PII.NONE,
    "last_own_at": PII.NONE,
    "own_actions": PII.NONE,
    "foreign_actions": PII.NONE,
    "register_views": PII.NONE,
    "withdraw_views": PII.NONE,
    "profile_views": PII.NONE,
    "expected_page_missing": PII.NONE,
    "pages_incomplete": PII.NONE,
    "last_pause_end_at": PII.NONE,
}


@query(
    domain=DOMAIN,
    description="Each session that logged in during the window, with what its pages, changes and interests show about its account.",
    params=(START, END, IDLE_TIMEOUT),
    columns=_SESSION_TAGS,
    sort=("login_at", "session_id"),
)
def window_sessions(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.Select:
    """One row per window session: owner, span, page counts by kind, accounts seen, and whether pages are missing.

    ``first_foreign_at`` and ``last_foreign_at`` bracket the pages and changes that name a
    foreign account; ``last_own_at`` is the last one naming the owner's own. A page whose
    account_id is missing is known to show the foreign account only between the first two
    (see :mod:`workbench.exposure.binding`).

    ``expected_page_missing`` is true when the session lacks its login page, its logout page
    (user logout) or its last page before an idle timeout; ``pages_incomplete`` also when it
    has a pause longer than the timeout between pages; ``last_pause_end_at`` is the page that
    ends the last such pause.
    """
    return _window_sessions(start, end, idle_timeout_minutes)[0]


def _window_sessions(start: datetime, end: datetime, idle_timeout_minutes: int) -> tuple[sa.Select, sa.CTE]:
    """:func:`window_sessions`' select and its ``views`` CTE (the window's pages with their owner)."""
    timeout = idle_minutes(idle_timeout_minutes)
    # The span is finished below from this session's own pages, sparing a pass over the page log.
    w = (
        sa.select(
            LOGINS.c.session_id,
            LOGINS.c.applicant_id,
            LOGINS.c.time.label("login_at"),
            LOGINS.c.ip,
            LOGINS.c.user_agent,
            LOGOUTS.c.time.label("logout_at"),
            LOGOUTS.c.reason,
        )
        .outerjoin(LOGOUTS, LOGOUTS.c.session_id == LOGINS.c.session_id)
        .where(LOGINS.c.time >= start, LOGINS.c.time < end)
        .subquery("w")
    )
    wl = window_logins(start, end)
    p = PAGES
    # The window's pages are read from the page log once, with their session's owner, and
    # every part below (counts, pauses, accounts named) reads this one copy.
    views = (
        sa.select(
            p.c.session_id,
            p.c.time,
            p.c.path,
            p.c.account_id,
            wl.c.applicant_id.label("owner"),
            rendering(p.c.path, p.c.status).label("renders"),
            # A page served with an error status rendered nothing: its account_id is no evidence
            # of the account the session used (as mismatched_sessions, notebook 01, reads it).
            (p.c.status < ERROR_STATUS).label("served"),
        )
        .join(wl, wl.c.session_id == p.c.session_id)
        .cte("views")
        .prefix_with("MATERIALIZED")
    )
    v = (
        sa.select(
            views.c.session_id,
            sa.func.count().label("n_views"),
            sa.func.max(flag(views.c.path == LOGIN_PATH)).label("login_view"),
            sa.func.max(flag(views.c.path == LOGOUT_PATH)).label("logout_view"),
            sa.func.max(sa.case((views.c.path != LOGOUT_PATH, views.c.time))).label("last_view_at"),
            sa.func.min(views.c.time).label("first_any_view_at"),
            sa.func.max(views.c.time).label("last_any_view_at"),
            sa.func.sum(flag(views.c.renders)).label("render_views"),
            sa.func.sum(flag(sa.and_(views.c.renders, views.c.account_id.is_(None)))).label(
                "render_views_missing_account"
            ),
            sa.func.sum(
                flag(sa.and_(views.c.renders, sa.or_(*(views.c.path == path for path in PROFILE_PATHS))))
            ).label("profile_views"),
            sa.func.sum(flag(views.c.path.like(REGISTER_PREFIX + "%" + REGISTER_SUFFIX))).label("register_views"),
            sa.func.sum(flag(views.c.path.like(WITHDRAW_PREFIX + "%" + WITHDRAW_SUFFIX))).label("withdraw_views"),
            # The pages naming the owner's account or another one, counted in the same pass.
            sa.func.sum(flag(sa.and_(views.c.served, views.c.account_id == views.c.owner))).label("own_views"),
            sa.func.sum(flag(sa.and_(views.c.served, views.c.account_id != views.c.owner))).label("foreign_views"),
            sa.func.max(sa.case((sa.and_(views.c.served, views.c.account_id == views.c.owner), views.c.time))).label(
                "last_own_view_at"
            ),
        )
        .group_by(views.c.session_id)
        .cte("v")
    )
    # A pause longer than the timeout: only a session whose pages span more than the timeout
    # can have one, so the ordered pass (lag) reads only those sessions' pages.
    spread = sa.select(v.c.session_id).where(plus_minutes(v.c.first_any_view_at, timeout) < v.c.last_any_view_at)
    prev = sa.func.lag(views.c.time).over(partition_by=views.c.session_id, order_by=views.c.time)
    paced = (
        sa.select(views.c.session_id, views.c.time, prev.label("prev_time"))
        .where(views.c.session_id.in_(spread))
        .subquery("paced")
    )
    pauses = (
        sa.select(
            paced.c.session_id,
            sa.func.max(flag(plus_minutes(paced.c.prev_time, timeout) < paced.c.time)).label("long_pause"),
            # where the last long pause ends: before the owner's last own page it unsettles nothing after it
            sa.func.max(sa.case((plus_minutes(paced.c.prev_time, timeout) < paced.c.time, paced.c.time))).label(
                "last_pause_end"
            ),
        )
        .group_by(paced.c.session_id)
        .subquery("pauses")
    )
    # Every account named: the pages naming a foreign one (the owner's own are counted in v)
    # and every change and interest, a few thousand rows where all named pages are ~50 times more.
    ev = account_evidence(wl, views, sa.and_(views.c.served, views.c.account_id != views.c.owner))
    is_own = ev.c.account_id == ev.c.owner
    e = (
        sa.select(
            ev.c.session_id,
            sa.func.sum(flag(sa.and_(is_own, ev.c.source != "page"))).label("own_actions"),
            sa.func.sum(flag(sa.and_(~is_own, ev.c.source != "page"))).label("foreign_actions"),
            sa.func.min(sa.case((~is_own, ev.c.account_id))).label("foreign_account_id"),
            sa.func.count(sa.distinct(sa.case((~is_own, ev.c.account_id)))).label("n_foreign_accounts"),
            sa.func.min(sa.case((~is_own, ev.c.time))).label("first_foreign_at"),
            sa.func.max(sa.case((~is_own, ev.c.time))).label("last_foreign_at"),
            sa.func.max(sa.case((is_own, ev.c.time))).label("last_own_act_at"),
        )
        .group_by(ev.c.session_id)
        .subquery("e")
    )
    # The later of the owner's last own page and last own act (either may be null).
    own_page, own_act = v.c.last_own_view_at, e.c.last_own_act_at
    last_own_at = sa.case(
        (own_page.is_(None), own_act), (own_act.is_(None), own_page), (own_act > own_page, own_act), else_=own_page
    )
    n_views = sa.func.coalesce(v.c.n_views, 0)
    ended_at, end_reason = session_end(w.c.login_at, w.c.logout_at, w.c.reason, v.c.last_any_view_at, timeout)
    # The pages a complete log must hold: the login page, the logout page of a user logout,
    # and the last page an idle timeout counts from. page_log_gaps locates the missing ones.
    expected_missing = sa.or_(
        n_views == 0,
        v.c.login_view == 0,
        sa.and_(end_reason == "user", v.c.logout_view == 0),
        sa.and_(end_reason != "user", plus_minutes(v.c.last_view_at, timeout) < ended_at),
    )
    incomplete = sa.or_(expected_missing, pauses.c.long_pause == 1)

    def zero(col, name):
        return sa.cast(sa.func.coalesce(col, 0), INT).label(name)

    sessions = (
        sa.select(
            w.c.session_id,
            w.c.applicant_id,
            w.c.login_at,
            ended_at.label("ended_at"),
            end_reason.label("end_reason"),
            w.c.ip,
            w.c.user_agent,
            zero(v.c.n_views, "n_views"),
            zero(v.c.render_views, "render_views"),
            zero(v.c.render_views_missing_account, "render_views_missing_account"),
            zero(v.c.own_views, "own_views"),
            zero(v.c.foreign_views, "foreign_views"),
            e.c.foreign_account_id,
            zero(e.c.n_foreign_accounts, "n_foreign_accounts"),
            sa.type_coerce(e.c.first_foreign_at, TS).label("first_foreign_at"),
            sa.type_coerce(e.c.last_foreign_at, TS).label("last_foreign_at"),
            sa.type_coerce(last_own_at, TS).label("last_own_at"),
            zero(e.c.own_actions, "own_actions"),
            zero(e.c.foreign_actions, "foreign_actions"),
            zero(v.c.profile_views, "profile_views"),
            zero(v.c.register_views, "register_views"),
            zero(v.c.withdraw_views, "withdraw_views"),
            sa.case((expected_missing, True), else_=False).label("expected_page_missing"),
            sa.case((incomplete, True), else_=False).label("pages_incomplete"),
            sa.type_coerce(pauses.c.last_pause_end, TS).label("last_pause_end_at"),
        )
        .select_from(w)
        .outerjoin(v, v.c.session_id == w.c.session_id)
        .outerjoin(e, e.c.session_id == w.c.session_id)
        .outerjoin(pauses, pauses.c.session_id == w.c.session_id)
    )
    return sessions, views


def _foreign_pages(views: sa.CTE) -> sa.Select:
    """:func:`foreign_page_views`' rows, from the window's pages read by :func:`window_sessions`."""
    return sa.select(
        views.c.session_id,
        views.c.time,
        views.c.path,
        views.c.account_id,
        views.c.owner.label("owner_applicant_id"),
    ).where(views.c.renders, sa.or_(views.c.account_id.is_(None), views.c.account_id != views.c.owner))


PAGE_PREFIX = "page_"  # the foreign pages' columns in window_sessions_with_foreign_pages


def window_sessions_with_foreign_pages(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.CompoundSelect:
    """``window_sessions`` and ``foreign_page_views`` in one statement over one read of the window's pages.

    Not a registered query: :func:`workbench.queries.runner.run_together` splits its rows by
    ``part`` (the query's name) into the two registered queries' frames; the foreign pages'
    columns carry :data:`PAGE_PREFIX`. At stockholm it took 0.25 CPU-s against 0.29 for the
    two statements (``benchmarks/exposure_merge.py``).
    """
    sessions, views = _window_sessions(start, end, idle_timeout_minutes)
    ws = sessions.subquery("ws")
    fp = _foreign_pages(views).subquery("fp")

    def pad(cols):
        return [sa.cast(sa.null(), c.type).label(c.name) for c in cols]

    pages = [c.label(PAGE_PREFIX + c.name) for c in fp.c]
    return sa.union_all(
        sa.select(sa.literal("window_sessions", STR).label("part"), *ws.c, *pad(pages)),
        sa.select(sa.literal("foreign_page_views", STR).label("part"), *pad(ws.c), *pages),
    )


@query(
    domain=DOMAIN,
    description="For each window login, the other member's session opened last among those still open: the only account the fault could bind it to.",
    params=(START, END, IDLE_TIMEOUT),
    columns={"candidate_session_id": PII.DIRECT, "candidate_account_id": PII.DIRECT, "candidate_login_at": PII.NONE},
    sort=("session_id", "candidate_session_id"),
)
def binding_candidates(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.Select:
    """Window logins joined to the latest other member's session open at that instant (ties give several rows)."""
    return candidates(session_spans(idle_minutes(idle_timeout_minutes)), start, end)


@query(
    domain=DOMAIN,
    description="Sessions that can be a window login's candidate or are one: open during the window, logged in during it, or without a logout and logged in at the same instant as one open.",
    params=(START, END, IDLE_TIMEOUT),
    columns={"login_at": PII.NONE, "ended_at": PII.NONE, "logout_at": PII.NONE},
    sort=("login_at", "session_id"),
)
def candidate_sessions(start: datetime, end: datetime, idle_timeout_minutes: int) -> sa.Select:
    """What :func:`workbench.exposure.candidates.binding_candidates` sweeps: one row per session that can matter.

    A session open at some window login logged in before the window's end and ended after
    its start. ``logout_at`` is the logged logout (null without one): a tied candidate is
    kept unless it logged out by the login, so a session without a logout that logged in
    at the same instant as an open one is returned too.
    """
    timeout = idle_minutes(idle_timeout_minutes)
    # The spans carry the logged logout: no second join with the logouts.
    spans = session_spans(timeout)
    opened = session_spans(timeout).alias("opened")
    open_logins = sa.select(opened.c.login_at).where(opened.c.login_at < end, opened.c.ended_at > start)
    return sa.select(
        spans.c.session_id, spans.c.applicant_id, spans.c.login_at, spans.c.ended_at, spans.c.logout_at
    ).where(
        spans.c.login_at < end,
        sa.or_(
            spans.c.ended_at > start,
            spans.c.login_at >= start,
            sa.and_(spans.c.logout_at.is_(None), spans.c.login_at.in_(open_logins)),
        ),
    )


@query(
    domain=DOMAIN,
    description="Rendering pages of window sessions that showed another member's account, or whose account_id is missing.",
    params=(START, END),
    columns={"owner_applicant_id": PII.DIRECT},
    sort=("time", "session_id", "path"),
)
def foreign_page_views(start: datetime, end: datetime) -> sa.Select:
    """Pages served with status 200 on an account page in a window session, not showing the owner's own account."""
    w = window_logins(start, end, "w")
    p = PAGES
    return (
        sa.select(p.c.session_id, p.c.time, p.c.path, p.c.account_id, w.c.applicant_id.label("owner_applicant_id"))
        .join(w, w.c.session_id == p.c.session_id)
        .where(rendering(p.c.path, p.c.status), sa.or_(p.c.account_id.is_(None), p.c.account_id != w.c.applicant_id))
    )


@query(
    domain=DOMAIN,
    description="Members with a session open during the window or named by one: contact data, protected identity and co-applicant.",
    params=(START, END),
    sort=("applicant_id",),
)
def exposure_subjects(start: datetime, end: datetime) -> sa.Select:
    """Applicants with a session open during the window, or named by a page, change or interest of one.

    Every account a window login could have been bound to belongs to a session open at
    that login, so this holds every candidate without repeating the candidate search. A
    session without a logout row counts as open: the list may hold more people, never fewer.
    """
    window_logins = sa.select(LOGINS.c.session_id).where(LOGINS.c.time >= start, LOGINS.c.time < end)
    open_during = (
        sa.select(LOGINS.c.applicant_id)
        .outerjoin(LOGOUTS, LOGOUTS.c.session_id == LOGINS.c.session_id)
        .where(LOGINS.c.time < end, sa.or_(LOGOUTS.c.time.is_(None), LOGOUTS.c.time > start))
    )
    ids = sa.union(
        open_during,
        sa.select(PAGES.c.account_id).where(PAGES.c.session_id.in_(window_logins), PAGES.c.account_id.is_not(None)),
        sa.select(CHANGES.c.account_id).where(CHANGES.c.session_id.in_(window_logins)),
        sa.select(INTERESTS.c.applicant_id).where(INTERESTS.c.session_id.in_(window_logins)),
    ).subquery("ids")
    a = APPLICANTS
    return sa.select(
        a.c.applicant_id,
        a.c.personnummer,
        a.c.name,
        a.c.email,
        a.c.phone,
        a.c.protected_identity,
        a.c.co_applicant_name,
        a.c.co_applicant_personnummer,
    ).where(a.c.applicant_id.in_(sa.select(ids.c.applicant_id)))
