"""Two hand-overs written by hand for ``workbench map init`` (issue 16, point 3), unlike the generator's.

``SWEDISH``: CSV exports with Swedish column names the generator does not use
(``Sökande_nr``, ``Pnr``, ``Inkomst (kr)``, ``Skyddad identitet``, ``Kö_datum``), semicolons,
Windows-1252, CRLF, decimal commas and Stockholm local times; a support-case export in UTF-8
with commas; a staff phone list and a read-me that belong to no v1 table.

``ENGLISH``: a queue-system SQLite database with English names (``Customers``,
``CaseWorkers`` and a ``Settings`` table that is no evidence), dates as ``dd/mm/yyyy``,
``Yes``/``No`` and ``0``/``1``; logins as JSON Lines; logouts as Parquet with two time columns
(``logged_in_at``, ``logged_out_at``), names no synonym knows.

Each hand-over comes with its ground truth: the table each input should make (or why it is
left unplaced), and ``ANSWERS``: what an investigator fills in for each ``TODO`` of the draft,
and nothing else. Invented people only (personnummer ending ``-0000``-style, no real ones).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

__all__ = ["ENGLISH", "SWEDISH", "Handover"]


@dataclass(frozen=True)
class Handover:
    write: object  # (root: Path) -> None
    placed: dict[str, str]  # v1 table -> the input's label in the draft
    columns: dict[str, dict[str, object]]  # v1 table -> v1 column -> the draft's proposal (a sample of them)
    unplaced: dict[str, str]  # input label -> words its reason must hold
    answers: dict[tuple[str, str], object]  # (table, column) -> what the investigator writes for its TODO
    rows: dict[str, int]  # v1 table -> rows the case holds after ingest
    values: dict[str, object] = field(default_factory=dict)  # "table.column[key]" -> value in the case


def _csv(path: Path, lines: list[str], encoding: str, newline: str = "\r\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))


# ---- a Swedish hand-over: CSV exports ---------------------------------------------------------
SV_APPLICANTS = [
    "Sökande_nr;Pnr;Förnamn;Efternamn;Gatuadress;Postnummer;Ort;E-postadress;Telefonnr;Arbetsgivare;"
    "Inkomst (kr);Studerande;Skyddad identitet;Kö_datum;Registrerad;Status",
    "5001;19800101-0000;Alva;Provsson;Testgränd 1;123 45;Exempelby;alva@example.org;070-100 00 01;Fiktiva AB;"
    "312000,00;N;Nej;2003-02-14;2003-02-14 09:15;Aktiv",
    "5002;19810202-0000;Östen;Låtsasson;Prövovägen 2;123 46;Exempelby;osten@example.org;070-100 00 02;;"
    "0,00;J;Nej;2009-09-01;2009-09-01 13:00;Aktiv",
    "5003;19820303-0000;Märta;Påhittad;;;;;;;;N;Ja;2001-06-30;2001-06-30 08:00;Vilande",
    "5004;19830404-0000;Kåre;Exempelsson;Låtsasgatan 4;123 47;Exempelby;kare@example.org;;Kommunen;"
    "287500,00;N;Nej;1998-11-11;1998-11-11 11:11;Avslutad",
    "5005;19840505-0000;Signe;Dummy;Testgränd 5;123 45;Exempelby;signe@example.org;070-100 00 05;;"
    "198000,00;N;Nej;2012-01-20;2012-01-20 20:20;Spärrad",
]
SV_FEES = [
    "Sökande_nr;År;Belopp (kr);Inbetald",
    "5001;2012;200,00;2012-01-15 10:22",
    "5001;2013;200,00;2013-01-14 09:00",
    "5002;2013;200,00;2013-02-01 12:00",
]
SV_LOGINS = [
    "Tid;Session;Sökande_nr;Metod;IP;Klient",
    '2013-11-14 07:58:10;9f1c2a;5001;BankID;192.0.2.10;"Mozilla/5.0 (Windows NT 6.1; rv:25.0) Firefox/25.0"',
    "2013-11-14 08:01:00;9f1c2b;5002;Mobilt BankID;192.0.2.11;Mozilla/5.0 (iPhone)",
    "2013-11-14 08:10:30;9f1c2c;5004;Lösenord;192.0.2.12;Mozilla/5.0 (Macintosh)",
    "2013-11-14 08:15:00;9f1c2d;5005;Engångskod;192.0.2.13;Opera/9.80",
]
SV_LOGOUTS = [
    "Tid;Session;Orsak",
    "2013-11-14 08:05:00;9f1c2a;Utloggad",
    "2013-11-14 08:31:02;9f1c2b;Tidsgräns",
    "2013-11-14 08:40:00;9f1c2c;Inaktiv 20 min",
]
SV_CASES = [
    "Ärendenr,Inkommet,Kanal,Sökande_nr,Avsändare,Rubrik,Text",
    "A-4711,2013-11-14 08:07:33,Webb,5001,alva@example.org,Fel uppgifter,Jag ser någon annans adress.",
    "A-4712,2013-11-14 09:00:00,E-post,5004,kare@example.org,Fråga,När får jag svar?",
    "A-4713,2013-11-15 10:30:00,Mejl,,okand@example.net,Bilaga,Se bilagan",
]
SV_PHONES = [
    "Namn,Anknytning,Mobil,Rum,Avdelning",
    "Kim Växelsson,1234,070-200 00 01,B214,Kundtjänst",
    "Robin Testare,1235,070-200 00 02,B215,IT",
]


def _write_swedish(root: Path) -> None:
    _csv(root / "Export 2013-12" / "Sökande.csv", SV_APPLICANTS, "cp1252")
    _csv(root / "Export 2013-12" / "Inbetalningar.csv", SV_FEES, "cp1252")
    _csv(root / "Export 2013-12" / "Inloggningar.csv", SV_LOGINS, "cp1252")
    _csv(root / "Export 2013-12" / "Utloggningar.csv", SV_LOGOUTS, "cp1252")
    _csv(root / "Kundtjänst" / "ärenden.csv", SV_CASES, "utf-8", "\n")
    _csv(root / "Personal" / "Telefonlista.csv", SV_PHONES, "utf-8", "\n")
    _csv(root / "LÄSMIG.txt", ["Export från kösystemet, december 2013.", "Frågor: IT-avdelningen"], "utf-8", "\n")


SWEDISH = Handover(
    write=_write_swedish,
    placed={
        "applicants": "Export 2013-12/Sökande.csv",
        "fees": "Export 2013-12/Inbetalningar.csv",
        "logins": "Export 2013-12/Inloggningar.csv",
        "logouts": "Export 2013-12/Utloggningar.csv",
        "support_messages": "Kundtjänst/ärenden.csv",
    },
    columns={
        "applicants": {
            "applicant_id": "Sökande_nr",
            "personnummer": "Pnr",
            "name": {"concat": ["Förnamn", {"text": " "}, "Efternamn"]},
            "postal_code": "Postnummer",
            "email": "E-postadress",
            "phone": "Telefonnr",
            "annual_income": "Inkomst (kr)",
            "student": {"column": "Studerande", "values": {"J": True, "N": False}},
            "protected_identity": {"column": "Skyddad identitet", "values": {"Ja": True, "Nej": False}},
            "queue_start": "Kö_datum",
            "registered_at": "Registrerad",
            "co_applicant_name": None,
        },
        "fees": {"applicant_id": "Sökande_nr", "year": "År", "amount": "Belopp (kr)", "paid_at": "Inbetald"},
        "logins": {"user_agent": "Klient", "ip": "IP", "session_id": "Session"},
        "support_messages": {
            "message_id": "Ärendenr",
            "received_at": "Inkommet",
            "sender_applicant_id": "Sökande_nr",
            "sender_address": "Avsändare",
            "subject": "Rubrik",
            "body": "Text",
        },
    },
    unplaced={
        "Personal/Telefonlista.csv": "best fit handlers, but only 2 of 5 columns (name, team) and 2 of its 4 required",
        "LÄSMIG.txt": "no column matches a v1 column",
    },
    answers={
        ("applicants", "status"): {"Spärrad": "closed"},
        ("logins", "method"): {"Engångskod": "password"},
        ("logouts", "reason"): {"Inaktiv 20 min": "timeout"},
        ("support_messages", "channel"): {"Mejl": "email"},
    },
    rows={"applicants": 5, "fees": 3, "logins": 4, "logouts": 3, "support_messages": 3},
    values={
        "applicants.status[5005]": "closed",
        "applicants.status[5003]": "lapsed",
        "applicants.annual_income[5004]": 287500,
        "applicants.protected_identity[5003]": True,
        "applicants.student[5002]": True,
        "applicants.name[5002]": "Östen Låtsasson",
    },
)


# ---- an English hand-over: a SQLite queue system, JSON Lines and Parquet --------------------------
EN_CUSTOMERS = [
    # CustomerNo, SSN, FirstName, LastName, Street, ZipCode, Town, EmailAddress, PhoneNumber, Employer,
    # YearlyIncome, IsStudent, Protected, InQueueSince, CreatedAt, State, CreatedBy
    (7001, "19700707-0000", "Dana", "Madeup", "1 Sample Road", "111 11", "Testville", "dana@example.org",
     "070-300 00 01", "Acme Fictional", 401000, "No", 0, "03/01/2004", "2004-01-03T09:00:00Z", "Active", None),
    (7002, "19710808-0000", "Eli", "Notreal", "2 Sample Road", "111 12", "Testville", "eli@example.org",
     None, None, 150000, "Yes", 0, "25/08/2011", "2011-08-25T12:30:00Z", "Active", 41),
    (7003, "19720909-0000", "Fran", "Invented", None, None, None, None, None, None, None, "No", 1,
     "14/02/2008", "2008-02-14T08:00:00Z", "On hold", None),
    (7004, "19731010-0000", "Gus", "Placeholder", "4 Sample Road", "111 14", "Testville", "gus@example.org",
     "070-300 00 04", None, 333000, "No", 0, "30/11/1999", "1999-11-30T10:10:00Z", "Housed", 42),
]  # fmt: skip
EN_WORKERS = [(41, "Harper Fakename", "Inner city", "2008-09-01", None), (42, "Ira Testperson", "South", "2010-01-11", "2013-06-30")]  # fmt: skip
EN_LOGINS = [
    {"timestamp": "2013-11-14T06:58:10Z", "session": "e1", "customer_no": 7001, "auth": "BankID",
     "client_ip": "198.51.100.7", "browser": "Mozilla/5.0 (Windows NT 6.1)"},
    {"timestamp": "2013-11-14T07:01:00Z", "session": "e2", "customer_no": 7002, "auth": "Password",
     "client_ip": "198.51.100.8", "browser": "Mozilla/5.0 (iPhone)"},
    {"timestamp": "2013-11-14T07:10:30Z", "session": "e3", "customer_no": 7004, "auth": "BankID on file",
     "client_ip": "198.51.100.9", "browser": "Opera/9.80"},
]  # fmt: skip


def _write_english(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(root / "queue.db")
    con.executescript("""
    CREATE TABLE Customers (CustomerNo INTEGER PRIMARY KEY, SSN TEXT, FirstName TEXT, LastName TEXT,
      Street TEXT, ZipCode TEXT, Town TEXT, EmailAddress TEXT, PhoneNumber TEXT, Employer TEXT,
      YearlyIncome INTEGER, IsStudent TEXT, Protected INTEGER, InQueueSince TEXT, CreatedAt TEXT,
      State TEXT, CreatedBy INTEGER);
    CREATE TABLE CaseWorkers (WorkerId INTEGER PRIMARY KEY, Name TEXT, Team TEXT, StartDate TEXT, EndDate TEXT);
    CREATE TABLE Settings (Key TEXT PRIMARY KEY, Value TEXT);
    """)
    con.executemany(f"INSERT INTO Customers VALUES ({','.join('?' * 17)})", EN_CUSTOMERS)
    con.executemany("INSERT INTO CaseWorkers VALUES (?,?,?,?,?)", EN_WORKERS)
    con.executemany("INSERT INTO Settings VALUES (?,?)", [("smtp_host", "mail.example"), ("theme", "blue")])
    con.commit()
    con.close()
    (root / "logins.jsonl").write_text("".join(json.dumps(r) + "\n" for r in EN_LOGINS), encoding="utf-8")
    pl.DataFrame(
        {
            "logged_in_at": [datetime(2013, 11, 14, 6, 58, 10, tzinfo=UTC), datetime(2013, 11, 14, 7, 1, tzinfo=UTC)],
            "logged_out_at": [datetime(2013, 11, 14, 7, 5, tzinfo=UTC), datetime(2013, 11, 14, 7, 40, tzinfo=UTC)],
            "session_id": ["e1", "e2"],
            "cause": ["user", "idle"],
        }
    ).write_parquet(root / "logouts.parquet")


ENGLISH = Handover(
    write=_write_english,
    placed={
        "applicants": "queue.db#Customers",
        "handlers": "queue.db#CaseWorkers",
        "logins": "logins.jsonl",
        "logouts": "logouts.parquet",
    },
    columns={
        "applicants": {
            "applicant_id": "CustomerNo",
            "personnummer": "SSN",
            "name": {"concat": ["FirstName", {"text": " "}, "LastName"]},
            "address": "Street",
            "postal_code": "ZipCode",
            "city": "Town",
            "annual_income": "YearlyIncome",
            "student": {"column": "IsStudent", "values": {"Yes": True, "No": False}},
            "protected_identity": {"column": "Protected", "values": {"0": False, "1": True}},
            "queue_start": {"column": "InQueueSince", "format": "%d/%m/%Y"},
            "registered_at": "CreatedAt",
            "created_by_handler_id": "CreatedBy",
        },
        "handlers": {
            "handler_id": "WorkerId",
            "name": "Name",
            "team": "Team",
            "active_from": "StartDate",
            "active_to": "EndDate",
        },
        "logins": {"time": "timestamp", "applicant_id": "customer_no", "ip": "client_ip", "user_agent": "browser"},
        "logouts": {"time": None, "session_id": "session_id"},
    },
    unplaced={"queue.db#Settings": "no column matches a v1 column"},
    answers={
        ("applicants", "status"): {"On hold": "lapsed"},
        ("logins", "method"): {"BankID on file": "bankid"},
        ("logouts", "time"): "logged_out_at",
        ("logouts", "reason"): {"idle": "timeout"},
    },
    rows={"applicants": 4, "handlers": 2, "logins": 3, "logouts": 2},
    values={
        "applicants.status[7003]": "lapsed",
        "applicants.status[7004]": "housed",
        "applicants.queue_start[7002]": "2011-08-25",
        "applicants.protected_identity[7003]": True,
        "applicants.student[7002]": True,
        "applicants.name[7004]": "Gus Placeholder",
    },
)
