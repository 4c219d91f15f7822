"""Time arithmetic that each engine spells differently, compiled per dialect.

Two elements, each giving the same values on SQLite, DuckDB and PostgreSQL:

- :class:`add_seconds` shifts a timestamp by a whole number of seconds, e.g. the end of an
  idle session is ``add_seconds(last_request_at, 1200)``;
- :class:`seconds_between` is the signed difference ``end - start`` in seconds.

They sit beside :mod:`workbench.queries.portable`, which holds the hour bucket; both
assume what the case database guarantees: timestamps stored in UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["add_seconds", "seconds_between"]


class add_seconds(FunctionElement):  # lower case: reads like the SQL function it stands for
    """``timestamp + seconds`` for an integer number of seconds (a bound value or a column).

    Example: ``add_seconds(page_views.c.time, sa.bindparam("pad", 1800, sa.BigInteger()))``.
    """

    type = sa.DateTime(timezone=True)
    inherit_cache = True
    name = "add_seconds"


@compiles(add_seconds)
def _add_seconds_default(element, compiler, **kw):
    ts, secs = (compiler.process(c, **kw) for c in element.clauses)
    return f"({ts} + CAST({secs} AS DOUBLE PRECISION) * INTERVAL '1' SECOND)"


@compiles(add_seconds, "sqlite")
def _add_seconds_sqlite(element, compiler, **kw):
    # Timestamps are text 'YYYY-MM-DD HH:MM:SS.ffffff'. SQLite's date functions round the
    # fraction to milliseconds (59.999999 becomes the next second), so shift only the whole
    # seconds (the first 19 characters) and carry the microseconds over as text.
    ts, secs = (compiler.process(c, **kw) for c in element.clauses)
    return f"(strftime('%Y-%m-%d %H:%M:%S', substr({ts}, 1, 19), printf('%+d seconds', {secs})) || substr({ts}, 20))"


@compiles(add_seconds, "postgresql")
def _add_seconds_postgresql(element, compiler, **kw):
    ts, secs = (compiler.process(c, **kw) for c in element.clauses)
    return f"({ts} + make_interval(secs => CAST({secs} AS DOUBLE PRECISION)))"


@compiles(add_seconds, "duckdb")
def _add_seconds_duckdb(element, compiler, **kw):
    ts, secs = (compiler.process(c, **kw) for c in element.clauses)
    return f"({ts} + to_microseconds(CAST({secs} AS BIGINT) * 1000000))"


class seconds_between(FunctionElement):  # lower case, as add_seconds
    """``end - start`` in seconds, as a double; e.g. ``seconds_between(logins.c.time, logouts.c.time)``."""

    type = sa.Double()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    # Whole seconds from strftime('%s') of the first 19 characters (the date functions would
    # round the fraction), microseconds from the text: exact, unlike julianday.
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    whole = f"(CAST(strftime('%s', substr({end}, 1, 19)) AS INTEGER) - CAST(strftime('%s', substr({start}, 1, 19)) AS INTEGER))"
    frac = f"(CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL))"
    return f"CAST({whole} + {frac} AS REAL)"


@compiles(seconds_between, "duckdb")
def _seconds_between_duckdb(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST((epoch_us({end}) - epoch_us({start})) AS DOUBLE) / 1000000.0"
