"""Queue fairness: the evidence a replay of every allocation needs, read on the engine.

These queries only fetch rows (with the queue snapshot and a fee standing worked out in
SQL); the queue rules, the replay and every statistic run in polars (``workbench.fairness.queue_model``
and ``workbench.fairness``). The period parameters select listings by the day their
registration of interest closed, which is when their queue is fixed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from .. import evidence
from ..evidence import PII
from .registry import Param, query

__all__ = [
    "allocated_listings",
    "allocation_decisions",
    "allocation_queues",
    "caseworker_actions",
    "caseworkers",
    "fee_standing",
    "interest_withdrawals",
    "login_ips",
    "queue_members",
]

DOMAIN = "fairness"

_LISTINGS = evidence.table("listings")
_CONTRACTS = evidence.table("contracts")
_INTERESTS = evidence.table("interests")
_OFFERS = evidence.table("offers")
_ACTIONS = evidence.table("handler_actions")
_APPLICANTS = evidence.table("applicants")
_FEES = evidence.table("fees")

PERIOD = (
    Param(
        "period_start",
        date,
        None,
        "First closing day of the listings, inclusive (UTC), e.g. 2013-01-01; None: from the first",
    ),
    Param(
        "period_end",
        date,
        None,
        "Last closing day of the listings, inclusive (UTC), e.g. 2015-12-31; None: to the last",
    ),
)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _in_period(column: sa.ColumnElement, start: date | None, end: date | None) -> list[sa.ColumnElement]:
    """Conditions keeping ``column`` within [start, end] by UTC day; none for an open end."""
    conditions = []
    if start is not None:
        conditions.append(column >= _midnight(start))
    if end is not None:
        conditions.append(column < _midnight(end + timedelta(days=1)))
    return conditions


def _contracted_in_period(start: date | None, end: date | None, district: str | None = None) -> sa.Select:
    """Listing ids with a contract whose listing closed in the period (and lies in ``district``, if given)."""
    where = _in_period(_LISTINGS.c.closes_at, start, end)
    if district is not None:
        where.append(_LISTINGS.c.district == district)
    return (
        sa.select(_LISTINGS.c.listing_id)
        .join(_CONTRACTS, _CONTRACTS.c.listing_id == _LISTINGS.c.listing_id)
        .where(*where)
    )


@query(
    domain=DOMAIN,
    description="Listings that ended in a contract, with the tenant, the caseworker and when the queue closed.",
    params=PERIOD,
    sort=("listing_id",),
)
def allocated_listings(period_start: date | None, period_end: date | None) -> sa.Select:
    """One row per contract: the listing's terms, its tenant (``applicant_id``) and caseworker."""
    lst, con = _LISTINGS, _CONTRACTS
    return (
        sa.select(
            lst.c.listing_id,
            lst.c.landlord,
            lst.c.district,
            lst.c.rooms,
            lst.c.rent,
            lst.c.kind,
            lst.c.published_at,
            lst.c.closes_at,
            lst.c.income_rule,
            con.c.applicant_id,
            con.c.handler_id,
            con.c.signed_at,
        )
        .join(con, con.c.listing_id == lst.c.listing_id)
        .where(*_in_period(lst.c.closes_at, period_start, period_end))
    )


@query(
    domain=DOMAIN,
    description="Each allocated listing's queue when it closed: interests registered by then and not withdrawn.",
    params=(
        *PERIOD,
        Param("district", str, None, "Only listings in this district, e.g. Farsta; None: every district"),
    ),
    sort=("listing_id", "applicant_id"),
)
def allocation_queues(period_start: date | None, period_end: date | None, district: str | None) -> sa.Select:
    """Interests in the queue snapshot of every listing that ended in a contract.

    An interest is in the snapshot when it was registered at or before ``closes_at`` and
    not withdrawn by then (``withdrawn_at`` null or after ``closes_at``). The replay reads it
    one (closing year, district) part at a time (:mod:`workbench.fairness.snapshot`).
    """
    i, lst = _INTERESTS, _LISTINGS
    allocated = _contracted_in_period(period_start, period_end, district).subquery("allocated")
    return (
        sa.select(i.c.listing_id, i.c.applicant_id, i.c.registered_at)
        .join(lst, lst.c.listing_id == i.c.listing_id)
        .join(allocated, allocated.c.listing_id == i.c.listing_id)
        .where(
            i.c.registered_at <= lst.c.closes_at,
            sa.or_(i.c.withdrawn_at.is_(None), i.c.withdrawn_at > lst.c.closes_at),
        )
    )


@query(
    domain=DOMAIN,
    description="Every queue member with what the queue rules need: birth date, student flag, income, queue dates, contact.",
    columns={"birth_digits": PII.QUASI},
    sort=("applicant_id",),
)
def queue_members() -> sa.Select:
    """One row per member; ``birth_digits`` is the YYYYMMDD part of the personnummer, e.g. "19850412"."""
    a = _APPLICANTS
    return sa.select(
        a.c.applicant_id,
        sa.func.substr(a.c.personnummer, 1, 8, type_=sa.String()).label("birth_digits"),
        a.c.student,
        a.c.annual_income,
        a.c.queue_start,
        a.c.registered_at,
        a.c.created_by_handler_id,
        a.c.email,
        a.c.phone,
    )


@query(
    domain=DOMAIN,
    description="Per member, the first fee year paid and the last year of the unbroken run of payments from it.",
    columns={"first_paid_year": PII.NONE, "paid_through_year": PII.NONE, "n_years_paid": PII.NONE},
    sort=("applicant_id",),
)
def fee_standing() -> sa.Select:
    """First paid year and paid-through year (before the first unpaid year) per member.

    Within one member, ``year - row_number()`` is constant over a run of consecutive years
    and grows at every gap, so the first run is the one with the smallest value.
    """
    f = _FEES
    numbered = sa.select(
        f.c.applicant_id,
        f.c.year,
        (f.c.year - sa.func.row_number().over(partition_by=f.c.applicant_id, order_by=f.c.year)).label("run"),
    ).subquery("numbered")
    runs = sa.select(
        numbered.c.applicant_id,
        numbered.c.year,
        numbered.c.run,
        sa.func.min(numbered.c.run).over(partition_by=numbered.c.applicant_id).label("first_run"),
    ).subquery("runs")
    return sa.select(
        runs.c.applicant_id,
        sa.cast(sa.func.min(runs.c.year), sa.BigInteger()).label("first_paid_year"),
        sa.cast(sa.func.max(sa.case((runs.c.run == runs.c.first_run, runs.c.year))), sa.BigInteger()).label(
            "paid_through_year"
        ),
        sa.cast(sa.func.count(), sa.BigInteger()).label("n_years_paid"),
    ).group_by(runs.c.applicant_id)


@query(
    domain=DOMAIN,
    description="Recorded decisions on allocated listings: every offer and its response, recorded skips and priority grants.",
    params=PERIOD,
    columns={"decision": PII.NONE, "time": PII.NONE, "reason": PII.FREE_TEXT},
    sort=("listing_id", "time", "applicant_id", "decision"),
)
def allocation_decisions(period_start: date | None, period_end: date | None) -> sa.CompoundSelect:
    """Offers (decision = the response) and ``skip`` / ``priority_grant`` actions, one row each.

    ``reason`` is the caseworker's note: a disqualification ground, a landlord's reason for a
    skip, or a priority decision reference such as "Beslut 2014-0312 medicinsk förtur".
    """
    o, a = _OFFERS, _ACTIONS
    allocated = _contracted_in_period(period_start, period_end).subquery("allocated")
    offers = sa.select(
        o.c.listing_id,
        o.c.applicant_id,
        sa.cast(o.c.response, sa.String()).label("decision"),
        o.c.handler_id,
        o.c.offered_at.label("time"),
        o.c.reason,
    ).join(allocated, allocated.c.listing_id == o.c.listing_id)
    decision = sa.case(
        (a.c.action == "priority_grant", sa.literal("priority", sa.String())), else_=sa.literal("skip", sa.String())
    )
    actions = (
        sa.select(
            a.c.listing_id,
            a.c.applicant_id,
            decision.label("decision"),
            a.c.handler_id,
            a.c.time,
            a.c.new_value.label("reason"),
        )
        .join(allocated, allocated.c.listing_id == a.c.listing_id)
        .where(sa.or_(a.c.action == "skip", a.c.action == "priority_grant"))
    )
    return sa.union_all(offers, actions)


@query(
    domain=DOMAIN,
    description="The caseworkers' audit log in the period (every action but the routine offer_sent).",
    params=PERIOD,
    sort=("time", "action_id"),
)
def caseworker_actions(period_start: date | None, period_end: date | None) -> sa.Select:
    """Audit-log rows of the period by action time; ``offer_sent`` rows duplicate ``offers``."""
    a = _ACTIONS
    return sa.select(
        a.c.action_id,
        a.c.time,
        a.c.handler_id,
        a.c.action,
        a.c.applicant_id,
        a.c.listing_id,
        a.c.old_value,
        a.c.new_value,
    ).where(a.c.action != "offer_sent", *_in_period(a.c.time, period_start, period_end))


@query(
    domain=DOMAIN,
    description="Interests a member withdrew themself (not the system's withdrawal when they signed a contract).",
    sort=("applicant_id", "withdrawn_at", "listing_id"),
)
def interest_withdrawals() -> sa.Select:
    """Withdrawn interests, leaving out those withdrawn at the instant the member signed a lease."""
    i, c = _INTERESTS, _CONTRACTS
    signed = sa.exists().where(c.c.applicant_id == i.c.applicant_id, c.c.signed_at == i.c.withdrawn_at)
    return sa.select(i.c.applicant_id, i.c.listing_id, i.c.withdrawn_at).where(i.c.withdrawn_at.is_not(None), ~signed)


@query(
    domain=DOMAIN,
    description="Client IP addresses each member logged in from, with the number of logins.",
    columns={"n_logins": PII.NONE},
    sort=("applicant_id", "ip"),
)
def login_ips() -> sa.Select:
    """Distinct (member, IP) pairs from the login log; only the logged web period has any."""
    lg = evidence.table("logins")
    return (
        sa.select(lg.c.applicant_id, lg.c.ip, sa.cast(sa.func.count(), sa.BigInteger()).label("n_logins"))
        .where(lg.c.ip.is_not(None))
        .group_by(lg.c.applicant_id, lg.c.ip)
    )


@query(
    domain=DOMAIN,
    description="Caseworkers with their team and employment dates.",
    sort=("handler_id",),
)
def caseworkers() -> sa.Select:
    """The ``handlers`` table."""
    return sa.select(evidence.table("handlers"))
