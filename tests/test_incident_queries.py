"""Incident queries on the tiny case, compared exactly with truth and with direct counts of the evidence."""

from __future__ import annotations

from datetime import UTC, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from casekit import case_engine  # noqa: F401 - fixture

from workbench.case import open_case
from workbench.incident import clocks
from workbench.queries import QueryParameterError, describe, run
from workbench.queries.timeshift import add_seconds, seconds_between


@pytest.fixture(scope="module")
def case(tiny_db):
    with open_case(tiny_db) as c:
        yield c


@pytest.fixture(scope="module")
def window(case):
    return run("incident_window", case).row(0, named=True)


def test_mismatched_sessions_are_exactly_the_swapped_sessions(case, tiny_case):
    got = run("mismatched_sessions", case).select(
        "session_id", authenticated_applicant_id="applicant_id", bound_account_id="account_id", bound_at="bound_at"
    )
    truth = tiny_case.truth("swapped_sessions")
    assert truth.height >= 5
    assert got.sort("session_id").equals(truth.sort("session_id"))


def test_onset_is_the_first_binding(case, tiny_case):
    onset = run("mismatched_sessions", case)["bound_at"].min()
    assert onset == tiny_case.truth("swapped_sessions")["bound_at"].min()


def test_sessions_end_where_the_server_logged_it_with_the_default_timeout(case, tiny_case):
    sessions = run("sessions", case, start="2013-12-01T00:00:00+00:00", end="2014-01-01T00:00:00+00:00")
    logouts = tiny_case.evidence("logouts").rename({"time": "logged", "reason": "why"})
    joined = sessions.join(logouts, on="session_id", how="full", coalesce=True)
    assert joined.height == sessions.height == tiny_case.evidence("logins").height
    assert (joined["ended_at"] == joined["logged"]).all()
    assert (joined["end_reason"] == joined["why"]).all()


def test_a_logged_logout_wins_over_the_idle_timeout_parameter(case):
    """Every generated session has a logout row, by the member or the server: the parameter moves none."""
    params = {"start": "2013-12-13T00:00:00+00:00", "end": "2013-12-16T00:00:00+00:00"}
    base = run("sessions", case, **params)
    longer = run("sessions", case, idle_timeout_minutes=35, **params)
    assert set(base["end_reason"].unique().to_list()) == {"user", "timeout"}
    assert longer.equals(base)


def test_idle_timeout_must_be_positive(case):
    with pytest.raises(QueryParameterError, match="idle_timeout_minutes must be a positive number of minutes, got 0"):
        run("sessions", case, idle_timeout_minutes=0)


def test_possibly_affected_is_everyone_who_logged_in_between_deployment_and_fix(case, tiny_case, window):
    logins = tiny_case.evidence("logins").filter(
        (pl.col("time") >= window["deployed_at"]) & (pl.col("time") < window["fix_deployed_at"])
    )
    got = run("possibly_affected", case)
    assert got["applicant_id"].to_list() == sorted(logins["applicant_id"].unique().to_list())
    assert got["n_logins"].sum() == logins.height


def test_hourly_series_against_a_direct_count(case, tiny_case):
    start, end = "2013-12-13T12:00:00+00:00", "2013-12-16T12:00:00+00:00"
    hourly = run("incident_hourly", case, start=start, end=end)
    assert hourly.height == 72 and hourly["hour"].is_sorted()
    sessions = run("sessions", case, start="2013-12-01T00:00:00+00:00", end="2014-01-01T00:00:00+00:00")
    swapped = tiny_case.truth("swapped_sessions")
    for row in hourly.iter_rows(named=True):
        h, h1 = row["hour"], row["hour"] + timedelta(hours=1)
        open_ = sessions.filter((pl.col("login_at") < h1) & (pl.col("ended_at") > h)).height
        logins = sessions.filter((pl.col("login_at") >= h) & (pl.col("login_at") < h1)).height
        bound = swapped.filter((pl.col("bound_at") >= h) & (pl.col("bound_at") < h1)).height
        assert (row["n_sessions_open"], row["n_logins"], row["n_mismatched_sessions"]) == (open_, logins, bound), h
    assert hourly["n_mismatched_sessions"].sum() == swapped.height


def test_mismatched_changes_are_the_unauthorised_changes(case, tiny_case):
    got = run("mismatched_changes", case)
    truth = tiny_case.truth("unauthorized_changes")
    assert got["n_changes"].sum() == truth.height
    assert set(got["account_id"]) == set(truth["owner_account_id"])


def test_clock_offsets_match_the_planted_ones(case, tiny_case):
    offsets = clocks.estimate_offsets(case)
    truth = dict(tiny_case.truth("clock_offsets").iter_rows())
    est = {r["source"]: r for r in offsets.iter_rows(named=True)}
    mail = est["mail"]
    assert mail["pairs"] >= 20
    assert mail["low_seconds"] <= truth["mail"] <= mail["high_seconds"]
    assert abs(mail["offset_seconds"] - truth["mail"]) <= mail["uncertainty_seconds"] <= 2
    assert est["back office"]["offset_seconds"] == truth["backoffice"] == 0
    assert est["back office"]["uncertainty_seconds"] == 0 and est["back office"]["pairs"] > 50
    assert est["web"]["offset_seconds"] == truth["web"] == 0
    log = est["incident log"]
    assert log["offset_seconds"] == 0 and log["low_seconds"] <= 0 <= log["high_seconds"]


def test_describe_shows_the_idle_timeout_as_a_bound_value():
    text = describe("sessions", "postgresql", idle_timeout_minutes=30)
    assert "make_interval(secs => CAST(30 * 60 AS DOUBLE PRECISION))" in text
    assert "Values: idle_timeout_minutes=30" in text


@pytest.mark.parametrize(
    "seconds, expected", [(1, "2013-12-13 19:00:00.999999"), (-3600, "2013-12-13 17:59:59.999999")]
)
def test_time_arithmetic_keeps_microseconds_on_every_engine(case_engine, seconds, expected):  # noqa: F811
    views = sa.table("page_views", sa.column("time", sa.DateTime(timezone=True)), sa.column("session_id"))
    logins = sa.table("logins", sa.column("time", sa.DateTime(timezone=True)), sa.column("session_id"))
    shifted = add_seconds(views.c.time, sa.bindparam("n", seconds, sa.BigInteger()))
    stmt = (
        sa.select(shifted.label("t"), seconds_between(logins.c.time, views.c.time).label("d"))
        .select_from(views.join(logins, logins.c.session_id == views.c.session_id))
        .where(views.c.session_id == "s2")
        .order_by(views.c.time)
    )
    with case_engine.connect() as conn:
        t, d = conn.execute(stmt).first()
    if t.tzinfo is not None:  # DuckDB and PostgreSQL answer in the session zone (+05:30 here)
        t = t.astimezone(UTC).replace(tzinfo=None)
    assert t.isoformat(sep=" ") == expected
    assert d == pytest.approx(19 * 60 + 59.999999, abs=1e-6)
