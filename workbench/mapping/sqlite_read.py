"""An SQLite query's rows as Arrow batches, through ADBC's SQLite driver: columnar, no Python rows.

Read-only twice over: the query is first prepared (``SELECT * FROM (query) LIMIT 0``) through
:mod:`sqlite3` on a ``mode=ro`` connection with the read-only authorizer
(:func:`workbench.readonly.sqlite_authorizer`), which refuses ``ATTACH``, writes, DDL and a
second statement; then ADBC runs it as a subquery, so it can only be one ``SELECT``, on its
own ``mode=ro`` connection (:func:`connect`), where a write fails too. A blob is read as its
SQL literal, ``x'00FF'``.

ADBC fixes each column's Arrow type from its first batch (a column null throughout it is
taken for integers) and fails when a later value is of another kind: an INTEGER column
holding a text, a column null for the first batch, which an organisation's database has.
Then the read goes on from the next row not yet read (``OFFSET``, the same query on the same
SQLite, so the same order) with that column as text, behind a first row that types it so.
So a column keeps the one type it holds in a batch, or is text, as :mod:`.sql` always did.
The columns a mapping reads only as text (:func:`workbench.mapping.transform.text_sources`)
are text from the first row: nothing is inferred for them, so the usual case of a column null
for its first batch (a session recorded only in later years) is not read twice.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path

import adbc_driver_manager.dbapi as adbc
import adbc_driver_sqlite
import adbc_driver_sqlite.dbapi
import polars as pl
import pyarrow as pa

from ..readonly import sqlite_authorizer

__all__ = ["ReadError", "Rows", "connect", "names", "read_batches", "row_ranges"]

ReadError = (adbc.Error, sqlite3.Error, OSError)
Rows = tuple[int, int]  # rowids lo (included) to hi (not)


def _uri(path: Path) -> str:
    return Path(path).resolve().as_uri() + "?mode=ro"


def connect(path: Path) -> adbc.Connection:
    """An ADBC connection to the SQLite file at ``path``, opened read-only (``mode=ro``)."""
    return adbc_driver_sqlite.dbapi.connect(_uri(path))


def _subquery(query: str) -> str:
    # Own lines, so that a trailing "-- comment" in the query cannot swallow the parenthesis;
    # a trailing semicolon would end the statement inside it.
    return "(\n" + query.strip().rstrip(";").rstrip() + "\n)"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def names(path: Path, query: str) -> list[str]:
    """The query's column names, prepared on a read-only ``sqlite3`` connection with the authorizer.

    Raises ``sqlite3.Error`` for a query that fails or would write.
    """
    con = sqlite3.connect(_uri(path), uri=True)
    try:
        con.set_authorizer(sqlite_authorizer)
        cursor = con.execute(f"SELECT * FROM {_subquery(query)} LIMIT 0")
        return [d[0] for d in cursor.description or ()]
    finally:
        con.close()


def _as_text(c: str) -> str:
    literal = "'x''' || hex(" + c + ") || ''''"
    # No CAST: in a column typed text (by the first row), ADBC takes a number's text from SQLite.
    # Blobs are the one kind at or after the empty blob (numbers < text < blobs; NULL compares
    # to nothing), whatever the column's affinity: one comparison a value, where typeof() made
    # a string and compared it (interests' 12 M rows: about 2 of 9 CPU-s).
    return f"CASE WHEN {c} >= x'' THEN {literal} ELSE {c} END AS {c}"


# A query reading a whole table, whose rows come in the table's order however it is wrapped.
_WHOLE_TABLE = re.compile(r'^\s*SELECT\s+\*\s+FROM\s+("[^"]+"|\w+)\s*;?\s*$', re.IGNORECASE)


def _wrapped(
    query: str, columns: list[str], text: set[int], offset: int, rows: Rows | None = None, guard: bool = True
) -> str:
    if rows is not None:  # a range of a table's rowids (:func:`row_ranges`): its rows, from its start
        table = _table(query)
        assert table is not None
        # Unguarded (:func:`_unguarded`): the text columns as stored, no blob test a value
        shown = ", ".join(_as_text(_quoted(c)) if i in text and guard else _quoted(c) for i, c in enumerate(columns))
        rest = f"SELECT {shown} FROM {table} WHERE _rowid_ >= {rows[0] + offset} AND _rowid_ < {rows[1]}"
    elif not text and not offset:
        return f"SELECT * FROM {_subquery(query)}"
    else:
        shown = ", ".join(_as_text(_quoted(c)) if i in text else _quoted(c) for i, c in enumerate(columns))
        if offset or not _WHOLE_TABLE.match(query):
            rest = f"SELECT * FROM (SELECT {shown} FROM {_subquery(query)} LIMIT -1 OFFSET {offset})"
        else:  # a table read whole from its start: SQLite streams it without copying every row (a sixth less CPU)
            rest = f"SELECT {shown} FROM {_subquery(query)}"
    if not text:
        return rest
    typed = ["''" if i in text else "NULL" for i in range(len(columns))]
    first = ", ".join(f"{t} AS {_quoted(c)}" for t, c in zip(typed, columns, strict=True))
    return f"SELECT {first} UNION ALL {rest}"


def _table(query: str) -> str | None:
    """The table a whole-table query (``SELECT * FROM t``) reads, as written in it, else None."""
    m = _WHOLE_TABLE.match(query)
    return m.group(1) if m else None


def row_ranges(path: Path, query: str, columns: list[str], batch_rows: int) -> list[Rows] | None:
    """The query's rows cut into rowid ranges ``[lo, hi)`` of ``batch_rows`` rows each, or None.

    Only for a query reading one table whole (``SELECT * FROM t``) that SQLite answers by
    walking the table itself, in rowid order, with rowids without gaps (no row deleted), and
    more than ``batch_rows`` rows: then the range starting at rowid ``lo`` holds rows
    ``lo - first rowid + 1`` … of the query, in the same order, and the ranges can be read
    apart (:mod:`.prefetch` reads two at once). Anything else (a view, a join, an index the
    plan walks instead, a ``WITHOUT ROWID`` table, a column named like the rowid, gaps):
    None, and the query is read whole, from its start.
    """
    table = _table(query)
    if table is None or {c.lower() for c in columns} & {"rowid", "_rowid_", "oid"}:
        return None
    name = table[1:-1].replace('""', '"') if table.startswith('"') else table
    con = sqlite3.connect(_uri(path), uri=True)
    try:
        con.set_authorizer(sqlite_authorizer)
        plan = [row[-1] for row in con.execute(f"EXPLAIN QUERY PLAN SELECT * FROM {table}")]
        if [p.lower() for p in plan] not in ([f"scan {name.lower()}"], [f"scan table {name.lower()}"]):
            return None
        (count,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        (first,) = con.execute(f"SELECT min(_rowid_) FROM {table}").fetchone()
        (last,) = con.execute(f"SELECT max(_rowid_) FROM {table}").fetchone()
    except sqlite3.Error:  # no rowid (WITHOUT ROWID), or anything unforeseen: read it whole
        return None
    finally:
        con.close()
    if count <= batch_rows or first is None or last - first + 1 != count:
        return None
    return [(lo, min(lo + batch_rows, last + 1)) for lo in range(first, last + 1, batch_rows)]


def _mismatch(exc: Exception) -> int | None:
    """The column a type mismatch of ADBC's is in, else None."""
    m = re.search(r"Type mismatch in column (\d+)", str(exc))
    return int(m.group(1)) if m else None


class _Unsure(Exception):
    """An unguarded range read (:func:`_unguarded`) cannot vouch for its text columns: read it guarded."""


def _unguarded(batch: pa.RecordBatch, text: set[int], seen: int) -> None:
    """Raise :class:`_Unsure` unless this batch's text columns hold no blob.

    ADBC types a column from the rows of its first batch, the widest kind seen (integer, real,
    text, blob), and copies a later batch's values into that type: a blob into a text column
    as its bytes. A range read unguarded comes as one batch, behind the row that types the
    text columns as text; a text column of that batch that is still text held no blob, and
    its values are what the guarded read's ``ELSE`` gives. Binary, or a second batch: not so.
    """
    if seen or any(pa.types.is_binary(batch.schema.field(i).type) for i in text):
        raise _Unsure


def _batch_size(batch_rows: int, rows: Rows | None, offset: int) -> int:
    # A range (of batch_rows rows) comes as one batch, with the row that types the text columns
    return batch_rows if rows is None else rows[1] - rows[0] - offset + 1


def _stream(
    path: Path,
    query: str,
    columns: list[str],
    text: set[int],
    offset: int,
    batch_rows: int,
    rows: Rows | None,
    guard: bool = True,
):
    with connect(path) as con, con.cursor() as cursor:
        size = _batch_size(batch_rows, rows, offset)
        cursor.adbc_statement.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(size)})
        cursor.execute(_wrapped(query, columns, text, offset, rows, guard))
        reader = cursor.fetch_record_batch()
        first = bool(text)
        try:
            for seen, batch in enumerate(reader):
                if not guard:
                    _unguarded(batch, text, seen)
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                if first:
                    frame, first = frame.slice(1), False  # the row that typed the text columns
                if frame.height:
                    frame = frame.rename(dict(zip(frame.columns, columns, strict=True)))
                    blobs = [c for c, t in frame.schema.items() if t == pl.Binary()]
                    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
                    yield frame.with_columns(
                        *(pl.format("x'{}'", pl.col(c).bin.encode("hex").str.to_uppercase()).alias(c) for c in blobs),
                        *(pl.col(c).cast(pl.String) for c in empty),  # null throughout: text, as from sqlite3
                    )
        finally:
            reader.close()


def read_batches(
    path: Path,
    query: str,
    columns: list[str],
    batch_rows: int,
    as_text: Collection[str] = (),
    rows: Rows | None = None,
) -> Iterator[pl.DataFrame]:
    """The query's rows in batches of about ``batch_rows``; the query was checked by :func:`names`.

    The columns in ``as_text`` (those the mapping reads only as text) are text from the first
    row, as a mismatch would make them: no type is inferred for them, so a column null for
    its first batch and text after it is not read twice up to there. ``rows``: only the
    rows of that rowid range (:func:`row_ranges`).
    """
    text = {i for i, c in enumerate(columns) if c in as_text}
    done = 0
    # A range whose text columns hold no blob is read without testing each value for one
    # (interests' 36 M text values at stockholm: ~1.9 of 6.4 CPU-s); else read again, guarded.
    guard = rows is None or not text
    while True:
        try:
            for frame in _stream(path, query, columns, text, done, batch_rows, rows, guard):
                done += frame.height
                yield frame
            return
        except _Unsure:
            guard = True
        except (adbc.Error, OSError) as exc:  # pyarrow's reader raises ADBC's errors as OSError
            column = _mismatch(exc)
            if column is None or column in text:
                raise
            text.add(column)
