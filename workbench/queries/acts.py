"""What window sessions changed: profile fields with their actor, and acts on the queue."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..evidence import PII
from .registry import query
from .websessions import (
    CHANGES,
    CONTRACTS,
    END,
    INT,
    INTERESTS,
    LISTINGS,
    LOGINS,
    OFFERS,
    PAGES,
    REGISTER_PREFIX,
    REGISTER_SUFFIX,
    START,
    STR,
    TS,
    WITHDRAW_PREFIX,
    WITHDRAW_SUFFIX,
    known,
    listing_in_path,
    window_logins,
)

__all__ = ["allocation_actions", "profile_change_log", "withdrawals_without_page"]

DOMAIN = "exposure"


@query(
    domain=DOMAIN,
    description="Profile changes from the window start on, each with its actor (the session's authenticated member) and actor type.",
    params=(START, END),
    columns={"actor_applicant_id": PII.DIRECT, "in_window": PII.NONE, "actor_type": PII.NONE},
    sort=("time", "change_id"),
)
def profile_change_log(start: datetime, end: datetime) -> sa.Select:
    """Changes at or after ``start``: own edit (actor = account), another's (actor != account) or unknown (no login)."""
    c = CHANGES
    actor = LOGINS.c.applicant_id
    kind = sa.case((actor.is_(None), "unknown"), (actor == c.c.account_id, "own"), else_="other")
    return (
        sa.select(
            c.c.change_id,
            c.c.time,
            c.c.session_id,
            c.c.account_id,
            c.c.field,
            c.c.old_value,
            c.c.new_value,
            actor.label("actor_applicant_id"),
            sa.case((c.c.time < end, True), else_=False).label("in_window"),
            sa.cast(kind, STR).label("actor_type"),
        )
        .select_from(c)
        .outerjoin(LOGINS, LOGINS.c.session_id == c.c.session_id)
        .where(c.c.time >= start)
    )


@query(
    domain=DOMAIN,
    description="Interest registrations and withdrawals and offer answers made by window sessions, with the listing's closing time.",
    params=(START, END),
    columns={
        "kind": PII.NONE,
        "source": PII.NONE,
        "owner_applicant_id": PII.DIRECT,
        "closes_at": PII.NONE,
        "offered": PII.NONE,
        "contract_signed": PII.NONE,
    },
    sort=("time", "session_id", "listing_id", "kind", "source"),
)
def allocation_actions(start: datetime, end: datetime) -> sa.Select:
    """Queue-relevant acts of window sessions; account_id is null where a page lost it (resolved from the binding)."""
    w = window_logins(start, end, "w")
    p, i, o = PAGES, INTERESTS, OFFERS

    def act(kind, listing, account, time, session, source: str, frm, on):
        # The session's owner comes with the window login each act is joined to: no second
        # pass over every login.
        return (
            sa.select(
                sa.cast(kind, STR).label("kind"),
                sa.cast(listing, INT).label("listing_id"),
                sa.cast(account, INT).label("account_id"),
                sa.type_coerce(time, TS).label("time"),
                session.label("session_id"),
                sa.literal(source, STR).label("source"),
                w.c.applicant_id.label("owner_applicant_id"),
            )
            .select_from(frm)
            .join(w, on)
        )

    register = p.c.path.like(REGISTER_PREFIX + "%" + REGISTER_SUFFIX)
    withdraw = p.c.path.like(WITHDRAW_PREFIX + "%" + WITHDRAW_SUFFIX)
    acts = sa.union_all(
        act(
            sa.literal("interest_registered", STR),
            i.c.listing_id,
            i.c.applicant_id,
            i.c.registered_at,
            i.c.session_id,
            "interests",
            i,
            w.c.session_id == i.c.session_id,
        ),
        # Registration and withdrawal pages in one pass over the window's pages.
        act(
            sa.case((register, "interest_registered"), else_="interest_withdrawn"),
            sa.case(
                (register, listing_in_path(p.c.path, REGISTER_PREFIX, REGISTER_SUFFIX)),
                else_=listing_in_path(p.c.path, WITHDRAW_PREFIX, WITHDRAW_SUFFIX),
            ),
            p.c.account_id,
            p.c.time,
            p.c.session_id,
            "page_views",
            p,
            w.c.session_id == p.c.session_id,
        ).where(sa.or_(register, withdraw), p.c.status == 200),
        act(
            sa.literal("offer_answered", STR),
            o.c.listing_id,
            o.c.applicant_id,
            o.c.responded_at,
            o.c.response_session_id,
            "offers",
            o,
            w.c.session_id == o.c.response_session_id,
        ),
    ).subquery("acts")
    offered = sa.exists().where(o.c.listing_id == acts.c.listing_id, o.c.applicant_id == acts.c.account_id)
    signed = sa.exists().where(
        CONTRACTS.c.listing_id == acts.c.listing_id, CONTRACTS.c.applicant_id == acts.c.account_id
    )
    return (
        sa.select(
            acts,
            LISTINGS.c.closes_at,
            known(acts.c.account_id, offered).label("offered"),
            known(acts.c.account_id, signed).label("contract_signed"),
        )
        .select_from(acts)
        .outerjoin(LISTINGS, LISTINGS.c.listing_id == acts.c.listing_id)
    )


@query(
    domain=DOMAIN,
    description="Interests withdrawn during the window for which the page log holds no withdrawal page.",
    params=(START, END),
    sort=("withdrawn_at", "listing_id", "applicant_id"),
)
def withdrawals_without_page(start: datetime, end: datetime) -> sa.Select:
    """Withdrawals the page log does not show: made by the system, or on a page lost in a gap of the log."""
    i, p = INTERESTS, PAGES
    page = sa.literal(WITHDRAW_PREFIX, STR) + sa.cast(i.c.listing_id, STR) + sa.literal(WITHDRAW_SUFFIX, STR)
    shown = sa.exists().where(p.c.time == i.c.withdrawn_at, p.c.path == page)
    return (
        sa.select(i.c.listing_id, i.c.applicant_id, i.c.withdrawn_at, LISTINGS.c.closes_at)
        .outerjoin(LISTINGS, LISTINGS.c.listing_id == i.c.listing_id)
        .where(i.c.withdrawn_at >= start, i.c.withdrawn_at < end, ~shown)
    )
