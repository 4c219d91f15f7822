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
Text as SQLite writes it (``CAST``): a column ADBC typed blob, or text with a real in it
(which ADBC writes with printf's %e), or text past its first batch (where a blob would come
as its bytes), is read again as text from that batch (:func:`_checked`), so that a blob is
quarantined alone and a real keeps its digits.
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


def _as_text(c: str, whole: bool = False) -> str:
    literal = "'x''' || hex(" + c + ") || ''''"
    # Blobs are the one kind at or after the empty blob (numbers < text < blobs; NULL compares
    # to nothing), whatever the column's affinity: one comparison a value, where typeof() made
    # a string and compared it (interests' 12 M rows: about 2 of 9 CPU-s). Everything else is
    # CAST by SQLite, a number in its own digits (in a column typed text ADBC writes an integer
    # as SQLite does, but a real with printf's %e: 1.234568e+06); a text's CAST is itself, and
    # costs less than telling numbers apart (a second comparison: 2 M rows, 3 columns: 0.02
    # CPU-s against 0.08).
    if not whole:
        return f"CASE WHEN {c} >= x'' THEN {literal} ELSE CAST({c} AS TEXT) END AS {c}"
    # A column read as text only for the kinds it mixes (:func:`read_batches`): a whole real
    # is the integer it equals, as when ADBC reads the column as reals. Numbers only (before
    # the empty text): a text such as ' 10 ' or '2.0' is left as written.
    number = f"CASE WHEN {c} = CAST({c} AS INTEGER) THEN CAST({c} AS INTEGER) ELSE {c} END"
    return f"CASE WHEN {c} >= x'' THEN {literal} WHEN {c} < '' THEN CAST({number} AS TEXT) ELSE {c} END AS {c}"


# How ADBC writes a real it copies into a text column (printf's %e, or inf): six digits, not
# the number. A column holding one is read again through :func:`_as_text`; a text that only
# looks like one is read again the same.
_ADBC_REAL = r"^-?(?:[0-9]\.[0-9]{6}e[+-][0-9]{2,3}|inf)$"
_ADBC_REAL_LENGTHS = [3, 4, 12, 13, 14]


def _adbc_reals(frame: pl.DataFrame, columns: Collection[str]) -> list[str]:
    """Those of ``columns`` (text in ``frame``) holding a value written as ADBC writes a real."""
    found = []
    for c in columns:
        # a first cut by length, 3 ("inf") to 14 bytes ("-1.000000e-300"): a third of the pattern's CPU on times
        maybe = frame[c].filter(frame[c].str.len_bytes().is_in(_ADBC_REAL_LENGTHS))
        if maybe.str.contains(_ADBC_REAL).any():
            found.append(c)
    return found


# A query reading a whole table, whose rows come in the table's order however it is wrapped.
_WHOLE_TABLE = re.compile(r'^\s*SELECT\s+\*\s+FROM\s+("[^"]+"|\w+)\s*;?\s*$', re.IGNORECASE)


def _wrapped(
    query: str,
    columns: list[str],
    text: set[int],
    offset: int,
    rows: Rows | None = None,
    guard: bool = True,
    whole: Collection[int] = (),
) -> str:
    if rows is not None:  # a range of a table's rowids (:func:`row_ranges`): its rows, from its start
        table = _table(query)
        assert table is not None
        # Unguarded (:func:`_checked`): the text columns as stored, no blob test a value
        shown = ", ".join(
            _as_text(_quoted(c), i in whole) if i in text and guard else _quoted(c) for i, c in enumerate(columns)
        )
        rest = f"SELECT {shown} FROM {table} WHERE _rowid_ >= {rows[0] + offset} AND _rowid_ < {rows[1]}"
    elif not text and not offset:
        return f"SELECT * FROM {_subquery(query)}"
    else:
        shown = ", ".join(_as_text(_quoted(c), i in whole) if i in text else _quoted(c) for i, c in enumerate(columns))
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
    """An unguarded range read (:func:`_checked`) cannot vouch for its text columns: read it guarded."""


class _Retype(Exception):
    """Columns ADBC typed from their values that their values do not fit: read them again as text."""

    def __init__(self, columns: set[int]) -> None:
        super().__init__(columns)
        self.columns = columns


def _checked(frame: pl.DataFrame, text: set[int], seen: int, guard: bool) -> None:
    """Raise :class:`_Retype` or :class:`_Unsure` unless every value of this batch is as SQLite has it.

    ADBC types a column from the rows of its first batch, the widest kind seen (integer, real,
    text, blob), writes a real it puts in a text column with printf's %e (six digits), and
    copies a later batch's values into the type: a blob into a text column as its bytes. So a
    column it typed blob (which may hold texts and numbers as their bytes too), or text with
    a real in it, or text in a later batch (which may hold a blob), is read again as text
    (:func:`_as_text`), from this batch. A range read unguarded comes as one batch, behind the
    row that types the text columns as text; a text column of that batch that is still text
    held no blob, and without a real its values are what the guarded read gives. Binary, a
    real, or a second batch: not so.
    """
    kinds = list(frame.schema.values())
    typed = {i for i, kind in enumerate(kinds) if i not in text and kind in (pl.Binary(), pl.String())}
    retype = {i for i in typed if kinds[i] == pl.Binary() or seen or _adbc_reals(frame, [frame.columns[i]])}
    if retype:
        raise _Retype(retype)
    if not guard and (
        seen or any(kinds[i] == pl.Binary() for i in text) or _adbc_reals(frame, [frame.columns[i] for i in text])
    ):
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
    whole: Collection[int] = (),
    guard: bool = True,
):
    with connect(path) as con, con.cursor() as cursor:
        size = _batch_size(batch_rows, rows, offset)
        cursor.adbc_statement.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(size)})
        cursor.execute(_wrapped(query, columns, text, offset, rows, guard, whole))
        reader = cursor.fetch_record_batch()
        first = bool(text)
        try:
            for seen, batch in enumerate(reader):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                if first:
                    frame, first = frame.slice(1), False  # the row that typed the text columns
                if frame.height:
                    frame = frame.rename(dict(zip(frame.columns, columns, strict=True)))
                    _checked(frame, text, seen, guard)
                    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
                    # null throughout: text, as from sqlite3
                    yield frame.with_columns(pl.col(c).cast(pl.String) for c in empty)
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
    named = {i for i, c in enumerate(columns) if c in as_text}
    text = set(named)  # and the columns read as text for the kinds they mix (whole reals as integers)
    done = 0
    # A range whose text columns hold no blob is read without testing each value for one
    # (interests' 36 M text values at stockholm: ~1.9 of 6.4 CPU-s); else read again, guarded.
    guard = rows is None or not text
    while True:
        try:
            for frame in _stream(path, query, columns, text, done, batch_rows, rows, text - named, guard):
                done += frame.height
                yield frame
            return
        except _Unsure:
            guard = True
        except _Retype as exc:
            text |= exc.columns
        except (adbc.Error, OSError) as exc:  # pyarrow's reader raises ADBC's errors as OSError
            column = _mismatch(exc)
            if column is None or column in text:
                raise
            text.add(column)
