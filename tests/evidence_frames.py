"""Hand-made evidence for ingest tests: every table, tiny, consistent, with the awkward values.

The frames exercise what a round trip can get wrong: microsecond timestamps, nulls beside
empty strings, text with commas, quotes and line breaks, non-ASCII names, booleans, dates
and integers near the 64-bit limit. Invented people only ("Testa Testsson").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from workbench import evidence

__all__ = ["handmade_frames", "write_evidence"]

T0 = datetime(2013, 12, 13, 17, 52, 0, 123456, tzinfo=UTC)
BIG = 2**62 + 12345  # a customer number far beyond 32 bits


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def handmade_frames() -> dict[str, pl.DataFrame]:
    """One small frame per evidence table, typed exactly as ``evidence.polars_schema``."""
    rows: dict[str, dict[str, list]] = {
        "applicants": {
            "applicant_id": [1001, 1002, BIG],
            "personnummer": ["19850412-2383", "19900101-0017", "19751231-9995"],
            "name": ["Testa Testsson", "Åsa Öberg-Ängström", 'Nils "Nisse" Prov'],
            "address": ["Storgatan 12", None, "Götgatan 1, lgh 1101"],
            "postal_code": ["118 25", "", "116 21"],
            "city": ["Stockholm", "Södermalm", None],
            "email": ["testa@example.com", None, "nisse@example.com"],
            "phone": ["070-123 45 67", "", None],
            "employer": [None, "Prov & Test AB", ""],
            "annual_income": [384000, 0, None],
            "co_applicant_name": [None, None, "Provi Provsson"],
            "co_applicant_personnummer": [None, None, "19770707-7777"],
            "student": [False, True, False],
            "protected_identity": [False, False, True],
            "queue_start": [date(2004, 3, 1), date(2012, 2, 29), date(1999, 12, 31)],
            "registered_at": [_at(-5_000_000), _at(-600_000.5), _at(-9_000_000)],
            "status": ["active", "lapsed", "housed"],
            "created_by_handler_id": [None, 7, None],
        },
        "fees": {
            "applicant_id": [1001, 1001, BIG],
            "year": [2012, 2013, 2013],
            "amount": [200, 200, 200],
            "paid_at": [_at(-600_000), _at(-100_000), _at(-90_000)],
        },
        "deployments": {
            "time": [_at(0)],
            "version": ["4.12.0"],
            "description": ['Ny inloggning, sessionshantering\noch "snabbare" sidor'],
        },
        "logins": {
            "time": [_at(10), _at(11), _at(12)],
            "session_id": ["s-aaa", "s-bbb", "s-ccc"],
            "applicant_id": [1001, 1002, BIG],
            "method": ["bankid", "password", "bankid"],
            "ip": ["83.250.14.7", None, "2001:db8::1"],
            "user_agent": ["Mozilla/5.0 (Windows NT 6.1; rv:26.0)", "", None],
        },
        "logouts": {"time": [_at(20)], "session_id": ["s-aaa"], "reason": ["user"]},
        "page_views": {
            "time": [_at(10.5), _at(10.5), _at(11.5), _at(12.5)],
            "session_id": ["s-aaa", "s-aaa", "s-bbb", "s-ccc"],
            "ip": ["83.250.14.7", "83.250.14.7", None, "2001:db8::1"],
            "path": ["/mina-sidor", "/mina-sidor/profil", "/mina-sidor/profil", "/mina-sidor/ko"],
            "status": [200, 200, 200, 302],
            "account_id": [1001, 1001, 1001, None],
        },
        "profile_changes": {
            "change_id": [1],
            "time": [_at(11.75)],
            "session_id": ["s-bbb"],
            "account_id": [1001],
            "field": ["phone"],
            "old_value": ["070-123 45 67"],
            "new_value": [""],
        },
        "support_messages": {
            "message_id": ["<1@mail.example>", "<2@mail.example>"],
            "received_at": [_at(900), _at(901)],
            "channel": ["email", "web_form"],
            "sender_applicant_id": [1002, None],
            "sender_address": ["asa@example.com", None],
            "subject": ["Fel konto?", ""],
            "body": [
                'Hej,\r\njag såg någon annans uppgifter, "konstigt".\n\nMvh Åsa',
                "I saw someone else's page; please help",
            ],
        },
        "incident_actions": {
            "time": [_at(3_769), _at(3_769)],
            "action": ["login_disabled", "notice_published"],
            "description": ["Inloggningen stängd", None],
        },
        "listings": {
            "listing_id": [210345, 210346],
            "landlord": ["Stockholmshem", "Prov Fastigheter AB"],
            "district": ["Södermalm", "Kungsholmen"],
            "rooms": [2, 1],
            "rent": [7450, 5200],
            "kind": ["regular", "student"],
            "published_at": [_at(-20_000), _at(-10_000)],
            "closes_at": [_at(-10_000), _at(0)],
            "income_rule": ["3x_rent", "none"],
        },
        "interests": {
            "listing_id": [210345, 210345, 210346],
            "applicant_id": [1001, 1002, BIG],
            "registered_at": [_at(-19_000), _at(-18_000), _at(-9_000)],
            "withdrawn_at": [None, _at(-1_000), None],
            "session_id": [None, None, None],
        },
        "offers": {
            "listing_id": [210345, 210345],
            "applicant_id": [1001, 1002],
            "offered_at": [_at(-9_000), _at(-8_000)],
            "handler_id": [7, 7],
            "response": ["declined", "accepted"],
            "responded_at": [_at(-8_500), None],
            "response_session_id": [None, None],
            "reason": [None, "förtur: beslut 2013-41"],
        },
        "contracts": {"listing_id": [210345], "applicant_id": [1002], "signed_at": [_at(-7_000)], "handler_id": [7]},
        "handlers": {
            "handler_id": [7, 8],
            "name": ["Karin Provström", "Test Handläggare"],
            "team": ["Innerstaden", "Söderort"],
            "active_from": [date(2008, 9, 1), date(2011, 1, 3)],
            "active_to": [None, date(2013, 6, 30)],
        },
        "handler_actions": {
            "action_id": [88123, 88124],
            "time": [_at(-9_100), _at(-9_050)],
            "handler_id": [7, 7],
            "action": ["queue_date_change", "manual_offer"],
            "applicant_id": [1002, 1002],
            "listing_id": [None, 210345],
            "old_value": ["2009-05-01", None],
            "new_value": ["2003-05-01", None],
            "ip": ["10.20.3.41", "10.20.3.41"],
        },
    }
    assert set(rows) == set(evidence.TABLES), "handmade frames must cover every evidence table"
    return {name: pl.DataFrame(rows[name], schema=evidence.polars_schema(name)) for name in evidence.TABLES}


def write_evidence(frames: dict[str, pl.DataFrame], folder: Path, fmt: str = "parquet") -> Path:
    """Write ``frames`` as ``folder/<table>.<fmt>`` (the way the generator does) and return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            frame.write_csv(folder / f"{name}.csv")
    return folder
