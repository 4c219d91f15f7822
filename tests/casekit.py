"""A small hand-made case on SQLite, DuckDB and PostgreSQL, for the query and audience tests.

The case is written straight into an engine from :data:`workbench.case.case_metadata`,
without ingest, so the query tests do not depend on it. The hand-made rows pin edge cases a generated
case may not have (an event at 18:59:59.999999, a session zone of +05:30).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from workbench.case import case_metadata

# A zone with a half-hour offset: hour buckets computed in the session zone would be wrong.
SESSION_ZONE = "Asia/Kolkata"
ENGINES = ("sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _applicant(i: int, name: str, protected: bool = False) -> dict:
    return {
        "applicant_id": i,
        "personnummer": f"198501{i % 100:02d}-1234",
        "name": name,
        "address": f"Storgatan {i % 50}",
        "postal_code": "118 25",
        "city": "Stockholm",
        "email": f"user{i}@example.com",
        "phone": f"070-{i}",
        "employer": None,
        "annual_income": 300000 + i,
        "co_applicant_name": None,
        "co_applicant_personnummer": None,
        "student": False,
        "protected_identity": protected,
        "queue_start": date(2004, 3, 1),
        "registered_at": utc(2004, 3, 1, 9, 0),
        "status": "active",
        "created_by_handler_id": None,
    }


ROWS: dict[str, list[dict]] = {
    "applicants": [
        _applicant(1001, "Anna Lindqvist"),
        _applicant(1002, "Erik Berg"),
        _applicant(1003, "Sara Ek", True),
    ],
    "fees": [{"applicant_id": 1001, "year": 2013, "amount": 200, "paid_at": utc(2013, 1, 5, 8, 0)}],
    "deployments": [
        {"time": utc(2013, 12, 1, 10, 0), "version": "4.11.0", "description": "Rutin"},
        {"time": utc(2013, 12, 13, 17, 0), "version": "4.12.0", "description": "Ny sessionshantering"},
        {"time": utc(2013, 12, 18, 9, 0), "version": "4.12.1", "description": "Rättning"},
    ],
    "logins": [
        {
            "time": utc(2013, 12, 12, 10, 0),
            "session_id": "s0",
            "applicant_id": 1001,
            "method": "bankid",
            "ip": "10.0.0.1",
            "user_agent": "UA",
        },
        {
            "time": utc(2013, 12, 13, 18, 5),
            "session_id": "s1",
            "applicant_id": 1001,
            "method": "bankid",
            "ip": "10.0.0.1",
            "user_agent": "UA",
        },
        {
            "time": utc(2013, 12, 13, 18, 40),
            "session_id": "s2",
            "applicant_id": 1002,
            "method": "password",
            "ip": "10.0.0.2",
            "user_agent": "UA",
        },
        {
            "time": utc(2013, 12, 14, 9, 10),
            "session_id": "s3",
            "applicant_id": 1003,
            "method": "bankid",
            "ip": "10.0.0.3",
            "user_agent": "UA",
        },
    ],
    "logouts": [{"time": utc(2013, 12, 13, 19, 30), "session_id": "s1", "reason": "user"}],
    "page_views": [
        {
            "time": utc(2013, 12, 13, 18, 6),
            "session_id": "s1",
            "ip": "10.0.0.1",
            "path": "/mina-sidor",
            "status": 200,
            "account_id": 1001,
        },
        {
            "time": datetime(2013, 12, 13, 18, 59, 59, 999999, tzinfo=UTC),
            "session_id": "s2",
            "ip": "10.0.0.2",
            "path": "/mina-sidor/profil",
            "status": 200,
            "account_id": 1001,
        },
        {
            "time": utc(2013, 12, 13, 19, 0),
            "session_id": "s2",
            "ip": "10.0.0.2",
            "path": "/mina-sidor",
            "status": 200,
            "account_id": 1001,
        },
        {
            "time": utc(2013, 12, 14, 9, 11),
            "session_id": "s3",
            "ip": "10.0.0.3",
            "path": "/mina-sidor/ko",
            "status": 200,
            "account_id": 1003,
        },
    ],
    "profile_changes": [
        {
            "change_id": 1,
            "time": utc(2013, 12, 13, 19, 5),
            "session_id": "s2",
            "account_id": 1001,
            "field": "phone",
            "old_value": "070-1001",
            "new_value": "073-1",
        },
    ],
    "support_messages": [
        {
            "message_id": "<m1@x>",
            "received_at": utc(2013, 12, 14, 9, 30),
            "channel": "email",
            "sender_applicant_id": 1002,
            "sender_address": "user1002@example.com",
            "subject": "Fel konto?",
            "body": "Jag såg någon annans sida.",
        },
        {
            "message_id": "<m2@x>",
            "received_at": utc(2013, 12, 15, 11, 45),
            "channel": "web_form",
            "sender_applicant_id": None,
            "sender_address": "x@example.com",
            "subject": "Hjälp",
            "body": "Wrong account shown",
        },
    ],
    "incident_actions": [
        {"time": utc(2013, 12, 16, 7, 30), "action": "login_disabled", "description": "Inloggning stängd"},
        {"time": utc(2013, 12, 18, 9, 0), "action": "fix_deployed", "description": "Rättning"},
        {"time": utc(2013, 12, 18, 10, 0), "action": "login_enabled", "description": "Öppnad"},
        {"time": utc(2013, 12, 20, 12, 0), "action": "notice_published", "description": "Notis"},
    ],
    "listings": [
        {
            "listing_id": 1,
            "landlord": "Stockholmshem",
            "district": "Södermalm",
            "rooms": 2,
            "rent": 7450,
            "kind": "regular",
            "published_at": utc(2013, 11, 1, 8, 0),
            "closes_at": utc(2013, 11, 10, 8, 0),
            "income_rule": "3x_rent",
        },
    ],
    "interests": [
        {
            "listing_id": 1,
            "applicant_id": 1001,
            "registered_at": utc(2013, 11, 2, 8, 0),
            "withdrawn_at": None,
            "session_id": None,
        }
    ],
    "offers": [],
    "contracts": [],
    "handlers": [
        {
            "handler_id": 7,
            "name": "Karin Nyström",
            "team": "Innerstaden",
            "active_from": date(2008, 9, 1),
            "active_to": None,
        }
    ],
    "handler_actions": [],
    "manifest": [
        {
            "path": "evidence/logins.csv",
            "table": "logins",
            "format": "csv",
            "sha256": "ab" * 32,
            "bytes": 1234,
            "rows_read": 5,
            "rows_loaded": 4,
            "rows_quarantined": 1,
            "format_version": 1,
            "workbench_version": "0.1.0",
            "ingested_at": utc(2024, 1, 2, 3, 4, 5),
        },
        {
            "path": "evidence/applicants.csv",
            "table": "applicants",
            "format": "csv",
            "sha256": "cd" * 32,
            "bytes": 999,
            "rows_read": 3,
            "rows_loaded": 3,
            "rows_quarantined": 0,
            "format_version": 1,
            "workbench_version": "0.1.0",
            "ingested_at": utc(2024, 1, 2, 3, 4, 5),
        },
    ],
    "quarantine": [
        {
            "file": "evidence/logins.csv",
            "table": "logins",
            "line": 4,
            "column": "time",
            "value": "2013-12-13 18:00",
            "reason": "naive timestamp",
        },
        {
            "file": "evidence/logins.csv",
            "table": "logins",
            "line": 7,
            "column": "time",
            "value": "2013-12-13 19:00",
            "reason": "naive timestamp",
        },
        {
            "file": "evidence/logins.csv",
            "table": "logins",
            "line": 9,
            "column": "method",
            "value": "sms",
            "reason": "unknown enum value",
        },
    ],
}


def fill(engine: sa.Engine) -> sa.Engine:
    """Create every case table on ``engine`` and load :data:`ROWS`."""
    md = case_metadata
    md.create_all(engine)
    with engine.begin() as conn:
        for name, rows in ROWS.items():
            if rows:
                conn.execute(md.tables[name].insert(), rows)
    return engine


def _set_duckdb_zone(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET TimeZone = '{SESSION_ZONE}'")
    cursor.close()


def make_engine(kind: str, tmp_path) -> tuple[sa.Engine, Callable[[], None]]:
    """A filled engine of ``kind`` and a cleanup function; PostgreSQL needs WORKBENCH_TEST_PG_URL."""
    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'case.db'}")
        return fill(engine), engine.dispose
    if kind == "duckdb":
        engine = sa.create_engine(f"duckdb:///{tmp_path / 'case.duckdb'}")
        sa.event.listen(engine, "connect", _set_duckdb_zone)
        return fill(engine), engine.dispose
    url = os.environ.get("WORKBENCH_TEST_PG_URL")
    if not url:
        reason = "PostgreSQL parity needs WORKBENCH_TEST_PG_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:54330/postgres)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; with CI=true PostgreSQL tests must not skip")
        pytest.skip(reason)
    schema = f"wbq_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    engine = sa.create_engine(url, connect_args={"options": f"-c search_path={schema} -c timezone={SESSION_ZONE}"})

    def cleanup():
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()

    return fill(engine), cleanup


@pytest.fixture(scope="module", params=ENGINES)
def case_engine(request, tmp_path_factory):
    """The small case on each engine in turn (PostgreSQL when WORKBENCH_TEST_PG_URL is set)."""
    engine, cleanup = make_engine(request.param, tmp_path_factory.mktemp(request.param))
    yield engine
    cleanup()


@pytest.fixture(scope="module")
def sqlite_case(tmp_path_factory):
    """The small case on SQLite only."""
    engine, cleanup = make_engine("sqlite", tmp_path_factory.mktemp("sqlite"))
    yield engine
    cleanup()
