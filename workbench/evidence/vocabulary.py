"""The vocabulary of the evidence format: personal-data classes and the enumerations columns are restricted to."""

from __future__ import annotations

import enum

__all__ = ["ENUMS", "PII"]


class PII(enum.StrEnum):
    """Personal-data class of a column; the audience layer works only from these tags."""

    DIRECT = "direct identifier"
    FREE_TEXT = "free text"
    QUASI = "quasi-identifier"
    NONE = "none"


# Enumerations, named once. Values are stored as plain strings on every engine.
ENUMS: dict[str, tuple[str, ...]] = {
    "applicant_status": ("active", "lapsed", "housed", "closed"),
    "login_method": ("bankid", "password"),
    "logout_reason": ("user", "timeout"),
    "profile_field": (
        "name",
        "address",
        "postal_code",
        "city",
        "email",
        "phone",
        "employer",
        "annual_income",
        "co_applicant_name",
        "co_applicant_personnummer",
    ),
    "message_channel": ("email", "web_form"),
    "incident_action": ("login_disabled", "fix_deployed", "login_enabled", "notice_published"),
    "listing_kind": ("regular", "student", "youth", "senior", "short_term", "new_build"),
    "income_rule": ("none", "2x_rent", "3x_rent"),
    "offer_response": ("accepted", "declined", "no_answer", "disqualified"),
    "handler_action": (
        "queue_date_change",
        "manual_offer",
        "offer_sent",
        "skip",
        "priority_grant",
        "profile_edit",
        "profile_created",
        "contract_signed",
    ),
}
