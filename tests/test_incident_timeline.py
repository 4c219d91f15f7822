"""Milestones, response times and the daily summary on the tiny case, against truth and the evidence."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from workbench.case import open_case
from workbench.incident import clocks, timeline as incident
from workbench.queries import run


@pytest.fixture(scope="module")
def built(tiny_db):
    with open_case(tiny_db) as case:
        offsets = clocks.estimate_offsets(case)
        mismatched = run("mismatched_sessions", case)
        reports = incident.fault_reports(case, offsets)
        marks = incident.milestones(run("incident_window", case), mismatched, reports, offsets)
        yield {"offsets": offsets, "mismatched": mismatched, "reports": reports, "marks": marks}


def test_milestones_in_order_with_every_report(built, tiny_case):
    marks = built["marks"]
    names = marks["milestone"].to_list()
    assert names[:3] == ["deployment", "first mismatched session", "first fault report"]
    assert names[-3:] == ["login disabled", "fix deployed", "login re-enabled"]
    assert marks["time"].is_sorted()
    assert (marks["kind"] == "report").sum() == tiny_case.truth("fault_reports").height
    actions = dict(tiny_case.evidence("incident_actions").select("action", "time").iter_rows())
    assert incident.milestone_time(marks, "login re-enabled") == actions["login_enabled"]
    assert incident.milestone_time(marks, "no such milestone") is None


def test_reports_are_moved_onto_the_web_clock(built):
    reports = built["reports"]
    shift = clocks.offset_of(built["offsets"], "mail")
    assert shift != 0
    assert (reports["received_at"] - reports["reported_at"] == timedelta(seconds=shift)).all()
    assert reports["matched_text"].null_count() == 0 and reports["rule"].null_count() == 0


def test_response_times_are_the_differences_in_hours(built):
    times = incident.response_times(built["marks"], "Europe/Stockholm")
    row = {r["measure"]: r for r in times.iter_rows(named=True)}
    detect = row["time_to_detect"]
    assert detect["hours"] == round((detect["to_at"] - detect["from_at"]).total_seconds() / 3600, 2)
    assert detect["from_local"].startswith("Fri 13 Dec 2013") and detect["to_local"].startswith("Sat 14 Dec 2013")
    assert row["time_to_contain"]["to_local"] == "Mon 16 Dec 2013 08:41"  # 07:41 UTC
    assert row["onset_to_fix"]["hours"] > row["time_to_detect"]["hours"] + row["time_to_contain"]["hours"]


def test_daily_summary_adds_up(built):
    full = incident.daily_summary(built["mismatched"], built["reports"])
    assert full["n_mismatched_sessions"].sum() == built["mismatched"]["session_id"].n_unique()
    assert full["n_fault_reports"].sum() == built["reports"].height
    assert full["weekday"][0] == "Fri"
    public = incident.daily_summary(built["mismatched"])
    assert "n_fault_reports" not in public.columns
    assert public.filter(pl.col("day") == full["day"][0])["n_accounts_shown"].item() == full["n_accounts_shown"][0]


def test_one_classified_inbox_gives_the_reports_and_the_rest(built, tiny_db, tiny_case):
    with open_case(tiny_db) as case:
        inbox = incident.classified_inbox(case, built["offsets"])
    assert inbox.height == tiny_case.evidence("support_messages").height
    assert incident.fault_reports(None, built["offsets"], inbox=inbox).equals(built["reports"])
    start, end = inbox["reported_at"].min(), inbox["reported_at"].max() + timedelta(seconds=1)
    rest = incident.unclassified_messages(inbox, start, end)
    assert rest.height + built["reports"].height == inbox.height
    assert not set(rest["message_id"]) & set(built["reports"]["message_id"])
