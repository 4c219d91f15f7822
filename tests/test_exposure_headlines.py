"""exposure_headlines answers the four headlines alone, with the full review's binding rule.

On a hand-written case (tests/swapkit.py's mid-session swap and three more sessions) whose
counts are worked out below by hand, on SQLite, DuckDB and PostgreSQL: a session naming two foreign
accounts (an ambiguous binding: bound to the least, as the review binds it), one bound only
through a withdrawal page that lost its account_id, a second bound session of the same
person, a session with nothing naming its account (unknown: not proven, so not counted),
and changes outside the window and by the owner. On generated tiny and
small cases, clean and degraded (blanked account_ids, a log gap), the four figures equal
the full review's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from pg import pg_url, reader_url  # noqa: F401 - fixture
from swapkit import ALVA, BO, CECILIA, DAVID, ERIK, _session, case_frames, utc

from workbench import evidence
from workbench.case import open_case
from workbench.exposure import ExposureHeadlines, exposure_headlines, review_exposure
from workbench.ingest import ingest
from workbench.queries import run

LISTING = 210002


def _frames() -> dict[str, pl.DataFrame]:
    """The mid-session swap (Alva into Bo's account from 10:05) and three sessions more."""
    frames = case_frames("midsession_swap")
    extra = [
        # Erik, while Alva's and Bo's sessions are open: a page shows Alva's account and his
        # change saves Bo's phone. Two foreign accounts: bound to the least, Alva's (2001).
        _session(
            "s-erik-1",
            ERIK,
            utc(10, 0),
            [(utc(10, 1), "/mina-sidor/profil", BO), (utc(10, 2), "/mina-sidor", ALVA)],
            utc(10, 3),
        ),
        # Erik again: only a withdrawal page without account_id, at the instant Cecilia's
        # interest was withdrawn, names an account: Cecilia's.
        _session(
            "s-erik-2",
            ERIK,
            utc(12, 0),
            [(utc(12, 1), f"/mina-sidor/intressen/{LISTING}/ta-bort", None)],
            utc(12, 2),
        ),
        # David while Erik's second session is open: pages without account_id only. Unknown,
        # counted in the maxima, not in the proven figures.
        _session("s-david-2", DAVID, utc(12, 0, 30), [(utc(12, 0, 40), "/mina-sidor", None)], utc(12, 1, 30)),
    ]
    for table, i in (("logins", 0), ("logouts", 1)):
        frames[table] = pl.concat([frames[table], pl.DataFrame([s[i] for s in extra], schema=frames[table].schema)])
    pages = [row for s in extra for row in s[2]]
    frames["page_views"] = pl.concat([frames["page_views"], pl.DataFrame(pages, schema=frames["page_views"].schema)])

    def change(i: int, session: str | None, account: int, at: datetime) -> dict:
        return {"change_id": i, "time": at, "session_id": session, "account_id": account, "field": "phone"} | {
            "old_value": f"070-{i}",
            "new_value": f"070-{i + 1}",
        }

    changes = [
        change(1, "s-erik-1", BO, utc(10, 1, 30)),  # by another member: counts
        change(2, "s-alva", BO, utc(10, 6, 30)),  # Alva in Bo's account: counts
        change(3, "s-bo", BO, utc(9, 35)),  # the owner's own
        # Alva's session saves Bo's data again, but after the fix (outside the window).
        change(5, "s-alva", BO, datetime(2013, 12, 18, 9, 30, tzinfo=UTC)),
    ]
    frames["profile_changes"] = pl.DataFrame(changes, schema=evidence.polars_schema("profile_changes"))
    interest = {"listing_id": LISTING, "applicant_id": CECILIA, "session_id": None}
    interest |= {"registered_at": datetime(2013, 12, 1, 9, tzinfo=UTC), "withdrawn_at": utc(12, 1)}
    frames["interests"] = pl.DataFrame([interest], schema=evidence.polars_schema("interests"))
    listing = {"listing_id": LISTING, "landlord": "Provhem", "district": "Farsta", "rooms": 2, "rent": 7000}
    listing |= {"kind": "regular", "published_at": datetime(2013, 11, 25, tzinfo=UTC), "income_rule": "none"}
    listing["closes_at"] = datetime(2013, 12, 20, tzinfo=UTC)
    frames["listings"] = pl.DataFrame([listing], schema=evidence.polars_schema("listings"))
    return frames


# Worked out by hand from _frames: bound are s-alva (to Bo), s-erik-1 (to Alva, the least of
# Alva and Bo) and s-erik-2 (to Cecilia); put into others' accounts: Alva and Erik; changes
# by others in the window: 1 and 2.
EXPECTED = {
    "sessions_bound": 3,
    "accounts_bound_to_others": 3,
    "people_put_into_others_accounts": 2,
    "field_changes_by_others": 2,
}


@pytest.fixture(scope="module", params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def handwritten(request, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp(f"headlines_{request.param}")
    for table, frame in _frames().items():
        frame.write_parquet(folder / f"{table}.parquet")
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        ingest(folder, url, progress=False)
        return reader_url(url)  # analyses open a case read-only, as a role that can only read
    url = f"{request.param}:///{folder / 'case.db'}"
    ingest(folder, url, progress=False)
    return url


def test_the_headlines_of_the_handwritten_case_are_the_ones_worked_out_by_hand(handwritten):
    with open_case(handwritten) as case:
        h = exposure_headlines(case)
        review = review_exposure(case)
    assert h.counts() == EXPECTED
    # Every row was ingested: nothing quarantined.
    assert dict(run("table_counts", handwritten).iter_rows())["profile_changes"] == 4
    assert run("quarantine_summary", handwritten).height == 0
    assert (h.start, h.end) == (datetime(2013, 12, 13, 17, 52, tzinfo=UTC), datetime(2013, 12, 18, 9, 20, tzinfo=UTC))
    sessions = review.binding.sessions
    bound = dict(sessions.filter(pl.col("status") == "bound").select("session_id", "bound_account_id").iter_rows())
    assert bound == {"s-alva": BO, "s-erik-1": ALVA, "s-erik-2": CECILIA}
    # The unknown session is in the review's maxima, not in the proven figures.
    assert sessions.filter(pl.col("session_id") == "s-david-2")["status"].item() == "unknown"
    assert review.bounds["accounts_bound_to_others"].max > h.accounts_bound_to_others
    assert review.headlines == h
    assert h.to_frame()["n"].to_list() == list(EXPECTED.values())


def test_a_window_given_explicitly_narrows_the_headlines(handwritten):
    with open_case(handwritten) as case:
        # Up to 12:00: s-erik-2 logs in at 12:00, outside [start, 12:00).
        h = exposure_headlines(case, end=utc(12, 0))
        review = review_exposure(case, end=utc(12, 0))
    assert h.counts() == {**EXPECTED, "sessions_bound": 2, "accounts_bound_to_others": 2}
    assert review.headlines == h


def test_without_the_fix_the_web_logs_span_ends_the_window_as_in_the_review(tmp_path):
    frames = _frames()
    frames["incident_actions"] = frames["incident_actions"].filter(pl.col("action") != "fix_deployed")
    for table, frame in frames.items():
        frame.write_parquet(tmp_path / f"{table}.parquet")
    url = f"duckdb:///{tmp_path / 'case.duckdb'}"
    ingest(tmp_path, url, progress=False)
    with open_case(url) as case:
        h, review = exposure_headlines(case), review_exposure(case)
    assert h.end == review.binding.end < datetime(2013, 12, 18, tzinfo=UTC)
    # The change after the fix falls outside the log's span too: the counts stand.
    assert h == review.headlines and h.counts() == EXPECTED


def _generated(case_factory, tiny_duckdb, small_db, kind: str) -> str:
    if kind == "tiny":
        return tiny_duckdb
    if kind == "small":
        return small_db
    scale = kind.split("-")[0]
    degrade = ("missing-account-id=0.3", "log-gap=2013-12-14T10:00/PT1H")
    case = case_factory(scale=scale, seed=2, degrade=degrade, swap_mode="mixed")
    url = f"duckdb:///{case.root / 'case.duckdb'}"
    ingest(case.evidence_dir, url, progress=False)
    return url


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tiny", "tiny-degraded", "small", "small-degraded"])
def test_generated_headlines_equal_the_full_reviews(kind, case_factory, request):
    tiny = request.getfixturevalue("tiny_duckdb") if kind == "tiny" else None
    small = request.getfixturevalue("small_db") if kind == "small" else None
    url = _generated(case_factory, tiny, small, kind)
    with open_case(url) as case:
        h = exposure_headlines(case)
        review = review_exposure(case)
    b, sessions = review.bounds, review.binding.sessions
    assert h.sessions_bound == sessions.filter(pl.col("status") == "bound").height > 0
    assert h.accounts_bound_to_others == b["accounts_bound_to_others"].min
    assert h.people_put_into_others_accounts == b["people_put_into_others_accounts"].min
    assert h.field_changes_by_others == review.changes.counts()["field_changes_by_others"] > 0
    assert h == review.headlines
    if kind.endswith("degraded"):  # the degradation left sessions the proven figures cannot count
        assert (sessions["status"] == "unknown").sum() > 0
        assert b["accounts_bound_to_others"].max > h.accounts_bound_to_others


def test_headlines_are_a_frozen_record():
    h = ExposureHeadlines(utc(0, 0), utc(1, 0), 1, 1, 1, 0)
    with pytest.raises(AttributeError):
        h.sessions_bound = 2  # type: ignore[misc]
