"""A small hand-written hand-over, as a housing queue might give it, and the mapping that reads it.

Invented people only. Four kinds of input: a queue-system SQLite database with Swedish
names (handlers), semicolon CSV in Windows-1252 with decimal commas and Stockholm local
times (applicants, logins), an IIS log in UTC whose #Fields: change mid-file (page_views),
and a folder of .eml files (support_messages).
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

APPLICANTS = (
    "Exportdatum;2014-01-10\n"
    "Kundnr;Personnr;Fornamn;Efternamn;Adress;Postnr;Ort;Epost;Telefon;Arbetsgivare;Inkomst;Student;Skyddad;Kostart;Registrerad;Status\n"
    "1001;19850412-0000;Åsa;Öberg;Storgatan 12;118 25;Stockholm;asa@example.com;070-1;Berg AB;384000,00;Nej;Nej;2004-03-01;2013-12-13 18:42:05;Aktiv\n"
    "1002;19900101-0000;Pär;Lund;;;;;;;;Ja;Nej;2010-05-02;2013-10-27 02:30:00;Aktiv\n"
    "1003;19700303-0000;Eva;Ek;;;;;;;250000,50;Nej;Nej;2001-01-01;2013-03-31 02:30:00;Aktiv\n"
    "1004;19720404-0000;Bo;Ås;;;;;;;;Kanske;Nej;2001-01-01;2013-12-01 10:00:00;Aktiv\n"
)
LOGINS = (
    "Tid;Session;Kundnr;Metod;IP;Webblasare\n"
    "2013-12-13 18:50:00;s1;1001;BankID;10.0.0.1;Firefox\n"
    "2013-12-13 18:55:00;s2;1001;Lösenord;10.0.0.2;Firefox\n"
)
IIS = textwrap.dedent(
    """\
    #Software: Microsoft Internet Information Services 7.5
    #Version: 1.0
    #Date: 2013-12-13 17:50:00
    #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(Cookie) sc-status
    2013-12-13 17:50:01 192.0.2.1 GET /mina-sidor - 10.0.0.1 ASP.NET_SessionId=s1;+kund=1001 200
    2013-12-13 17:50:02 192.0.2.1 GET /mina-sidor/profil - 10.0.0.1 ASP.NET_SessionId=s1;+kund=1001 200 extra
    #Fields: date time cs-method cs-uri-stem cs(Cookie) sc-status
    2013-12-13 17:55:03 GET /mina-sidor/ko ASP.NET_SessionId=s2;+kund=1001 200
    #Fields: date time cs-uri-stem sc-status
    2013-12-13 17:56:00 /mina-sidor 200
    """
)
EML_OK = (
    "Message-ID: <m1@mail.example>\r\nDate: Sat, 14 Dec 2013 09:15:02 +0100\r\nFrom: Åsa <asa@example.com>\r\n"
    "Subject: Fel konto?\r\nX-Kanal: E-post\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nJag såg någon annans sida.\r\n"
)
EML_BROKEN = (
    "Message-ID: <m2@mail.example>\r\nDate: Sat, 14 Dec 2013 10:00:00 +0100\r\nFrom: bo@example.com\r\nX-Kanal: Webbformulär\r\n"
    'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\nno boundary ever starts\r\n'
)
MAPPING = textwrap.dedent(
    """\
    version: 1
    timezone: Europe/Stockholm
    tables:
      handlers:
        source: {sql: "SELECT hid, namn, grupp, fran FROM handlaggare", url: "sqlite:///ko.sqlite"}
        columns:
          handler_id: hid
          name: namn
          team: grupp
          active_from: fran
          active_to: null
      applicants:
        source: {csv: "export/sokande*.csv", delimiter: ";", encoding: cp1252, decimal_comma: true, header: 2}
        columns:
          applicant_id: Kundnr
          personnummer: Personnr
          name: {concat: [Fornamn, {text: " "}, Efternamn]}
          address: Adress
          postal_code: Postnr
          city: Ort
          email: Epost
          phone: Telefon
          employer: Arbetsgivare
          annual_income: Inkomst
          co_applicant_name: null
          co_applicant_personnummer: null
          student: {column: Student, values: {"Ja": true, "Nej": false}}
          protected_identity: {column: Skyddad, values: {"Ja": true, "Nej": false}}
          queue_start: Kostart
          registered_at: Registrerad
          status: {column: Status, values: {"Aktiv": active, "Avslutad": closed}}
          created_by_handler_id: null
      logins:
        source: {csv: "export/inloggningar.csv", delimiter: ";", encoding: cp1252}
        columns:
          time: Tid
          session_id: Session
          applicant_id: Kundnr
          method: {column: Metod, values: {"BankID": bankid, "Lösenord": password}}
          ip: IP
          user_agent: Webblasare
      page_views:
        source: {iis: "logs/u_ex*.log"}
        columns:
          time: datetime
          session_id: {column: cs(Cookie), extract: "ASP.NET_SessionId=([^;]+)"}
          ip: c-ip
          path: cs-uri-stem
          status: sc-status
          account_id: {column: cs(Cookie), extract: "kund=([0-9]+)"}
      support_messages:
        source: {eml: "mail/*.eml"}
        columns:
          message_id: message-id
          received_at: received_at
          channel: {column: x-kanal, values: {"E-post": email, "Webbformulär": web_form}}
          sender_applicant_id: null
          sender_address: from_address
          subject: subject
          body: body
    """
)


def write_handover(root: Path) -> Path:
    """Write the hand-over under ``root``; return the mapping's path."""
    (root / "export").mkdir(parents=True)
    (root / "export" / "sokande_2014.csv").write_bytes(APPLICANTS.encode("cp1252"))
    (root / "export" / "inloggningar.csv").write_bytes(LOGINS.encode("cp1252"))
    (root / "logs").mkdir()
    (root / "logs" / "u_ex131213.log").write_text(IIS, encoding="ascii")
    (root / "mail").mkdir()
    (root / "mail" / "1.eml").write_bytes(EML_OK.encode("utf-8"))
    (root / "mail" / "2.eml").write_bytes(EML_BROKEN.encode("utf-8"))
    con = sqlite3.connect(root / "ko.sqlite")
    con.execute("CREATE TABLE handlaggare (hid INTEGER, namn TEXT, grupp TEXT, fran TEXT)")
    con.execute("INSERT INTO handlaggare VALUES (7, 'Karin Nyström', 'Innerstaden', '2008-09-01')")
    con.commit()
    con.close()
    path = root / "mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def case_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table of a SQLite case, rows in the order written (the manifest without its ingest time)."""
    con = sqlite3.connect(path)
    try:
        out = {}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")') if r[1] != "ingested_at"]
            listed = ", ".join(f'"{c}"' for c in cols)
            out[name] = con.execute(f'SELECT {listed} FROM "{name}" ORDER BY rowid').fetchall()
        return out
    finally:
        con.close()
