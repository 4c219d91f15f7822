"""What review_exposure reads, and how often: the same review whichever way it is read.

On the hand-written mid-session swap (tests/swapkit.py: Alva's session shows her own pages,
then Bo's account): a review reads every query in the caller's thread, and two reviews give
the same frames; the web log's span is read only
when a milestone is missing; the restore list is made once per change log.
"""

from __future__ import annotations

import threading

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from swapkit import case_frames, write_case

from workbench.case import open_case
from workbench.exposure import review_exposure
from workbench.exposure.changes import ChangeLog
from workbench.ingest import ingest
from workbench.queries import (
    absence,  # the review's window_bounds reads the log's span through it
    runner,
)


@pytest.fixture(scope="module")
def swap_case(tmp_path_factory):
    folder = write_case("midsession_swap", tmp_path_factory.mktemp("swap") / "evidence")
    url = f"duckdb:///{folder.parent / 'case.duckdb'}"
    ingest(folder, url, progress=False)
    return url


def _frames(review) -> dict[str, pl.DataFrame]:
    return {
        "sessions": review.binding.sessions,
        "links": review.exposure.links,
        "views": review.exposure.views,
        "restore": review.restore,
        "acts": review.allocation.acts,
        "notices": review.notices.people,
    }


def test_a_review_reads_every_query_in_the_callers_thread_and_twice_gives_the_same_frames(swap_case, monkeypatch):
    # The prefetch on a second connection was removed: it cost CPU and gave no wall time back.
    threads = []
    real = runner._read

    def recording(stmt, conn):
        threads.append(threading.current_thread())
        return real(stmt, conn)

    monkeypatch.setattr(runner, "_read", recording)
    with open_case(swap_case) as case:
        first, second = review_exposure(case), review_exposure(case)
    assert threads and set(threads) == {threading.main_thread()}
    # Alva (2001) was put into Bo's (2002) account: one bound session.
    sessions = first.binding.sessions
    assert sessions.filter(pl.col("status") == "bound")["bound_account_id"].to_list() == [2002]
    assert first.bounds == second.bounds
    for name, frame in _frames(first).items():
        assert_frame_equal(frame, _frames(second)[name])


def test_the_log_span_is_read_only_when_a_milestone_is_missing(swap_case, tmp_path, monkeypatch):
    calls = []
    real = absence.window_or_span

    def counting(window, case):
        calls.append(window)
        return real(window, case)

    monkeypatch.setattr(absence, "window_or_span", counting)
    with open_case(swap_case) as case:
        complete = review_exposure(case)
    assert calls == []  # deployment and fix are in the evidence
    # Without the fix the log's span ends the window (just after its last request).
    frames = case_frames("midsession_swap")
    frames["incident_actions"] = frames["incident_actions"].filter(pl.col("action") != "fix_deployed")
    folder = tmp_path / "evidence"
    folder.mkdir()
    for table, frame in frames.items():
        frame.write_parquet(folder / f"{table}.parquet")
    url = f"duckdb:///{tmp_path / 'case.duckdb'}"
    ingest(folder, url, progress=False)
    with open_case(url) as case:
        open_ended = review_exposure(case)
    assert len(calls) == 1 and calls[0]["fix_deployed_at"] is None
    last_page = frames["page_views"]["time"].max()
    assert open_ended.binding.end > last_page > complete.binding.start
    assert open_ended.binding.sessions["session_id"].to_list() == complete.binding.sessions["session_id"].to_list()


def test_the_restore_list_is_made_once_per_change_log(swap_case):
    with open_case(swap_case) as case:
        review = review_exposure(case)
    changes = review.changes
    first = changes.restore_list()
    assert changes.restore_list() is first
    assert review.restore is first  # the notification list and the figure share it
    # A change log given other changes makes its own.
    other = ChangeLog(changes.start, changes.end, changes.changes.head(0))
    assert other.restore_list().height == 0
    changes.changes = changes.changes.head(0)
    assert changes.restore_list() is not first and changes.restore_list().height == 0
