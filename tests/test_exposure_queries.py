"""The exposure queries on the hand-made case, on every engine: session ends, candidates, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
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


def _paced_case(kind: str, tmp_path) -> sa.Engine:
    """Four window sessions, each with its login and logout page and a user logout, paced differently."""
    from casekit import _set_duckdb_zone

    from workbench.case import case_metadata

    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'paced.db'}")
    else:
        engine = sa.create_engine(f"duckdb:///{tmp_path / 'paced.duckdb'}")
        sa.event.listen(engine, "connect", _set_duckdb_zone)
    # session -> minutes after its login at which a page was served (first the login page, last the logout page)
    paced = {
        "long": [0, 25, 30],  # a 25-minute pause inside
        "exact": [0, 20],  # spans exactly the 20-minute timeout
        "spread": [0, 15, 35],  # spans 35 minutes, no pause over 20
        "over": [0, 20 + 1 / 60, 41],  # a pause one second over the timeout
        "barely": [0, 20 + 1 / 60],  # spans one second more than the timeout, all of it one pause
    }
    logins, logouts, pages = [], [], []
    for n, (sid, minutes) in enumerate(paced.items()):
        at = utc(2013, 12, 14, 10 + n, 0)
        logins.append(
            {
                "time": at,
                "session_id": sid,
                "applicant_id": 1001 + n,
                "method": "bankid",
                "ip": None,
                "user_agent": None,
            }
        )
        logouts.append({"time": at + timedelta(minutes=minutes[-1]), "session_id": sid, "reason": "user"})
        for i, m in enumerate(minutes):
            path = "/logga-in" if i == 0 else "/logga-ut" if i == len(minutes) - 1 else "/mina-sidor"
            pages.append(
                {
                    "time": at + timedelta(minutes=m),
                    "session_id": sid,
                    "ip": None,
                    "path": path,
                    "status": 200,
                    "account_id": 1001 + n,
                }
            )
    case_metadata.create_all(engine)
    with engine.begin() as conn:
        for name, rows in (("logins", logins), ("logouts", logouts), ("page_views", pages)):
            conn.execute(case_metadata.tables[name].insert(), rows)
    return engine


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_only_a_pause_longer_than_the_timeout_makes_a_session_incomplete(kind, tmp_path):
    """The pause check runs only on sessions whose pages span more than the timeout: edges on both sides."""
    engine = _paced_case(kind, tmp_path)
    try:
        s = run("window_sessions", engine, start=utc(2013, 12, 14), end=utc(2013, 12, 15), idle_timeout_minutes=20)
    finally:
        engine.dispose()
    rows = {r["session_id"]: r for r in s.iter_rows(named=True)}
    assert not any(r["expected_page_missing"] for r in rows.values())  # login and logout pages all there
    assert {k: r["pages_incomplete"] for k, r in rows.items()} == {
        "long": True,
        "exact": False,
        "spread": False,
        "over": True,
        "barely": True,
    }
