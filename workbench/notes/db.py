"""The notes database: where an investigator's annotations and the journal live, beside the case, never in it.

A case is opened read-only and stays so; what investigators add goes to a separate,
writable database named by a URL:

- by default, a SQLite file beside a file case: ``runs/demo/case.duckdb`` has its notes in
  ``runs/demo/case.notes.sqlite`` (:func:`default_notes_path`);
- ``--notes URL`` (or ``WORKBENCH_NOTES_URL``) names another one, e.g.
  ``postgresql+psycopg://analyst@db.example/case_notes`` for a team sharing one case. A
  PostgreSQL case has no default: its notes need a URL.

Two writers at once lose nothing. SQLite runs in WAL mode; every write transaction starts
with ``BEGIN IMMEDIATE`` (so two writers queue instead of failing at commit) under a 30 s
busy timeout, and a transaction that still meets a lock is retried. On PostgreSQL the
journal's appenders queue on a transaction-level advisory lock (see :mod:`.journal`).
Rows are only ever inserted: an edit or a withdrawal is a new version.
"""

from __future__ import annotations

import getpass
import os
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from ..errors import WorkbenchError

__all__ = [
    "ANALYST_ENV",
    "NOTES_ENV",
    "NotesError",
    "analyst",
    "annotation_table",
    "case_file",
    "default_notes_path",
    "journal_table",
    "notes_engine",
    "notes_label",
    "notes_url",
    "now",
    "write",
]

NOTES_ENV = "WORKBENCH_NOTES_URL"
"""A notes database for every case this process works on, e.g. ``postgresql+psycopg://analyst@db/case_notes``."""
ANALYST_ENV = "WORKBENCH_ANALYST"
"""Who is working, as entries record it (``"a.berg"``); the operating-system user when unset."""

_ALLOWED = "a SQLite file path, sqlite:///PATH, or postgresql+psycopg://USER@HOST:PORT/DB"
_RETRIES = 8


class NotesError(WorkbenchError):
    """A notes database that cannot be found, opened or written."""


metadata = sa.MetaData()

annotation_table = sa.Table(
    "annotations",
    metadata,
    sa.Column("row_id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("annotation_id", sa.String(36), nullable=False, info={"doc": "Stable across versions."}),
    sa.Column("version", sa.Integer(), nullable=False, info={"doc": "1 when made; each edit or withdrawal adds one."}),
    sa.Column("kind", sa.String(32), nullable=False, info={"doc": "session, account, support_message, …"}),
    sa.Column("key", sa.Text(), nullable=False, info={"doc": "The key in the case, e.g. a session_id."}),
    sa.Column("tags", sa.Text(), nullable=False, info={"doc": "JSON list of tags, sorted."}),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, info={"doc": "'active' or 'withdrawn'."}),
    sa.Column("reason", sa.Text(), nullable=False, info={"doc": "Why this version was made (an edit, a withdrawal)."}),
    sa.Column("analyst", sa.Text(), nullable=False),
    sa.Column("at", sa.String(32), nullable=False, info={"doc": "UTC, ISO 8601 with Z."}),
    sa.Column("case_fingerprint", sa.String(71), nullable=False),
    sa.UniqueConstraint("annotation_id", "version", name="uq_annotation_version"),
)

journal_table = sa.Table(
    "journal",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("analyst", sa.Text(), nullable=False),
    sa.Column("act", sa.String(32), nullable=False),
    sa.Column("case_fingerprint", sa.String(71), nullable=False),
    sa.Column("details", sa.Text(), nullable=False, info={"doc": "Canonical JSON text."}),
    sa.Column("prev", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def analyst() -> str:
    """Who is working: ``WORKBENCH_ANALYST``, else the operating-system user."""
    who = os.environ.get(ANALYST_ENV, "").strip()
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container with a bare uid)
        return f"uid {os.getuid()}"


def now() -> str:
    """The time in UTC as entries record it, e.g. ``2024-05-01T12:00:00.123456Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def case_file(url: sa.URL) -> Path | None:
    """The file of a SQLite or DuckDB case URL (also a read-only ``file:…?mode=ro`` URI), or None."""
    if url.get_backend_name() not in ("sqlite", "duckdb") or not url.database:
        return None
    database = url.database
    if database.startswith("file:"):
        database = urllib.parse.unquote(urllib.parse.urlparse(database).path)
    return Path(database).resolve()


def default_notes_path(case: sa.URL) -> Path | None:
    """Where a file case's notes live by default: ``case.notes.sqlite`` for ``case.duckdb``; None for a server case."""
    path = case_file(case)
    return None if path is None else path.with_name(f"{path.stem}.notes.sqlite")


def notes_url(case: sa.URL | None, notes: str | os.PathLike[str] | sa.URL | None = None) -> sa.URL:
    """The notes database for ``case``: ``notes`` if given, else ``WORKBENCH_NOTES_URL``, else beside the case.

    ``notes`` is a path (a SQLite file) or a URL. Raises :class:`NotesError` when none can be
    named (a PostgreSQL case without ``--notes``) or the URL names another engine.
    """
    given = notes if notes is not None else (os.environ.get(NOTES_ENV, "").strip() or None)
    if given is None:
        path = None if case is None else default_notes_path(case)
        if path is None:
            where = case.render_as_string(hide_password=True) if case is not None else "no case"
            raise NotesError(
                f"the case {where} is not a file, so it has no notes database beside it; "
                f"name one with --notes URL or {NOTES_ENV} ({_ALLOWED})"
            )
        return sa.URL.create("sqlite", database=str(path))
    if isinstance(given, sa.URL):
        url = given
    elif isinstance(given, os.PathLike) or "://" not in str(given):
        return sa.URL.create("sqlite", database=str(Path(given).resolve()))
    else:
        try:
            url = sa.make_url(str(given))
        except sa.exc.ArgumentError as exc:
            raise NotesError(f"notes URL {str(given)!r} cannot be parsed ({exc}); allowed: {_ALLOWED}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise NotesError(
            f"notes URL {url.render_as_string(hide_password=True)!r} uses {url.get_backend_name()!r}; "
            f"allowed: {_ALLOWED}"
        )
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        raise NotesError(f"notes URL {str(url)!r} names no file; notes must be kept, e.g. sqlite:///case.notes.sqlite")
    return url


def notes_label(url: sa.URL) -> str:
    """The notes database as shown to people: the file of a SQLite one, the URL without password otherwise."""
    return url.database or "" if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)


_ENGINES: dict[str, sa.Engine] = {}


def notes_engine(url: sa.URL, *, create: bool = True) -> sa.Engine:
    """A writing engine on the notes database at ``url``, its tables created; one per URL per process.

    ``create=False`` refuses a SQLite file that does not exist yet (reading commands must not
    leave an empty database behind) with a :class:`NotesError` saying how one is made.
    """
    key = url.render_as_string(hide_password=False)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not create and not path.is_file():
            raise NotesError(
                f"no notes database at {path}: nothing was annotated or journalled for this case yet "
                "(`workbench journal init --case …` starts one)"
            )
        if not path.parent.is_dir():
            raise NotesError(f"cannot keep notes at {path}: the folder {path.parent} does not exist")
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock now, not at the first write
    else:
        engine = sa.create_engine(url)
    try:
        _retry(lambda: metadata.create_all(engine), url)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        raise NotesError(f"cannot open the notes database {notes_label(url)}: {_reason(exc)}") from None
    _ENGINES[key] = engine
    return engine


def _reason(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__


T = TypeVar("T")


def _retry(work: Callable[[], T], url: sa.URL) -> T:
    """``work()``, again after a short random wait when another writer held a lock or took the same number."""
    for attempt in range(_RETRIES):
        try:
            return work()
        except sa.exc.DBAPIError as exc:
            text = str(exc.orig).lower()
            busy = "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text
            clash = isinstance(exc, sa.exc.IntegrityError) or "already exists" in text or "duplicate" in text
            if not (busy or clash) or attempt == _RETRIES - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


@contextmanager
def _transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.begin() as conn:
        yield conn


def write(url: sa.URL, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work(conn)`` in one write transaction on the notes database, retried when it meets another writer."""
    engine = notes_engine(url)

    def once() -> T:
        with _transaction(engine) as conn:
            return work(conn)

    try:
        return _retry(once, url)
    except sa.exc.DBAPIError as exc:
        raise NotesError(f"cannot write to the notes database {notes_label(url)}: {_reason(exc)}") from None
