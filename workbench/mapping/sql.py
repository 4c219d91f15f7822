"""Rows from the organisation's own database: one SQL query per table, any SQLAlchemy URL.

The database is evidence, so it is opened read-only: SQLite with ``mode=ro`` and the same
authorizer as a read-only case (:func:`workbench.readonly.sqlite_authorizer`), then read
columnar through ADBC on a ``mode=ro`` connection (:mod:`.sqlite_read`); any other engine
through SQLAlchemy in a read-only transaction, streamed in batches. A query that fails stops ingest, naming the mapping's
line and key and the database's message; nothing is written.

Values keep the type the driver gives when a column holds one type throughout a batch
(integers, reals, text, booleans, dates and times; a time without a zone is localised with
the mapping's time zone); anything else (SQLite columns of mixed types, decimals) is read
as text and typed like CSV. ``__line`` is the 1-based row of the result. The manifest's
sha256 is of the SQLite file; for a server database, of the rows as read (as CSV, in order).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch
from ..readonly import sqlite_authorizer
from . import sqlite_read
from .files import SourceFile
from .gcpause import gc_paused
from .schema import MappingError

__all__ = ["query_columns", "read_query", "sqlite_parts"]

_TYPES: dict[type, pl.DataType] = {
    int: pl.Int64(),
    float: pl.Float64(),
    str: pl.String(),
    bool: pl.Boolean(),
    datetime: pl.Datetime("us"),
    date: pl.Date(),
}


def _engine(source: SourceFile) -> sa.Engine:
    """The engine of the source's URL; one SQLAlchemy cannot parse, or whose dialect or driver is
    not installed, is a MappingError naming the mapping's line and the URL (not a traceback)."""
    try:
        return _engine_of(source)
    except (sa.exc.ArgumentError, ImportError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, sa.exc.NoSuchModuleError | ImportError):
            what = "names a database dialect that is unknown or whose driver is not installed"
        else:
            what = "is not a database URL SQLAlchemy can read"
        raise MappingError(
            f"{source.spec.where}.url: {source.spec.url!r} {what} ({first}); allowed: a SQLAlchemy URL of an "
            "installed dialect and driver, e.g. sqlite:///queue.db (relative to SOURCE), duckdb:///queue.duckdb, "
            "postgresql://user@host/db"
        ) from None


def _engine_of(source: SourceFile) -> sa.Engine:
    url = sa.make_url(source.spec.url or "")
    if url.get_backend_name() == "sqlite":
        assert source.path is not None
        path = Path(source.path).resolve()
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _authorize(dbapi_connection, _record):
            dbapi_connection.set_authorizer(sqlite_authorizer)

        return engine
    return sa.create_engine(url, isolation_level="AUTOCOMMIT" if url.get_backend_name() == "duckdb" else None)


def _fail(source: SourceFile, exc: Exception) -> MappingError:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if first == "not authorized":  # SQLite's word for what the read-only authorizer denied
        first += " (the source is opened read-only: a query may only read; ATTACH, PRAGMA and writes are refused)"
    return MappingError(f"{source.spec.where}.sql: the query failed on {source.label.rsplit('#', 1)[0]}: {first}")


def _read_only(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def query_columns(source: SourceFile) -> list[str]:
    """The columns the query returns, each once; a failing query is a MappingError.

    SQLite runs the query itself up to its first row (a subquery would rename a repeated
    column ``id:1``); a server database runs it wrapped so that it returns no rows.
    """
    engine = _engine(source)
    try:
        with engine.connect() as conn:
            _read_only(conn)
            if conn.dialect.name == "sqlite":
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                cursor.execute(source.spec.target)
                names = [d[0] for d in cursor.description or ()]
                cursor.close()
            else:
                result = conn.execute(sa.text(f"SELECT * FROM ({source.spec.target}) AS q WHERE 1 = 0"))
                names = list(result.keys())
    except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
        raise _fail(source, exc) from None
    finally:
        engine.dispose()
    return _once(source, names)


def _once(source: SourceFile, names: list[str]) -> list[str]:
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MappingError(
            f"{source.spec.where}.sql: the query returns the column {', '.join(repr(n) for n in twice)} more than "
            "once; allowed: each column once (name them apart with AS, e.g. SELECT a.id, b.id AS b_id)"
        )
    return names


def _column(name: str, values: list) -> pl.Series:
    kinds = {type(v) for v in values if v is not None}
    if len(kinds) == 1 and (kind := kinds.pop()) in _TYPES:
        if kind is datetime and len({v.tzinfo is None for v in values if v is not None}) == 1:
            return pl.Series(name, values, strict=False)
        if kind is not datetime:
            return pl.Series(name, values, dtype=_TYPES[kind])
    if not kinds - {int, float, str, bool} or not kinds:
        return pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String())
    return pl.Series(
        name,
        [None if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values],
        dtype=pl.String(),
    )


def _batches(conn: sa.Connection, query: str, batch_rows: int) -> tuple[list[str], Iterator[Sequence[Sequence]]]:
    """A server database's column names and rows in batches of tuples, streamed from a server-side cursor."""
    result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(sa.text(query))
    return list(result.keys()), iter(lambda: result.fetchmany(batch_rows), [])


def _sqlite_frames(
    source: SourceFile, batch_rows: int, text: frozenset[str], rows: sqlite_read.Rows | None
) -> tuple[list[str], Iterator[pl.DataFrame]]:
    """An SQLite file's column names and batches, columnar through ADBC (:mod:`.sqlite_read`)."""
    assert source.path is not None
    names = sqlite_read.names(source.path, source.spec.target)
    return names, sqlite_read.read_batches(source.path, source.spec.target, names, batch_rows, text, rows)


def sqlite_parts(source: SourceFile, columns: list[str], batch_rows: int) -> list[tuple[sqlite_read.Rows, int]] | None:
    """An SQLite query cut into rowid ranges read apart, each with its first row's number; else None.

    See :func:`.sqlite_read.row_ranges`: only a whole table without gaps in its rowids, of
    more than ``batch_rows`` rows. A query that fails here is read whole, and fails there.
    """
    if source.path is None:
        return None
    try:
        ranges = sqlite_read.row_ranges(source.path, source.spec.target, columns, batch_rows)
    except sqlite3.Error:
        return None
    if ranges is None:
        return None
    return [(r, r[0] - ranges[0][0] + 1) for r in ranges]


def _server_frames(
    conn: sa.Connection, source: SourceFile, batch_rows: int
) -> tuple[list[str], Iterator[pl.DataFrame]]:
    names, batches = _batches(conn, source.spec.target, batch_rows)

    def frames() -> Iterator[pl.DataFrame]:
        while True:
            with gc_paused():
                rows = next(batches, None)
                if not rows:
                    return
                columns = list(zip(*rows, strict=True))
                del rows
                frame = pl.DataFrame([_column(n, list(c)) for n, c in zip(names, columns, strict=True)])
                del columns
            yield frame

    return names, frames()


def read_query(
    source: SourceFile,
    batch_rows: int,
    text: frozenset[str] = frozenset(),
    part: tuple[sqlite_read.Rows, int] | None = None,
) -> Iterator[RawBatch]:
    """Yield the query's rows in batches; for a server database, fill in ``source.sha256`` as read.

    ``text``: columns to read as text from the start (SQLite; see :func:`.sqlite_read.read_batches`).
    ``part``: only the rows of one rowid range of an SQLite table and the number of its
    first row (:func:`sqlite_parts`); the ranges one after the other are the whole query.
    """
    engine = _engine(source) if source.path is None else None
    digest = hashlib.sha256() if source.path is None else None
    rows, row = (None, 0) if part is None else (part[0], part[1] - 1)
    empty = pl.DataFrame(schema=PROBLEMS_SCHEMA)
    try:
        with contextlib.ExitStack() as stack:
            if source.path is not None:
                names, frames = _sqlite_frames(source, batch_rows, text, rows)
            else:
                assert engine is not None
                conn = stack.enter_context(engine.connect())
                _read_only(conn)
                names, frames = _server_frames(conn, source, batch_rows)
            _once(source, names)
            for frame in frames:
                frame = frame.with_columns(pl.int_range(row + 1, row + 1 + frame.height, dtype=pl.Int64).alias(LINE))
                row += frame.height
                if digest is not None:
                    digest.update(
                        frame.drop(LINE).with_columns(pl.all().cast(pl.String)).write_csv(include_header=False).encode()
                    )
                    source.bytes += int(frame.estimated_size())
                yield RawBatch(frame, empty)
            if row == 0 and part is None:
                yield RawBatch(pl.DataFrame(schema={**dict.fromkeys(names, pl.String()), LINE: pl.Int64()}), empty)
    except (sa.exc.SQLAlchemyError, *sqlite_read.ReadError) as exc:
        raise _fail(source, exc) from None
    finally:
        if engine is not None:
            engine.dispose()
    if digest is not None:
        source.sha256 = digest.hexdigest()
