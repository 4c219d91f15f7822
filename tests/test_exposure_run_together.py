"""The window sessions and their foreign pages read in one statement are the two registered queries' frames."""

from __future__ import annotations

import pytest
import test_exposure_one_pass as hand_written
from pg import pg_url  # noqa: F401 - fixture

from workbench.exposure.binding import bind_sessions
from workbench.queries import run
from workbench.queries.exposure import PAGE_PREFIX, window_sessions_with_foreign_pages
from workbench.queries.runner import last_params, run_together

START, END = hand_written.START, hand_written.END
one_pass = hand_written.one_pass  # the hand-written case on SQLite, DuckDB and PostgreSQL


def _both(case, start, end, timeout=20):
    params = {"start": start, "end": end, "idle_timeout_minutes": timeout}
    return run_together(
        case,
        window_sessions_with_foreign_pages(start, end, timeout),
        {"window_sessions": ("", params), "foreign_page_views": (PAGE_PREFIX, {"start": start, "end": end})},
    )


def _separate(case, start, end, timeout=20):
    return {
        "window_sessions": run("window_sessions", case, start=start, end=end, idle_timeout_minutes=timeout),
        "foreign_page_views": run("foreign_page_views", case, start=start, end=end),
    }


def test_one_statement_gives_both_frames_on_every_engine(one_pass):
    both, separate = _both(one_pass, START, END), _separate(one_pass, START, END)
    for name in separate:
        assert both[name].schema == separate[name].schema, name  # equals() alone ignores dtypes
        assert both[name].equals(separate[name]), name
    # The hand-written case has foreign pages, one without account_id, and a session without pages.
    assert both["foreign_page_views"].height >= 2
    assert both["foreign_page_views"]["account_id"].null_count() >= 1
    assert (both["window_sessions"]["n_views"] == 0).any()


def test_an_empty_window_gives_empty_frames_with_the_columns(one_pass):
    start = END.replace(year=2030)
    both, separate = (
        _both(one_pass, start, start.replace(day=start.day + 1)),
        _separate(one_pass, start, start.replace(day=start.day + 1)),
    )
    for name in separate:
        assert both[name].height == 0
        assert both[name].schema == separate[name].schema, name


@pytest.mark.parametrize("fixture", ["tiny_db", "tiny_duckdb"])
def test_the_binding_reads_them_together_and_records_both(fixture, request):
    from workbench.case import open_case

    with open_case(request.getfixturevalue(fixture)) as case:
        window = run("incident_window", case).row(0, named=True)
        start, end = window["deployed_at"], window["fix_deployed_at"]
        binding = bind_sessions(case, start=start, end=end)
        separate = _separate(case, start, end)
    assert binding.pages.schema == separate["foreign_page_views"].schema
    assert binding.pages.equals(separate["foreign_page_views"])
    assert separate["window_sessions"].schema.items() <= binding.sessions.schema.items()
    assert binding.pages.height > 0
    assert binding.sessions["session_id"].to_list() == separate["window_sessions"]["session_id"].to_list()
    assert last_params("foreign_page_views")[0] == {"start": start, "end": end}
