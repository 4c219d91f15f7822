"""Value maps ``workbench map init`` proposes: the words a Swedish or English export uses for our values.

For a yes/no column (``Ja``/``Nej``, ``J``/``N``, ``Sant``/``Falskt``, ``Yes``/``No``, ``1``/``0``)
and for a column restricted to a v1 enumeration (``Aktiv``/``Avslutad`` → ``active``/``closed``,
``Webb``/``E-post`` → ``web_form``/``email``, ``BankID``/``Lösenord`` → ``bankid``/``password``),
every distinct value seen gets its v1 value where a word below (or the v1 value itself) names
it, and ``TODO`` where none does: a value the draft cannot place is left to the investigator,
never guessed (``Telefon`` has no v1 channel).
"""

from __future__ import annotations

import re

from .. import evidence

__all__ = ["BOOLEAN_WORDS", "ENUM_WORDS", "value_key", "value_map"]


def value_key(value: str) -> str:
    """A value as compared with the words: lower case, å→a, ä→a, ö→o, letters and digits only."""
    table = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuaaoeu")
    return re.sub(r"[^a-z0-9]", "", value.translate(table).lower())


BOOLEAN_WORDS: dict[bool, tuple[str, ...]] = {
    True: ("ja", "j", "yes", "y", "sant", "true", "t", "1", "x"),
    False: ("nej", "n", "no", "falskt", "false", "f", "0"),
}

# v1 value -> the words that name it in exports (compared by value_key); the v1 value names itself.
_PAIRS = {
    a: b
    for x, y in [("ja", "nej"), ("j", "n"), ("sant", "falskt"), ("yes", "no"), ("y", "n"), ("1", "0")]
    for a, b in ((x, y), (y, x))
}
_PAIRS["n"] = "j"  # N is Swedish nej before English no

ENUM_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "applicant_status": {
        "active": ("aktiv", "aktuell", "ikon", "active", "open"),
        "lapsed": ("vilande", "forfallen", "obetald", "lapsed", "dormant", "inactive", "passiv"),
        "housed": ("bostaderhallen", "bostadordnad", "harbostad", "erhallitbostad", "housed"),
        "closed": ("avslutad", "avregistrerad", "borttagen", "stangd", "uppsagd", "closed", "cancelled", "terminated"),
    },
    "login_method": {
        "bankid": ("bankid", "mobiltbankid", "bankidpafil", "mobilebankid", "elegitimation", "eid"),
        "password": ("losenord", "losen", "password", "pinkod", "pin"),
    },
    "logout_reason": {
        "user": ("anvandare", "utloggad", "loggadeut", "manuell", "sjalv", "logout", "loggedout", "manual"),
        "timeout": ("tidsgrans", "timeout", "timedout", "inaktivitet", "automatisk", "sessionengickut", "expired"),
    },
    "message_channel": {
        "email": ("epost", "mail", "email", "emejl"),
        "web_form": ("webbformular", "webb", "web", "webform", "formular", "kontaktformular", "minasidor"),
    },
    "incident_action": {
        "login_disabled": ("inloggningavstangd", "inloggningstangd", "stangdinloggning", "logindisabled"),
        "fix_deployed": ("rattningdriftsatt", "rattning", "fixdriftsatt", "fixdeployed", "patchdeployed"),
        "login_enabled": ("inloggningoppnad", "inloggningoppen", "oppnadinloggning", "loginenabled"),
        "notice_published": (
            *("informationpublicerad", "meddelandepublicerat", "driftmeddelandepublicerat", "noticepublished"),
            "notice",
        ),
    },
    "handler_action": {
        "queue_date_change": ("kodatumandrat", "andratkodatum", "queuedatechanged"),
        "manual_offer": ("manuelltebjudande", "manuellterbjudande", "manuelltanvisad", "manualoffer"),
        "offer_sent": ("erbjudandeskickat", "erbjudandesant", "offersent"),
        "skip": ("forbigangen", "forbigatt", "hoppadover", "skipped"),
        "priority_grant": ("forturbeviljad", "fortur", "prioritygranted"),
        "profile_edit": ("profilandrad", "andradprofil", "profileedited"),
        "profile_created": ("profilskapad", "skapadprofil", "profilecreated"),
        "contract_signed": ("kontrakttecknat", "kontraktskrivet", "contractsigned"),
    },
    "offer_response": {
        "accepted": ("accepterat", "tackatja", "ja", "accepted", "accept"),
        "declined": ("avbojt", "tackatnej", "nej", "declined", "decline"),
        "no_answer": ("ingetsvar", "ejsvarat", "svarsaknas", "noanswer", "noreply"),
        "disqualified": ("diskvalificerad", "ejbehorig", "disqualified"),
    },
    "listing_kind": {
        "regular": ("vanlig", "ordinarie", "hyresratt", "regular"),
        "student": ("student", "studentbostad"),
        "youth": ("ungdom", "ungdomsbostad", "youth"),
        "senior": ("senior", "seniorbostad", "55"),
        "short_term": ("korttid", "korttidskontrakt", "shortterm"),
        "new_build": ("nyproduktion", "nybygge", "newbuild"),
    },
    "income_rule": {
        "none": ("inget", "ingakrav", "ingen", "none"),
        "2x_rent": ("2xhyran", "2ggrhyran", "2x", "tvagangerhyran"),
        "3x_rent": ("3xhyran", "3ggrhyran", "3x", "tregangerhyran"),
    },
    "profile_field": {
        "name": ("namn",),
        "address": ("adress", "gatuadress"),
        "postal_code": ("postnummer", "postnr"),
        "city": ("ort", "postort"),
        "email": ("epost", "epostadress"),
        "phone": ("telefon", "mobil", "telefonnummer"),
        "employer": ("arbetsgivare",),
        "annual_income": ("inkomst", "arsinkomst"),
        "co_applicant_name": ("medsokande", "medsokandenamn"),
        "co_applicant_personnummer": ("medsokandepnr", "medsokandepersonnr", "medsokandespersonnummer"),
    },
}


def _words(allowed: tuple[str, ...], enum: str | None) -> dict[str, str]:
    words = {value_key(v): v for v in allowed}
    for v1, names in ENUM_WORDS.get(enum or "", {}).items():
        words.update({value_key(n): v1 for n in names if v1 in allowed})
    return words


def value_map(table: str, column: str, values: list[str], boolean: bool) -> dict[str, object] | None:
    """``{source value: v1 value or "TODO"}`` for the distinct ``values`` of a yes/no or enumerated column.

    None when no map is needed: the values are the v1 values as they stand (``true``/``false``,
    ``bankid``), or the column is neither boolean nor enumerated, or no value was seen.
    """
    distinct = sorted(set(values))
    if not distinct:
        return None
    if boolean:
        if {v.lower() for v in distinct} <= {"true", "false"}:
            return None
        known = {value_key(w): truth for truth, words in BOOLEAN_WORDS.items() for w in words}
        out: dict[str, object] = {v: known.get(value_key(v), "TODO") for v in distinct}
        for v in distinct:  # the other word of a pair, though the first rows held only one ("Nej" and no "Ja")
            partner = _PAIRS.get(v.lower())
            if partner is not None:
                other = partner.upper() if v.isupper() else partner.capitalize() if v[:1].isupper() else partner
                out.setdefault(other, not out[v])
        return dict(sorted(out.items()))
    allowed = evidence.allowed_values(table, column)
    if not allowed or set(distinct) <= set(allowed):
        return None
    enum = evidence.table(table).columns[column].info.get("enum")
    words = _words(allowed, enum)
    return {v: words.get(value_key(v), "TODO") for v in distinct}
