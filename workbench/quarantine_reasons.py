"""Quarantine reasons in the report's language: what kind of problem a reason names.

Ingest writes each quarantine reason in English, with the bad value and what is allowed
(``'sms' is not an allowed value; allowed: email, phone, web``). The reason is evidence of what
ingest did, so it is kept as written, in the case and in every CSV. A Swedish report shows it
after a Swedish sentence saying what kind of problem it is (``Otillåtet värde — 'sms' is not an
allowed value; …``): a reader who does not read English still learns why the rows were set
aside, and the exact wording stays checkable against the case.

:data:`KINDS` recognises every reason ingest and the mapping write today; a reason it does not
know is shown as it is, after a sentence saying it is ingest's own English wording
(``quarantine_reason.other``). ``tests/test_quarantine_reasons.py`` holds one reason of each kind.
"""

from __future__ import annotations

import re

from .i18n import current_language, messages

__all__ = ["KINDS", "reason_kind", "reason_shown"]

KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("duplicate_key", r"^duplicate key "),
        ("orphan", r"^orphan: "),
        ("missing_value", r"^missing value: "),
        ("value_not_allowed", r"is not an allowed value; "),
        ("outside_value_map", r"is outside the value map of "),
        ("time_ambiguous", r"occurs twice in .* \(clocks went back that night\)"),
        ("time_nonexistent", r"does not exist in .* \(clocks went forward that night\)"),
        ("time_without_zone", r"is a (?:timestamp|time) without (?:time )?zone|has no time zone"),
        ("not_a_time", r"is not (?:a valid date and time|an ISO 8601 timestamp|a date and time in )"),
        ("not_a_date", r"is not a date(?:;| in )|time stamp '.*' is not a date"),
        ("not_a_number", r"is not a (?:whole )?number; |is out of range; "),
        ("not_a_boolean", r"is not a boolean; "),
        ("too_long", r"^value is .* characters long; "),
        ("nul_character", r"^contains a NUL character"),
        ("no_match", r"does not match the (?:extract pattern|format) "),
        ("malformed_record", r"^malformed record: "),
        ("empty_record", r"^empty record: "),
        ("malformed_line", r"^malformed line: "),
        ("empty_line", r"^empty line; "),
        ("wrong_encoding", r"^not UTF-8"),
        ("field_not_logged", r"is not logged under the #Fields: directive"),
        ("no_session_cookie", r"^session=-: "),
        ("no_message_id", r"^no Message-ID header"),
        ("no_received_date", r"^no Received and no Date header"),
        ("no_sender_address", r"^From header .* holds no e-mail address"),
        ("broken_mime", r"^the MIME structure is broken"),
        ("undecodable_body", r"^the body cannot be decoded|^the body is not |^unknown charset "),
        ("no_text_part", r"^no text/plain or text/html part"),
        ("undecodable_header", r"header has 8-bit bytes that are neither UTF-8"),
        ("mail_parser_failed", r"^the email parser failed"),
    )
)
"""Each kind of reason and how its English text is recognised, most specific first."""


def reason_kind(reason: str) -> str | None:
    """The kind of problem ``reason`` names (its first, when it names several), or None."""
    first = reason.split("; also: ", 1)[0].removeprefix("unreadable message: ")  # a mail folder's prefix
    return next((kind for kind, pattern in KINDS if pattern.search(first)), None)


def reason_shown(reason: str, language: str | None = None) -> str:
    """``reason`` as a report in ``language`` shows it: as written in English; else after its kind."""
    language = language or current_language()
    if language == "en":
        return reason
    words = messages(language)
    kind = reason_kind(reason) or "other"
    return f"{words[f'quarantine_reason.{kind}']} — {reason}"
