"""The names ``workbench map init`` knows: Swedish and English synonyms of the v1 columns and tables.

Names are compared by :func:`name_key`: a unit in parentheses dropped (``Inkomst (kr)``),
lower case, ``å ä ö`` as ``a a o``, letters and digits only (``Sökande_nr`` is ``sokandenr``);
a mail or log header's ``X-`` prefix may be dropped too (``X-Kanal`` is also ``kanal``).
"""

from __future__ import annotations

import re

from .valuemaps import value_key

__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "OFFSET_NAMES",
    "SESSION_COOKIES",
    "SYNONYMS",
    "TABLE_NAMES",
    "name_key",
    "name_keys",
    "target_names",
]

# Source names (after name_key) taken for a v1 column, Swedish first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "applicant_id": (
        "kundnr",
        "kundnummer",
        "sokandenr",
        "sokandenummer",
        "sokandeid",
        "sokande",
        "medlemsnr",
        "customerid",
        "customerno",
        "customernumber",
        "applicantno",
        "applicantnumber",
        "memberid",
        "account",
    ),
    "account_id": ("kund", "kundnr", "sokandenr", "konto", "visatkonto", "renderedaccount", "accountno", "customerno"),
    "sender_applicant_id": ("kundnr", "sokandenr", "bostadcustomernumber", "customerno", "customerid"),
    "personnummer": ("personnr", "pnr", "personnummer", "ssn", "nationalid", "personalidentitynumber", "personalno"),
    "name": ("namn", "fullname", "fulltnamn"),
    "address": ("adress", "gatuadress", "utdelningsadress", "street", "streetaddress"),
    "postal_code": ("postnr", "postnummer", "zip", "zipcode", "postcode"),
    "city": ("ort", "postort", "stad", "town"),
    "email": ("epost", "epostadress", "mail", "mejl", "emailaddress"),
    "phone": ("telefon", "telefonnr", "telefonnummer", "tel", "mobil", "mobilnr", "phonenumber", "mobile"),
    "employer": ("arbetsgivare",),
    "annual_income": ("inkomst", "arsinkomst", "income", "yearlyincome", "annualincomesek"),
    "co_applicant_name": ("medsokande", "medsokandenamn", "coapplicant"),
    "co_applicant_personnummer": ("medsokandepnr", "medsokandepersonnr", "medsokandepersonnummer", "coapplicantssn"),
    "student": ("studerande", "student", "isstudent", "studentbostad"),
    "protected_identity": ("skyddad", "skyddadid", "skyddadidentitet", "sekretess", "protected", "isprotected"),
    "queue_start": ("kostart", "kodatum", "koplats", "kotid", "queuedate", "queuesince", "inqueuesince"),
    "registered_at": (
        "registrerad",
        "registrerat",
        "anmald",
        "anmalningsdatum",
        "registreringsdatum",
        "skapad",
        "createdat",
        "registeredon",
    ),
    "status": ("tillstand", "state"),
    "created_by_handler_id": ("skapadav", "skapadavhandlaggare", "createdby"),
    "year": ("ar", "avgiftsar", "betalningsar", "feeyear"),
    "amount": ("belopp", "summa", "avgift", "sum"),
    "paid_at": ("betald", "betalningsdag", "betalningsdatum", "betaldatum", "inbetald", "inbetalningsdatum", "paidon"),
    "version": ("versionsnr", "release"),
    "description": ("beskrivning", "kommentar", "notering", "anteckning", "comment", "notes"),
    "action": ("atgard", "handelse", "typ", "type"),
    "reason": ("orsak", "anledning", "cause"),
    "time": ("tid", "tidpunkt", "datetime", "timestamp", "datumtid", "when"),
    "session_id": ("session", "sessionsid", "sessionid", "sessid", "sessionsnr"),
    "method": ("metod", "inloggningsmetod", "inloggningssatt", "auth", "authmethod", "authentication"),
    "ip": ("ipadress", "ipaddress", "cip", "remoteaddr", "clientip"),
    "user_agent": ("webblasare", "useragent", "httpuseragent", "csuseragent", "browser"),
    "path": ("sida", "unencodedurl", "url", "csuristem", "uri", "page"),
    "status_code": (),
    "listing_id": ("objektnr", "objektid", "lagenhetsid", "objekt", "lagenhetsnr", "apartmentid"),
    "handler_id": (
        "handlaggare",
        "handlaggarid",
        "handlaggareid",
        "handlaggarnr",
        "hid",
        "hnr",
        "workerid",
        "caseworkerid",
        "staffid",
    ),
    "team": ("grupp", "enhet", "avdelning", "team"),
    "active_from": (
        "fran",
        "franmed",
        "anstalld",
        "anstalldfran",
        "anstallningsdatum",
        "startdate",
        "startdatum",
        "since",
    ),
    "active_to": ("till", "tillmed", "slutat", "anstalldtill", "enddate", "slutdatum"),
    "change_id": ("andringid", "andringsid", "andringsnr", "changeid"),
    "field": ("falt", "faltnamn", "uppgift", "fieldname"),
    "old_value": ("gammaltvarde", "fore", "tidigarevarde", "oldvalue", "before"),
    "new_value": ("nyttvarde", "efter", "newvalue", "after"),
    "landlord": ("hyresvard", "fastighetsagare", "vard", "owner"),
    "district": ("omrade", "stadsdel", "area"),
    "rooms": ("antalrum", "rum", "rumantal", "noofrooms"),
    "rent": ("hyra", "manadshyra", "monthlyrent"),
    "kind": ("typ", "objekttyp", "kategori", "type", "category"),
    "published_at": ("publicerad", "publicerat", "publiceringsdatum", "published"),
    "closes_at": ("sistaanmalan", "sistaansokningsdag", "stanger", "closes", "deadline"),
    "income_rule": ("inkomstkrav", "incomerequirement"),
    "withdrawn_at": ("aterkallad", "aterkallat", "withdrawn"),
    "offered_at": ("erbjuden", "erbjudet", "erbjudandedatum", "offered"),
    "response": ("svar", "answer"),
    "responded_at": ("besvarad", "besvarat", "svarsdatum", "answeredat", "responded"),
    "response_session_id": ("svarsessionsid", "svarsession", "responsesession"),
    "signed_at": ("tecknat", "undertecknat", "kontraktsdatum", "signed"),
    "action_id": ("loggid", "handelseid", "logid", "eventid"),
    "message_id": ("messageid", "arendenr", "arendeid", "arendenummer", "ticketid", "ticketno"),
    "received_at": ("mottagen", "mottaget", "inkommet", "inkom", "receivedat", "received"),
    "channel": ("kanal", "bostadchannel", "via"),
    "sender_address": ("fromaddress", "avsandare", "avsandaradress", "sender"),
    "subject": ("rubrik", "amne", "arende"),
    "body": ("text", "meddelande", "brodtext", "message"),
}
# Names of a file (its stem) or a database table that say which v1 table it holds.
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "applicants": ("sokande", "kunder", "medlemmar", "customers", "applicants", "members"),
    "fees": ("avgifter", "koavgifter", "inbetalningar", "betalningar", "fees", "payments"),
    "deployments": ("driftsattningar", "releaser", "versioner", "deployments", "releases"),
    "logins": ("inloggningar", "logins", "sessions"),
    "logouts": ("utloggningar", "logouts"),
    "profile_changes": ("profilandringar", "andringslogg", "profilechanges"),
    "support_messages": ("arenden", "kundtjanst", "supportarenden", "tickets"),
    "incident_actions": ("incidentlogg", "incidentatgarder", "incidentlog"),
    "listings": ("objekt", "lagenheter", "annonser", "listings", "apartments"),
    "interests": ("intresseanmalningar", "anmalningar", "intressen", "interests"),
    "offers": ("erbjudanden", "offers"),
    "contracts": ("kontrakt", "avtal", "contracts"),
    "handlers": ("handlaggare", "caseworkers", "handlers"),
    "handler_actions": ("handlaggarlogg", "handlaggaratgarder", "auditlog", "handleractions"),
}
OFFSET_NAMES = ("offset", "utcoffset", "tidszon", "zon", "tz", "zone")
_IIS_STATUS = {"status": ("scstatus", "status")}
FIRST_NAMES = ("fornamn", "tilltalsnamn", "firstname", "givenname", "forename")
LAST_NAMES = ("efternamn", "lastname", "surname", "familyname")
SESSION_COOKIES = ("ASP.NET_SessionId", "PHPSESSID", "JSESSIONID", "sessionid", "session", "sid")


def name_key(name: str) -> str:
    """A column name as compared: a unit in parentheses dropped, lower case, å→a, ä→a, ö→o, letters and digits."""
    return value_key(re.sub(r"\s+[(\[][^)\]]*[)\]]\s*$", "", name))


def name_keys(name: str) -> set[str]:
    key = name_key(name)
    return {key, key[1:]} if re.match(r"(?i)x-", name) else {key}


def target_names(target: str, table: str) -> list[str]:
    """The names a source column may have for ``target``, the likeliest first."""
    names = [value_key(target), *SYNONYMS.get(target, ())]
    if table == "page_views":
        names += _IIS_STATUS.get(target, ())
    return names
