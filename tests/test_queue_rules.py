"""The queue model's rules, one hand-built case each, named for the rule it pins."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from workbench.fairness import queue_model as queue


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _rule(expr: pl.Expr, **columns) -> list:
    return pl.DataFrame(columns).select(expr.alias("ok"))["ok"].to_list()


def _actions(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "action": pl.String,
            "applicant_id": pl.Int64,
            "time": pl.Datetime("us", "UTC"),
            "old_value": pl.String,
        },
        orient="row",
    )


def _members(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "applicant_id": pl.Int64,
            "queue_start": pl.Date,
            "registered_at": pl.Datetime("us", "UTC"),
            "created_by_handler_id": pl.Int64,
        },
        orient="row",
    )


def test_queue_date_is_the_one_held_before_the_first_caseworker_change():
    members = _members(
        [(1, date(2001, 1, 1), utc(2009, 5, 1, 9), None), (2, date(2008, 3, 3), utc(2008, 3, 3, 9), None)]
    )
    # member 1's date was moved twice: first from 2009-05-01, later again; the snapshot shows the last value
    actions = _actions(
        [
            ("queue_date_change", 1, utc(2014, 6, 1), "2009-05-01"),
            ("queue_date_change", 1, utc(2013, 2, 1), "2009-05-01"),
            ("queue_date_change", 1, utc(2015, 1, 1), "2003-01-01"),
            ("profile_edit", 2, utc(2014, 1, 1), "Storgatan 1"),
        ]
    )
    got = queue.queue_dates(members, actions).sort("applicant_id")
    assert got["queue_date"].to_list() == [date(2009, 5, 1), date(2008, 3, 3)]
    assert got["queue_date_source"].to_list() == ["before_change", "queue_start"]


def test_caseworker_made_profile_with_an_earlier_queue_date_counts_from_registration():
    members = _members(
        [
            (1, date(2001, 1, 1), utc(2013, 4, 2, 19), 7),  # made by caseworker 7, dated 12 years back
            (2, date(2013, 4, 2), utc(2013, 4, 2, 10), 7),  # made by a caseworker, honestly dated
            (3, date(2001, 1, 1), utc(2001, 1, 1, 10), None),
        ]
    )
    got = queue.queue_dates(members, _actions([])).sort("applicant_id")
    assert got["queue_date"].to_list() == [date(2013, 4, 2), date(2013, 4, 2), date(2001, 1, 1)]
    assert got["queue_date_source"].to_list() == ["registered", "queue_start", "queue_start"]


def test_queue_days_count_from_the_queue_date_and_are_lost_with_an_unpaid_fee():
    frame = pl.DataFrame({"q": [date(2010, 1, 1)] * 3, "day": [date(2013, 1, 1)] * 3, "paid": [2013, 2012, None]})
    got = frame.select(queue.queue_days(pl.col("q"), pl.col("day"), pl.col("paid")))
    assert got.to_series().to_list() == [1096, 0, 0]


def test_registered_rule_the_member_must_exist_before_the_interest():
    assert _rule(
        queue.registered_rule(),
        member_registered_at=[utc(2013, 1, 1), utc(2013, 1, 5)],
        interest_at=[utc(2013, 1, 1), utc(2013, 1, 4)],
    ) == [True, False]


def test_fee_rule_needs_unbroken_fees_through_the_publication_year():
    assert _rule(
        queue.fee_rule(),
        published_at=[utc(2013, 3, 1)] * 4,
        first_paid_year=[2008, 2013, 2014, None],
        paid_through_year=[2013, 2013, 2015, None],
    ) == [True, True, False, False]
    # paid 2008-2011, then a gap: lapsed for a 2013 listing
    assert _rule(
        queue.fee_rule(), published_at=[utc(2013, 3, 1)], first_paid_year=[2008], paid_through_year=[2011]
    ) == [False]


def test_housed_rule_a_lease_signed_before_closing_disqualifies():
    assert _rule(
        queue.housed_rule(), closes_at=[utc(2013, 5, 1)] * 3, housed_at=[None, utc(2013, 4, 30), utc(2013, 5, 2)]
    ) == [True, False, True]


def test_student_rule_student_listings_need_the_student_flag():
    assert _rule(queue.student_rule(), kind=["student", "student", "regular"], student=[True, False, False]) == [
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("kind", "birth", "closes", "ok"),
    [
        ("youth", date(1995, 5, 2), utc(2013, 5, 2), True),  # 18 on the closing day
        ("youth", date(1995, 5, 3), utc(2013, 5, 2), False),  # 17, a day short
        ("youth", date(1987, 5, 3), utc(2013, 5, 2), True),  # still 25
        ("youth", date(1987, 5, 2), utc(2013, 5, 2), False),  # 26
        ("senior", date(1948, 5, 2), utc(2013, 5, 2), True),
        ("senior", date(1948, 5, 3), utc(2013, 5, 2), False),
        ("senior", date(1948, 2, 29), utc(2013, 2, 28), False),  # a 29 February birthday is reached on 1 March
        ("senior", date(1948, 2, 29), utc(2013, 3, 1), True),
        ("regular", date(2000, 1, 1), utc(2013, 5, 2), True),  # no age rule
        ("youth", None, utc(2013, 5, 2), False),  # unknown age fails an age rule
    ],
)
def test_age_rule_youth_18_to_25_senior_65_in_whole_years_on_the_utc_closing_day(kind, birth, closes, ok):
    frame = pl.DataFrame({"kind": [kind], "birth": [birth], "closes_at": [closes]}, schema_overrides={"birth": pl.Date})
    assert frame.select(queue.age_rule()).item() is ok


def test_income_rule_yearly_income_at_least_k_times_12_times_rent():
    assert _rule(
        queue.income_rule(),
        income_rule=["3x_rent", "3x_rent", "2x_rent", "none", "3x_rent"],
        rent=[8000] * 5,
        annual_income=[288_000, 287_999, 192_000, 0, None],
    ) == [True, False, True, True, False]


def test_birth_date_is_read_from_the_personnummer():
    frame = pl.DataFrame({"p": ["19850412-2383", "19850412", "junk"]})
    assert frame.select(queue.birth_date(pl.col("p"))).to_series().to_list() == [
        date(1985, 4, 12),
        date(1985, 4, 12),
        None,
    ]


def test_withdrawal_block_counts_withdrawals_in_the_year_before_closing_and_is_off_by_default():
    candidates = pl.DataFrame({"listing_id": [1, 1], "applicant_id": [10, 11], "closes_at": [utc(2013, 6, 1)] * 2})
    withdrawals = pl.DataFrame(
        {
            "applicant_id": [10, 10, 10, 10, 11],
            "withdrawn_at": [utc(2012, 5, 1), utc(2012, 7, 1), utc(2013, 1, 1), utc(2013, 6, 1), utc(2013, 2, 1)],
        }
    )
    counted = queue.withdrawals_before_close(candidates, withdrawals).sort("applicant_id")
    # 2012-05-01 is more than a year before; 2013-06-01 is not before closing
    assert counted["withdrawals_before_close"].to_list() == [2, 1]
    assert counted.with_columns(ok=queue.withdrawal_rule(2))["ok"].to_list() == [False, True]
    assert counted.with_columns(ok=queue.withdrawal_rule(None))["ok"].to_list() == [True, True]


def _candidate(**over) -> dict:
    row = dict(
        listing_id=1,
        applicant_id=10,
        interest_at=utc(2013, 3, 2),
        published_at=utc(2013, 3, 1),
        closes_at=utc(2013, 3, 14),
        kind="regular",
        rent=6000,
        income_rule="2x_rent",
        member_registered_at=utc(2005, 1, 1),
        birth=date(1980, 1, 1),
        student=False,
        annual_income=300_000,
        queue_date=date(2005, 1, 1),
        first_paid_year=2008,
        paid_through_year=2013,
        housed_at=None,
        priority=False,
    )
    row.update(over)
    return row


def test_ineligibility_names_the_first_failed_rule_in_rule_order():
    rows = [
        _candidate(),
        _candidate(applicant_id=11, member_registered_at=utc(2013, 3, 3), annual_income=1),  # registered fails first
        _candidate(applicant_id=12, paid_through_year=2012),
        _candidate(applicant_id=13, annual_income=100_000),
        _candidate(applicant_id=14, kind="student"),
    ]
    frame = pl.DataFrame(rows, schema_overrides={"housed_at": pl.Datetime("us", "UTC")})
    assert frame.select(queue.ineligibility()).to_series().to_list() == [None, "registered", "fee", "income", "student"]


def test_ranking_longest_queue_time_first_ties_by_registration_then_customer_number():
    rows = [
        _candidate(applicant_id=30, queue_date=date(2006, 1, 1)),
        _candidate(applicant_id=21, queue_date=date(2005, 1, 1), member_registered_at=utc(2005, 1, 1, 12)),
        _candidate(applicant_id=20, queue_date=date(2005, 1, 1), member_registered_at=utc(2005, 1, 1, 12)),
        _candidate(applicant_id=10, queue_date=date(2005, 1, 1), member_registered_at=utc(2005, 1, 1, 13)),
        _candidate(applicant_id=40, queue_date=date(1999, 1, 1), listing_id=2),
    ]
    ranked = queue.rank_queue(pl.DataFrame(rows, schema_overrides={"housed_at": pl.Datetime("us", "UTC")}))
    first = ranked.filter(pl.col("listing_id") == 1)
    assert first["applicant_id"].to_list() == [20, 21, 10, 30]
    assert first["queue_rank"].to_list() == [1, 2, 3, 4] and first["rank"].to_list() == [1, 2, 3, 4]
    assert ranked.filter(pl.col("listing_id") == 2)["queue_rank"].to_list() == [1]


def test_ranking_a_recorded_priority_decision_goes_first():
    rows = [
        _candidate(applicant_id=a, queue_date=date(2000 + i, 1, 1), priority=p)
        for i, (a, p) in enumerate([(1, False), (2, False), (3, True), (4, False), (5, True)])
    ]
    ranked = queue.rank_queue(pl.DataFrame(rows, schema_overrides={"housed_at": pl.Datetime("us", "UTC")}))
    by_rank = ranked.sort("rank")
    assert by_rank["applicant_id"].to_list() == [3, 5, 1, 2, 4]
    assert by_rank["queue_rank"].to_list() == [3, 5, 1, 2, 4]


def test_expected_recipient_walks_past_the_unavailable_to_the_first_available():
    ranked = pl.DataFrame(
        {
            "listing_id": [1, 1, 1, 2, 2],
            "applicant_id": [10, 11, 12, 20, 21],
            "rank": [1, 2, 3, 1, 2],
            "queue_rank": [1, 2, 3, 2, 1],
            "ok": [False, True, True, False, False],
        }
    )
    got = queue.expected_recipients(ranked, pl.col("ok")).sort("listing_id")
    assert got["expected_applicant_id"].to_list() == [11, None]
    by_queue = queue.expected_recipients(ranked, pl.col("listing_id") == 2, by="queue_rank", name="plain")
    assert by_queue.filter(pl.col("listing_id") == 2)["plain_applicant_id"].item() == 21


def test_expected_recipients_may_leave_out_listings_nobody_is_available_for():
    ranked = pl.DataFrame(
        {
            "listing_id": [1, 1, 2, 3, 3],
            "applicant_id": [10, 11, 20, 30, 31],
            "rank": [1, 2, 1, 2, 1],
            "queue_rank": [1, 2, 1, 1, 2],
            "ok": [False, True, False, True, True],
        }
    )
    every = queue.expected_recipients(ranked, pl.col("ok")).sort("listing_id")
    some = queue.expected_recipients(ranked, pl.col("ok"), every_listing=False).sort("listing_id")
    assert dict(every.iter_rows()) == {1: 11, 2: None, 3: 31}
    assert dict(some.iter_rows()) == {1: 11, 3: 31}
    # joined to the listings, both give the same
    listings = pl.DataFrame({"listing_id": [1, 2, 3, 4]})
    assert listings.join(some, on="listing_id", how="left").equals(listings.join(every, on="listing_id", how="left"))


def test_the_coded_age_rule_gives_the_same_as_taking_the_dates_apart():
    from datetime import UTC, date, datetime, timedelta

    import numpy as np

    rng = np.random.default_rng(2)
    births = [date(1940, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 30_000, 4000)]
    births += [date(1996, 2, 29), date(1996, 2, 29), date(1992, 2, 29), date(2000, 3, 1), None, date(2030, 5, 5)]
    closes = [datetime(2012, 1, 1, 23, 30, tzinfo=UTC) + timedelta(hours=int(h)) for h in rng.integers(0, 60_000, 4000)]
    # a 29 February birthday turns 18 on 1 March 2014 (not on 28 February), 26 on 1 March 2022; someone not yet born
    closes += [datetime(2014, 2, 28, 23, tzinfo=UTC), datetime(2014, 3, 1, 0, tzinfo=UTC)]
    closes += [
        datetime(2018, 2, 28, 12, tzinfo=UTC),
        datetime(2018, 3, 1, 12, tzinfo=UTC),
        datetime(2014, 1, 1, tzinfo=UTC),
    ]
    closes += [datetime(2015, 6, 1, tzinfo=UTC)]
    kinds = ["youth", "senior", "regular", "student"]
    frame = pl.DataFrame(
        {"birth": births, "closes_at": closes, "kind": [kinds[i % 4] for i in range(len(births))]}
    ).with_columns(_birth_ymd=queue.ymd(pl.col("birth")), _closes_ymd=queue.ymd(pl.col("closes_at").dt.date()))
    frame = pl.concat([frame, frame.with_columns(kind=pl.lit("youth")), frame.with_columns(kind=pl.lit("senior"))])
    plain, coded = frame.select(queue.age_rule()).to_series(), frame.select(queue.age_rule(coded=True)).to_series()
    assert plain.equals(coded)
    assert plain.sum() > 0 and (~plain).sum() > 0  # both answers occur
    ages = frame.select(
        a=queue.age_on(pl.col("birth"), pl.col("closes_at").dt.date()),
        b=(pl.col("_closes_ymd") - pl.col("_birth_ymd")).floordiv(10_000),
    )
    assert ages["a"].equals(ages["b"], check_names=False) and ages["a"].min() < 0
    leap = frame.filter(pl.col("birth") == date(1996, 2, 29), pl.col("kind") == "youth")
    got = dict(leap.select(pl.col("closes_at").dt.date(), queue.age_rule(coded=True)).unique().iter_rows())
    assert got == {date(2014, 2, 28): False, date(2014, 3, 1): True}
