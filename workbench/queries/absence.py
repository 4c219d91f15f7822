"""What a case lacks: the evidence tables that had no file at ingest, and a window when milestones are missing.

A table without a file is created empty by ingest, so every query runs; ``manifest_absent``
records that it is absent, and why. The analyses read :func:`absent` to tell "not in the
evidence" from "nothing happened", and record the figures that need an absent table as
unknown (:mod:`workbench.needs`).

>>> absent(case)                                                    # doctest: +SKIP
{'support_messages': 'no file at ingest'}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from .. import evidence
from ..case import CaseLike, case_metadata
from ..evidence import PII
from .registry import query
from .runner import run

__all__ = ["absent", "absent_tables", "log_span", "window_bounds", "window_or_span"]

_ABSENT = case_metadata.tables["manifest_absent"]
_NO_LOG = datetime(1970, 1, 1, tzinfo=UTC)  # the start of a window in which nothing happened: no web log


@query(
    domain="overview",
    description="Evidence tables that had no file at ingest, why, and the files ingest looked for.",
    columns={c.name: PII.NONE for c in _ABSENT.columns},
    sort=("table",),
)
def absent_tables() -> sa.Select:
    """Every ``manifest_absent`` row."""
    return sa.select(_ABSENT)


def _never_empty(frame: pl.DataFrame, values: Mapping[str, Any]) -> pl.DataFrame:
    """The end a second after the last request (windows exclude their end); with no web log at all,
    an hour in 1970 in which nothing happened, so window defaults still resolve."""
    return frame.with_columns(
        pl.col("first_at").fill_null(_NO_LOG),
        (pl.col("last_at") + pl.duration(seconds=1)).fill_null(_NO_LOG + timedelta(hours=1)),
    )


@query(
    domain="overview",
    description="First request and just after the last one in the web log (logins and page views): the window "
    "when no milestone bounds it.",
    columns={"first_at": PII.NONE, "last_at": PII.NONE},
    finish=_never_empty,
)
def log_span() -> sa.Select:
    """One row: the earliest time in logins and page views, and a second after the latest (end exclusive)."""
    times = sa.union_all(
        sa.select(evidence.table("logins").c.time.label("t")),
        sa.select(evidence.table("page_views").c.time.label("t")),
    ).subquery()
    return sa.select(sa.func.min(times.c.t).label("first_at"), sa.func.max(times.c.t).label("last_at"))


def _has_absent_table(case: CaseLike) -> bool:
    from .runner import _connect

    with _connect(case) as conn:
        return sa.inspect(conn).has_table("manifest_absent")


def absent(case: CaseLike) -> dict[str, str]:
    """``{table: why}`` for every evidence table the case has no file for, in declared order.

    A case ingested before ``manifest_absent`` existed has none; there a table without a
    manifest row had no file, which is what ingest would have recorded.
    """
    if _has_absent_table(case):
        found = dict(run("absent_tables", case).select("table", "reason").iter_rows())
    else:
        files = set(run("manifest", case)["table"].to_list())
        found = {t: "no file at ingest (no manifest row)" for t in evidence.TABLES if t not in files}
    return {t: found[t] for t in evidence.TABLES if t in found}


def window_bounds(
    window: Mapping[str, Any], case: CaseLike, start: datetime | None = None, end: datetime | None = None
) -> tuple[datetime, datetime]:
    """[start, end) of an analysis over the incident: as given, else deployment to fix (``window``, the
    ``incident_window`` row), else the web log's span (:func:`window_or_span`), read only when needed."""
    start = start or window.get("deployed_at")
    end = end or window.get("fix_deployed_at")
    if start is None or end is None:
        # Without the deployment or the fix in the evidence the web log's span stands in, so every
        # answer that does not need them is still given; those that do are recorded as unknown.
        span = window_or_span(window, case)
        start = start or span["deployed_at"]
        end = end or span["fix_deployed_at"]
    return start, end


def window_or_span(window: Mapping[str, Any], case: CaseLike) -> dict[str, datetime]:
    """The incident window's milestones, each missing one replaced by the web log's span.

    ``window`` is the ``incident_window`` row. The deployment falls back to the first request
    of the web log; login disabled, the fix and login re-enabled to just after its last one
    (with no web log at all, an hour in 1970 in which nothing happened). The figures that need
    a missing milestone are recorded as unknown (:mod:`workbench.needs`): the fallback only
    lets the rest of the analysis run.
    """
    span = run("log_span", case).row(0, named=True)
    return {
        "deployed_at": window.get("deployed_at") or span["first_at"],
        "login_disabled_at": window.get("login_disabled_at") or span["last_at"],
        "fix_deployed_at": window.get("fix_deployed_at") or span["last_at"],
        "login_enabled_at": window.get("login_enabled_at") or span["last_at"],
    }
