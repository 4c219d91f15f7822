"""What makes a case engine read-only on each engine, so that SQL run through it cannot write.

Read-only is the engine's, not a flag a URL or a statement can turn off:

- **URL options** are an allowlist per engine (:data:`ALLOWED_OPTIONS`): an option that is
  not on it, e.g. DuckDB's ``access_mode=READ_WRITE``, is refused by :func:`check_options`.
- **SQLite** opens ``mode=ro`` and :func:`sqlite_authorizer` denies every action but reads:
  no ``ATTACH`` (which also stops ``VACUUM INTO``), no ``DETACH``, no write, no DDL.
- **DuckDB** opens ``read_only`` with :data:`DUCKDB_CONFIG` (no file access outside the case
  file, no extension loading), and :func:`lock_duckdb` locks the configuration after the
  session time zone is set to UTC: ``COPY … TO``, ``EXPORT DATABASE`` and ``ATTACH`` fail.
- **PostgreSQL** needs a role that cannot write: :func:`postgres_write_powers` lists what
  the connected role could do, and a read-only session setting is kept on top.
"""

from __future__ import annotations

import shlex
import sqlite3

import sqlalchemy as sa

from .errors import CaseError

__all__ = [
    "ALLOWED_OPTIONS",
    "DUCKDB_CONFIG",
    "check_options",
    "lock_duckdb",
    "postgres_write_powers",
    "reader_role_error",
    "sqlite_authorizer",
]

ALLOWED_OPTIONS: dict[str, frozenset[str]] = {
    # create_case_engine builds the read-only SQLite URL itself; no option is needed.
    "sqlite": frozenset(),
    # Resource limits only; everything else is DuckDB configuration, e.g. access_mode.
    "duckdb": frozenset({"threads", "memory_limit"}),
    # libpq connection options that choose a server or secure the link; `options` only for search_path.
    "postgresql": frozenset(
        {
            "host",
            "port",
            "options",
            "application_name",
            "connect_timeout",
            "sslmode",
            "sslrootcert",
            "sslcert",
            "sslkey",
            "sslcrl",
            "channel_binding",
            "gssencmode",
            "target_session_attrs",
        }
    ),
}

DUCKDB_CONFIG = {
    "enable_external_access": False,  # no COPY TO, EXPORT DATABASE, ATTACH, read_csv of other files
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


def _allowed_text(backend: str) -> str:
    allowed = sorted(ALLOWED_OPTIONS[backend])
    return ", ".join(allowed) if allowed else "none"


def _search_path_only(value: str) -> bool:
    """Whether a libpq ``options`` value only sets ``search_path`` (``-c search_path=a,b``)."""
    try:
        words = shlex.split(value)
    except ValueError:
        return False
    settings: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            settings.append(words[i + 1])
            i += 2
            continue
        if word.startswith("-c"):
            settings.append(word[2:])
        elif word.startswith("--"):
            settings.append(word[2:])
        else:
            return False
        i += 1
    return all(s.split("=", 1)[0].strip().lower().replace("-", "_") == "search_path" for s in settings)


def check_options(url: sa.URL) -> None:
    """Refuse a case URL whose query holds an option a read-only case may not take.

    Example: ``duckdb:///case.duckdb?access_mode=READ_WRITE`` is refused, naming the option
    and the allowed ones; ``postgresql+psycopg://r@h/db?options=-csearch_path%3Dteam_a`` is fine.
    """
    backend = url.get_backend_name()
    allowed = ALLOWED_OPTIONS.get(backend, frozenset())
    label = url.render_as_string(hide_password=True)
    for key, value in url.query.items():
        if key not in allowed:
            raise CaseError(
                f"case URL {label!r}: option {key!r} is not allowed when a case is opened read-only; "
                f"allowed {backend} options: {_allowed_text(backend)}"
            )
        if key == "options":
            for one in (value,) if isinstance(value, str) else value:
                if not _search_path_only(one):
                    raise CaseError(
                        f"case URL {label!r}: options={one!r} is not allowed when a case is opened read-only; "
                        "allowed in options: only -c search_path=SCHEMA"
                    )


# --- SQLite ------------------------------------------------------------------------------

_SQLITE_READS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_TRANSACTION,  # BEGIN/COMMIT around reads
        sqlite3.SQLITE_SAVEPOINT,
        sqlite3.SQLITE_RECURSIVE,
    }
)
# Pragmas that only describe the schema or the library (SQLAlchemy's reflection uses some),
# and read_uncommitted, a connection's own read setting that SQLAlchemy's isolation levels use.
_SQLITE_PRAGMAS = frozenset(
    {
        "read_uncommitted",
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "database_list",
        "collation_list",
        "compile_options",
        "function_list",
        "pragma_list",
    }
)


def sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    """SQLite authorizer of a read-only case: reads pass; ATTACH, DETACH and every write are denied.

    ``VACUUM`` and ``VACUUM INTO`` attach their output file first, so they are denied too.
    """
    if action in _SQLITE_READS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _SQLITE_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


# --- DuckDB ------------------------------------------------------------------------------


def lock_duckdb(dbapi_connection) -> None:
    """Make the session time zone UTC, then lock DuckDB's configuration.

    TimeZone cannot be a connect() key (it needs ICU, loaded after connecting), so it is set
    first, globally: the lock is the database instance's, and a second connection to it (the
    pool opens one when the first is busy) can no longer set anything, so it must inherit UTC.
    Once locked, no ``SET`` can turn external access or writing back on.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT current_setting('lock_configuration')")
        if not cursor.fetchone()[0]:
            # In a notebook (or any interactive Python) DuckDB draws a progress bar, an
            # ipywidget, for a query slower than 2 s: a report page would then say "an
            # interactive widget stands here" or not depending on the machine's load. A
            # connection-local option, so only SET can turn it off, and only before the lock.
            cursor.execute("SET enable_progress_bar = false")
            cursor.execute("SET GLOBAL TimeZone = 'UTC'")
            cursor.execute("SET lock_configuration = true")
        cursor.execute("SELECT current_setting('TimeZone')")
        zone = cursor.fetchone()[0]
    finally:
        cursor.close()
    if zone != "UTC":  # only if this process locked the same file another way first
        raise CaseError(f"the DuckDB case is already open in this process with time zone {zone!r}, not UTC")


# --- PostgreSQL --------------------------------------------------------------------------

# One row per power to write: what it is, as words for the message. The role and every role
# it is a member of (and so could SET ROLE to) are checked; PUBLIC's grants count for each.
_POWERS_SQL = """
WITH roles AS (
    SELECT oid, rolname, rolsuper, rolcreaterole FROM pg_roles
    WHERE pg_has_role(current_user, oid, 'MEMBER')
)
SELECT 'role ' || rolname || ' is a superuser' FROM roles WHERE rolsuper
UNION ALL
SELECT 'role ' || rolname || ' can create roles (CREATEROLE)' FROM roles WHERE rolcreaterole
UNION ALL
SELECT 'role ' || rolname || ' writes server files or data for everyone'
FROM roles WHERE rolname IN ('pg_write_server_files', 'pg_execute_server_program', 'pg_write_all_data')
UNION ALL
SELECT 'role ' || r.rolname || ' has ' || p.priv || ' on database ' || current_database()
FROM roles r CROSS JOIN (VALUES ('CREATE'), ('TEMPORARY')) AS p(priv)
WHERE has_database_privilege(r.oid, current_database(), p.priv)
UNION ALL
SELECT 'role ' || r.rolname || ' has CREATE on schema ' || n.nspname
FROM roles r CROSS JOIN pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_schema_privilege(r.oid, n.oid, 'CREATE')
UNION ALL
SELECT 'role ' || r.rolname || ' can write or owns table ' || n.nspname || '.' || c.relname
FROM roles r CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND (c.relowner = r.oid OR has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER'))
UNION ALL
SELECT 'role ' || r.rolname || ' can create large objects with ' || f.fn
FROM roles r CROSS JOIN (VALUES ('lo_create(oid)'), ('lo_creat(integer)'), ('lo_from_bytea(oid, bytea)')) AS f(fn)
WHERE has_function_privilege(r.oid, f.fn, 'EXECUTE')
"""


def postgres_write_powers(conn: sa.Connection) -> tuple[str, list[str]]:
    """The connected role, and what it could write with despite a read-only session (empty for a reader)."""
    user = conn.exec_driver_sql("SELECT current_user").scalar_one()
    return str(user), [row[0] for row in conn.execute(sa.text(_POWERS_SQL))]


def reader_role_error(label: str, user: str, powers: list[str]) -> CaseError:
    """The error for a PostgreSQL case opened with a role that can write: one line, saying what to do."""
    if any(p.endswith("is a superuser") for p in powers):
        powers = [p for p in powers if p.endswith("is a superuser")]
    shown = "; ".join(powers[:3]) + (f"; and {len(powers) - 3} more" if len(powers) > 3 else "")
    return CaseError(
        f"cannot open the case {label} read-only: role {user!r} can write ({shown}). A read-only session "
        "can be switched off with SET, so analyses need a role that can only read: ingest with a writing "
        "role, and open the case as a role with CONNECT, USAGE and SELECT only, e.g. "
        "postgresql+psycopg://workbench_reader@HOST:PORT/DB (README, 'Read-only cases', has the SQL to create it)"
    )
