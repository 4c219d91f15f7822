"""The queue rules the simulated organisation applies when it mediates a listing.

These are the rules a replay must apply to reproduce every honest allocation exactly:

* **Snapshot.** A listing's queue is its interests with ``registered_at <= closes_at`` and
  ``withdrawn_at`` null or after ``closes_at``.
* **Eligibility**, judged per interest (:func:`ineligibility`): the member was registered
  before the interest; the fee for the year of ``published_at`` is paid (a ``fees`` row
  exists); the member had not signed a contract before ``closes_at``; student listings need
  ``student``; youth listings need age 18–25 and senior listings age 65 or more, in whole
  years on the UTC date of ``closes_at`` (a 29 February birthday counts from 1 March).
  An ineligible member in the queue is passed over with a ``skip`` action naming the rule.
* **Income rule** (:func:`income_ok`): ``annual_income >= k * 12 * rent`` for ``k`` = 2 or 3;
  a member who fails it gets an offer row with response ``disqualified`` and the reason.
  A landlord may also turn an eligible member away: a ``skip`` action with the reason.
* **Ranking** (:data:`RANK_KEYS`): a member with a ``priority_grant`` for the listing first;
  then queue date ascending, then the member's ``registered_at``, then ``applicant_id``.
  The queue date is ``queue_start`` as the system held it then: a replay should use the
  ``old_value`` of a member's first ``queue_date_change`` where there is one, and for a
  profile a caseworker created with ``queue_start`` before its ``registered_at``, the date
  of ``registered_at``. Honest allocations are unaffected by either.
* **Walk** (:func:`walk`): offers go down the ranking; a decline, no answer,
  disqualification or recorded skip passes to the next; the first acceptance wins. A member
  who would win two listings keeps the one preferred by :data:`KEEP_ORDER` and declines the
  others, recorded as a declined offer with :data:`REASONS` ``"other"``; so does a member
  who has accepted an offer whose contract is not yet signed.
* **Signing.** When a member signs, their interests in listings that close later are
  withdrawn at ``signed_at``. No block after repeated declines is simulated.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl

from ..evidence import ENUMS

__all__ = [
    "AGE_RULES",
    "INCOME_MULTIPLIER",
    "KEEP_ORDER",
    "KIND_CODES",
    "RANK_KEYS",
    "REASONS",
    "WHY",
    "Outcome",
    "age_years",
    "income_ok",
    "income_reason",
    "ineligibility",
    "walk",
]

INCOME_MULTIPLIER = {"none": 0, "2x_rent": 2, "3x_rent": 3}
# Listing kinds as small ints, in the order the evidence format declares them.
KIND_CODES = {k: i for i, k in enumerate(ENUMS["listing_kind"])}
AGE_RULES = {"youth": (18, 25), "senior": (65, 200)}
# Sort keys of a listing's queue, most significant first (columns of the candidate frame).
RANK_KEYS = ("prio_rank", "queue_day", "member_registered_us", "applicant_id")
# Which of several listings a member who would win them keeps: a special allocation
# (priority decision or a sold contract), else the one that closes first, else lowest id.
KEEP_ORDER = ("special_rank", "close_us", "listing_id")


class Outcome:
    """What happened to a candidate reached in the walk (small ints, for numpy)."""

    ACCEPT, DECLINE, NO_ANSWER, DISQUALIFIED, SKIP, DECLINE_OTHER = range(6)
    RESPONSE: ClassVar[dict[int, str]] = {
        0: "accepted",
        1: "declined",
        2: "no_answer",
        3: "disqualified",
        5: "declined",
    }


# Caseworkers' notes, in Swedish as in the real system.
REASONS = {
    "no_answer": "Inget svar inom svarstiden",
    "other": "Har tackat ja till annan bostad",
    "registered": "Ej registrerad i kön vid intresseanmälan",
    "fee": "Köavgiften obetald, kötiden förlorad",
    "housed": "Har redan fått bostad via kön",
    "student": "Ej registrerad som student",
    "youth": "Uppfyller inte ålderskravet 18–25 år",
    "senior": "Uppfyller inte ålderskravet 65 år",
}
# Recorded reasons a landlord turns an otherwise eligible applicant away.
LANDLORD_SKIPS = (
    "Betalningsanmärkning, uppfyller inte hyresvärdens krav",
    "Hyresskuld hos hyresvärden",
    "Ofullständiga uppgifter, komplettering uteblev",
)


def age_years(birth_year: np.ndarray, birth_mmdd: np.ndarray, year: np.ndarray, mmdd: np.ndarray) -> np.ndarray:
    """Whole years of age on a day (year, month*100+day) for a birth day given the same way."""
    return year - birth_year - (mmdd < birth_mmdd)


def income_ok(income: np.ndarray, rent: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The landlord's income rule: yearly income at least k × 12 × monthly rent (k = 0, 2, 3)."""
    return income >= k * 12 * rent


def income_reason(income: pl.Expr, rent: pl.Expr, k: pl.Expr) -> pl.Expr:
    """The disqualification note, e.g. 'Inkomst 250000 kr/år under kravet 3x hyran (288000 kr/år)'."""
    return pl.format("Inkomst {} kr/år under kravet {}x hyran ({} kr/år)", income, k, k * 12 * rent)


# Codes returned by :func:`ineligibility`, 0 = eligible; names are keys of REASONS.
WHY = (None, "registered", "fee", "student", "youth", "senior", "housed")


def ineligibility(c: dict[str, np.ndarray]) -> np.ndarray:
    """Code (index into :data:`WHY`) of the first rule an interest fails, 0 when eligible.

    ``c`` holds per-interest arrays: ``member_registered_us``, ``registered_us`` (the
    interest), ``lapsed_year`` (first unpaid year, a large number if none),
    ``publish_year``, ``kind`` (:data:`KIND_CODES` per row), ``student``, ``age`` (on the
    closing day), ``signed_us`` (an earlier contract, -1 if none) and ``close_us``.
    """
    lo_y, hi_y = AGE_RULES["youth"]
    lo_s, _ = AGE_RULES["senior"]
    kind, age = c["kind"], c["age"]
    rules = [
        c["member_registered_us"] > c["registered_us"],
        c["lapsed_year"] <= c["publish_year"],
        (kind == KIND_CODES["student"]) & ~c["student"],
        (kind == KIND_CODES["youth"]) & ((age < lo_y) | (age > hi_y)),
        (kind == KIND_CODES["senior"]) & (age < lo_s),
        (c["signed_us"] >= 0) & (c["signed_us"] < c["close_us"]),
    ]
    return np.select(rules, np.arange(1, len(rules) + 1, dtype=np.int8), 0).astype(np.int8)


def walk(
    listing: np.ndarray, applicant: np.ndarray, accepts: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Winners of a batch of listings walked at once.

    Rows are candidates sorted by listing then rank. ``accepts`` says who would take the
    offer; ``keep`` (a preference rank, lower kept) decides between listings one member
    would win. Returns the winning row per listing (-1 when nobody accepts) and the rows
    turned into declines because their member kept another listing. A few passes suffice:
    each pass only adds declines, so it stops.
    """
    n_listings = int(listing.max()) + 1 if len(listing) else 0
    forced = np.zeros(len(listing), dtype=bool)
    while True:
        rows = np.flatnonzero(accepts & ~forced)
        first = rows[np.r_[True, listing[rows][1:] != listing[rows][:-1]]] if rows.size else rows
        order = np.lexsort((keep[first], applicant[first]))
        w = first[order]
        dup = np.r_[False, applicant[w][1:] == applicant[w][:-1]]
        if not dup.any():
            break
        forced[w[dup]] = True
    winner = np.full(n_listings, -1)
    winner[listing[first]] = first
    return winner, forced
