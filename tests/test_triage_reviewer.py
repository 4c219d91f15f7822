"""A reviewer who reads the top 20 of the ranked window and labels each from the truth: the first report is then truth's.

The reviewer works through the triage box (keys y / n), so the labels go through the notes
exactly as an investigator's would, and notebook 01's analysis is then run again on the
notes. The first-report time it gives must be that of the generator's earliest fault report.
Stockholm is in ``benchmarks/run.py --steps triage_review`` (not in the test suite).
"""

from __future__ import annotations

import polars as pl
import pytest

from workbench.case import open_case
from workbench.incident import reconstruct_incident
from workbench.incident.triage_review import review_window
from workbench.notes import Notes
from workbench.widgets import TriageReview

TOP = 20


def _review_top(url: str, truth: set[str], notes_path) -> tuple:
    with open_case(url) as case:
        incident = reconstruct_incident(case)
        ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
        box = TriageReview(ranked, notes=Notes(case, notes_path), top_n=TOP)
        for _ in range(min(TOP, ranked.height)):
            box.press("y" if box.current["message_id"] in truth else "n")
        reviewed = reconstruct_incident(case, notes=notes_path)
    return incident, ranked, box, reviewed


def _truth_first(case, incident) -> dict:
    """Truth's earliest fault report, as the inbox holds it (reported_at on the web clock by the estimated offset)."""
    truth = case.truth("fault_reports")["message_id"]
    return incident.inbox.filter(pl.col("message_id").is_in(truth.implode())).sort("reported_at").row(0, named=True)


def _check(case, url, tmp_path):
    truth = set(case.truth("fault_reports")["message_id"])
    incident, ranked, box, reviewed = _review_top(url, truth, tmp_path / "notes.sqlite")
    first = _truth_first(case, incident)
    assert reviewed.first_report_at == first["reported_at"], (reviewed.first_report_at, first)
    assert reviewed.reports["message_id"][0] == first["message_id"]
    # every report the reviewer read is confirmed, every other message read is rejected
    read = ranked.head(TOP)["message_id"].to_list()
    assert {m for m, tag in box.labels.items() if tag == "confirmed"} == truth & set(read)
    assert set(box.labels) == set(read)
    # the box's bounds agree: the earliest confirmed message is truth's first
    bounds = {r["measure"]: r for r in box.bounds.iter_rows(named=True)}
    assert bounds["earliest confirmed by a reviewer"]["message_id"] == first["message_id"]
    return incident, ranked


def test_a_reviewer_of_the_top_20_finds_truths_first_report_on_tiny(tiny_case, tiny_db, tmp_path):
    _check(tiny_case, tiny_db, tmp_path)


@pytest.mark.slow
def test_a_reviewer_of_the_top_20_finds_truths_first_report_on_small(small_case, small_db, tmp_path):
    _check(small_case, small_db, tmp_path)
