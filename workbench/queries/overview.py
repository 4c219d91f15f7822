"""Overview queries: what is in the case, how it was ingested, and the incident's shape in time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from .. import evidence
from ..case import case_metadata
from ..evidence import PII
from .portable import hour_bucket
from .registry import FromQuery, Param, QueryParameterError, query

__all__ = [
    "activity_per_hour",
    "incident_window",
    "incident_window_select",
    "manifest",
    "quarantine_summary",
    "table_counts",
]

DOMAIN = "overview"


def _in_declared_order(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """Rows in the order the evidence format declares its tables."""
    order = {name: i for i, name in enumerate(evidence.TABLES)}
    return frame.sort(pl.col("table").replace_strict(order, return_dtype=pl.Int64))


@query(
    domain=DOMAIN,
    description="Rows per evidence table, one row per table in declared order.",
    columns={"table": PII.NONE, "rows": PII.NONE},
    finish=_in_declared_order,
)
def table_counts() -> sa.CompoundSelect:
    """Count the rows of every evidence table in one UNION ALL."""
    return sa.union_all(
        *(
            sa.select(sa.literal(name, sa.String()).label("table"), sa.func.count().label("rows")).select_from(
                evidence.table(name)
            )
            for name in evidence.TABLES
        )
    )


_MANIFEST = case_metadata.tables["manifest"]
_QUARANTINE = case_metadata.tables["quarantine"]


@query(
    domain=DOMAIN,
    description="The ingest manifest: one row per input file with its sha256 and row reconciliation.",
    columns={c.name: PII.NONE for c in _MANIFEST.columns},
    sort=("path",),
)
def manifest() -> sa.Select:
    """Every manifest row: the chain of custody of each input file."""
    return sa.select(_MANIFEST)


def _quoted_values_out(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """Put ``'…'`` for the other columns' quoted values too (``also: protected_identity: '0' …``), and count again."""
    keys = ["file", "table", "column", "reason"]
    return (
        frame.with_columns(pl.col("reason").str.replace_all(r"'[^']*'", "'…'"))
        .group_by(keys, maintain_order=True)
        .agg(pl.col("n").sum().cast(frame.schema["n"]))
        .sort(keys, nulls_last=True, maintain_order=True)
    )


@query(
    domain=DOMAIN,
    description="Quarantined rows counted per file, table, column and reason.",
    columns={"file": PII.NONE, "table": PII.NONE, "column": PII.NONE, "reason": PII.NONE, "n": PII.NONE},
    sort=("file", "table", "column", "reason"),
    finish=_quoted_values_out,
)
def quarantine_summary() -> sa.Select:
    """Group the quarantine by where and why; the offending values stay out of the result.

    A reason quotes its row's value (``duplicate key applicant_id=1048213``, ``'sms' is not an
    allowed value``); the summary, which every audience's case overview shows, puts ``…`` in
    its place. The value may be a customer number or a personnummer, and with it in the page the
    auditor and public sets failed their leak scan. The quarantine table keeps it.
    """
    q = _QUARANTINE
    no_value = sa.or_(q.c.value.is_(None), q.c.value == "")
    reason = sa.case((no_value, q.c.reason), else_=sa.func.replace(q.c.reason, q.c.value, "…"))
    keys = (q.c.file, q.c.table, q.c.column, reason.label("reason"))
    return sa.select(*keys, sa.func.count().label("n")).group_by(*keys[:3], reason)


def incident_window_select() -> sa.Select:
    """One row: deployed_at, login_disabled_at, fix_deployed_at, login_enabled_at (UTC).

    The start of the incident is taken as the latest deployment at or before the first
    incident action.
    """
    actions = evidence.table("incident_actions")
    deployments = evidence.table("deployments")

    def first(action: str) -> sa.ScalarSelect:
        return sa.select(sa.func.min(actions.c.time)).where(actions.c.action == action).scalar_subquery()

    first_action = sa.select(sa.func.min(actions.c.time)).scalar_subquery()
    deployed = sa.select(sa.func.max(deployments.c.time)).where(deployments.c.time <= first_action)
    return sa.select(
        deployed.scalar_subquery().label("deployed_at"),
        first("login_disabled").label("login_disabled_at"),
        first("fix_deployed").label("fix_deployed_at"),
        first("login_enabled").label("login_enabled_at"),
    )


@query(
    domain=DOMAIN,
    description="The incident window: the deployment that opened it, login disabled, fix deployed, login enabled.",
    columns={
        "deployed_at": PII.NONE,
        "login_disabled_at": PII.NONE,
        "fix_deployed_at": PII.NONE,
        "login_enabled_at": PII.NONE,
    },
)
def incident_window() -> sa.Select:
    """The milestones that bound the incident, as one row."""
    return incident_window_select()


# (output column, table, time column): what activity_per_hour counts.
_ACTIVITY = (
    ("n_logins", "logins", "time"),
    ("n_page_views", "page_views", "time"),
    ("n_profile_changes", "profile_changes", "time"),
    ("n_support_messages", "support_messages", "received_at"),
)


def _fill_hours(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """Every hour from start to end is a row; hours without activity count 0."""
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
    counts = [name for name, _, _ in _ACTIVITY]
    return grid.to_frame().join(frame, on="hour", how="left").with_columns(pl.col(counts).fill_null(0)).sort("hour")


@query(
    domain=DOMAIN,
    description="Logins, page views, profile changes and support messages per UTC hour from start to end.",
    params=[
        Param(
            "start",
            datetime,
            FromQuery("incident_window", "deployed_at", timedelta(days=-1), FromQuery("log_span", "first_at")),
            "Window start, inclusive, e.g. 2013-12-12T17:00:00+00:00",
        ),
        Param(
            "end",
            datetime,
            FromQuery("incident_window", "fix_deployed_at", timedelta(days=1), FromQuery("log_span", "last_at")),
            "Window end, exclusive, e.g. 2013-12-19T12:00:00+00:00",
        ),
    ],
    columns={"hour": PII.NONE, **{name: PII.NONE for name, _, _ in _ACTIVITY}},
    sort=("hour",),
    finish=_fill_hours,
)
def activity_per_hour(start: datetime, end: datetime) -> sa.Select:
    """Count each kind of activity per hour on the engine, then pivot to one column per kind."""
    if isinstance(start, datetime) and isinstance(end, datetime) and start >= end:
        raise QueryParameterError(
            f"activity_per_hour needs start before end, got start={start.isoformat()} end={end.isoformat()}"
        )
    branches = []
    for _, table_name, time_name in _ACTIVITY:
        ts = evidence.table(table_name).c[time_name]
        bucket = hour_bucket(ts)
        branches.append(
            sa.select(
                bucket.label("hour"), sa.literal(table_name, sa.String()).label("source"), sa.func.count().label("n")
            )
            .where(ts >= start, ts < end)
            .group_by(bucket)
        )
    per_source = sa.union_all(*branches).subquery("per_source")
    pivot = [
        sa.cast(
            sa.func.sum(sa.case((per_source.c.source == table_name, per_source.c.n), else_=0)), sa.BigInteger()
        ).label(column)
        for column, table_name, _ in _ACTIVITY
    ]
    return sa.select(per_source.c.hour, *pivot).group_by(per_source.c.hour)
