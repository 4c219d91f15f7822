"""Two incident cases written row by row, outside the generator, in evidence format v1.

``midsession_swap``: Alva logs in at 10:40 CET while Bo's session is open, sees her own
pages, and from 11:05 CET is shown Bo's account. Cecilia logs in beside both and is never
swapped; David logs in alone later. Alva reports the fault by mail.

``swap_without_open_session``: the same, but Bo logs in only after Alva, so no other
member's session was open at her login (outside what the fault's mechanism explains).

``one_person_two_sessions``: Erik is logged in on his computer and his phone at the same
time, both showing his own account: two honest concurrent sessions of one person, not a swap.

Both are Saturday 14 December 2013 (CET = UTC+1), inside the incident window of the
deployment log and incident log below. Invented people only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from workbench import evidence

__all__ = ["ALVA_LOGIN", "MAIL_OFFSET_S", "REPORT_RECEIVED", "SWAP_AT", "case_frames", "write_case"]

ALVA, BO, CECILIA, DAVID, ERIK = 2001, 2002, 2003, 2004, 2005


def utc(hour: int, minute: int, second: int = 0, day: int = 14) -> datetime:
    return datetime(2013, 12, day, hour, minute, second, tzinfo=UTC)


ALVA_LOGIN = utc(9, 40)  # 10:40 CET
SWAP_AT = utc(10, 5)  # 11:05 CET: the first page showing Bo's account
MAIL_OFFSET_S = 120  # the mail server's clock runs two minutes ahead of the web servers'
REPORT_RECEIVED = utc(13, 0)  # by the mail clock: 12:58 UTC on the web clock


def _applicant(i: int, name: str) -> dict:
    return {
        "applicant_id": i,
        "personnummer": f"19800{i % 10}01-1234",
        "name": name,
        "address": f"Provgatan {i % 100}",
        "postal_code": "118 25",
        "city": "Stockholm",
        "email": f"prov{i}@example.com",
        "phone": f"070-000 {i}",
        "employer": None,
        "annual_income": 300000,
        "co_applicant_name": None,
        "co_applicant_personnummer": None,
        "student": False,
        "protected_identity": False,
        "queue_start": date(2005, 1, 1),
        "registered_at": datetime(2005, 1, 1, 9, 0, tzinfo=UTC),
        "status": "active",
        "created_by_handler_id": None,
    }


def _session(sid: str, member: int, login: datetime, pages: list[tuple[datetime, str, int | None]], logout: datetime):
    """Login, logout and page rows of one session; the login and logout pages are added."""
    ip = f"10.0.0.{member % 256}"
    login_row = {"time": login, "session_id": sid, "applicant_id": member, "method": "bankid", "ip": ip}
    views = [(login, "/logga-in", 302, None), *[(t, p, 200, a) for t, p, a in pages], (logout, "/logga-ut", 302, None)]
    page_rows = [
        {"time": t, "session_id": sid, "ip": ip, "path": p, "status": s, "account_id": a} for t, p, s, a in views
    ]
    return (
        {**login_row, "user_agent": "Mozilla/5.0 (Windows NT 6.1; rv:26.0)"},
        {"time": logout, "session_id": sid, "reason": "user"},
        page_rows,
    )


def _sessions(name: str) -> list:
    if name in ("midsession_swap", "swap_without_open_session"):
        # In the second, Bo logs in only after Alva: no other member's session is open at her login.
        bo_login = utc(9, 30) if name == "midsession_swap" else utc(9, 45)
        return [
            _session(
                "s-bo",
                BO,
                bo_login,
                [
                    (bo_login + timedelta(seconds=2), "/mina-sidor", BO),
                    (bo_login + timedelta(minutes=1), "/mina-sidor/ko", BO),
                ],
                utc(10, 30),
            ),
            _session(
                "s-alva",
                ALVA,
                ALVA_LOGIN,
                [
                    (utc(9, 40, 2), "/mina-sidor", ALVA),
                    (utc(9, 50), "/mina-sidor/profil", ALVA),
                    (SWAP_AT, "/mina-sidor", BO),
                    (utc(10, 6), "/mina-sidor/profil", BO),
                    (utc(10, 7), "/mina-sidor/ko", BO),
                ],
                utc(10, 8),
            ),
            _session(
                "s-cecilia",
                CECILIA,
                utc(9, 55),
                [(utc(9, 55, 2), "/mina-sidor", CECILIA), (utc(9, 56), "/kundtjanst/kontakt", None)],
                utc(9, 58),
            ),
            _session("s-david", DAVID, utc(11, 0), [(utc(11, 0, 2), "/mina-sidor", DAVID)], utc(11, 5)),
        ]
    if name == "one_person_two_sessions":
        return [
            _session(
                "s-erik-desktop",
                ERIK,
                utc(10, 0),
                [(utc(10, 0, 2), "/mina-sidor", ERIK), (utc(10, 20), "/mina-sidor/profil", ERIK)],
                utc(10, 30),
            ),
            _session(
                "s-erik-phone",
                ERIK,
                utc(10, 10),
                [(utc(10, 10, 2), "/mina-sidor", ERIK), (utc(10, 15), "/mina-sidor/ko", ERIK)],
                utc(10, 25),
            ),
            _session(
                "s-cecilia",
                CECILIA,
                utc(12, 0),
                [(utc(12, 0, 2), "/mina-sidor", CECILIA), (utc(12, 1), "/kundtjanst/kontakt", None)],
                utc(12, 3),
            ),
        ]
    raise ValueError(
        f"no hand-written case {name!r}; there are midsession_swap, swap_without_open_session and one_person_two_sessions"
    )


def _messages(name: str) -> list[dict]:
    # A web-form message beside its contact-form request pins the mail clock: 2 min ahead.
    form_at = utc(12, 1) if name == "one_person_two_sessions" else utc(9, 56)
    rows = [
        {
            "message_id": "<form-1@mail.example>",
            "received_at": datetime.fromtimestamp(form_at.timestamp() + MAIL_OFFSET_S, UTC),
            "channel": "web_form",
            "sender_applicant_id": CECILIA,
            "sender_address": None,
            "subject": "Avgift",
            "body": "Hej, när kommer fakturan för köavgiften?",
        }
    ]
    if name != "one_person_two_sessions":
        rows.append(
            {
                "message_id": "<report-1@mail.example>",
                "received_at": REPORT_RECEIVED,
                "channel": "email",
                "sender_applicant_id": ALVA,
                "sender_address": "prov2001@example.com",
                "subject": "Wrong account",
                "body": "I logged in to My pages and saw someone else's name and personnummer. It was not my account.",
            }
        )
    return rows


def case_frames(name: str) -> dict[str, pl.DataFrame]:
    """Every evidence table of the hand-written case ``name``, typed as ``evidence.polars_schema``."""
    sessions = _sessions(name)
    members = {ALVA: "Alva Prov", BO: "Bo Prov", CECILIA: "Cecilia Prov", DAVID: "David Prov", ERIK: "Erik Prov"}
    rows: dict[str, list[dict]] = {
        "applicants": [_applicant(i, n) for i, n in members.items()],
        "deployments": [
            {
                "time": datetime(2013, 12, 13, 17, 52, tzinfo=UTC),
                "version": "4.12.0",
                "description": "Ny sessionshantering",
            },
            {"time": datetime(2013, 12, 18, 9, 20, tzinfo=UTC), "version": "4.12.1", "description": "Rättning"},
        ],
        "incident_actions": [
            {"time": datetime(2013, 12, 16, 7, 41, tzinfo=UTC), "action": "login_disabled", "description": "Stängd"},
            {"time": datetime(2013, 12, 18, 9, 20, tzinfo=UTC), "action": "fix_deployed", "description": "Rättning"},
            {"time": datetime(2013, 12, 18, 10, 5, tzinfo=UTC), "action": "login_enabled", "description": "Öppnad"},
        ],
        "logins": [s[0] for s in sessions],
        "logouts": [s[1] for s in sessions],
        "page_views": [row for s in sessions for row in s[2]],
        "support_messages": _messages(name),
    }
    return {
        table: pl.DataFrame(rows[table], schema=evidence.polars_schema(table))
        if rows.get(table)
        else pl.DataFrame(schema=evidence.polars_schema(table))
        for table in evidence.TABLES
    }


def write_case(name: str, folder: Path) -> Path:
    """Write the case ``name`` as ``folder/<table>.parquet`` and return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in case_frames(name).items():
        frame.write_parquet(folder / f"{table}.parquet")
    return folder
