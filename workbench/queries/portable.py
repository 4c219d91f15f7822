"""SQL functions that each engine spells differently, compiled per dialect.

Every function here returns the same values on SQLite, DuckDB and PostgreSQL, whatever the
session time zone, so queries built from them give identical frames on every engine.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["hour_bucket"]


class hour_bucket(FunctionElement):  # lower case: reads like the SQL function it stands for
    """The UTC hour a timestamp falls in, e.g. 17:42:05Z -> 17:00:00Z, as a timestamp with zone."""

    type = sa.DateTime(timezone=True)
    inherit_cache = True
    name = "hour_bucket"


@compiles(hour_bucket)
def _hour_bucket_default(element, compiler, **kw):
    # Generic SQL (Trino, Spark SQL): date_trunc on a value that the engine keeps in UTC.
    arg = compiler.process(element.clauses, **kw)
    return f"date_trunc('hour', {arg})"


@compiles(hour_bucket, "sqlite")
def _hour_bucket_sqlite(element, compiler, **kw):
    # SQLAlchemy stores SQLite timestamps as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff';
    # produce the same shape so the DateTime result processor parses it back.
    arg = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m-%d %H:00:00.000000', {arg})"


@compiles(hour_bucket, "postgresql")
def _hour_bucket_postgresql(element, compiler, **kw):
    # date_trunc on timestamptz truncates in the session zone (wrong for +05:30 zones);
    # truncate the UTC wall clock instead and mark the result as UTC again.
    arg = compiler.process(element.clauses, **kw)
    return f"(date_trunc('hour', ({arg}) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


@compiles(hour_bucket, "duckdb")
def _hour_bucket_duckdb(element, compiler, **kw):
    # Same reason as PostgreSQL: DuckDB truncates TIMESTAMPTZ in the session TimeZone.
    arg = compiler.process(element.clauses, **kw)
    return f"timezone('UTC', date_trunc('hour', timezone('UTC', {arg})))"
