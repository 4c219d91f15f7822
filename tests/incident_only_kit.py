"""A hand-written incident-only case: the web log, the mailbox, the incident log. No member register, no queue.

Rows are written here by hand, not by the generator, so the answers can be worked out on
paper (tests/test_incident_only_case.py asserts them exactly). Invented people only.

On Friday 13 December 2013 (UTC) release 4.12.0 goes live at 17:00. Member 1001 logs in at
18:00 (session ``s-a``); member 1002 logs in at 18:05 while 1001's session is open and is
served 1001's pages from that instant (``s-b``), changes 1001's phone number at 18:10 and
logs out at 18:40. Member 1003 logs in alone at 20:00 (``s-c``) and sees only their own page.
Member 1002 writes to support by e-mail on Saturday at 08:00 on the mail server's clock. The
mailbox holds no web-form message, so the mail server's clock cannot be estimated. Login is
disabled on Monday 16 December at 07:00; the fix, 4.12.1, is deployed on Wednesday 18
December at 09:00 and login re-enabled at 10:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from workbench import evidence

__all__ = ["INCIDENT_TABLES", "ROWS", "utc", "write"]

INCIDENT_TABLES = (
    "deployments",
    "logins",
    "logouts",
    "page_views",
    "profile_changes",
    "support_messages",
    "incident_actions",
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


ROWS: dict[str, dict[str, list]] = {
    "deployments": {
        "time": [utc(2013, 12, 13, 17, 0), utc(2013, 12, 18, 9, 0)],
        "version": ["4.12.0", "4.12.1"],
        "description": ["Ny sessionshantering", "Rättning av sessionshanteringen"],
    },
    "logins": {
        "time": [utc(2013, 12, 13, 18, 0), utc(2013, 12, 13, 18, 5), utc(2013, 12, 13, 20, 0)],
        "session_id": ["s-a", "s-b", "s-c"],
        "applicant_id": [1001, 1002, 1003],
        "method": ["bankid", "bankid", "password"],
        "ip": ["83.250.14.7", "83.250.99.1", "2001:db8::3"],
        "user_agent": ["UA-1", "UA-2", "UA-3"],
    },
    "logouts": {
        "time": [utc(2013, 12, 13, 18, 30), utc(2013, 12, 13, 18, 40), utc(2013, 12, 13, 20, 20)],
        "session_id": ["s-a", "s-b", "s-c"],
        "reason": ["user", "user", "user"],
    },
    "page_views": {
        # s-b's first page, at its login, renders 1001's account: bound from the first page on.
        "time": [
            utc(2013, 12, 13, 18, 0),
            utc(2013, 12, 13, 18, 5),
            utc(2013, 12, 13, 18, 9),
            utc(2013, 12, 13, 20, 0),
        ],
        "session_id": ["s-a", "s-b", "s-b", "s-c"],
        "ip": ["83.250.14.7", "83.250.99.1", "83.250.99.1", "2001:db8::3"],
        "path": ["/mina-sidor", "/mina-sidor", "/mina-sidor/profil", "/mina-sidor"],
        "status": [200, 200, 200, 200],
        "account_id": [1001, 1001, 1001, 1003],
    },
    "profile_changes": {
        "change_id": [1],
        "time": [utc(2013, 12, 13, 18, 10)],
        "session_id": ["s-b"],
        "account_id": [1001],
        "field": ["phone"],
        "old_value": ["070-111 11 11"],
        "new_value": ["070-222 22 22"],
    },
    "support_messages": {
        "message_id": ["<k1@mail.example>"],
        "received_at": [utc(2013, 12, 14, 8, 0)],
        "channel": ["email"],
        "sender_applicant_id": [1002],
        "sender_address": ["testa.tva@example.com"],
        "subject": ["Fel konto"],
        "body": ["Hej! När jag loggade in såg jag någon annans uppgifter, inte mina. Mvh Testa"],
    },
    "incident_actions": {
        "time": [utc(2013, 12, 16, 7, 0), utc(2013, 12, 18, 9, 0), utc(2013, 12, 18, 10, 0)],
        "action": ["login_disabled", "fix_deployed", "login_enabled"],
        "description": ["Inloggningen stängd", "4.12.1 i drift", "Inloggningen öppnad"],
    },
}
assert set(ROWS) == set(INCIDENT_TABLES)


def write(folder: Path) -> Path:
    """Write the incident-only evidence as CSV files in ``folder`` (no other table has a file); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in ROWS.items():
        pl.DataFrame(columns, schema=evidence.polars_schema(name)).write_csv(folder / f"{name}.csv")
    return folder
