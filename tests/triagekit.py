"""Hand-written support messages placed in swapkit's ``midsession_swap`` case, for the triage's case evidence.

The case (tests/swapkit.py): Alva (2001) logs in at 09:40 UTC on Saturday 14 December 2013
and from 10:05 is shown Bo's account (2002) until 10:08; here her session also changes Bo's
phone at 10:06. Cecilia (2003) logs in beside them and is never swapped; David (2004) logs
in alone at 11:00. The mail clock runs 120 s ahead of the web clock (pinned by Cecilia's
web-form message), so a message received at 12:02 is reported at 12:00 on the web clock.

Each message below says what the case evidence must find for it (``EXPECTED``), worked out
by hand from the rows. Invented people and wording only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from swapkit import MAIL_OFFSET_S, case_frames

from workbench import evidence

__all__ = ["EXPECTED", "MESSAGES", "write_case"]

ALVA, BO, CECILIA, DAVID = 2001, 2002, 2003, 2004
PHONE_CHANGED = datetime(2013, 12, 14, 10, 6, 30, tzinfo=UTC)


def _at(hour: int, minute: int) -> datetime:
    """A time on the web clock, as the mail server stamps it (two minutes ahead)."""
    return datetime(2013, 12, 14, hour, minute, tzinfo=UTC) + timedelta(seconds=MAIL_OFFSET_S)


# (message_id, received (web clock), sender id, sender address, subject, body)
MESSAGES = [
    # sms-style, no rule wording: bound, and names the holder of the account she was shown
    (
        "<t-alva-names@x>",
        _at(12, 0),
        ALVA,
        None,
        None,
        "hej va inne pa mina sidor i morse o dar stod bo prov hogst upp. vem e det",
    ),
    # an unrelated question from the same sender, known only by her e-mail address: bound, nothing named
    ("<t-alva-mail@x>", _at(12, 30), None, "PROV2001@example.com", "Visning", "När öppnar nästa visning i Farsta?"),
    # written before her session showed Bo's account: no evidence at all
    ("<t-alva-early@x>", _at(9, 45), ALVA, None, None, "Hur länge har jag stått i kön?"),
    # Bo: his phone was changed by Alva's session at 10:06; he mentions the field after it
    (
        "<t-bo-phone@x>",
        _at(14, 0),
        BO,
        None,
        "Konstigt",
        "Mitt telefonnummer på Mina sidor stämmer inte längre, det har inte jag gjort.",
    ),
    # Bo, before the change: mentions the phone, but nobody else had changed it yet
    ("<t-bo-before@x>", _at(10, 0), BO, None, None, "Kan jag byta telefonnummer via appen?"),
    # David was never bound; he names another member's full name and street address
    (
        "<t-david-names@x>",
        _at(12, 40),
        DAVID,
        None,
        None,
        "Who is Cecilia Prov at Provgatan 3? Her name came up when I searched.",
    ),
    # Cecilia signs with her own name and street: that is no evidence
    ("<t-cecilia-own@x>", _at(12, 50), CECILIA, None, None, "Hej, Cecilia Prov här, Provgatan 3. När kommer fakturan?"),
    # the same vague complaint, word for word (only the punctuation differs, which the model does not
    # read), from a bound sender (Alva, after her session showed Bo's account) and, five minutes
    # earlier, from David, never bound: only the case evidence tells them apart
    (
        "<t-alva-vague@x>",
        _at(12, 20),
        ALVA,
        None,
        None,
        "Hej, något ser konstigt ut på Mina sidor sedan i morse. Kan ni ringa mig?",
    ),
    (
        "<t-david-vague@x>",
        _at(12, 15),
        DAVID,
        None,
        None,
        "Hej! Något ser konstigt ut på Mina sidor sedan i morse, kan ni ringa mig?",
    ),
    # a sender the case cannot tie to a member
    ("<t-unknown@x>", _at(13, 10), None, "someone@elsewhere.example", None, "Jag såg Bo Provs namn på min sida!"),
]

EXPECTED = {
    "<t-alva-names@x>": {"sender_id": ALVA, "bound_account_id": BO, "names_account": True, "changed_field": None},
    "<t-alva-mail@x>": {"sender_id": ALVA, "bound_account_id": BO, "names_account": False, "changed_field": None},
    "<t-alva-early@x>": {"sender_id": ALVA, "bound_account_id": None, "names_account": False, "changed_field": None},
    "<t-bo-phone@x>": {"sender_id": BO, "bound_account_id": None, "names_account": False, "changed_field": "phone"},
    "<t-bo-before@x>": {"sender_id": BO, "bound_account_id": None, "names_account": False, "changed_field": None},
    "<t-david-names@x>": {"sender_id": DAVID, "bound_account_id": None, "names_member": True, "changed_field": None},
    "<t-cecilia-own@x>": {"sender_id": CECILIA, "bound_account_id": None, "names_member": False, "changed_field": None},
    "<t-alva-vague@x>": {"sender_id": ALVA, "bound_account_id": BO, "names_account": False, "changed_field": None},
    "<t-david-vague@x>": {"sender_id": DAVID, "bound_account_id": None, "names_member": False, "changed_field": None},
    "<t-unknown@x>": {"sender_id": None, "bound_account_id": None, "names_member": False, "changed_field": None},
}
"""What :func:`workbench.incident.triage_case.case_evidence` must find for each message, by hand."""


def frames() -> dict[str, pl.DataFrame]:
    """The midsession_swap case with a phone change by Alva's session and the messages above added."""
    tables = case_frames("midsession_swap")
    change = {
        "change_id": [1],
        "time": [PHONE_CHANGED],
        "session_id": ["s-alva"],
        "account_id": [BO],
        "field": ["phone"],
        "old_value": ["070-000 2002"],
        "new_value": ["070-999 1234"],
    }
    tables["profile_changes"] = pl.DataFrame(change, schema=evidence.polars_schema("profile_changes"))
    added = pl.DataFrame(
        {
            "message_id": [m[0] for m in MESSAGES],
            "received_at": [m[1] for m in MESSAGES],
            "channel": ["email"] * len(MESSAGES),
            "sender_applicant_id": [m[2] for m in MESSAGES],
            "sender_address": [m[3] for m in MESSAGES],
            "subject": [m[4] for m in MESSAGES],
            "body": [m[5] for m in MESSAGES],
        },
        schema=evidence.polars_schema("support_messages"),
    )
    tables["support_messages"] = pl.concat([tables["support_messages"], added])
    return tables


def write_case(folder: Path) -> Path:
    """Write the case as ``folder/<table>.parquet`` and return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in frames().items():
        frame.write_parquet(folder / f"{table}.parquet")
    return folder
