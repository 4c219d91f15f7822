"""The four exposure headlines in one statement: sessions bound, their accounts and people, changes by others.

``exposure_headlines`` answers the question an investigator asks first, by itself: how many
window sessions were bound into another member's account, to how many accounts, how many
people were put into someone else's account, and how many field changes non-owners saved.
It applies :mod:`workbench.exposure.binding`'s rule for a *bound* session and nothing
else: a session that logged in during the window is bound when a page, a profile change or
an interest names an account other than its owner's (a withdrawal page that lost its
account_id names it through the interest withdrawn at that instant), and it is bound to the
least such account (``window_sessions``' ``foreign_account_id``) and to every other one its
rendering pages name; a page served with an error status is no evidence. The minimum of each tier
count is what the evidence proves, so these are the minima :func:`workbench.exposure.review_exposure`
reports; its maxima and ``likely`` need the candidates, the page-log gaps and the rates,
which this query does not compute.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..evidence import PII
from .registry import query
from .websessions import (
    CHANGES,
    END,
    ERROR_STATUS,
    INT,
    INTERESTS,
    LOGINS,
    PAGES,
    START,
    WITHDRAW_PREFIX,
    WITHDRAW_SUFFIX,
    listing_in_path,
    rendering,
    window_logins,
)

__all__ = ["HEADLINE_COLUMNS", "exposure_headlines"]

DOMAIN = "exposure"

HEADLINE_COLUMNS = (
    "sessions_bound",
    "accounts_bound_to_others",
    "people_put_into_others_accounts",
    "field_changes_by_others",
)
"""The query's one row, in order: counts of sessions, distinct accounts, distinct people, changes."""


def _foreign_evidence(start: datetime, end: datetime) -> sa.Subquery:
    """(session_id, owner, account_id) for every page, change and interest of a window session naming another account."""
    wl = window_logins(start, end)
    owner = wl.c.applicant_id
    p, c, i = PAGES, CHANGES, INTERESTS
    pages = (
        sa.select(p.c.session_id, owner.label("owner"), p.c.account_id)
        .join(wl, wl.c.session_id == p.c.session_id)
        .where(p.c.account_id.is_not(None), p.c.account_id != owner, p.c.status < ERROR_STATUS)
    )
    changes = (
        sa.select(c.c.session_id, owner.label("owner"), c.c.account_id)
        .join(wl, wl.c.session_id == c.c.session_id)
        .where(c.c.account_id != owner)
    )
    interests = (
        sa.select(i.c.session_id, owner.label("owner"), i.c.applicant_id.label("account_id"))
        .join(wl, wl.c.session_id == i.c.session_id)
        .where(i.c.applicant_id != owner)
    )
    # A withdrawal page that lost its account_id names the listing, and the interest withdrawn
    # at that very instant the account (as in account_evidence).
    withdrawn = (
        sa.select(p.c.session_id, owner.label("owner"), i.c.applicant_id.label("account_id"))
        .select_from(p)
        .join(wl, wl.c.session_id == p.c.session_id)
        .join(
            i,
            sa.and_(
                i.c.listing_id == listing_in_path(p.c.path, WITHDRAW_PREFIX, WITHDRAW_SUFFIX),
                i.c.withdrawn_at == p.c.time,
            ),
        )
        .where(
            p.c.account_id.is_(None),
            p.c.path.like(WITHDRAW_PREFIX + "%" + WITHDRAW_SUFFIX),
            i.c.applicant_id != owner,
        )
    )
    return sa.union_all(pages, changes, interests, withdrawn).subquery("foreign_evidence")


@query(
    domain=DOMAIN,
    description="The four exposure headlines: window sessions bound to another member's account, those accounts, the people put into them, and field changes by non-owners.",
    params=(START, END),
    columns={
        "sessions_bound": PII.NONE,
        "accounts_bound_to_others": PII.NONE,
        "people_put_into_others_accounts": PII.NONE,
        "field_changes_by_others": PII.NONE,
    },
)
def exposure_headlines(start: datetime, end: datetime) -> sa.Select:
    """One row: sessions bound, distinct accounts bound to, distinct people put into them, changes by non-owners.

    A session is bound when its evidence names a foreign account, to the least one named
    (the binding's ``bound_account_id``). ``field_changes_by_others`` counts the changes
    saved in [start, end) by a logged-in member other than the account's owner
    (``profile_change_log``'s ``actor_type`` "other").
    """
    ev = _foreign_evidence(start, end)
    bound = (
        sa.select(
            ev.c.session_id, sa.func.min(ev.c.owner).label("owner"), sa.func.min(ev.c.account_id).label("account_id")
        )
        .group_by(ev.c.session_id)
        .subquery("bound")
    )
    c = CHANGES
    by_others = (
        sa.select(sa.func.count())
        .select_from(c)
        .join(LOGINS, LOGINS.c.session_id == c.c.session_id)
        .where(c.c.time >= start, c.c.time < end, LOGINS.c.applicant_id != c.c.account_id)
        .scalar_subquery()
    )
    # The accounts: each session's least one, and every other one its rendering pages name (a
    # session can show two members' accounts; binding.py links it to each).
    wl = window_logins(start, end)
    shown = (
        sa.select(PAGES.c.account_id)
        .join(wl, wl.c.session_id == PAGES.c.session_id)
        .where(
            PAGES.c.account_id.is_not(None),
            PAGES.c.account_id != wl.c.applicant_id,
            rendering(PAGES.c.path, PAGES.c.status),
        )
    )
    accounts = sa.union(sa.select(bound.c.account_id), shown).subquery("accounts")
    n_accounts = sa.select(sa.func.count()).select_from(accounts).scalar_subquery()
    return sa.select(
        sa.cast(sa.func.count(), INT).label("sessions_bound"),
        sa.cast(n_accounts, INT).label("accounts_bound_to_others"),
        sa.cast(sa.func.count(sa.distinct(bound.c.owner)), INT).label("people_put_into_others_accounts"),
        sa.cast(by_others, INT).label("field_changes_by_others"),
    ).select_from(bound)
