"""Write a case database with each engine's bulk path, all or nothing.

SQLite and DuckDB cases are written to a temporary file beside the target and moved into
place only when complete, so a failed ingest leaves the old case (or nothing) behind. A
PostgreSQL case is written in one transaction, which also drops the previous case's tables;
a failure rolls all of it back.

Bulk paths: SQLite ``executemany`` with journal and sync off (safe: the file is not in
place until it is complete); DuckDB inserts straight from Arrow; PostgreSQL ``COPY`` of
CSV that polars writes. DuckDB and PostgreSQL get their primary keys and indexes after the
load, when building them once is far cheaper than maintaining them row by row; DuckDB
gets none (see :class:`DuckDBWriter`). Uniqueness is guaranteed by ingest either way.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable, DropTable

from ..case import case_metadata, create_case_engine
from ..errors import CaseError

__all__ = ["CaseWriter", "open_writer", "remove_leftovers"]

_SLICE = 250_000  # rows per executemany / COPY call: bounds the memory of the text forms


def _unkeyed(table: sa.Table) -> sa.Table:
    """A copy of ``table`` without its primary key, for loading before the key is built."""
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in table.columns]
    return sa.Table(table.name, sa.MetaData(), *columns)


class CaseWriter:
    """Creates the case tables, appends polars frames to them, then commits or aborts."""

    defer_keys = False  # create tables without primary keys and add them after the load
    declare_keys = True  # add primary keys at all (see DuckDBWriter)
    secondary_indexes = True

    def __init__(self, url: sa.URL):
        self.url = url
        self.dialect = url.get_dialect()()
        self.leftovers: list[str] = []  # temporary files of killed ingests removed, with why

    def _ddl(self, element) -> str:
        return str(element.compile(dialect=self.dialect)).strip()

    def create_tables(self) -> None:
        """Create every case table (evidence, quarantine, manifest), without secondary indexes."""
        for table in case_metadata.sorted_tables:
            self._execute(self._ddl(CreateTable(_unkeyed(table) if self.defer_keys else table)))

    def finish(self) -> None:
        """Build keys and indexes, and make the case visible."""
        for table in case_metadata.sorted_tables:
            if self.defer_keys and self.declare_keys and table.primary_key.columns:
                self._execute(self._ddl(AddConstraint(table.primary_key)))
            for index in sorted(table.indexes, key=lambda i: str(i.name)) if self.secondary_indexes else ():
                self._execute(self._ddl(CreateIndex(index)))
        self._commit()

    def append(self, name: str, frame: pl.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _execute(self, statement: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _commit(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class _FileWriter(CaseWriter):
    """A writer whose case is one file, built under a temporary name and renamed at the end."""

    def __init__(self, url: sa.URL):
        super().__init__(url)
        if url.database is None:  # case_url() refuses such URLs; Path(None) would say less
            raise CaseError(f"case URL {str(url)!r} names no file")
        self.target = Path(url.database).resolve()
        if not self.target.parent.is_dir():
            raise CaseError(f"cannot write the case to {self.target}: folder {self.target.parent} does not exist")
        self.temp = self.target.with_name(f".{self.target.name}.ingest-{os.getpid()}.tmp")
        self._remove_temp()
        self.leftovers = remove_leftovers(self.target)

    def _remove_temp(self) -> None:
        for path in (self.temp, Path(f"{self.temp}.wal"), Path(f"{self.temp}-journal")):
            path.unlink(missing_ok=True)

    def _move_into_place(self) -> None:
        # A stale DuckDB WAL next to the target would be replayed onto the new file.
        Path(f"{self.target}.wal").unlink(missing_ok=True)
        os.replace(self.temp, self.target)


class SQLiteWriter(_FileWriter):
    """SQLite: executemany of UTC timestamps in SQLAlchemy's text format, one transaction."""

    def __init__(self, url: sa.URL):
        super().__init__(url)
        import sqlite3

        self.con = sqlite3.connect(self.temp, isolation_level=None)
        # No journal and no fsync: a crash leaves only the temporary file, which is discarded.
        self.con.execute("PRAGMA journal_mode=OFF")
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute("BEGIN")
        self._inserts = {t.name: self._ddl(sa.insert(t)) for t in case_metadata.sorted_tables}

    def _execute(self, statement: str) -> None:
        self.con.execute(statement)

    def append(self, name: str, frame: pl.DataFrame) -> None:
        # SQLAlchemy's SQLite DateTime reads "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here) and
        # Boolean reads 0/1; writing those forms directly skips per-value Python conversion.
        converted = frame.with_columns(
            (
                pl.col(n).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
                if isinstance(d, pl.Datetime)
                else pl.col(n).dt.strftime("%Y-%m-%d")
                if d == pl.Date()
                else pl.col(n).cast(pl.Int64)
            )
            for n, d in frame.schema.items()
            if isinstance(d, (pl.Datetime, pl.Date, pl.Boolean))
        )
        # executemany binds by position: put the columns in the table's order.
        converted = converted.select([c.name for c in case_metadata.tables[name].columns])
        for start in range(0, converted.height, _SLICE):
            self.con.executemany(self._inserts[name], converted.slice(start, _SLICE).iter_rows())

    def _commit(self) -> None:
        self.con.execute("COMMIT")
        self.con.close()
        self._move_into_place()

    def abort(self) -> None:
        self.con.close()
        self._remove_temp()


class DuckDBWriter(_FileWriter):
    """DuckDB: INSERT … SELECT from each batch registered as an Arrow table.

    No primary-key constraints and no secondary indexes. Ingest has already guaranteed the
    keys unique, and DuckDB answers joins and range filters from column zone maps, never
    from an ART index; building those indexes costs about 1 µs a row (12 s for the 11M
    interests of ``stockholm``), a third of the whole ingest budget, for no query benefit.
    """

    defer_keys = True
    declare_keys = False
    secondary_indexes = False

    def __init__(self, url: sa.URL):
        super().__init__(url)
        import duckdb

        self.con = duckdb.connect(str(self.temp))
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")
        self._inserts: dict[str, str] = {}
        for t in case_metadata.sorted_tables:
            names = [c.name for c in t.columns]
            batch: sa.Select = sa.select(*(sa.column(n) for n in names)).select_from(sa.table("__wb_batch"))
            self._inserts[t.name] = self._ddl(sa.insert(t).from_select(names, batch))

    def _execute(self, statement: str) -> None:
        self.con.execute(statement)

    def append(self, name: str, frame: pl.DataFrame) -> None:
        # Newest Arrow: text stays in polars' string views, which DuckDB reads as they are,
        # rather than copied into large strings first (6-10 % of an append's CPU).
        self.con.register("__wb_batch", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            self.con.execute(self._inserts[name])
        finally:
            self.con.unregister("__wb_batch")

    def _commit(self) -> None:
        self.con.execute("CHECKPOINT")
        self.con.close()
        self._move_into_place()

    def abort(self) -> None:
        self.con.close()
        self._remove_temp()


class PostgresWriter(CaseWriter):
    """PostgreSQL: one transaction; the old case tables are dropped inside it; COPY of CSV."""

    defer_keys = True

    def __init__(self, url: sa.URL):
        super().__init__(url)
        self.engine = create_case_engine(url, read_only=False)
        try:
            self.conn = self.engine.connect()
        except sa.exc.OperationalError as exc:
            self.engine.dispose()
            raise CaseError(f"cannot connect to {url.render_as_string(hide_password=True)}: {exc.orig}") from None
        self.conn.begin()
        # Sorting for the keys and indexes built after the load spills to disk below this.
        self.conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for table in reversed(case_metadata.sorted_tables):
            self.conn.execute(DropTable(table, if_exists=True))

    def _execute(self, statement: str) -> None:
        self.conn.exec_driver_sql(statement)

    def append(self, name: str, frame: pl.DataFrame) -> None:
        from psycopg import sql

        copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
        )
        driver = self.conn.connection.driver_connection
        assert driver is not None  # this writer holds its connection open until commit or abort
        cursor = driver.cursor()
        with cursor.copy(copy) as pipe:
            for start in range(0, frame.height, _SLICE):
                buffer = io.BytesIO()
                # Strings always quoted, nulls never: COPY then tells "" from NULL. A stream into the
                # case, never a file for readers: values go as they are, not through workbench.csvout.
                frame.slice(start, _SLICE).write_csv(
                    buffer, include_header=False, quote_style="non_numeric", null_value=""
                )
                pipe.write(buffer.getbuffer())

    def _commit(self) -> None:
        self.conn.commit()
        self.conn.close()
        self.engine.dispose()

    def abort(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
            self.engine.dispose()


def remove_leftovers(target: Path) -> list[str]:
    """Remove the temporary files that killed ingests left beside ``target``; say which and why.

    A temporary file is ``.<case name>.ingest-<pid>.tmp`` (and SQLite's ``-journal``, DuckDB's
    ``.wal`` beside it). One is removed only when process ``pid`` no longer exists: a live
    ingest's file is never touched, even without the case lock. (A killed ingest's pid, once
    reused by another process, keeps its file until that process ends.)
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.ingest-([0-9]+)\.tmp(?:\.wal|-journal)?")
    removed = []
    for path in sorted(target.parent.iterdir()):
        found = pattern.fullmatch(path.name)
        if found is None:
            continue
        pid = int(found.group(1))
        if pid == os.getpid() or pid <= 0 or _alive(pid):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile by another ingest
        removed.append(f"{path.name} (process {pid} is gone)")
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    try:  # Linux: a killed process its parent has not waited for yet is a zombie, not alive
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def open_writer(url: sa.URL) -> CaseWriter:
    """A writer for the case at ``url`` (``sqlite:///…``, ``duckdb:///…`` or ``postgresql+psycopg://…``)."""
    writer = {"sqlite": SQLiteWriter, "duckdb": DuckDBWriter, "postgresql": PostgresWriter}[url.get_backend_name()]
    return writer(url)
