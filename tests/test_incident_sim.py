"""The incident step on its own: sessions, the binding fault, changes, messages and truth.

Worlds are built from the people step and a stub listings frame, so these tests do not
depend on the allocation step.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from workbench import evidence
from workbench.scenario.incident import simulate_incident
from workbench.scenario.message_texts import FAULT
from workbench.scenario.people import simulate_people
from workbench.scenario.world import INCIDENT, SCALES, WEB_PERIOD, World

LOCAL = "Europe/Stockholm"
TABLES = ("deployments", "logins", "logouts", "page_views", "profile_changes", "support_messages", "incident_actions")
WINDOW = (pl.col("time") >= INCIDENT.deployed_at) & (pl.col("time") < INCIDENT.login_disabled_at)


def _stub_listings(n: int = 90, seed: int = 0) -> pl.DataFrame:
    """Listings opening late Nov to late Dec 2013, every kind represented."""
    rng = np.random.default_rng(seed)
    kinds = np.array(evidence.ENUMS["listing_kind"])
    published = np.datetime64("2013-11-25T08:00:00", "us") + (rng.random(n) * 26 * 86400e6).astype("timedelta64[us]")
    closes = published + (rng.integers(7, 15, n) * 86400e6).astype("timedelta64[us]")
    return pl.DataFrame(
        {
            "listing_id": 1_300_000 + np.arange(n),
            "landlord": "Stockholmshem",
            "district": rng.choice(["Södermalm", "Farsta", "Solna", "Kungsholmen"], n),
            "rooms": rng.integers(1, 5, n),
            "rent": rng.integers(4000, 12000, n),
            "kind": kinds[np.arange(n) % len(kinds)],
            "published_at": pl.Series(published).dt.replace_time_zone("UTC"),
            "closes_at": pl.Series(closes).dt.replace_time_zone("UTC"),
            "income_rule": "none",
        }
    )


def _world(scale: str = "tiny", seed: int = 7, **changes) -> tuple[World, pl.DataFrame]:
    """A world after the incident step, and the applicants as they were before it."""
    world = World(dataclasses.replace(SCALES[scale], **changes), seed)
    simulate_people(world)
    world.tables["listings"] = _stub_listings()
    before = world.tables["applicants"]
    simulate_incident(world)
    return world, before


@pytest.fixture(scope="module")
def tiny():
    return _world()


@pytest.fixture(scope="module")
def sessions(tiny):
    world, _ = tiny
    logins = world.tables["logins"].rename({"time": "start"})
    return logins.join(world.tables["logouts"].rename({"time": "end"}), on="session_id", how="left")


def test_tables_have_the_evidence_columns_and_dtypes(tiny):
    world, _ = tiny
    for name in TABLES:
        schema = evidence.polars_schema(name)
        frame = world.table(name)
        assert frame.columns == list(schema), name
        cast = frame.cast(dict(schema), strict=True)
        assert cast.null_count().row(0) == frame.null_count().row(0), name
        for column in schema:
            allowed = evidence.allowed_values(name, column)
            if allowed is not None:
                assert set(frame[column].drop_nulls()) <= set(allowed), (name, column)
    for name in ("swapped_sessions", "unauthorized_changes", "fault_reports", "clock_offsets", "allocation_touched"):
        assert world.truth[name].schema == pl.Schema(evidence.TRUTH_TABLES[name]), name
    assert world.tables["applicants"].schema == tiny[1].schema


def test_tiny_still_shows_every_part_of_the_incident(tiny):
    world, _ = tiny
    assert world.truth["swapped_sessions"].height >= 5
    assert world.truth["unauthorized_changes"].height >= 1
    assert world.truth["fault_reports"].height >= 2
    kinds = world.truth["allocation_touched"]["kind"].to_list()
    assert "interest_registered" in kinds and "interest_withdrawn" in kinds


def test_no_login_while_login_is_shut(tiny):
    logins = tiny[0].tables["logins"]
    shut = logins.filter(
        pl.col("time").is_between(INCIDENT.login_disabled_at, INCIDENT.login_enabled_at, closed="left")
    )
    assert shut.height == 0
    assert logins["time"].min() >= WEB_PERIOD[0] and logins["time"].max() < WEB_PERIOD[1]
    assert logins.filter(WINDOW).height > 100


def test_every_login_ends_exactly_once(tiny, sessions):
    world, _ = tiny
    logouts = world.tables["logouts"]
    assert logouts["session_id"].is_unique().all() and world.tables["logins"]["session_id"].is_unique().all()
    assert set(logouts["session_id"]) == set(world.tables["logins"]["session_id"])
    assert (sessions["end"] > sessions["start"]).all()
    last = world.table("page_views").group_by("session_id").agg(last=pl.col("time").max())
    timed_out = sessions.filter(pl.col("reason") == "timeout").join(last, on="session_id")
    assert (timed_out["end"] == timed_out["last"] + timedelta(minutes=20)).all()
    by_user = sessions.filter(pl.col("reason") == "user").join(last, on="session_id")
    assert (by_user["end"] == by_user["last"]).all()  # the logout page is the last request


def test_logins_follow_a_daily_rhythm(tiny):
    hour = tiny[0].tables["logins"]["time"].dt.convert_time_zone(LOCAL).dt.hour()
    night = hour.is_between(2, 4).sum()
    evening = hour.is_between(19, 21).sum()
    assert evening > 8 * max(night, 1)


def test_a_swap_needs_another_members_open_session(tiny, sessions):
    swapped = tiny[0].truth["swapped_sessions"]
    assert swapped["bound_at"].min() >= INCIDENT.deployed_at
    assert swapped["bound_at"].max() < INCIDENT.login_disabled_at
    assert (swapped["bound_account_id"] != swapped["authenticated_applicant_id"]).all()
    own = swapped.join(sessions, on="session_id")
    # The other member's session was open at the login; the default swap shows from the landing page.
    pairs = own.join(sessions, left_on="bound_account_id", right_on="applicant_id", suffix="_owner").filter(
        (pl.col("start_owner") < pl.col("start")) & (pl.col("end_owner") > pl.col("start"))
    )
    assert set(pairs["session_id"]) == set(swapped["session_id"])
    delay = (own["bound_at"] - own["start"]).dt.total_seconds()
    assert delay.min() >= 1 and delay.max() <= 3, "the landing page follows the login by 1-3 s"
    assert (own["applicant_id"] == own["authenticated_applicant_id"]).all()


def test_with_certain_swaps_every_concurrent_login_binds_to_the_latest_open_session():
    world, _ = _world(seed=3, logins_per_day=60, swap_probability=1.0)
    logins = world.tables["logins"].sort("time", "session_id")
    s = logins.join(world.tables["logouts"].rename({"time": "end"}), on="session_id")
    bound = dict(
        zip(
            world.truth["swapped_sessions"]["session_id"],
            world.truth["swapped_sessions"]["bound_account_id"],
            strict=True,
        )
    )
    rows = s.filter(WINDOW).rows(named=True)
    everyone = s.rows(named=True)
    assert 0 < len(bound) < len(rows)  # some night logins found nobody to be bound to
    for r in rows:
        open_ = [o for o in everyone if o["time"] < r["time"] < o["end"] and o["applicant_id"] != r["applicant_id"]]
        if not open_:
            assert r["session_id"] not in bound
        else:
            latest = max(open_, key=lambda o: o["time"])
            assert bound.get(r["session_id"]) == latest["applicant_id"]


def test_swapped_sessions_render_only_the_bound_account(tiny):
    world, _ = tiny
    views = world.table("page_views").join(world.tables["logins"].select("session_id", "applicant_id"), on="session_id")
    swapped = world.truth["swapped_sessions"]
    rendered = views.filter(pl.col("account_id").is_not_null()).join(swapped, on="session_id", how="left")
    foreign = rendered.filter(pl.col("account_id") != pl.col("applicant_id"))
    assert set(foreign["session_id"]) == set(swapped["session_id"])
    in_swapped = rendered.filter(pl.col("bound_account_id").is_not_null())
    assert (in_swapped["account_id"] == in_swapped["bound_account_id"]).all()
    public = views.filter(pl.col("path").is_in(["/", "/sok", "/logga-in", "/logga-ut"]))
    assert public["account_id"].null_count() == public.height
    assert set(views.filter(pl.col("account_id").is_not_null())["status"]) == {200}


def test_unauthorized_changes_are_the_changes_made_in_swapped_sessions(tiny):
    world, _ = tiny
    changes = world.tables["profile_changes"]
    truth = world.truth["unauthorized_changes"]
    actor = world.tables["logins"].select("session_id", actor="applicant_id")
    joined = changes.join(actor, on="session_id")
    foreign = joined.filter(pl.col("actor") != pl.col("account_id"))
    assert sorted(foreign["change_id"]) == sorted(truth["change_id"])
    t = truth.join(joined, on="change_id")
    assert (t["owner_account_id"] == t["account_id"]).all() and (t["actor_applicant_id"] == t["actor"]).all()
    assert (t["field"] == t["field_right"]).all()
    bound = t.join(world.truth["swapped_sessions"], on="session_id")
    assert (bound["bound_account_id"] == bound["owner_account_id"]).all() and bound.height == t.height


def test_a_change_follows_a_view_of_the_profile_page(tiny):
    world, _ = tiny
    views = world.table("page_views").filter(pl.col("path") == "/mina-sidor/profil")
    changes = world.tables["profile_changes"].unique(["session_id", "time"])
    saved = changes.join(views, on=["session_id", "time"])
    assert saved.height == changes.height and (saved["account_id"] == saved["account_id_right"]).all()
    before = changes.join(views, on="session_id").filter(pl.col("time_right") < pl.col("time"))
    assert set(before["session_id"]) == set(changes["session_id"])


def test_change_ids_increase_with_time_and_chains_hold(tiny):
    world, before = tiny
    changes = world.tables["profile_changes"]
    assert changes["change_id"].is_unique().all()
    ordered = changes.sort("change_id")
    assert ordered["time"].is_sorted()
    registered = before.select("applicant_id", *[pl.col(f).cast(pl.String) for f in evidence.ENUMS["profile_field"]])
    current = {(r["applicant_id"], f): r[f] for r in registered.rows(named=True) for f in registered.columns[1:]}
    for r in ordered.rows(named=True):
        key = (r["account_id"], r["field"])
        assert r["old_value"] == current[key], r
        assert r["new_value"] != r["old_value"]
        current[key] = r["new_value"]


def test_snapshot_equals_replaying_the_change_log(tiny):
    world, before = tiny
    expected = {r["applicant_id"]: dict(r) for r in before.rows(named=True)}
    for r in world.tables["profile_changes"].sort("change_id").rows(named=True):
        value = r["new_value"]
        expected[r["account_id"]][r["field"]] = (
            int(value) if r["field"] == "annual_income" and value is not None else value
        )
    after = world.tables["applicants"]
    assert after.rows() == pl.DataFrame(list(expected.values()), schema=before.schema).rows()
    assert not after.equals(before)  # something did change


def test_strangers_often_type_in_their_own_data(tiny):
    world, before = tiny
    t = world.truth["unauthorized_changes"].join(world.tables["profile_changes"], on="change_id")
    own = before.select("applicant_id", *[pl.col(f).cast(pl.String) for f in evidence.ENUMS["profile_field"]])
    long = own.unpivot(index="applicant_id", variable_name="field", value_name="own_value")
    mine = t.join(long, left_on=["actor_applicant_id", "field"], right_on=["applicant_id", "field"])
    assert (mine["new_value"].eq_missing(mine["own_value"])).sum() >= 1


def test_fault_reports_arrive_saturday_to_monday_after_the_swap(tiny):
    world, _ = tiny
    offset = dict(zip(world.truth["clock_offsets"]["source"], world.truth["clock_offsets"]["seconds"], strict=True))
    assert 120 <= abs(offset["mail"]) <= 540 and offset["web"] == 0 and offset["backoffice"] == 0
    msgs = world.tables["support_messages"]
    reports = msgs.join(world.truth["fault_reports"], on="message_id").with_columns(
        sent=pl.col("received_at") - pl.duration(seconds=offset["mail"])
    )
    local = reports["sent"].dt.convert_time_zone(LOCAL)
    assert set(local.dt.date().unique()) <= {INCIDENT.deployed_at.date() + timedelta(days=d) for d in (1, 2, 3)}
    first = local.min()
    assert first.weekday() == 5 and first.hour < 12, first  # Saturday morning
    # each actor writes after their swapped session ended
    ends = (
        world.truth["swapped_sessions"]
        .join(world.tables["logouts"], on="session_id")
        .group_by("authenticated_applicant_id")
        .agg(last_end=pl.col("time").min())
    )
    actors = reports.join(ends, left_on="sender_applicant_id", right_on="authenticated_applicant_id")
    assert actors.height >= 1 and (actors["sent"] > actors["last_end"]).all()


def test_support_messages_are_varied_and_identified(tiny):
    world, _ = tiny
    msgs = world.tables["support_messages"]
    assert msgs["message_id"].is_unique().all()
    assert msgs["message_id"].str.contains(r"^<\d{14}\.\d+@mail\.bostad\.example>$").all()
    assert not msgs["body"].str.contains("{", literal=True).any()
    assert msgs.filter(pl.col("sender_applicant_id").is_null()).height > 0
    assert set(msgs["channel"]) == {"email", "web_form"}
    assert msgs["body"].str.contains("logga in").sum() > 0  # hard negatives are there
    assert len(FAULT["sv"]) >= 15 and len(FAULT["en"]) >= 15


def test_web_form_messages_pin_the_mail_clock_to_the_web_log(tiny):
    world, _ = tiny
    offset = world.truth["clock_offsets"].filter(pl.col("source") == "mail")["seconds"][0]
    forms = world.tables["support_messages"].filter(pl.col("channel") == "web_form")
    views = (
        world.table("page_views")
        .filter(pl.col("path") == "/kundtjanst/kontakt")
        .join(world.tables["logins"].select("session_id", "applicant_id"), on="session_id")
    )
    assert forms.height == views.height > 0
    lag = (
        forms.sort("received_at")
        .join_asof(
            views.sort("time").rename({"time": "viewed"}),
            left_on="received_at",
            right_on="viewed",
            by_left="sender_applicant_id",
            by_right="applicant_id",
            strategy="nearest",
            check_sortedness=False,
        )
        .with_columns(lag=(pl.col("received_at") - pl.col("viewed")).dt.total_seconds() - offset)
    )
    assert lag["lag"].is_between(0, 3).all()


def test_web_interests_are_open_eligible_and_shown_in_the_log(tiny):
    world, before = tiny
    wi = world.scratch["web_interests"]
    assert wi.schema == pl.Schema(
        {
            "listing_id": pl.Int64,
            "applicant_id": pl.Int64,
            "time": pl.Datetime("us", "UTC"),
            "session_id": pl.String,
            "event": pl.String,
        }
    )
    j = wi.join(world.tables["listings"], on="listing_id").join(before, on="applicant_id")
    assert ((j["published_at"] <= j["time"]) & (j["time"] < j["closes_at"])).all()
    age = (j["time"].dt.date() - j["_birth_date"]).dt.total_days() / 365.25
    assert j.filter(pl.col("kind") == "student")["student"].all()
    assert age.filter(j["kind"] == "senior").min() >= 64.99
    assert age.filter(j["kind"] == "youth").is_between(17.99, 26.01).all()
    assert j["session_id"].is_in(world.tables["logins"]["session_id"].implode()).all()
    paths = wi.with_columns(
        path=pl.when(pl.col("event") == "register")
        .then(pl.format("/lagenhet/{}/intresse", "listing_id"))
        .otherwise(pl.format("/mina-sidor/intressen/{}/ta-bort", "listing_id"))
    )
    shown = paths.join(world.table("page_views"), on=["session_id", "time", "path"])
    assert shown.height == wi.height and (shown["account_id"] == shown["applicant_id"]).all()
    touched = world.truth["allocation_touched"]
    by_strangers = wi.join(world.truth["swapped_sessions"], on="session_id")
    assert set(touched["key"]) == set(by_strangers.select(pl.format("{}:{}", "listing_id", "applicant_id")).to_series())
    assert (by_strangers["applicant_id"] == by_strangers["bound_account_id"]).all()


def test_deployments_and_incident_actions(tiny):
    world, _ = tiny
    deploys = world.tables["deployments"]
    assert INCIDENT.deployed_at in deploys["time"].to_list() and INCIDENT.fix_deployed_at in deploys["time"].to_list()
    assert deploys["time"].is_sorted() and deploys["time"].min() < INCIDENT.deployed_at < deploys["time"].max()
    actions = dict(
        zip(world.tables["incident_actions"]["action"], world.tables["incident_actions"]["time"], strict=True)
    )
    assert actions == {
        "login_disabled": INCIDENT.login_disabled_at,
        "fix_deployed": INCIDENT.fix_deployed_at,
        "login_enabled": INCIDENT.login_enabled_at,
        "notice_published": INCIDENT.notice_published_at,
    }


def test_same_seed_same_frames_other_seed_other_frames(tiny):
    world, _ = tiny
    again, _ = _world()
    for name in (*TABLES, "applicants"):
        assert again.table(name).equals(world.table(name)), name
    for name, frame in world.truth.items():
        assert again.truth[name].equals(frame), name
    assert again.scratch["web_interests"].equals(world.scratch["web_interests"])
    other, _ = _world(seed=8)
    assert not other.tables["logins"].equals(world.tables["logins"])


@pytest.mark.slow
def test_stockholm_calibration():
    world = World(SCALES["stockholm"], 1)
    simulate_people(world)
    world.tables["listings"] = _stub_listings(800)
    t0 = time.perf_counter()
    simulate_incident(world)
    seconds = time.perf_counter() - t0
    logins = world.tables["logins"]
    changers = (
        world.tables["profile_changes"]
        .filter(WINDOW)
        .join(logins.select("session_id", "applicant_id"), on="session_id")
    )
    assert world.table("page_views").height >= 2_000_000
    assert 20_000 <= logins.filter(WINDOW).height <= 60_000
    assert 600 <= changers["applicant_id"].n_unique() <= 750  # the organisation's "674"
    assert seconds <= 20


def test_some_owners_put_back_what_a_stranger_changed(tiny):
    world, _ = tiny
    changes = world.tables["profile_changes"].join(
        world.tables["logins"].select("session_id", actor="applicant_id"), on="session_id"
    )
    by_stranger = changes.filter(pl.col("actor") != pl.col("account_id"))
    by_owner = changes.filter(pl.col("actor") == pl.col("account_id"))
    restored = by_owner.join(by_stranger, on=["account_id", "field"], suffix="_stranger").filter(
        (pl.col("time") > pl.col("time_stranger")) & (pl.col("new_value").eq_missing(pl.col("old_value_stranger")))
    )
    assert restored.height >= 1
