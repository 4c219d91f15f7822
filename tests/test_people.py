"""Synthetic members: identity numbers, contact details, queue dates and fees."""

import numpy as np
import polars as pl
import pytest

from workbench.scenario.people import luhn_check_digit, simulate_people
from workbench.scenario.world import FEE_FIRST_YEAR, World, scale


def _luhn_ok(pnr: str) -> bool:
    """Textbook Luhn over YYMMDDNNNC, written independently of the generator."""
    digits = [int(c) for c in pnr[2:8] + pnr[9:13]]
    total = 0
    for i, d in enumerate(digits):
        p = d * (2 if i % 2 == 0 else 1)
        total += p - 9 if p > 9 else p
    return total % 10 == 0


@pytest.fixture(scope="module")
def people():
    world = World(scale("tiny"), seed=3)
    simulate_people(world)
    return world


def test_known_personnummer_check_digit():
    # 811218-987 → check digit 6 (the Skatteverket textbook example 811218-9876)
    assert luhn_check_digit(np.array([811218987]))[0] == 6


def test_personnummer_are_valid_unique_and_match_birth_date(people):
    a = people.tables["applicants"]
    assert a["personnummer"].str.contains(r"^\d{8}-\d{4}$").all()
    assert all(_luhn_ok(p) for p in a["personnummer"])
    assert a["personnummer"].n_unique() == a.height
    born = a["_birth_date"].dt.strftime("%Y%m%d")
    assert (a["personnummer"].str.slice(0, 8) == born).all()
    co = a["co_applicant_personnummer"].drop_nulls()
    assert co.len() > 0 and all(_luhn_ok(p) for p in co)
    assert not set(co) & set(a["personnummer"])


def test_contact_details_are_unique_and_swedish_looking(people):
    a = people.tables["applicants"]
    assert a["email"].n_unique() == a.height and a["phone"].n_unique() == a.height
    assert a["phone"].str.contains(r"^07\d-\d{3} \d{2} \d{2}$").all()
    assert a["postal_code"].str.contains(r"^\d{3} \d{2}$").all()
    assert a["email"].str.contains(r"^[a-z.\-]+\.\d{6}@[a-z.]+$").all()
    assert a["name"].str.contains("[åäöÅÄÖ]").any()


def test_shares_are_plausible(people):
    a = people.tables["applicants"]
    n = a.height
    assert 0 < a["protected_identity"].sum() <= 0.015 * n
    assert 0.05 * n < a["student"].sum() < 0.3 * n
    assert 0.1 * n < a["co_applicant_name"].is_not_null().sum() < 0.3 * n
    assert (a["co_applicant_name"].is_null() == a["co_applicant_personnummer"].is_null()).all()


def test_queue_start_spans_decades_and_follows_adulthood(people):
    a = people.tables["applicants"]
    span_years = (a["queue_start"].max() - a["queue_start"].min()).days / 365.25
    assert span_years > 15
    age_at_start = (a["queue_start"] - a["_birth_date"]).dt.total_days() / 365.25
    assert age_at_start.min() >= 18
    assert (a["registered_at"].dt.date() == a["queue_start"]).mean() > 0.95  # ordinary members register on joining


def test_fees_stop_when_a_member_lapses(people):
    a = people.tables["applicants"]
    fees = people.tables["fees"].join(a.select("applicant_id", "_lapsed_year", "queue_start"), on="applicant_id")
    assert fees.filter(pl.col("year") >= pl.col("_lapsed_year")).height == 0
    assert (
        fees.filter(pl.col("year") < pl.max_horizontal(pl.lit(FEE_FIRST_YEAR), pl.col("queue_start").dt.year())).height
        == 0
    )
    lapsed = a.filter(pl.col("status") == "lapsed")
    assert lapsed.height > 0 and lapsed["_lapsed_year"].is_not_null().all()
    assert fees["paid_at"].dt.year().eq(fees["year"]).all()
    assert fees.select(pl.struct("applicant_id", "year").is_unique().all()).item()


def test_same_seed_same_people_other_seed_other_people():
    w1, w2, w3 = World(scale("tiny"), 5), World(scale("tiny"), 5), World(scale("tiny"), 6)
    for w in (w1, w2, w3):
        simulate_people(w)
    assert w1.tables["applicants"].equals(w2.tables["applicants"])
    assert not w1.tables["applicants"].equals(w3.tables["applicants"])
