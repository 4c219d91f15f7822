"""PostgreSQL for tests: a fresh database per test module on the server in WORKBENCH_TEST_PG_URL.

Use it by importing the fixture into a test module and marking the tests::

    from pg import pg_url  # noqa: F401  (the fixture)

    @pytest.mark.postgres
    def test_something(pg_url): ...

Without ``WORKBENCH_TEST_PG_URL`` the tests skip with the reason below; with ``CI=true``
they fail instead, so CI can never pass by skipping them. ``make test`` and ``.ci/run``
start a throwaway server with ``scripts/pg-throwaway.sh``.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa

__all__ = ["SKIP_REASON", "pg_server_url", "pg_url"]

SKIP_REASON = "PostgreSQL not available: set WORKBENCH_TEST_PG_URL (make test starts one)"


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
    name = f"wb_{module}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"cannot create a test database on {server.render_as_string(hide_password=True)}: {exc.orig}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE: a test that failed may still hold a connection.
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        admin.dispose()
