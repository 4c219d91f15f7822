"""The allocation side of the generator: queue order, its documented exceptions, planted fraud.

The worlds are built in memory (people, listings, a stand-in for the incident's web interest
events, allocation), so these tests do not depend on the incident step. The reference
replay below uses only evidence tables and the rules documented in
``workbench.scenario.queue_rules``: it is what the queue-fairness analysis has to be able
to do exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from workbench import evidence
from workbench.scenario import allocation
from workbench.scenario.people import simulate_people
from workbench.scenario.world import WEB_PERIOD, World, scale

ALLOCATION_TABLES = ("handlers", "listings", "interests", "offers", "contracts", "handler_actions")


def _web_events(world: World) -> pl.DataFrame:
    """Stand-in for the incident step: registrations and withdrawals in the web period."""
    rng = np.random.default_rng(7)
    lo, hi = WEB_PERIOD
    lst = world.tables["listings"].filter(
        (pl.col("published_at") < hi) & (pl.col("closes_at") > lo) & (pl.col("kind") == "regular")
    )
    members = world.tables["applicants"].filter((pl.col("status") == "active") & (pl.col("registered_at") < lo))
    n = 24
    lid = lst["listing_id"].to_numpy()[rng.integers(0, lst.height, n)]
    who = members["applicant_id"].to_numpy()[rng.choice(members.height, n, replace=False)]
    frame = pl.DataFrame({"listing_id": lid, "applicant_id": who}).join(lst, on="listing_id")
    start = pl.max_horizontal(pl.col("published_at"), pl.lit(lo)) + pl.duration(hours=1)
    end = pl.min_horizontal(pl.col("closes_at"), pl.lit(hi)) - pl.duration(hours=1)
    frame = frame.with_columns(
        t1=start + (end - start) * 0.3,
        t2=start + (end - start) * 0.7,
        i=pl.int_range(pl.len()),
    )
    # rows 0-11 register only, 12-17 register then withdraw, 18-23 withdraw only
    reg = frame.filter(pl.col("i") < 18).select(
        "listing_id", "applicant_id", time="t1", session_id=pl.format("web{}", "i"), event=pl.lit("register")
    )
    wd = frame.filter(pl.col("i") >= 12).select(
        "listing_id", "applicant_id", time="t2", session_id=pl.format("web{}", "i"), event=pl.lit("withdraw")
    )
    return pl.concat([reg, wd]).with_columns(pl.col("time").dt.cast_time_unit("us"))


def _build(scale_name: str, seed: int = 1, fraud: bool = True, web: bool = True) -> World:
    world = World(scale(scale_name), seed, fraud=fraud)
    simulate_people(world)
    allocation.plan_listings(world)
    if web:
        world.scratch["web_interests"] = _web_events(world)
    allocation.allocate(world)
    # the interests are spooled to disk as they are drawn; these tests read them whole
    world.tables["interests"] = world.table("interests")
    return world


@pytest.fixture(scope="module")
def tiny() -> World:
    return _build("tiny")


@pytest.fixture(scope="module")
def tiny_clean() -> World:
    return _build("tiny", fraud=False)


@pytest.fixture(scope="module")
def small() -> World:
    return _build("small")


def _whole_years(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Age in whole years on ``day``."""
    mmdd = lambda d: d.dt.month().cast(pl.Int32) * 100 + d.dt.day()  # noqa: E731
    return day.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - (mmdd(day) < mmdd(birth)).cast(pl.Int32)


def original_queue_dates(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Queue date per member as it was before any queue-date change, and for a profile a
    caseworker created with an earlier queue date, the day it was registered."""
    changes = (
        t["handler_actions"]
        .filter(pl.col("action") == "queue_date_change")
        .sort("time")
        .group_by("applicant_id")
        .agg(original=pl.col("old_value").first().str.to_date())
    )
    apps = t["applicants"].join(changes, on="applicant_id", how="left")
    made_early = pl.col("created_by_handler_id").is_not_null() & (
        pl.col("queue_start") < pl.col("registered_at").dt.date()
    )
    return apps.select(
        "applicant_id",
        queue=pl.when(made_early)
        .then(pl.col("registered_at").dt.date())
        .otherwise(pl.coalesce("original", "queue_start")),
    )


def replay(t: dict[str, pl.DataFrame], use_original: bool = True) -> pl.DataFrame:
    """Expected recipient of every contracted listing, by the documented rules alone."""
    apps = t["applicants"].with_columns(birth=pl.col("personnummer").str.slice(0, 8).str.to_date("%Y%m%d"))
    queue = original_queue_dates(t) if use_original else apps.select("applicant_id", queue="queue_start")
    lst = t["listings"]
    q = (
        t["interests"]
        .join(lst, on="listing_id")
        .filter(
            (pl.col("registered_at") <= pl.col("closes_at"))
            & (pl.col("withdrawn_at").is_null() | (pl.col("withdrawn_at") > pl.col("closes_at")))
        )
        .join(
            apps.select("applicant_id", "birth", "student", "annual_income", member_reg="registered_at"),
            on="applicant_id",
        )
        .join(queue, on="applicant_id")
    )
    age = _whole_years(pl.col("birth"), pl.col("closes_at").dt.date())
    paid = t["fees"].select("applicant_id", pub_year="year", paid=pl.lit(True))
    housed = t["contracts"].select("applicant_id", housed_at="signed_at")
    k = pl.col("income_rule").replace_strict({"none": 0, "2x_rent": 2, "3x_rent": 3}, return_dtype=pl.Int64)
    q = (
        q.with_columns(pub_year=pl.col("published_at").dt.year().cast(pl.Int64))
        .join(paid, on=["applicant_id", "pub_year"], how="left")
        .join(housed, on="applicant_id", how="left")
        .with_columns(age=age)
    )
    eligible = (
        (pl.col("member_reg") <= pl.col("registered_at"))
        & pl.col("paid").fill_null(False)
        & (pl.col("housed_at").is_null() | (pl.col("housed_at") >= pl.col("closes_at")))
        & ((pl.col("kind") != "student") | pl.col("student"))
        & ((pl.col("kind") != "youth") | pl.col("age").is_between(18, 25))
        & ((pl.col("kind") != "senior") | (pl.col("age") >= 65))
        & (pl.col("annual_income") >= k * 12 * pl.col("rent"))
    )
    acts = t["handler_actions"]
    recorded = (
        pl.concat(
            [
                t["offers"].filter(pl.col("response") != "accepted").select("listing_id", "applicant_id"),
                acts.filter(pl.col("action") == "skip").select("listing_id", "applicant_id"),
            ]
        )
        .unique()
        .with_columns(recorded=pl.lit(True))
    )
    prio = acts.filter(pl.col("action") == "priority_grant").select("listing_id", "applicant_id", prio=pl.lit(0))
    q = (
        q.join(recorded, on=["listing_id", "applicant_id"], how="left")
        .join(prio, on=["listing_id", "applicant_id"], how="left")
        .with_columns(eligible=eligible, recorded=pl.col("recorded").fill_null(False), prio=pl.col("prio").fill_null(1))
        .sort("listing_id", "prio", "queue", "member_reg", "applicant_id")
        .with_columns(rank=pl.int_range(pl.len()).over("listing_id"))
    )
    expected = (
        q.filter(pl.col("eligible") & ~pl.col("recorded"))
        .group_by("listing_id")
        .agg(expected=pl.col("applicant_id").first())
    )
    won = t["contracts"].join(
        q.select("listing_id", "applicant_id", "rank"), on=["listing_id", "applicant_id"], how="left"
    )
    return won.join(expected, on="listing_id", how="left").select(
        "listing_id", "applicant_id", "handler_id", "rank", "expected"
    )


def _keys(frame: pl.DataFrame, rows) -> set:
    return set(frame.select(rows).iter_rows())


def test_tables_conform_to_the_evidence_format(tiny):
    for name in (*ALLOCATION_TABLES, "applicants", "fees"):
        schema = evidence.polars_schema(name)
        frame = tiny.tables[name].select(schema.names()).cast(schema, strict=True)
        table = evidence.table(name)
        keys = [c.name for c in table.primary_key.columns]
        assert frame.select(pl.struct(keys).is_unique().all()).item(), f"{name}: duplicate key"
        for col in table.columns:
            if not col.nullable:
                assert frame[col.name].null_count() == 0, f"{name}.{col.name}"
            allowed = evidence.allowed_values(name, col.name)
            if allowed:
                assert set(frame[col.name].drop_nulls()) <= set(allowed), f"{name}.{col.name}"
    for name, schema in evidence.TRUTH_TABLES.items():
        if name in tiny.truth:
            assert tiny.truth[name].schema == pl.Schema(schema), name


def test_every_contract_follows_an_interest_and_an_accepted_offer(tiny):
    t = tiny.tables
    c = t["contracts"]
    accepted = t["offers"].filter(pl.col("response") == "accepted")
    assert _keys(c, ["listing_id", "applicant_id"]) <= _keys(t["interests"], ["listing_id", "applicant_id"])
    assert _keys(c, ["listing_id", "applicant_id"]) == _keys(accepted, ["listing_id", "applicant_id"])
    j = c.join(accepted, on=["listing_id", "applicant_id"]).join(t["listings"], on="listing_id")
    assert (j["offered_at"] > j["closes_at"]).all()
    assert (j["signed_at"] > j["responded_at"]).all()
    assert (j["handler_id"] == j["handler_id_right"]).all()
    assert j["signed_at"].max() < tiny.export_at


def test_offers_walk_the_queue_except_planted_fraud_and_priority(small):
    t = small.tables
    r = replay(t)
    exempt = _keys(small.truth["fraudulent_allocations"], ["listing_id"]) | _keys(
        small.truth["priority_allocations"], ["listing_id"]
    )
    honest = r.filter(~pl.col("listing_id").is_in([k[0] for k in exempt]))
    bad = honest.filter(pl.col("expected") != pl.col("applicant_id"))
    assert honest.height > 2000
    assert bad.height == 0, bad.head()
    # the walk really goes past people: many winners are not first in their queue
    assert honest.filter(pl.col("rank") > 0).height > honest.height / 4


def test_every_fraudulent_allocation_is_out_of_order_under_original_dates(small):
    fraud = small.truth["fraudulent_allocations"]
    assert fraud.height >= 10
    r = replay(small.tables).join(fraud.select("listing_id"), on="listing_id")
    assert r.height == fraud.height
    assert (r["expected"] != r["applicant_id"]).all()
    # what the backdating hides: with the snapshot's queue dates the backdated-only sales look in order
    naive = replay(small.tables, use_original=False).join(fraud.select("listing_id"), on="listing_id")
    assert (naive["expected"] == naive["applicant_id"]).sum() > 0


def test_fraud_shows_as_queue_date_changes_and_manual_offers(small):
    t, truth = small.tables, small.truth
    acts = t["handler_actions"]
    signs = acts.filter(pl.col("action").is_in(["queue_date_change", "manual_offer"]))
    fakes = set(truth["fake_profiles"]["applicant_id"])
    sales = truth["fraudulent_allocations"].filter(~pl.col("applicant_id").is_in(list(fakes)))
    marked = sales.join(signs, on=["listing_id", "applicant_id"], how="semi")
    assert marked.height == sales.height
    assert set(signs["handler_id"]) <= set(truth["corrupt_handlers"]["handler_id"])
    back = acts.filter(pl.col("action") == "queue_date_change").join(t["applicants"], on="applicant_id")
    assert (back["new_value"].str.to_date() == back["queue_start"]).all()
    assert (back["new_value"] < back["old_value"]).all()
    # corrupt caseworkers work evenings more often than the others
    local = acts.with_columns(
        h=pl.col("time").dt.convert_time_zone("Europe/Stockholm").dt.hour(),
        corrupt=pl.col("handler_id").is_in(truth["corrupt_handlers"]["handler_id"].implode()),
    )
    off = local.group_by("corrupt").agg(share=((pl.col("h") < 8) | (pl.col("h") >= 17)).mean())
    rate = dict(off.iter_rows())
    assert rate[True] > 2 * rate[False]


def test_caseworkers_act_only_while_employed_and_before_the_export(small):
    t = small.tables
    a = t["handler_actions"].join(t["handlers"], on="handler_id")
    outside = a.filter(
        (pl.col("time").dt.date() < pl.col("active_from"))
        | (pl.col("active_to").is_not_null() & (pl.col("time").dt.date() > pl.col("active_to")))
    )
    assert outside.height == 0
    assert t["handlers"]["active_to"].null_count() < t["handlers"].height  # someone did leave
    for name, col in (
        ("handler_actions", "time"),
        ("offers", "responded_at"),
        ("contracts", "signed_at"),
        ("interests", "registered_at"),
    ):
        assert t[name][col].max() < small.export_at, name


def test_priority_allocations_carry_a_decision(small):
    t, prio = small.tables, small.truth["priority_allocations"]
    assert prio.height >= 10
    grants = t["handler_actions"].filter(pl.col("action") == "priority_grant")
    j = prio.join(grants, on=["listing_id", "applicant_id"], how="left")
    assert j["new_value"].str.contains(r"^Beslut \d{4}-\d{4} (medicinsk|social) förtur$").all()
    offers = prio.join(t["offers"], on=["listing_id", "applicant_id"]).join(grants, on=["listing_id", "applicant_id"])
    assert (offers["reason"] == "Förtur: " + offers["new_value"]).all()
    assert (offers["time"] < offers["offered_at"]).all()
    # ranked first although someone eligible in the queue had waited longer
    r = replay(t).join(prio.select("listing_id"), on="listing_id")
    assert (r["expected"] == r["applicant_id"]).all()
    plain = replay({**t, "handler_actions": t["handler_actions"].filter(pl.col("action") != "priority_grant")})
    assert (
        plain.join(prio, on=["listing_id", "applicant_id"], how="semi")
        .filter(pl.col("expected") != pl.col("applicant_id"))
        .height
        == prio.height
    )


def test_fake_profiles_follow_the_malmo_pattern(tiny):
    t, fakes = tiny.tables, tiny.truth["fake_profiles"]
    assert fakes.height == tiny.scale.fake_profiles
    apps = fakes.join(t["applicants"], on="applicant_id")
    assert (apps["created_by_handler_id"] == apps["handler_id"]).all()
    assert (apps["queue_start"] < apps["registered_at"].dt.date() - timedelta(days=365 * 5)).all()
    per = apps.group_by("handler_id").agg(pl.len(), pl.col("email").n_unique(), pl.col("phone").n_unique())
    assert ((per["email"] < per["len"]) & (per["phone"] < per["len"])).all()
    fees = t["fees"].join(apps.select("applicant_id", reg=pl.col("registered_at").dt.year()), on="applicant_id")
    assert (fees["year"] >= fees["reg"]).all() and fees.height > 0
    created = t["handler_actions"].filter(pl.col("action") == "profile_created")
    assert _keys(created, ["applicant_id", "handler_id"]) == _keys(fakes, ["applicant_id", "handler_id"])
    housed = fakes.join(tiny.truth["fraudulent_allocations"], on=["applicant_id", "handler_id"], how="semi")
    assert housed.height >= 1


def test_no_fraud_plants_nothing_and_every_allocation_is_explained(tiny_clean):
    t, truth = tiny_clean.tables, tiny_clean.truth
    for name in ("corrupt_handlers", "fraudulent_allocations", "fake_profiles"):
        assert truth[name].height == 0, name
    assert not set(t["handler_actions"]["action"]) & {"queue_date_change", "manual_offer", "profile_created"}
    assert t["applicants"]["created_by_handler_id"].null_count() == t["applicants"].height
    r = replay(t)
    assert r.height > 100 and (r["expected"] == r["applicant_id"]).all()
    assert truth["priority_allocations"].height > 0


def test_members_who_sign_leave_the_queue(small):
    t = small.tables
    c = t["contracts"].select("applicant_id", signed="signed_at")
    later = t["interests"].join(c, on="applicant_id").join(t["listings"], on="listing_id")
    still_open = later.filter((pl.col("registered_at") < pl.col("signed")) & (pl.col("closes_at") > pl.col("signed")))
    assert still_open.height > 0
    assert (still_open["withdrawn_at"] <= still_open["signed"]).all()
    assert (still_open["withdrawn_at"] == still_open["signed"]).any()
    after = later.filter(pl.col("registered_at") >= pl.col("signed"))
    web = _keys(small.scratch["web_interests"], ["listing_id", "applicant_id"])
    assert _keys(after, ["listing_id", "applicant_id"]) <= web  # only web events come after a contract
    housed = t["applicants"].filter(pl.col("status") == "housed")
    assert set(housed["applicant_id"]) == set(c["applicant_id"])


def test_drawn_interests_respect_kind_rules(small):
    t = small.tables
    q = (
        t["interests"]
        .filter(pl.col("session_id").is_null())
        .join(t["listings"], on="listing_id")
        .join(t["applicants"].select("applicant_id", "student", "_birth_date"), on="applicant_id")
        .with_columns(age=_whole_years(pl.col("_birth_date"), pl.col("closes_at").dt.date()))
    )
    assert q.filter(pl.col("kind") == "student")["student"].all()
    youth = q.filter(pl.col("kind") == "youth")["age"]
    assert youth.min() == 18 and youth.max() == 25
    assert q.filter(pl.col("kind") == "senior")["age"].min() == 65


def test_web_interest_events_become_interests(tiny):
    ev = tiny.scratch["web_interests"]
    i = tiny.tables["interests"]
    reg = ev.filter(pl.col("event") == "register").join(i, on=["listing_id", "applicant_id"])
    assert (reg["session_id"] == reg["session_id_right"]).all() and (reg["time"] == reg["registered_at"]).all()
    wd = ev.filter(pl.col("event") == "withdraw").join(i, on=["listing_id", "applicant_id"])
    assert wd.height == 12 and (wd["withdrawn_at"] == wd["time"]).all() and (wd["registered_at"] < wd["time"]).all()
    bare = wd.filter(pl.col("session_id").str.slice(3).cast(pl.Int64) >= 18)
    assert bare["session_id_right"].null_count() == bare.height


def test_calibration_small(small):
    t = small.tables
    years = small.scale.last_year - small.scale.first_year + 1
    c = t["contracts"].join(t["listings"], on="listing_id").join(original_queue_dates(t), on="applicant_id")
    c = c.with_columns(
        wait=(pl.col("signed_at").dt.date() - pl.col("queue")).dt.total_days() / 365.25,
        inner=pl.col("district").is_in(["Södermalm", "Kungsholmen", "Vasastan", "Östermalm", "Norrmalm"]),
    )
    assert 0.9 < c.height / years / small.scale.listings_per_year <= 1.0
    per_listing = t["interests"].height / t["listings"].height
    assert 0.85 < per_listing / small.scale.interests_per_listing < 1.15
    inner = t["interests"].join(t["listings"], on="listing_id").group_by("listing_id", "district").len()
    assert inner["len"].max() >= 300  # popular listings draw hundreds
    mean_inner = c.filter("inner")["wait"].mean()
    assert mean_inner > 1.4 * c["wait"].mean()


def test_same_seed_same_frames(tiny):
    again = _build("tiny")
    for name in (*ALLOCATION_TABLES, "applicants", "fees"):
        assert again.tables[name].equals(tiny.tables[name]), name
    for name, frame in tiny.truth.items():
        assert again.truth[name].equals(frame), name


def _utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_web_folding_keeps_the_last_episode():
    from workbench.scenario.web_interests import fold_web_interests

    ev = pl.DataFrame(
        [
            (1, 10, _utc(2013, 12, 14, 9), "s1", "register"),  # pair (1,10): registered twice, the first counts
            (1, 10, _utc(2013, 12, 14, 11), "s2", "register"),
            (1, 11, _utc(2013, 12, 14, 9), "s3", "register"),  # (1,11): withdrawn, then registered again
            (1, 11, _utc(2013, 12, 15, 9), "s3", "withdraw"),
            (1, 11, _utc(2013, 12, 16, 9), "s4", "register"),
            (2, 10, _utc(2013, 12, 14, 9), "s5", "withdraw"),  # (2,10): a bare withdrawal
            (2, 11, _utc(2013, 12, 14, 9), "s6", "register"),  # (2,11): registered, then withdrawn
            (2, 11, _utc(2013, 12, 14, 10), "s7", "withdraw"),
        ],
        schema=["listing_id", "applicant_id", "time", "session_id", "event"],
        orient="row",
    ).with_columns(pl.col("time").dt.cast_time_unit("us"))
    out = fold_web_interests(ev, np.array([1, 2]), np.array([11, 10]))
    us = lambda t: int(t.timestamp()) * 1_000_000  # noqa: E731
    rows = sorted(
        zip(
            out["l"].tolist(),
            out["m"].tolist(),
            out["reg"].tolist(),
            out["wd"].tolist(),
            out["session"].tolist(),
            strict=True,
        )
    )
    assert rows == [
        (0, 0, us(_utc(2013, 12, 16, 9)), -1, "s4"),
        (0, 1, us(_utc(2013, 12, 14, 9)), -1, "s1"),
        (1, 0, us(_utc(2013, 12, 14, 9)), us(_utc(2013, 12, 14, 10)), "s6"),
        (1, 1, -1, us(_utc(2013, 12, 14, 9)), None),
    ]


def test_web_events_naming_unknown_rows_are_rejected():
    from workbench.errors import GeneratorError
    from workbench.scenario.web_interests import fold_web_interests

    ev = pl.DataFrame(
        {
            "listing_id": [3],
            "applicant_id": [10],
            "time": [_utc(2013, 12, 14, 9)],
            "session_id": ["s"],
            "event": ["register"],
        }
    )
    with pytest.raises(GeneratorError, match=r"1 web interest events name an unknown listing, applicant or event"):
        fold_web_interests(ev, np.array([1, 2]), np.array([10]))


def test_office_clock_keeps_casework_in_office_hours():
    from datetime import date

    from workbench.scenario.listings import WorkClock

    clock = WorkClock(date(2013, 1, 1), date(2014, 12, 31))
    rng = np.random.default_rng(0)
    lo = rng.integers(int(_utc(2013, 1, 2).timestamp()), int(_utc(2014, 12, 1).timestamp()), 2000) * 1_000_000
    t = pl.Series(clock.office(rng, lo, lo + 5 * 86_400_000_000)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    local = t.dt.convert_time_zone("Europe/Stockholm")
    assert local.dt.hour().is_between(8, 15).all() and (local.dt.weekday() <= 5).all()
    assert (t.dt.epoch("us").to_numpy() >= lo).all()  # summer and winter time alike
    eve = pl.Series(clock.evening(rng, lo)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    assert eve.dt.convert_time_zone("Europe/Stockholm").dt.hour().is_between(18, 23).all()
    w = np.sort(rng.integers(0, 300 * clock.SHIFT, 1000))
    assert (np.diff(clock.to_wall(w)) >= 0).all() and (clock.to_work(clock.to_wall(w)) == w).all()
