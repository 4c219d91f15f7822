"""The exposure queries on the hand-made case, on every engine: session ends, candidates, gaps."""

from __future__ import annotations

from datetime import UTC, datetime

from casekit import case_engine, utc  # noqa: F401 - fixture

from workbench.queries import run


def test_window_sessions_end_at_logout_or_last_page_plus_the_idle_timeout(case_engine):  # noqa: F811
    s = {r["session_id"]: r for r in run("window_sessions", case_engine).iter_rows(named=True)}
    assert set(s) == {"s1", "s2", "s3"}  # s0 logged in before the deployment
    assert s["s1"]["ended_at"] == utc(2013, 12, 13, 19, 30) and s["s1"]["end_reason"] == "user"
    assert s["s2"]["ended_at"] == utc(2013, 12, 13, 19, 20)  # last page 19:00 + 20 min
    assert s["s3"]["ended_at"] == utc(2013, 12, 14, 9, 31)
    assert s["s2"]["foreign_account_id"] == 1001 and s["s2"]["foreign_views"] == 2 and s["s2"]["foreign_actions"] == 1
    assert s["s2"]["profile_views"] == 1 and s["s2"]["render_views"] == 2
    assert s["s3"]["own_views"] == 1 and s["s3"]["foreign_account_id"] is None
    # No page log holds a login page here, so every session is incomplete.
    assert all(r["pages_incomplete"] for r in s.values())
    longer = {
        r["session_id"]: r["ended_at"]
        for r in run("window_sessions", case_engine, idle_timeout_minutes=45).iter_rows(named=True)
    }
    assert longer["s2"] == utc(2013, 12, 13, 19, 45)


def test_binding_candidates_are_the_latest_other_open_session(case_engine):  # noqa: F811
    c = run("binding_candidates", case_engine)
    assert c.select("session_id", "candidate_session_id", "candidate_account_id").rows() == [("s2", "s1", 1001)]


def test_page_log_gaps_bracket_each_missing_page(case_engine):  # noqa: F811
    gaps = run("page_log_gaps", case_engine)
    row = gaps.filter((gaps["session_id"] == "s2") & (gaps["expected"] == "login page")).row(0, named=True)
    assert row["expected_at"] == utc(2013, 12, 13, 18, 40)
    assert row["gap_from"] == utc(2013, 12, 13, 18, 6)
    assert row["gap_to"] == datetime(2013, 12, 13, 18, 59, 59, 999999, tzinfo=UTC)  # microseconds kept
    # s1 logged out by hand, so its logout page is expected too.
    assert ("s1", "logout page") in set(gaps.select("session_id", "expected").iter_rows())


def test_profile_change_log_attributes_actor_and_type(case_engine):  # noqa: F811
    row = run("profile_change_log", case_engine).row(0, named=True)
    assert (row["actor_applicant_id"], row["account_id"], row["actor_type"], row["in_window"]) == (
        1002,
        1001,
        "other",
        True,
    )
