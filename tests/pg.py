"""PostgreSQL for tests: a fresh database per test module on the server in WORKBENCH_TEST_PG_URL.

Use it by importing the fixture into a test module and marking the tests::

    from pg import pg_url  # noqa: F401  (the fixture)

    @pytest.mark.postgres
    def test_something(pg_url): ...

Without ``WORKBENCH_TEST_PG_URL`` the tests skip with the reason below; with ``CI=true``
they fail instead, so CI can never pass by skipping them. ``make test`` and ``.ci/run``
start a throwaway server with ``scripts/pg-throwaway.sh``.

``pg_url`` is the server's (writing) role: ingest with it. ``open_case`` refuses a role that
can write, so tests open the case with :func:`reader_url`, the same database as the role
``workbench_reader``. The fixture creates that role when the server lacks it (the server's
role must be allowed to) and gives it only CONNECT, USAGE and SELECT in each test database,
as the README tells teams to do.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa

__all__ = ["READER", "SKIP_REASON", "pg_server_url", "pg_url", "reader_url"]

SKIP_REASON = "PostgreSQL not available: set WORKBENCH_TEST_PG_URL (make test starts one)"
READER = "workbench_reader"

# Run as the writing role in each new database: the reader gets CONNECT, USAGE and SELECT,
# on tables made now or later by this role (ingest drops and re-creates them), and nothing
# else; PUBLIC loses TEMP, CREATE and large objects, which every role would otherwise have.
_READER_GRANTS = (
    "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
    "GRANT CONNECT ON DATABASE {db} TO workbench_reader",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO workbench_reader",
    "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO workbench_reader",
    "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO workbench_reader",
    "REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea) FROM PUBLIC",
)
# Race-free under pytest-xdist: when two workers create the role at once, the one that loses
# gets unique_violation (on pg_authid's index), not duplicate_object.
_CREATE_READER = (
    "DO $$ BEGIN CREATE ROLE workbench_reader LOGIN; "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
)


def reader_url(url: str | sa.URL) -> str:
    """``url`` with the read-only role ``workbench_reader`` for a PostgreSQL URL; other URLs and paths as they are."""
    if isinstance(url, str) and "://" not in url:
        return url
    parsed = sa.make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "postgresql":
        return url if isinstance(url, str) else parsed.render_as_string(hide_password=False)
    return parsed.set(username=READER, password=None).render_as_string(hide_password=False)


def pg_server_url() -> sa.URL | None:
    """The server URL from ``WORKBENCH_TEST_PG_URL``, e.g. ``postgresql+psycopg://postgres@127.0.0.1:54329/postgres``."""
    value = os.environ.get("WORKBENCH_TEST_PG_URL", "").strip()
    return sa.make_url(value) if value else None


def _require_server() -> sa.URL:
    url = pg_server_url()
    if url is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{SKIP_REASON}; CI=true, so PostgreSQL tests must run, not skip")
        pytest.skip(SKIP_REASON)
    return url


@pytest.fixture(scope="module")
def pg_url(request) -> str:
    """URL of a database created for this test module and dropped after it."""
    server = _require_server()
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.lower())[-30:]
    # The xdist worker (gw0, gw1, ...) in the name too: both workers share make test's one server.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"wb_{worker}_{module}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(_CREATE_READER)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
        owner = sa.create_engine(server.set(database=name), isolation_level="AUTOCOMMIT")
        with owner.connect() as conn:
            for grant in _READER_GRANTS:
                conn.exec_driver_sql(grant.format(db=quoted))
        owner.dispose()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        admin.dispose()
        pytest.fail(f"cannot create a test database on {server.render_as_string(hide_password=True)}: {exc.orig}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: a test that failed may still hold a connection.
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        admin.dispose()
