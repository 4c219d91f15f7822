"""One session model: notebooks 01 and 02, and every session query, rebuild the same sessions.

A session ends at its logged logout, by the member ("user") or by the server's own idle
timeout ("timeout"), whatever ``idle_timeout_minutes`` says; only a session with no logout
in the log ends ``idle_timeout_minutes`` after its last request ("no logout logged").
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from evidence_frames import _at, handmade_frames, write_evidence
from nbinprocess import notebook_path, run_in_process

from workbench.case import open_case
from workbench.ingest import ingest
from workbench.queries import run

TIMEOUTS = (10, 20, 30)
COLUMNS = ["session_id", "applicant_id", "login_at", "ended_at", "end_reason"]


@pytest.fixture(scope="module")
def handmade(tmp_path_factory):
    """Three sessions written by hand: a member's logout, a server timeout logged 25 min after
    the last page (not 20), and a session whose logout the log lost."""
    frames = handmade_frames()
    frames["logouts"] = pl.DataFrame(
        {"time": [_at(20), _at(11.5 + 25)], "session_id": ["s-aaa", "s-bbb"], "reason": ["user", "timeout"]},
        schema=frames["logouts"].schema,
    )
    folder = write_evidence(frames, tmp_path_factory.mktemp("sessions") / "evidence")
    url = f"sqlite:///{folder.parent / 'case.db'}"
    ingest(folder, url, progress=False)
    with open_case(url) as case:
        yield case


@pytest.mark.parametrize("idle", TIMEOUTS)
def test_every_session_query_ends_a_session_by_the_same_rule(handmade, idle):
    window = {"start": _at(0), "end": _at(600), "idle_timeout_minutes": idle}
    expected = {
        "s-aaa": (_at(20), "user"),
        "s-bbb": (_at(36.5), "timeout"),  # the server's record, not 11.5 + idle
        "s-ccc": (_at(12.5) + timedelta(minutes=idle), "no logout logged"),
    }
    for name in ("sessions", "window_sessions"):
        got = run(name, handmade, **window).sort("session_id")
        assert {r["session_id"]: (r["ended_at"], r["end_reason"]) for r in got.iter_rows(named=True)} == expected, name
        assert got["login_at"].to_list() == [_at(10), _at(11), _at(12)], name


@pytest.mark.parametrize("idle", TIMEOUTS)
def test_the_hourly_series_counts_the_same_open_sessions(handmade, idle):
    """incident_hourly's open sessions equal a count over the sessions query, hour by hour."""
    window = {"start": _at(0), "end": _at(180), "idle_timeout_minutes": idle}
    sessions = run("sessions", handmade, **window)
    hourly = run("incident_hourly", handmade, **window)
    for hour, n_open in hourly.select("hour", "n_sessions_open").iter_rows():
        count = sessions.filter((pl.col("login_at") < hour + timedelta(hours=1)) & (pl.col("ended_at") > hour)).height
        assert n_open == count, hour


def test_a_timeout_that_is_not_positive_is_refused_by_every_session_query(handmade):
    from workbench.queries import QueryParameterError

    for name in ("sessions", "window_sessions", "incident_hourly", "binding_candidates", "page_log_gaps"):
        with pytest.raises(
            QueryParameterError, match="idle_timeout_minutes must be a positive number of minutes, got -5"
        ):
            run(name, handmade, start=_at(0), end=_at(600), idle_timeout_minutes=-5)


@pytest.fixture(scope="module")
def lost_logouts(tiny_case, tmp_path_factory):
    """The tiny case with every third logout row lost, so the idle timeout decides some ends."""
    folder = tmp_path_factory.mktemp("lost_logouts") / "evidence"
    folder.mkdir()
    for path in tiny_case.evidence_dir.iterdir():
        if path.name == "logouts.parquet":
            logouts = pl.read_parquet(path)
            logouts.filter(pl.int_range(pl.len()) % 3 != 0).write_parquet(folder / path.name)
        elif path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    url = f"duckdb:///{folder.parent / 'case.duckdb'}"
    ingest(folder, url, progress=False)
    return url


@pytest.fixture(scope="module")
def notebook_sessions(lost_logouts, tmp_path_factory):
    """sessions.csv of notebook 01 and window_sessions.csv of notebook 02, per timeout.

    The notebooks' cells run in this process (tests/nbinprocess.py): six kernels would cost
    more than the cells. The real kernel runs of 01 and 02 are the report-set tests'.
    """
    out = {}
    for idle in TIMEOUTS:
        folder = tmp_path_factory.mktemp(f"idle{idle}")
        params = {
            "case_url": lost_logouts,
            "audience": "investigator",
            "out_dir": str(folder),
            "idle_timeout_minutes": idle,
        }
        run_in_process(notebook_path("01"), params)
        run_in_process(notebook_path("02"), params)
        out[idle] = tuple(
            pl.read_csv(folder / name, infer_schema_length=0)  # compared as text
            for name in ("sessions.csv", "window_sessions.csv")
        )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("idle", TIMEOUTS)
def test_notebooks_01_and_02_rebuild_the_same_sessions(notebook_sessions, idle):
    one, two = notebook_sessions[idle]
    assert one.columns == two.columns == COLUMNS
    both = one.join(two, on="session_id", suffix="_02")
    assert both.height > 50  # the logins between the deployment and login disabled
    assert set(both["end_reason"].to_list()) == {"user", "timeout", "no logout logged"}
    for column in COLUMNS[1:]:
        differ = both.filter(pl.col(column) != pl.col(f"{column}_02"))
        assert differ.is_empty(), f"{differ.height} sessions differ in {column} at idle_timeout_minutes={idle}"


@pytest.mark.slow
def test_the_timeout_moves_only_the_sessions_whose_logout_the_log_lost(notebook_sessions):
    short, long = (notebook_sessions[t][1].sort("session_id") for t in (10, 30))
    utc = lambda column: pl.col(column).str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.fZ")  # noqa: E731 - as export_csv writes
    moved = short.join(long, on="session_id", suffix="_30").with_columns(
        minutes=(utc("ended_at_30") - utc("ended_at")).dt.total_minutes()
    )
    assert set(moved.filter(pl.col("end_reason") == "no logout logged")["minutes"].to_list()) == {20}
    assert set(moved.filter(pl.col("end_reason") != "no logout logged")["minutes"].to_list()) == {0}
