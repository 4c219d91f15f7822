"""The cheaper exposure queries on a hand-written case, on SQLite, DuckDB and PostgreSQL.

window_sessions counts the owner's and foreign pages in its one pass over the window's pages
and takes every other account it names from the acts; allocation_actions reads registration
and withdrawal pages in one pass with the owner from the window login; candidate_sessions
takes the logged logout from the spans; page_log_gaps finds the log's pages around a missing
one through minute buckets. Edges: a session without pages, one without a
logout, a login at the window's start and at its end, a page without account_id, an own
act later than the last own page, a page at the very instant of a missing one, two missing
pages at one instant, a gap open on one side, an empty window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pg import pg_url  # noqa: F401 - fixture

from workbench.queries import run

START, END = datetime(2013, 12, 14, tzinfo=UTC), datetime(2013, 12, 15, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 14) -> datetime:
    return datetime(2013, 12, day, hour, minute, tzinfo=UTC)


LOGINS = [  # session_id, applicant_id, login
    ("own", 1001, at(10)),
    ("swap", 1002, at(11)),  # no logout row
    ("nopages", 1004, at(12)),
    ("edge", 1005, START),  # logs in at the window's start: inside
    ("before", 1006, at(23, 59, day=13)),  # still open at the start, logged in before it
    ("atend", 1007, END),  # logs in at the window's end: outside
]
LOGOUTS = [("own", at(10, 30), "user"), ("nopages", at(12, 20), "timeout"), ("edge", at(0, 5), "user")]
LOGOUTS += [("before", at(0, 10), "user"), ("atend", at(0, 10, day=15), "user")]
PAGES = [  # session_id, time, path, account_id
    ("own", at(10), "/logga-in", None),
    ("own", at(10, 5), "/mina-sidor/profil", 1001),
    ("own", at(10, 10), "/mina-sidor", None),  # lost its account_id
    ("own", at(10, 30), "/logga-ut", None),
    ("swap", at(11), "/logga-in", None),
    ("swap", at(11, 2), "/mina-sidor/profil", 1002),
    ("swap", at(11, 5), "/mina-sidor", 1003),
    ("swap", at(11, 6), "/lagenhet/210001/intresse", 1003),
    ("swap", at(11, 7), "/mina-sidor/intressen/210002/ta-bort", None),  # names 1003 through the interest
    ("edge", START, "/logga-in", None),
    ("edge", at(0, 5), "/logga-ut", None),
    ("before", at(23, 59, day=13), "/logga-in", None),
    # Pages of a session outside the window still bound the page log's gaps: one served at the
    # very instant "nopages" lost its pages (not around it), one later in that same minute.
    ("atend", at(12), "/lagenhet/210003", None),
    ("atend", at(12, 0) + timedelta(seconds=30), "/lagenhet/210003", None),
]
CHANGES = [  # change_id, session_id, account_id, time
    (1, "own", 1001, at(10, 20)),  # the owner's act after the owner's last own page
    (2, "swap", 1004, at(11, 8)),  # a second foreign account, named by an act only
]
INTERESTS = [  # listing, applicant, registered, withdrawn, session
    (210001, 1003, at(11, 6), None, "swap"),
    (210002, 1003, at(9, day=1), at(11, 7), None),
]


def _case(kind: str, tmp_path, request) -> sa.Engine:
    from casekit import _set_duckdb_zone

    from workbench.case import case_metadata

    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'one_pass.db'}")
    elif kind == "postgresql":
        engine = sa.create_engine(request.getfixturevalue("pg_url"))
    else:
        engine = sa.create_engine(f"duckdb:///{tmp_path / 'one_pass.duckdb'}")
        sa.event.listen(engine, "connect", _set_duckdb_zone)
    case_metadata.create_all(engine)
    t = case_metadata.tables
    rows = {
        "logins": [
            {"time": when, "session_id": s, "applicant_id": a, "method": "bankid", "ip": None, "user_agent": None}
            for s, a, when in LOGINS
        ],
        "logouts": [{"time": when, "session_id": s, "reason": r} for s, when, r in LOGOUTS],
        "page_views": [
            {"time": when, "session_id": s, "ip": None, "path": p, "status": 200, "account_id": a}
            for s, when, p, a in PAGES
        ],
        "profile_changes": [
            {"change_id": c, "time": when, "session_id": s, "account_id": a, "field": "phone", "old_value": "1"}
            | {"new_value": "2"}
            for c, s, a, when in CHANGES
        ],
        "interests": [
            {"listing_id": lid, "applicant_id": a, "registered_at": r, "withdrawn_at": w, "session_id": s}
            for lid, a, r, w, s in INTERESTS
        ],
    }
    with engine.begin() as conn:
        for name, values in rows.items():
            conn.execute(t[name].insert(), values)
    return engine


@pytest.fixture(scope="module", params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def one_pass(request, tmp_path_factory):
    engine = _case(request.param, tmp_path_factory.mktemp(request.param), request)
    yield engine
    engine.dispose()


def test_window_sessions_take_own_pages_from_the_pass_and_foreign_accounts_from_pages_and_acts(one_pass):
    s = {r["session_id"]: r for r in run("window_sessions", one_pass, start=START, end=END).iter_rows(named=True)}
    assert set(s) == {"own", "swap", "nopages", "edge"}  # not "before" (earlier login), not "atend" (at the end)
    own = s["own"]
    assert (own["own_views"], own["foreign_views"], own["own_actions"], own["foreign_actions"]) == (1, 0, 1, 0)
    assert own["last_own_at"] == at(10, 20)  # the change, later than the own profile page at 10:05
    assert own["render_views_missing_account"] == 1 and own["foreign_account_id"] is None
    assert own["n_foreign_accounts"] == 0 and own["first_foreign_at"] is None
    swap = s["swap"]
    assert (swap["own_views"], swap["foreign_views"]) == (1, 2)
    # The registered interest, the withdrawal page that lost its account_id, the change on 1004.
    assert (swap["own_actions"], swap["foreign_actions"]) == (0, 3)
    assert (swap["foreign_account_id"], swap["n_foreign_accounts"]) == (1003, 2)
    assert (swap["first_foreign_at"], swap["last_foreign_at"], swap["last_own_at"]) == (at(11, 5), at(11, 8), at(11, 2))
    assert (swap["ended_at"], swap["end_reason"]) == (at(11, 27), "no logout logged")  # last page 11:07 + 20 min
    none = s["nopages"]
    assert (none["n_views"], none["own_views"], none["foreign_views"], none["own_actions"]) == (0, 0, 0, 0)
    assert none["last_own_at"] is None and none["expected_page_missing"] and none["end_reason"] == "timeout"
    edge = s["edge"]
    assert (edge["n_views"], edge["last_own_at"], edge["expected_page_missing"]) == (2, None, False)


def test_allocation_actions_read_both_page_kinds_with_the_login_owner(one_pass):
    acts = run("allocation_actions", one_pass, start=START, end=END)
    got = set(acts.select("kind", "listing_id", "account_id", "session_id", "source", "owner_applicant_id").rows())
    assert got == {
        ("interest_registered", 210001, 1003, "swap", "interests", 1002),
        ("interest_registered", 210001, 1003, "swap", "page_views", 1002),
        ("interest_withdrawn", 210002, None, "swap", "page_views", 1002),
    }


def test_candidate_sessions_carry_the_logged_logout(one_pass):
    spans = run("candidate_sessions", one_pass, start=START, end=END)
    logout = dict(spans.select("session_id", "logout_at").rows())
    assert logout == {
        "before": at(0, 10),
        "edge": at(0, 5),
        "own": at(10, 30),
        "swap": None,  # no logout row
        "nopages": at(12, 20),
    }


def test_page_log_gaps_bracket_missing_pages_with_the_nearest_pages_of_the_whole_log(one_pass):
    gaps = run("page_log_gaps", one_pass, start=START, end=END, idle_timeout_minutes=20)
    # "nopages" lacks its login page and the last page its timeout counts from, both at 12:00.
    # The page served at 12:00 itself bounds neither side; no page after 12:00:30 (the atend
    # session's, in the same minute) and before it the swap session's last, at 11:07.
    assert gaps.rows() == [
        ("nopages", "last page before timeout", at(12), at(11, 7), at(12) + timedelta(seconds=30)),
        ("nopages", "login page", at(12), at(11, 7), at(12) + timedelta(seconds=30)),
    ]
    # A window opening a minute earlier takes in "before", whose logout page is missing: the
    # gap runs from edge's logout page (00:05) to the next page of the log (own's, 10:00).
    wider = run("page_log_gaps", one_pass, start=at(23, 59, day=13), end=END, idle_timeout_minutes=20)
    assert wider.rows()[0] == ("before", "logout page", at(0, 10), at(0, 5), at(10))
    assert wider.height == 3
    # With a ten-minute timeout the server's 12:20 timeout counts from 12:10: after 12:00:30 the
    # log holds no page, so that gap is open on its far side.
    shorter = run("page_log_gaps", one_pass, start=START, end=END, idle_timeout_minutes=10)
    assert shorter.rows()[1] == (
        "nopages",
        "last page before timeout",
        at(12, 10),
        at(12) + timedelta(seconds=30),
        None,
    )


def test_exposure_queries_on_an_empty_window(one_pass):
    empty = {"start": at(20), "end": at(21)}
    for name in ("window_sessions", "candidate_sessions", "page_log_gaps"):
        frame = run(name, one_pass, **empty, idle_timeout_minutes=20)
        assert frame.height == 0, name
    assert run("foreign_page_views", one_pass, **empty).height == 0
