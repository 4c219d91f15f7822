"""The one runner: execute a registered query on any engine and return a polars frame.

Frames are conformed to the polars dtypes derived from the select's declared column types,
so the same query gives identical frames on SQLite, DuckDB and PostgreSQL: SQLite returns
naive (or text) timestamps, DuckDB returns TIMESTAMPTZ in the session zone, and sums come
back as Decimal on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ..case import CaseLike, open_case
from ..errors import UnknownNameError, WorkbenchError
from ..evidence import PII, polars_dtype
from .registry import REQUIRED, FromQuery, Query, QueryParameterError, get

__all__ = [
    "DIALECTS",
    "column_tags",
    "conform",
    "describe",
    "dialect",
    "last_params",
    "run",
    "run_parts",
    "run_together",
]

# query name -> the parameters given to its latest run in this process (coerced), for provenance.
_LAST_GIVEN: dict[str, dict[str, Any]] = {}
_VARIED: set[str] = set()  # queries run with more than one set of parameters

DIALECTS: tuple[str, ...] = ("sqlite", "duckdb", "postgresql")

_SA_TYPES: dict[type, sa.types.TypeEngine] = {
    bool: sa.Boolean(),
    int: sa.BigInteger(),
    float: sa.Double(),
    str: sa.String(),
    datetime: sa.DateTime(timezone=True),
    date: sa.Date(),
}


def dialect(name: str) -> Dialect:
    """A SQLAlchemy dialect by engine name (``"sqlite"``, ``"duckdb"``, ``"postgresql"``)."""
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import psycopg

        return psycopg.dialect()
    if name == "duckdb":
        try:
            import duckdb_engine
        except ImportError:
            raise WorkbenchError("the duckdb dialect needs duckdb-engine: pip install duckdb-engine") from None
        return duckdb_engine.Dialect()
    raise UnknownNameError("dialect", name, DIALECTS)


@contextmanager
def _connect(case: CaseLike) -> Iterator[sa.Connection]:
    """A connection from a Case, Engine, Connection or URL; only what we opened is closed."""
    if isinstance(case, sa.Connection):
        yield case
        return
    if isinstance(case, (str, sa.URL, os.PathLike)):
        opened = open_case(Path(case) if isinstance(case, os.PathLike) else case)  # read-only on every engine
        try:
            with opened.connect() as conn:
                yield conn
        finally:
            opened.close()
        return
    if isinstance(case, sa.Engine):
        with case.connect() as conn:
            yield conn
        return
    if hasattr(case, "engine") and hasattr(case, "connect"):
        with case.connect() as conn:
            yield conn
        return
    raise WorkbenchError(
        f"cannot run a query on {case!r} ({type(case).__name__}); pass a case from "
        "workbench.open_case(url), a SQLAlchemy Engine or Connection, or a case URL or path "
        "such as 'duckdb:///runs/demo/case.duckdb'"
    )


def _conform_series(s: pl.Series, target: pl.DataType) -> pl.Series:
    if isinstance(target, pl.Datetime):
        if s.dtype == pl.String:
            s = s.str.to_datetime(time_unit="us")
        if isinstance(s.dtype, pl.Datetime):
            # Naive values are UTC by the evidence contract; zoned ones are only relabelled.
            s = s.dt.replace_time_zone("UTC") if s.dtype.time_zone is None else s.dt.convert_time_zone("UTC")
            return s.dt.cast_time_unit("us")
    elif isinstance(target, pl.Date):
        if s.dtype == pl.String:
            return s.str.to_date()
        if isinstance(s.dtype, pl.Datetime):
            return s.dt.date()
    return s.cast(target)


def conform(frame: pl.DataFrame, stmt: sa.Select | sa.CompoundSelect) -> pl.DataFrame:
    """``frame`` with each column cast to the polars dtype of the select's declared column type."""
    targets = {c.name: polars_dtype(c.type) for c in stmt.selected_columns}
    columns = []
    for s in frame.get_columns():
        target = targets.get(s.name)
        columns.append(s if target is None or s.dtype == target else _conform_series(s, target))
    return pl.DataFrame(columns)


# DuckDB warns that Arrow from a DB-API cursor copies rows; for our result sizes that copy is
# cheaper than bypassing SQLAlchemy's bound parameters. Set once, here: `warnings.catch_warnings`
# around each read is not thread-safe (queries run on threads, e.g. the fairness replay's
# read-ahead), and one thread's exit could restore the filters while another still read.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def _read(stmt: sa.Select | sa.CompoundSelect, conn: sa.Connection) -> pl.DataFrame:
    # Infer from every row: a nullable column whose first 100 rows are null would
    # otherwise be typed Null on row-based drivers (SQLite, psycopg) and then fail.
    return pl.read_database(stmt, conn, infer_schema_length=None)


def _derive(q: Query, name: str, source: FromQuery, conn: sa.Connection, cache: dict) -> Any:
    if source.query not in cache:
        cache[source.query] = _execute(get(source.query), get(source.query).bind({}), conn, cache)
    frame = cache[source.query]
    value = frame[source.column][0] if frame.height else None
    if value is None and source.fallback is not None:
        return _derive(q, name, source.fallback, conn, cache)
    if value is None:
        raise QueryParameterError(
            f"parameter {name!r} of query {q.name!r} defaults to {source}, which is empty in this "
            f"case; pass {name}=... explicitly"
        )
    return q.param(name).coerce(value + source.offset, q.name, q.params)


def _execute(q: Query, values: dict[str, Any], conn: sa.Connection, cache: dict) -> pl.DataFrame:
    for name, value in values.items():
        if isinstance(value, FromQuery):
            values[name] = _derive(q, name, value, conn, cache)
    stmt = q.build(**values)
    frame = conform(_read(stmt, conn), stmt)
    if q.sort:
        frame = frame.sort(list(q.sort), nulls_last=True, maintain_order=True)
    if q.finish is not None:
        frame = q.finish(frame, values)
    return frame


def run(name: str, case: CaseLike, **params: Any) -> pl.DataFrame:
    """Run query ``name`` on ``case`` with ``params`` and return the result as a polars frame.

    ``case`` is a case from ``workbench.open_case``, a SQLAlchemy Engine or Connection, or a
    URL such as ``"sqlite:///case.db"``. Example: ``run("table_counts", case)``.
    """
    q = get(name)
    values = q.bind(params)
    _remember(q, params, values)
    with _connect(case) as conn:
        return _execute_recorded(q, values, conn)


def run_together(
    case: CaseLike, stmt: sa.Select | sa.CompoundSelect, parts: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> dict[str, pl.DataFrame]:
    """Run ``stmt``, one statement answering several registered queries, and return each query's frame.

    ``parts`` maps a query name to (the prefix of its columns in ``stmt``, its parameters);
    ``stmt``'s ``part`` column names the query each row belongs to. A query's columns are
    those carrying its prefix (stripped); with prefix ``""``, those carrying no other part's.
    Each frame is conformed (to ``stmt``'s column types: a part's columns must be typed as
    its query types them), sorted and journalled as :func:`run` of that query would, so it
    is the frame ``run(name, case, **params)`` gives (e.g.
    :func:`workbench.queries.exposure.window_sessions_with_foreign_pages`).
    """
    prefixes = [prefix for prefix, _ in parts.values() if prefix]
    out: dict[str, pl.DataFrame] = {}
    with _connect(case) as conn:
        frame = conform(_read(stmt, conn), stmt)  # once, without building each query's select again
        for name, (prefix, params) in parts.items():
            q = get(name)
            values = q.bind(params)
            _remember(q, params, values)
            if prefix:
                cols = {c: c.removeprefix(prefix) for c in frame.columns if c.startswith(prefix)}
            else:
                cols = {c: c for c in frame.columns if c != "part" and not c.startswith(tuple(prefixes))}
            part = frame.filter(pl.col("part") == name).select(list(cols)).rename(cols)
            if q.sort:
                part = part.sort(list(q.sort), nulls_last=True, maintain_order=True)
            if q.finish is not None:
                part = q.finish(part, values)
            out[name] = _execute_recorded(q, values, conn, part)
    return out


def run_parts(name: str, case: CaseLike, parts: Iterable[Mapping[str, Any]], **params: Any) -> Iterator[pl.DataFrame]:
    """Run query ``name`` once per part, on one connection, and yield each part's frame in turn.

    Each part's parameters (e.g. ``{"period_start": ..., "district": "Farsta"}``) override
    ``params``. For a result too large to hold at once whose parts are read one after another
    (the replay's queue rows, a (year, district) at a time). Each part's run is journalled with
    its own parameters; the provenance findings cite (:func:`last_params`) is that of
    ``run(name, case, **params)``, the query the parts together answer.
    """
    q = get(name)
    _remember(q, params, q.bind(params))  # now, not when the first part is asked for
    return _run_each(q, case, parts, params)


def _run_each(
    q: Query, case: CaseLike, parts: Iterable[Mapping[str, Any]], params: Mapping[str, Any]
) -> Iterator[pl.DataFrame]:
    with _connect(case) as conn:
        for part in parts:
            yield _execute_recorded(q, q.bind({**params, **part}), conn)


def _remember(q: Query, params: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Keep the parameters given explicitly to a run of ``q`` for :func:`last_params`."""
    given = {k: values[k] for k, v in params.items() if v is not None and k in values}
    if _LAST_GIVEN.setdefault(q.name, given) != given:
        _VARIED.add(q.name)
        _LAST_GIVEN[q.name] = given


def _execute_recorded(
    q: Query, values: dict[str, Any], conn: sa.Connection, frame: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Run ``q`` (unless ``frame`` holds its result, e.g. a part of :func:`run_together`'s) and journal the run."""
    if frame is None:
        frame = _execute(q, values, conn, {})
    from ..notes.record import record_query

    record_query(conn, q.name, values, frame)  # only where the case has a notes database
    return frame


def last_params(name: str) -> tuple[dict[str, Any], bool] | None:
    """(parameters given to the latest run of query ``name`` in this process, whether earlier runs differed).

    None if it has not run. Only values passed explicitly are kept (defaults are the
    query's own), so a finding can say which values produced it: ``Findings.record(...,
    query=name)`` stores them.
    """
    name = get(name).name
    return None if name not in _LAST_GIVEN else (dict(_LAST_GIVEN[name]), name in _VARIED)


def _statement(q: Query, params: Mapping[str, Any], conn: sa.Connection | None) -> tuple[Any, dict, bool]:
    """The select for display: given values, defaults, and ``:name`` placeholders for the rest."""
    for name in params:
        q.param(name)
    values: dict[str, Any] = {}
    complete = True
    for p in q.params:
        given = params.get(p.name)
        if given is not None:
            values[p.name] = p.coerce(given, q.name, q.params)
        elif isinstance(p.default, FromQuery) and conn is not None:
            values[p.name] = _derive(q, p.name, p.default, conn, {})
        elif p.default is REQUIRED or isinstance(p.default, FromQuery):
            # Display only: shows ":start" where the runner would bind the value.
            values[p.name] = sa.literal_column(f":{p.name}", _SA_TYPES[p.type])
            complete = False
        else:
            values[p.name] = p.default
    return q.build(**values), values, complete


def describe(name: str, case: CaseLike | None = None, **params: Any) -> str:
    """Help text of query ``name`` and its SQL compiled for the case's engine.

    ``case`` may be a case, Engine, Connection, URL, or just a dialect name (``"duckdb"``);
    without it the SQL is shown for SQLite, the default engine. Values are rendered inline
    for reading only; the runner always sends them as bound parameters.
    """
    q = get(name)
    if case is None or (isinstance(case, str) and case in DIALECTS):
        stmt, values, complete = _statement(q, params, None)
        target = dialect(case or "sqlite")
    else:
        with _connect(case) as conn:
            stmt, values, complete = _statement(q, params, conn)
            target = conn.dialect
    sql = stmt.compile(dialect=target, compile_kwargs={"literal_binds": True})
    shown = {k: v for k, v in values.items() if not isinstance(v, sa.ColumnElement)}
    lines = [q.help(), ""]
    if shown:
        lines.append(
            "Values: " + ", ".join(f"{k}={v.isoformat() if hasattr(v, 'isoformat') else v}" for k, v in shown.items())
        )
    if not complete:
        lines.append("Parameters without a value are shown as :name.")
    lines += [f"SQL ({target.name}):", str(sql).strip()]
    return "\n".join(lines)


def column_tags(name: str) -> dict[str, PII]:
    """Personal-data tags of query ``name``'s output columns that the query itself knows.

    Declared tags of derived columns come first; a column selected straight from a table
    (or relabelled) keeps its table tag. Other columns are left to the audience layer's
    by-name lookup across the evidence tables.
    """
    q = get(name)
    stmt, _, _ = _statement(q, {}, None)
    tags: dict[str, PII] = {}
    for col in stmt.selected_columns:
        base = col.element if isinstance(col, sa.Label) else col
        if isinstance(base, sa.Column) and "pii" in base.info:
            tags[col.name] = base.info["pii"]
    tags.update(q.columns)
    return tags
