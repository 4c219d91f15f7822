"""How the synthetic organisation keeps each v1 table: its Swedish names, codes and time conventions.

One :class:`Export` per v1 table says where the hand-over keeps it (a CSV export, a table of
the queue system's SQLite database, the IIS log or the mail folder), the source column of
each v1 column, the organisation's code for each enumeration value and boolean, and how its
times are written. :mod:`.handover` writes the files from these, and :func:`mapping` writes
the mapping that reads them back, so the two cannot disagree.

Times, per kind of source:

- CSV exports are in Stockholm local time, without an offset, to the second (with
  microseconds where the table has them). A local time in the hour the clocks go back
  (the last Sunday of October) exists twice, and the mapping ingest quarantines it rather
  than guess. The exports of the incident window (December 2013: logins, logouts,
  incident actions) cross no DST change; the writer checks that and refuses otherwise.
  Exports whose timeline spans years (applicants, fees, deployments) carry an explicit
  offset column next to each time (``RegistreradOffset``: ``+01:00``), joined to the time
  by a ``concat`` in the mapping, as systems that export local times often do.
- The queue system's database stores UTC (``2013-10-27 01:30:00.000000``); the mapping
  declares ``timezone: UTC`` on its tables. That is where the allocation history lives.
- The IIS log is in UTC (IIS's default); the mail's Received stamps carry their offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .. import evidence
from ..settings import LOCAL_TZ

__all__ = ["DATABASE", "EXPORTS", "IIS_FIELDS", "Export", "mapping"]

DATABASE = "ko.sqlite"
YES_NO = {True: "Ja", False: "Nej"}
# W3C fields as IIS 8.5 logs them, with two custom fields (enhanced logging): UNENCODED_URL,
# the server variable holding path and query as requested (cs-uri-stem and cs-uri-query
# split them, and a mapping cannot rejoin them when the query is empty), and X-Kundnr, a
# response header the application sets to the account a page rendered: the application's
# page log, carried in the web server's (a mapping reads one source per table).
IIS_FIELDS = (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) "
    "cs(Cookie) sc-status sc-substatus sc-win32-status time-taken UNENCODED_URL X-Kundnr"
).split()


@dataclass(frozen=True)
class Export:
    """Where and how the organisation keeps one v1 table."""

    kind: str  # "csv", "sql", "iis" or "eml"
    name: str  # file (csv), table (sql), glob (iis, eml)
    columns: dict[str, Any]  # v1 column -> source column, or a mapping column spec (iis, eml)
    codes: dict[str, dict[Any, str]] = field(default_factory=dict)  # v1 column -> {v1 value: code}
    offset: bool = False  # csv: each time has an offset column beside it
    money: tuple[str, ...] = ()  # csv: integers written with a decimal comma ("384000,00")
    title: str | None = None  # csv: a line above the header


def _enum(table: str, column: str, *codes: str) -> dict[Any, str]:
    return dict(zip(evidence.allowed_values(table, column) or (), codes, strict=True))


EXPORTS: dict[str, Export] = {
    "applicants": Export(
        "csv",
        "export/sokande.csv",
        {
            "applicant_id": "Kundnr",
            "personnummer": "Personnr",
            "name": ("Fornamn", "Efternamn"),  # split at the first space; a concat in the mapping
            "address": "Adress",
            "postal_code": "Postnr",
            "city": "Ort",
            "email": "Epost",
            "phone": "Telefon",
            "employer": "Arbetsgivare",
            "annual_income": "Arsinkomst",
            "co_applicant_name": "Medsokande",
            "co_applicant_personnummer": "MedsokandePersonnr",
            "student": "Student",
            "protected_identity": "SkyddadId",
            "queue_start": "Kodatum",
            "registered_at": "Registrerad",
            "status": "Status",
            "created_by_handler_id": "SkapadAvHandlaggare",
        },
        {
            "student": YES_NO,
            "protected_identity": YES_NO,
            "status": _enum("applicants", "status", "Aktiv", "Vilande", "Bostad ordnad", "Avslutad"),
        },
        offset=True,
        money=("annual_income",),
        title="Export från kösystemet: sökande",
    ),
    "fees": Export(
        "csv",
        "export/avgifter.csv",
        {"applicant_id": "Kundnr", "year": "Ar", "amount": "Belopp", "paid_at": "Betald"},
        offset=True,
        money=("amount",),
    ),
    "deployments": Export(
        "csv",
        "export/driftsattningar.csv",
        {"time": "Tid", "version": "Version", "description": "Beskrivning"},
        offset=True,
    ),
    "logins": Export(
        "csv",
        "export/inloggningar.csv",
        {
            "time": "Tid",
            "session_id": "SessionsId",
            "applicant_id": "Kundnr",
            "method": "Metod",
            "ip": "IP",
            "user_agent": "Webblasare",
        },
        {"method": _enum("logins", "method", "BankID", "Lösenord")},
    ),
    "logouts": Export(
        "csv",
        "export/utloggningar.csv",
        {"time": "Tid", "session_id": "SessionsId", "reason": "Orsak"},
        {"reason": _enum("logouts", "reason", "Användare", "Tidsgräns")},
    ),
    "page_views": Export(
        "iis",
        "logs/W3SVC1/u_ex*.log",
        {
            "time": "datetime",
            "session_id": {"column": "cs(Cookie)", "extract": "ASP\\.NET_SessionId=([^;]+)"},
            "ip": "c-ip",
            "path": "UNENCODED_URL",
            "status": "sc-status",
            "account_id": "X-Kundnr",
        },
    ),
    "profile_changes": Export(
        "sql",
        "profilandringar",
        {
            "change_id": "andring_id",
            "time": "tidpunkt",
            "session_id": "sessions_id",
            "account_id": "kundnr",
            "field": "falt",
            "old_value": "gammalt_varde",
            "new_value": "nytt_varde",
        },
        {
            "field": _enum(
                "profile_changes",
                "field",
                *"namn adress postnummer ort epost telefon arbetsgivare arsinkomst medsokande medsokande_personnr".split(),
            )
        },
    ),
    "support_messages": Export(
        "eml",
        "mail/kundtjanst/*.eml",
        {
            "message_id": "message-id",
            "received_at": "received_at",
            "channel": "x-bostad-channel",
            "sender_applicant_id": "x-bostad-customer-number",
            "sender_address": "from_address",
            "subject": "subject",
            "body": "body",
        },
    ),
    "incident_actions": Export(
        "csv",
        "export/incidentlogg.csv",
        {"time": "Tid", "action": "Atgard", "description": "Beskrivning"},
        {
            "action": _enum(
                "incident_actions",
                "action",
                "Inloggning avstängd",
                "Rättning driftsatt",
                "Inloggning öppnad",
                "Driftmeddelande publicerat",
            )
        },
    ),
    "listings": Export(
        "sql",
        "objekt",
        {
            "listing_id": "objekt_id",
            "landlord": "hyresvard",
            "district": "omrade",
            "rooms": "antal_rum",
            "rent": "hyra",
            "kind": "typ",
            "published_at": "publicerad",
            "closes_at": "sista_anmalan",
            "income_rule": "inkomstkrav",
        },
        {
            "kind": _enum("listings", "kind", "Vanlig", "Student", "Ungdom", "Senior", "Korttid", "Nyproduktion"),
            "income_rule": _enum("listings", "income_rule", "Inget", "2 x hyran", "3 x hyran"),
        },
    ),
    "interests": Export(
        "sql",
        "intresseanmalningar",
        {
            "listing_id": "objekt_id",
            "applicant_id": "kundnr",
            "registered_at": "anmald",
            "withdrawn_at": "aterkallad",
            "session_id": "sessions_id",
        },
    ),
    "offers": Export(
        "sql",
        "erbjudanden",
        {
            "listing_id": "objekt_id",
            "applicant_id": "kundnr",
            "offered_at": "erbjuden",
            "handler_id": "handlaggare_id",
            "response": "svar",
            "responded_at": "besvarad",
            "response_session_id": "svar_sessions_id",
            "reason": "orsak",
        },
        {"response": _enum("offers", "response", "Accepterat", "Avböjt", "Inget svar", "Diskvalificerad")},
    ),
    "contracts": Export(
        "sql",
        "kontrakt",
        {"listing_id": "objekt_id", "applicant_id": "kundnr", "signed_at": "tecknat", "handler_id": "handlaggare_id"},
    ),
    "handlers": Export(
        "sql",
        "handlaggare",
        {
            "handler_id": "handlaggare_id",
            "name": "namn",
            "team": "grupp",
            "active_from": "anstalld_fran",
            "active_to": "anstalld_till",
        },
    ),
    "handler_actions": Export(
        "sql",
        "handlaggarlogg",
        {
            "action_id": "logg_id",
            "time": "tidpunkt",
            "handler_id": "handlaggare_id",
            "action": "atgard",
            "applicant_id": "kundnr",
            "listing_id": "objekt_id",
            "old_value": "gammalt_varde",
            "new_value": "nytt_varde",
            "ip": "ip",
        },
        {
            "action": _enum(
                "handler_actions",
                "action",
                "Ködatum ändrat",
                "Manuellt erbjudande",
                "Erbjudande skickat",
                "Förbigången",
                "Förtur beviljad",
                "Profil ändrad",
                "Profil skapad",
                "Kontrakt tecknat",
            )
        },
    ),
}


def _column(table: str, target: str, export: Export) -> Any:
    source = export.columns[target]
    if isinstance(source, tuple):  # first and last name
        return {"concat": [source[0], {"text": " "}, source[1]]}
    if export.offset and isinstance(evidence.polars_schema(table)[target], pl.Datetime):
        return {"concat": [source, f"{source}Offset"]}
    if target in export.codes:
        return {"column": source, "values": {code: value for value, code in export.codes[target].items()}}
    return source


def _source(export: Export) -> dict[str, Any]:
    if export.kind == "csv":
        return {
            "csv": export.name,
            "delimiter": ";",
            "encoding": "cp1252",
            "decimal_comma": True,
            **({"header": 2} if export.title else {}),
        }
    if export.kind == "sql":
        return {"sql": f"SELECT * FROM {export.name}", "url": f"sqlite:///{DATABASE}"}
    return {export.kind: export.name}


def mapping() -> dict[str, Any]:
    """The mapping (as YAML data) that reads the hand-over back into the v1 tables."""
    tables = {}
    for table in evidence.TABLES:
        export = EXPORTS[table]
        spec: dict[str, Any] = {"source": _source(export)}
        if export.kind == "sql":
            spec["timezone"] = "UTC"  # the queue system stores UTC
        spec["columns"] = {str(c): _column(table, str(c), export) for c in evidence.polars_schema(table)}
        tables[table] = spec
    return {"version": 1, "timezone": LOCAL_TZ, "tables": tables}
