"""Which profile fields each page of Mina sidor renders, by path (DESIGN §1)."""

from __future__ import annotations

import re

__all__ = ["PAGE_FIELDS", "PROFILE_FIELDS", "page_fields"]

# The profile fields each page type renders (DESIGN §1). For members with protected
# identity the address fields are hidden; every other field is shown.
PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "personnummer",
    "address",
    "postal_code",
    "city",
    "applicant_id",
    "email",
    "phone",
    "employer",
    "annual_income",
    "co_applicant_name",
    "co_applicant_personnummer",
)
PAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "/mina-sidor": ("name", "applicant_id"),
    "/mina-sidor/profil": PROFILE_FIELDS,
    "/mina-sidor/ko": ("name", "applicant_id"),
    "/mina-sidor/intressen": ("name", "applicant_id"),
    "/mina-sidor/erbjudanden": ("name", "applicant_id", "address"),
    "/lagenhet/{listing_id}/intresse": ("name", "applicant_id"),
    "/mina-sidor/intressen/{listing_id}/ta-bort": ("name", "applicant_id"),
}
_LISTING_IN_PATH = re.compile(r"/\d+(?=/|$)")


def page_fields(path: str) -> tuple[str, ...]:
    """Profile fields a page renders, e.g. ``page_fields("/lagenhet/210345/intresse")``; () if none."""
    return PAGE_FIELDS.get(_LISTING_IN_PATH.sub("/{listing_id}", path.split("?", 1)[0]), ())
