"""Events seen by two sources, for estimating each source's clock offset.

The web server's clock is the reference. Each query pairs an event in another source with
the same event in the web log (or another log that shares it):

- ``contact_form_pairs``: a web-form support message (mail clock, ``received_at``) and the
  contact-form request in the sender's session (web clock, ``viewed_at``);
- ``web_interest_pairs``: an interest registered on the web (queue system, the back office's
  clock, ``registered_at``) and the request that registered it (web clock);
- ``fix_deployment_pairs``: the fix in the incident log and in the deployment log;
- ``login_pause``: the longest pause in web logins around the shutdown, against which the
  incident log's "login disabled" and "login enabled" can be checked.

The estimates themselves are made in polars by :mod:`workbench.incident.clocks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from .. import evidence
from ..evidence import PII
from .registry import FromQuery, Param, query
from .timeshift import add_seconds, seconds_between

__all__ = ["CONTACT_PATH", "contact_form_pairs", "fix_deployment_pairs", "login_pause", "web_interest_pairs"]

DOMAIN = "incident"
CONTACT_PATH = "/kundtjanst/kontakt"
"""Path of the contact form; a web-form message leaves a request for it in the sender's session."""

_MAIL = evidence.table("support_messages")
_LOGINS = evidence.table("logins")
_VIEWS = evidence.table("page_views")
_INTERESTS = evidence.table("interests")
_ACTIONS = evidence.table("incident_actions")
_DEPLOYMENTS = evidence.table("deployments")


def _bound(name: str, value: Any) -> Any:
    """A parameter value as a typed bound value (a placeholder column when describe() shows the SQL)."""
    return value if isinstance(value, sa.ColumnElement) else sa.bindparam(name, value, type_=sa.BigInteger())


@query(
    domain=DOMAIN,
    description="Web-form messages paired with contact-form requests in the sender's sessions within max_offset_minutes.",
    params=(
        Param("path", str, CONTACT_PATH, "Path of the contact form, e.g. /kundtjanst/kontakt"),
        Param("max_offset_minutes", int, 30, "Largest clock difference considered, e.g. 30"),
    ),
    columns={"viewed_at": PII.NONE, "difference_seconds": PII.NONE},
    sort=("received_at", "message_id", "viewed_at", "session_id"),
)
def contact_form_pairs(path: str, max_offset_minutes: int) -> sa.Select:
    """Candidate pairs; a message may pair with several requests and is resolved in polars."""
    pad = _bound("max_offset_minutes", max_offset_minutes) * 60
    low, high = add_seconds(_MAIL.c.received_at, -pad), add_seconds(_MAIL.c.received_at, pad)
    return (
        sa.select(
            _MAIL.c.message_id,
            _MAIL.c.received_at,
            _VIEWS.c.time.label("viewed_at"),
            _VIEWS.c.session_id,
            seconds_between(_VIEWS.c.time, _MAIL.c.received_at).label("difference_seconds"),
        )
        .select_from(
            _MAIL.join(_LOGINS, _LOGINS.c.applicant_id == _MAIL.c.sender_applicant_id).join(
                _VIEWS, _VIEWS.c.session_id == _LOGINS.c.session_id
            )
        )
        .where(
            _MAIL.c.channel == "web_form",
            _VIEWS.c.path == path,
            _VIEWS.c.time >= low,
            _VIEWS.c.time <= high,
        )
    )


@query(
    domain=DOMAIN,
    description="Interests registered on the web paired with the request that registered them (queue system vs web).",
    columns={"viewed_at": PII.NONE, "difference_seconds": PII.NONE},
    sort=("registered_at", "listing_id", "applicant_id", "viewed_at"),
)
def web_interest_pairs() -> sa.Select:
    """Each web interest and the ``/lagenhet/{listing_id}/intresse`` requests of its session."""
    path = (
        sa.literal("/lagenhet/", sa.String())
        + sa.cast(_INTERESTS.c.listing_id, sa.String())
        + sa.literal("/intresse", sa.String())
    )
    return (
        sa.select(
            _INTERESTS.c.listing_id,
            _INTERESTS.c.applicant_id,
            _INTERESTS.c.registered_at,
            _VIEWS.c.time.label("viewed_at"),
            seconds_between(_VIEWS.c.time, _INTERESTS.c.registered_at).label("difference_seconds"),
        )
        .select_from(_INTERESTS.join(_VIEWS, _VIEWS.c.session_id == _INTERESTS.c.session_id))
        .where(_INTERESTS.c.session_id.is_not(None), _VIEWS.c.path == path)
    )


@query(
    domain=DOMAIN,
    description="The fix as the incident log and the deployment log record it, within max_offset_hours of each other.",
    params=(Param("max_offset_hours", int, 24, "Largest clock difference considered, e.g. 24"),),
    columns={"logged_at": PII.NONE, "deployed_at": PII.NONE, "version": PII.NONE, "difference_seconds": PII.NONE},
    sort=("logged_at", "deployed_at"),
)
def fix_deployment_pairs(max_offset_hours: int) -> sa.Select:
    """Every (fix_deployed action, deployment) pair close in time; the nearest is used."""
    pad = _bound("max_offset_hours", max_offset_hours) * 3600
    return sa.select(
        _ACTIONS.c.time.label("logged_at"),
        _DEPLOYMENTS.c.time.label("deployed_at"),
        _DEPLOYMENTS.c.version,
        seconds_between(_DEPLOYMENTS.c.time, _ACTIONS.c.time).label("difference_seconds"),
    ).where(
        _ACTIONS.c.action == "fix_deployed",
        _DEPLOYMENTS.c.time >= add_seconds(_ACTIONS.c.time, -pad),
        _DEPLOYMENTS.c.time <= add_seconds(_ACTIONS.c.time, pad),
    )


def _longest_pause(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """Keep the longest pause between consecutive logins (the earliest if tied)."""
    pauses = frame.drop_nulls("paused_at").with_columns(
        pause_hours=(pl.col("resumed_at") - pl.col("paused_at")).dt.total_microseconds() / 3.6e9
    )
    return pauses.sort(["pause_hours", "paused_at"], descending=[True, False]).head(1)


@query(
    domain=DOMAIN,
    description="The longest pause between consecutive web logins in [start, end): when logins stopped and resumed.",
    params=(
        Param(
            "start",
            datetime,
            FromQuery("incident_window", "login_disabled_at", timedelta(days=-1)),
            "Window start, e.g. 2013-12-15T07:41:00+00:00",
        ),
        Param(
            "end",
            datetime,
            FromQuery("incident_window", "login_enabled_at", timedelta(days=1)),
            "Window end, exclusive, e.g. 2013-12-19T10:05:00+00:00",
        ),
    ),
    columns={"paused_at": PII.NONE, "resumed_at": PII.NONE, "pause_hours": PII.NONE},
    sort=("resumed_at",),
    finish=_longest_pause,
)
def login_pause(start: datetime, end: datetime) -> sa.Select:
    """Each login with the one before it; polars keeps the longest gap."""
    t = _LOGINS.c.time
    inner = (
        sa.select(
            t.label("resumed_at"),
            sa.func.lag(t, type_=sa.DateTime(timezone=True))
            .over(order_by=(t, _LOGINS.c.session_id))
            .label("paused_at"),
        )
        .where(t >= start, t < end)
        .subquery("consecutive")
    )
    return sa.select(inner.c.paused_at, inner.c.resumed_at)
