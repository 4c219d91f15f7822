"""The case database: its tables, where it lives, and read-only access to it.

A case is what ``workbench ingest`` writes: every evidence table, plus ``quarantine`` (the
rows ingest refused, each with its reason), ``manifest`` (one row per input file, with
its sha256) and ``manifest_absent`` (one row per evidence table that had no file, and why). The tables are declared here as SQLAlchemy Core on :data:`case_metadata`;
the evidence tables are copies of :data:`workbench.evidence.metadata`, so
``evidence.metadata`` stays the evidence contract and nothing more.

Analyses open a case with :func:`open_case`, which is read-only on every engine. A plain
path is opened with the engine its file's header names (SQLite or DuckDB); a relative one is
looked for in the current folder, then in the project folder (see :func:`case_url`):

>>> case = open_case("runs/demo/case.db")                           # doctest: +SKIP
>>> case = open_case("duckdb:///runs/demo/case.duckdb")             # doctest: +SKIP
>>> case = open_case("postgresql+psycopg://workbench_reader@127.0.0.1:54329/demo")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import urllib.parse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import polars as pl
import sqlalchemy as sa

from . import evidence, readonly
from .caselocation import ENGINE_NAMES, case_url, check_file
from .errors import CaseError, UnknownNameError

# DuckDB suggests its own Arrow API; through SQLAlchemy the copy is the price of one runner. Set
# once for the process: ``warnings.catch_warnings`` around each read is not thread-safe, and the
# leak scan reads identifiers in a thread while notebooks run, so the warning leaked through.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)

__all__ = [
    "CASE_TABLES",
    "DUCKDB_MEMORY_ENV",
    "Case",
    "CaseLike",
    "case_metadata",
    "case_url",
    "create_case_engine",
    "default_case_path",
    "open_case",
    "polars_schema",
]


DUCKDB_MEMORY_ENV = "WORKBENCH_DUCKDB_MEMORY_LIMIT"
"""Environment variable: DuckDB's ``memory_limit`` for read-only case connections whose URL sets none (e.g. ``1GB``).

DuckDB's default is 80 % of the machine's memory, and its cache of the case's blocks grows
towards it; ``workbench report`` sets this for the kernels of a large case, so that two
notebooks running side by side hold less at once.
"""

_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.IGNORECASE)

case_metadata = sa.MetaData()
for _t in evidence.metadata.sorted_tables:
    _t.to_metadata(case_metadata)

_TS = sa.DateTime(timezone=True)

sa.Table(
    "quarantine",
    case_metadata,
    sa.Column(
        "file",
        sa.Text(),
        primary_key=True,
        autoincrement=False,
        info={"doc": "Input file, relative to the evidence folder's parent, e.g. 'evidence/logins.csv'."},
    ),
    sa.Column(
        "line",
        sa.BigInteger(),
        primary_key=True,
        autoincrement=False,
        info={
            "doc": "CSV: physical line where the record starts (header is line 1). Parquet: 1-based row number. Access log: the line. mbox: the line of the message's 'From ' separator."
        },
    ),
    sa.Column("table", sa.Text(), nullable=False, info={"doc": "Evidence table the file was for."}),
    sa.Column(
        "column",
        sa.Text(),
        info={
            "doc": "Column of the (first) problem; several key columns are joined by ', '; null for a malformed CSV record."
        },
    ),
    sa.Column(
        "value",
        sa.Text(),
        info={
            "doc": "The offending value as text; the raw record text for a malformed CSV record; the raw line for an access-log line."
        },
    ),
    sa.Column(
        "reason",
        sa.Text(),
        nullable=False,
        info={"doc": "What is wrong and what is allowed; further problems of the same row follow 'also:'."},
    ),
    sa.Column(
        "record", sa.Text(), info={"doc": "The whole input row as a JSON object of text values, so nothing is lost."}
    ),
    info={"doc": "Rows ingest refused: one row per refused input row."},
)

sa.Table(
    "manifest",
    case_metadata,
    sa.Column(
        "path",
        sa.Text(),
        primary_key=True,
        autoincrement=False,
        info={"doc": "Input file, relative to the evidence folder's parent."},
    ),
    sa.Column("table", sa.Text(), nullable=False),
    sa.Column(
        "format", sa.String(16), nullable=False, info={"doc": "'csv', 'parquet', or a raw form: 'access_log', 'mbox'."}
    ),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("rows_read", sa.BigInteger(), nullable=False),
    sa.Column("rows_loaded", sa.BigInteger(), nullable=False),
    sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
    sa.Column("format_version", sa.BigInteger(), nullable=False),
    sa.Column("workbench_version", sa.String(64), nullable=False),
    sa.Column("ingested_at", _TS, nullable=False),
    info={"doc": "Chain of custody: one row per input file."},
)

sa.Table(
    "manifest_absent",
    case_metadata,
    sa.Column(
        "table",
        sa.Text(),
        primary_key=True,
        autoincrement=False,
        info={
            "doc": "Evidence table that had no input file: it is empty because it is absent, not because nothing happened."
        },
    ),
    sa.Column("reason", sa.Text(), nullable=False, info={"doc": "Why it is absent, e.g. 'no file at ingest'."}),
    sa.Column(
        "looked_for",
        sa.Text(),
        nullable=False,
        info={"doc": "The files ingest looked for, e.g. 'evidence/fees.csv, evidence/fees.parquet'."},
    ),
    sa.Column("ingested_at", _TS, nullable=False),
    info={"doc": "The manifest's other half: one row per evidence table that had no file at ingest, and why."},
)

# Secondary indexes the analyses lean on. Keys already indexed by a primary key
# (logins.session_id, interests.listing_id, offers.listing_id) are not repeated.
for _table, _column in (
    ("page_views", "session_id"),
    ("page_views", "time"),
    ("page_views", "account_id"),
    ("logins", "applicant_id"),
    ("logins", "time"),
    ("interests", "applicant_id"),
    ("offers", "applicant_id"),
    ("profile_changes", "account_id"),
    ("handler_actions", "handler_id"),
):
    sa.Index(f"ix_{_table}_{_column}", case_metadata.tables[_table].c[_column])

CASE_TABLES: tuple[str, ...] = (*evidence.TABLES, "quarantine", "manifest", "manifest_absent")


def polars_schema(name: str) -> pl.Schema:
    """The polars schema of case table ``name`` (an evidence table, ``quarantine``, ``manifest`` or ``manifest_absent``)."""
    if name not in CASE_TABLES:
        raise UnknownNameError("case table", name, CASE_TABLES)
    return evidence.table_schema(case_metadata.tables[name])


def default_case_path(evidence_dir: str | Path) -> Path:
    """Where ``workbench ingest EVIDENCE_DIR`` writes without ``--case``: ``case.db`` beside the folder."""
    return Path(evidence_dir).resolve().parent / "case.db"


def create_case_engine(url: sa.URL, *, read_only: bool) -> sa.Engine:
    """An engine on ``url`` whose sessions are in UTC, optionally read-only.

    UTC sessions make timestamps read back with the same zone and values on every engine.
    Read-only is the engine's (see :mod:`workbench.readonly`): URL options outside the
    engine's allowlist are refused; SQLite opens ``mode=ro`` behind an authorizer that denies
    ATTACH and every write; DuckDB opens ``read_only`` without external access or extension
    loading, its configuration locked; PostgreSQL sessions default to read-only transactions
    (the role's privileges are what :func:`open_case` checks).
    """
    backend = url.get_backend_name()
    if read_only:
        readonly.check_options(url)
    if backend == "sqlite":
        if not read_only:
            return sa.create_engine(url)
        if url.database is None:  # case_url() refuses such URLs; Path(None) would say less
            raise CaseError(f"case URL {str(url)!r} names no file")
        # mode=ro makes SQLite itself refuse writes; the path must be URI-quoted.
        path = urllib.parse.quote(str(Path(url.database).resolve()))
        url = sa.URL.create("sqlite", database=f"file:{path}", query={"mode": "ro", "uri": "true"})
        engine = sa.create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _authorize(dbapi_connection, _record):
            dbapi_connection.set_authorizer(readonly.sqlite_authorizer)

        return engine
    if backend == "duckdb":
        args: dict = {"read_only": True, "config": dict(readonly.DUCKDB_CONFIG)} if read_only else {}
        limit = os.environ.get(DUCKDB_MEMORY_ENV, "").strip()
        if read_only and limit and "memory_limit" not in url.query:
            if not _MEMORY.fullmatch(limit):
                raise CaseError(
                    f"{DUCKDB_MEMORY_ENV}={limit!r} is not a memory size: give a number and a unit, "
                    "e.g. 1GB, 512MB or 2GiB (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
                )
            args["config"]["memory_limit"] = limit
        engine = sa.create_engine(url, connect_args=args)

        @sa.event.listens_for(engine, "connect")
        def _utc(dbapi_connection, _record):
            if read_only:
                readonly.lock_duckdb(dbapi_connection)  # sets UTC first
            else:
                # Not a connect() config key: TimeZone needs ICU, which is loaded after connecting.
                dbapi_connection.execute("SET TimeZone = 'UTC'")

        return engine
    # Keep options given in the URL (e.g. ?options=-csearch_path%3Dcase1): connect_args replace them.
    given = url.query.get("options", "")
    options = " ".join(filter(None, [given if isinstance(given, str) else " ".join(given), "-c TimeZone=UTC"]))
    if read_only:
        options += " -c default_transaction_read_only=on"
    return sa.create_engine(url.difference_update_query(["options"]), connect_args={"options": options})


def _dtypes(statement: sa.Select) -> dict[str, pl.DataType]:
    """Polars dtypes of the selected columns whose SQL type fixes one.

    Without them polars guesses from the first rows, and a column null there breaks the read.
    Timestamps are left out: engines return them with different zones; ``Case.read`` fixes that.
    """
    out: dict[str, pl.DataType] = {}
    for column in statement.selected_columns:
        t = column.type
        dtype = (
            pl.Boolean()
            if isinstance(t, sa.Boolean)
            else pl.Int64()
            if isinstance(t, sa.Integer)
            else pl.Float64()
            if isinstance(t, (sa.Double, sa.Float))
            else pl.Date()
            if isinstance(t, sa.Date) and not isinstance(t, sa.DateTime)
            else pl.String()
            if isinstance(t, (sa.String, sa.Text, sa.Enum))
            else None
        )
        if dtype is not None and column.name:
            out[column.name] = dtype
    return out


@dataclass
class Case:
    """An open, read-only case database.

    ``table(name)`` gives the Core table for selects; ``read(select)`` runs one and returns a
    polars frame with every timestamp in UTC; ``read_table(name)`` reads a whole table with
    its declared dtypes, ordered by its key.
    """

    url: sa.URL
    engine: sa.Engine
    _tables: dict[str, sa.Table] = field(default_factory=lambda: dict(case_metadata.tables), repr=False)

    @property
    def dialect(self) -> str:
        """Engine name: ``sqlite``, ``duckdb`` or ``postgresql``."""
        return self.engine.dialect.name

    def table(self, name: str) -> sa.Table:
        """The Core table ``name`` (e.g. ``"page_views"``, ``"quarantine"``)."""
        try:
            return self._tables[name]
        except KeyError:
            raise UnknownNameError("case table", name, CASE_TABLES) from None

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection, closed on exit; writes through it fail."""
        with self.engine.connect() as conn:
            yield conn

    def read(self, statement: sa.Select, schema: pl.Schema | None = None) -> pl.DataFrame:
        """Run a Core select and return a frame; timestamps come back as UTC on every engine.

        SQLite keeps no zone (ingest stores UTC), so naive timestamps are marked UTC here.
        ``schema`` casts the result, which also types the columns of an empty result.
        """
        with self.connect() as conn:
            frame = pl.read_database(statement, conn, schema_overrides=_dtypes(statement), infer_schema_length=None)
        frame = frame.with_columns(
            pl.col(name).dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else pl.col(name).dt.convert_time_zone("UTC")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        )
        if schema is not None:
            frame = frame.cast(schema, strict=True)
        return frame

    def read_table(self, name: str) -> pl.DataFrame:
        """Read the whole of table ``name`` with its declared dtypes, ordered by its key."""
        table = self.table(name)
        order = list(table.primary_key.columns) or list(table.columns)
        return self.read(sa.select(table).order_by(*order), polars_schema(name))

    def close(self) -> None:
        """Release the engine's connections (DuckDB holds its file open until then)."""
        self.engine.dispose()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


CaseLike: TypeAlias = Case | sa.Engine | sa.Connection | str | sa.URL | os.PathLike[str]
"""What the query runner takes as a case: an open :class:`Case`, a SQLAlchemy Engine or
Connection, or a case URL or path (opened read-only for the call)."""


def open_case(url_or_path: str | Path | sa.URL) -> Case:
    """Open a case read-only; the engine refuses writes (see :func:`create_case_engine`).

    ``url_or_path`` is a path, e.g. ``"runs/demo/case.db"``, opened with the engine its file's
    header names (SQLite or DuckDB), or a URL such as ``"duckdb:///runs/demo/case.duckdb"`` or
    ``"postgresql+psycopg://workbench_reader@127.0.0.1:54329/demo"``. A relative path is looked for in
    the current folder, then in the project folder (see :func:`case_url`). A missing file, a
    file that is not a database of the URL's engine, a server that cannot be reached and a
    database that holds no case are each a :class:`~workbench.errors.CaseError` saying so, as
    are a URL option that is not on the engine's allowlist (e.g. DuckDB's ``access_mode``) and,
    on PostgreSQL, a role that could write (a superuser, an owner, CREATE or TEMPORARY on the
    database, CREATE on a schema, a write privilege on a table): use a reader role (README,
    "Read-only cases").
    """
    url = case_url(url_or_path)
    readonly.check_options(url)  # before anything else: the option is the mistake to name
    if url.get_backend_name() in ("sqlite", "duckdb"):
        # Opening would otherwise create an empty database (DuckDB) or fail obscurely.
        check_file(url_or_path, url)
    engine = create_case_engine(url, read_only=True)
    label = url.render_as_string(hide_password=True)
    try:  # connect now: an unreachable server or a database that is not a case fails here, with one line
        with engine.connect() as conn:
            is_case = sa.inspect(conn).has_table("manifest")
            user, powers = readonly.postgres_write_powers(conn) if url.get_backend_name() == "postgresql" else ("", [])
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        raise CaseError(f"cannot open the case {label}: {reason}") from None
    if powers:
        engine.dispose()
        raise readonly.reader_role_error(label, user, powers)
    if not is_case:
        engine.dispose()
        if url.get_backend_name() in ENGINE_NAMES:
            label = f"{url.database} is a {ENGINE_NAMES[url.get_backend_name()]}"
        else:
            label = f"{label} is a"
        raise CaseError(
            f"{label} database but not a case: it has no manifest table. "
            "A case is what `workbench ingest EVIDENCE_DIR --case URL` writes"
        )
    return Case(url=url, engine=engine)
