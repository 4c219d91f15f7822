"""TimelineExplorer headless, and the incident chart builders through ``to_dict()``."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from workbench.audience import fit
from workbench.case import open_case
from workbench.errors import WorkbenchError
from workbench.i18n import t, using
from workbench.incident import clocks, timeline as incident
from workbench.queries import run
from workbench.widgets import TimelineExplorer
from workbench.widgets.incident_charts import counterfactual_chart, timeline_chart
from workbench.widgets.timeline import HIDDEN_AT_FIRST


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def parts(tiny_db):
    with open_case(tiny_db) as case:
        offsets = clocks.estimate_offsets(case)
        mismatched = run("mismatched_sessions", case)
        reports = incident.fault_reports(case, offsets)
        marks = incident.milestones(run("incident_window", case), mismatched, reports, offsets)
        events = incident.timeline_events(case, mismatched, reports, marks, run("mismatched_changes", case))
        hourly = incident.hourly_series(case, reports)
        yield {"events": events, "marks": marks, "reports": reports, "hourly": hourly, "mismatched": mismatched}


def _values(spec: dict) -> list[dict]:
    """Every inline data row of a chart spec."""
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_it_opens_on_the_incident_events_with_logins_one_click_away(parts):
    events = parts["events"]
    explorer = TimelineExplorer(events, parts["marks"])
    assert HIDDEN_AT_FIRST == ("login",)
    assert explorer.kinds == ("change by another", "fault report", "milestone", "mismatched session")
    incident_events = events.filter(pl.col("kind") != "login")
    assert explorer.table.equals(incident_events.select("time", "kind", "detail", "session_id"))
    assert explorer.table.height < events.height / 4, "logins should outnumber the incident's own events"
    assert set(parts["mismatched"]["session_id"]) <= set(explorer.table["session_id"])
    assert "Not shown: login" in explorer._w_summary.value and not explorer._w_all.disabled
    explorer._w_all.click()
    assert explorer.kinds == tuple(sorted(events["kind"].unique()))
    assert explorer.table.height == events.height
    assert "Not shown" not in explorer._w_summary.value and explorer._w_all.disabled


def test_the_first_kinds_can_be_chosen_and_are_checked(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"], kinds=["login", "milestone"])
    assert set(explorer.table["kind"]) == {"login", "milestone"}
    with pytest.raises(WorkbenchError, match=r"unknown event kind\(s\) \['logins'\]; known: \["):
        TimelineExplorer(parts["events"], parts["marks"], kinds=["logins"])
    only_logins = parts["events"].filter(pl.col("kind") == "login")
    assert TimelineExplorer(only_logins, parts["marks"]).kinds == ("login",)  # nothing else to show


def test_the_range_is_spelled_out_in_full_beside_the_slider(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"])
    assert explorer._w_range.readout is False  # its readout box is ~150 px and cut the range short
    explorer.set_range(utc(2013, 12, 13, 15), utc(2013, 12, 15, 11))
    assert explorer._w_range_text.value == "Fri 13 Dec 16:00 – Sun 15 Dec 12:00"  # Stockholm time
    assert "from Fri 13 Dec 16:00 to Sun 15 Dec 12:00;" in explorer._w_summary.value


def test_setting_the_range_shows_the_events_inside_it(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"])
    explorer._w_all.click()
    assert explorer.table.height == parts["events"].height  # everything, once every kind is chosen
    first_report = parts["reports"]["reported_at"][0]
    hour = first_report.replace(minute=0, second=0, microsecond=0)
    explorer._w_range.value = (hour, hour + (explorer._hours[1] - explorer._hours[0]))
    expected = parts["events"].filter((pl.col("time") >= hour) & (pl.col("time") < explorer.range[1]))
    assert explorer.table.equals(expected.select("time", "kind", "detail", "session_id"))
    assert "fault report" in explorer.table["kind"].to_list()
    assert explorer.milestones_in_range()["milestone"].to_list() == ["first fault report"]
    assert "1 milestone(s) inside" in explorer._w_summary.value


def test_choosing_kinds_filters_table_and_chart(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"])
    explorer._w_kinds.value = ("mismatched session",)
    assert explorer.table.height == parts["mismatched"]["session_id"].n_unique()
    assert set(explorer.table["kind"]) == {"mismatched session"}
    bars = [r for r in _values(explorer.chart.to_dict()) if "kind" in r and "n" in r]
    assert {r["kind"] for r in bars} == {"mismatched session"}
    assert sum(r["n"] for r in bars) == explorer.table.height


def test_set_range_rounds_to_hours_and_set_kinds_checks_names(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"])
    explorer.set_range(utc(2013, 12, 14, 7, 30), utc(2013, 12, 14, 9, 15))
    assert explorer.range == (utc(2013, 12, 14, 7), utc(2013, 12, 14, 9))
    assert explorer.value["start"] == utc(2013, 12, 14, 7)
    with pytest.raises(WorkbenchError, match=r"unknown event kind\(s\) \['logins'\]; known: \["):
        explorer.set_kinds(["logins"])


def test_the_public_sees_counts_per_kind_not_events(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"], audience="public")
    assert "login" not in explorer.table["kind"].to_list()  # the public opens on the same kinds
    explorer._w_all.click()
    assert explorer.table.columns == ["kind", "n"]
    counts = dict(explorer.table.iter_rows())
    # Counts per kind of event are incident-wide, not a breakdown: exact, small or not.
    assert counts["fault report"] == parts["events"].filter(pl.col("kind") == "fault report").height
    assert counts["login"] == parts["events"].filter(pl.col("kind") == "login").height


def test_an_empty_event_frame_is_refused(parts):
    with pytest.raises(WorkbenchError, match="needs at least one event"):
        TimelineExplorer(parts["events"].head(0), parts["marks"])


def test_timeline_chart_embeds_the_fit_frame_and_the_milestones(parts):
    hourly = parts["hourly"]
    before = hourly.clone()
    public = fit(hourly, "public", columns=incident.TAGS)
    spec = timeline_chart(public, parts["marks"]).to_dict()
    assert hourly.equals(before)  # the input is not mutated
    rows = _values(spec)
    names = {r["milestone"] for r in rows if "milestone" in r}
    assert {"deployment", "first mismatched session", "first fault report", "login disabled", "fix deployed"} <= names
    series = [r for r in rows if r.get("series") == "fault reports"]
    # Incident-wide hourly counts are shown exactly for the public (docs/disclosure.md): the
    # panel shows the incident, and quiet hours are zeros, never gaps.
    assert [r["count"] for r in series] == hourly["n_fault_reports"].to_list()
    assert sum(r["count"] for r in series) > 0 and all(r["count"] is not None for r in rows if "series" in r)


def test_counterfactual_chart_draws_every_measure_and_alternative():
    curve = pl.DataFrame(
        {
            "shutdown_at": [utc(2013, 12, 13, 18), utc(2013, 12, 14, 18)],
            "n_mismatched_sessions": [0, 9],
            "n_exposed_accounts": [0, 8],
            "n_changed_accounts": [0, 1],
        }
    )
    named = pl.DataFrame(
        {"alternative": ["actual", "smoke_test"], "shutdown_at": [utc(2013, 12, 14, 18), utc(2013, 12, 13, 18)]}
    )
    rows = _values(counterfactual_chart(curve, named).to_dict())
    assert {r["measure"] for r in rows if "measure" in r} == {
        "mismatched sessions",
        "accounts shown to another person",
        "accounts changed by another person",
    }
    # drawn with the catalogue's names, in the report's language
    assert {r["alternative"] for r in rows if "alternative" in r} == {"as it was", "smoke test"}
    with using("sv"):
        rows = _values(counterfactual_chart(curve, named).to_dict())
    assert {r["alternative"] for r in rows if "alternative" in r} == {
        t("chart.alternatives.actual", "sv"),
        t("chart.alternatives.smoke_test", "sv"),
    }
    assert "felkopplade sessioner" in {r["measure"] for r in rows if "measure" in r}
    # shown in Stockholm time: 18:00 UTC is 19:00 local
    assert any(str(r.get("shutdown_at", "")).startswith("2013-12-13T19:00") for r in rows)


def test_on_change_runs_after_the_explorer_has_refreshed(parts):
    explorer = TimelineExplorer(parts["events"], parts["marks"])
    seen = []
    explorer.on_change(lambda e: seen.append((e.kinds, e.table.height)))
    explorer.set_kinds(["mismatched session"])
    assert seen == [(("mismatched session",), parts["mismatched"]["session_id"].n_unique())]
    with pytest.raises(TypeError, match="on_change needs a callable"):
        explorer.on_change("not a function")
