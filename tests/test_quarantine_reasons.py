"""Quarantine reasons in a Swedish report: each reason ingest writes is named in Swedish first.

The reasons come from ingest as it runs on the bad-input corpus (tests/data/bad/, the exact
reasons asserted in tests/test_ingest_bad.py), from the raw-form readers and from the outside
tester's hand-over (tests/test_outside_handover.py adds its own).
"""

from __future__ import annotations

import polars as pl
import pytest
from test_ingest_bad import QUARANTINED
from test_raw_forms import BROKEN_MESSAGES, MALFORMED_LINES

from workbench.display import show
from workbench.i18n import messages, using
from workbench.quarantine_reasons import KINDS, reason_kind, reason_shown

# one reason of each kind as ingest or the mapping writes it (values made up)
WRITTEN = {
    "duplicate_key": "duplicate key applicant_id=…: first loaded from line 3; allowed: one row per key, the first is kept",
    "orphan": "orphan: session_id '…' has no row in logins; allowed: a session_id loaded into logins.session_id",
    "missing_value": "missing value: key column applicant_id requires a value; allowed: any applicant_id, not null",
    "value_not_allowed": "'sms' is not an allowed value; allowed: email, web_form",
    "outside_value_map": "'Kanske' is outside the value map of tables.applicants.columns.student; allowed: Ja, Nej",
    "time_ambiguous": "'2013-10-27 02:30:00' occurs twice in Europe/Stockholm (clocks went back that night): it cannot be placed in UTC without a guess; quarantined",
    "time_nonexistent": "'2013-03-31 02:30:00' does not exist in Europe/Stockholm (clocks went forward that night); quarantined, never guessed",
    "time_without_zone": "'2013-12-13 18:00:00' is a timestamp without time zone; allowed: ISO 8601 with a zone",
    "not_a_time": "'13/12/2013' is not a date and time in YYYY-MM-DD HH:MM:SS (logins.time)",
    "not_a_date": "'2004-13-01' is not a date; allowed: YYYY-MM-DD, e.g. 2004-03-01",
    "not_a_number": "'12,5,0' is not a number; allowed: a decimal number, e.g. 384000.5",
    "not_a_boolean": "'kanske' is not a boolean; allowed: true or false",
    "too_long": "value is 140 characters long; allowed: at most 120",
    "nul_character": "contains a NUL character; allowed: text without NUL (PostgreSQL cannot store it)",
    "no_match": "'x' does not match the format '%d.%m.%Y' of tables.fees.columns.paid_on",
    "malformed_record": "malformed record: 4 fields, the header has 6; allowed: 6 ;-separated fields",
    "empty_record": "empty record: every field is empty (a blank line?); allowed: a row with values",
    "malformed_line": "malformed line: 3 values where the #Fields: directive of line 4 names 14",
    "empty_line": "empty line; allowed: one request per line",
    "wrong_encoding": "not UTF-8: byte 0xE5 at byte 118 of the line (Latin-1 or Windows-1252?); allowed: UTF-8 text",
    "field_not_logged": "field 'cs(Cookie)' is not logged under the #Fields: directive of line 9, in force here",
    "no_session_cookie": "session=-: the request carried no session cookie; allowed: session=COOKIE",
    "no_message_id": "no Message-ID header; allowed: a message with a Message-ID",
    "no_received_date": "no Received and no Date header; allowed: a Received header",
    "no_sender_address": "From header 'kundtjänst' holds no e-mail address; allowed: e.g. Anna <anna@example.com>",
    "broken_mime": "unreadable message: the MIME structure is broken (a boundary is never closed); allowed: well-formed MIME",
    "undecodable_body": "the body cannot be decoded (invalid base64); allowed: intact base64 or quoted-printable",
    "no_text_part": "no text/plain or text/html part (parts: image/png); allowed: a message with a text part",
    "undecodable_header": "the Subject header has 8-bit bytes that are neither UTF-8 nor the message's charset (none declared): 'x'",
    "mail_parser_failed": "the email parser failed (boom)",
}


def test_every_kind_has_a_written_example_and_words_in_both_languages():
    assert set(WRITTEN) == {kind for kind, _ in KINDS}
    for kind, reason in WRITTEN.items():
        assert reason_kind(reason) == kind, reason
    for language in ("en", "sv"):
        words = messages(language)
        assert all(f"quarantine_reason.{kind}" in words for kind in [*WRITTEN, "other"])


@pytest.mark.parametrize("folder", sorted(QUARANTINED))
def test_every_reason_the_bad_corpus_gives_has_a_kind(folder):
    for *_, reason in QUARANTINED[folder]:
        assert reason_kind(reason) is not None, reason


def test_the_raw_form_readers_reasons_have_a_kind():
    reasons = [row[-1] for row in [*MALFORMED_LINES, *BROKEN_MESSAGES]]
    assert len(reasons) > 10
    assert [r for r in reasons if reason_kind(r) is None] == []


def test_a_swedish_table_names_the_kind_first_and_keeps_the_reason_as_written():
    reason = WRITTEN["time_ambiguous"]
    frame = pl.DataFrame(
        {"file": ["avgifter.csv"], "table": ["fees"], "column": ["paid_at"], "reason": [reason], "n": [2]}
    )
    with using("sv"):
        html = show(frame, "public", query="quarantine_summary")._repr_html_()
        assert reason_shown(reason) == f"{messages('sv')['quarantine_reason.time_ambiguous']} — {reason}"
    assert "En lokal tid som finns två gånger (omställningen till vintertid); inte gissad — " in html
    assert "occurs twice in Europe/Stockholm" in html
    with using("en"):
        assert "En lokal tid" not in show(frame, "public", query="quarantine_summary")._repr_html_()
        assert reason_shown(reason) == reason


def test_a_reason_of_no_known_kind_is_said_to_be_ingests_english():
    with using("sv"):
        assert reason_shown("something new") == "Inläsningens orsak, på engelska — something new"
    assert reason_kind("a note an analyst wrote") is None
