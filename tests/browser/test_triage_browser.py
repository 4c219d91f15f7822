"""The triage review box in real JupyterLab: keys and a button label messages through the notes (issue 19 point 4).

Notebook 01 on a copy of the tiny case, run in Lab to the review box. Pressed on the
keyboard into the box's *Keys* field, ``j`` steps to the second-ranked message and ``y``
confirms it; the *Reject* button then rejects the message shown next, the earliest rule
match. Both are in the notes. A fresh kernel on the notebook (the reload) shows them: the
ranked table's investigator's label, the first-report bounds with the confirmed message and
its rank, the first report moved to the confirmed message, and the box opening on the first
message not yet labelled.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from labkit import LabPage, browser, lab, parameterized_copy  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
REVIEW_CELL = "TriageReview.or_note("
BOUNDS_CELL = "show(first_report_bounds("
RANKED_CELL = "show(ranked.group_by("


def _expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def case_copy(lab, tiny_db):  # noqa: F811
    """A copy of the tiny case in the Lab root: its notes go beside it, never beside the shared one."""
    folder = lab.root / "triaged"
    folder.mkdir()
    shutil.copy(tiny_db.removeprefix("sqlite:///"), folder / "case.db")
    return folder / "case.db"


def _press(page: LabPage, keys, key: str) -> None:
    """Press ``key`` on the keyboard with the Keys field focused, and wait for the kernel to act on it."""
    keys.click()
    page.page.keyboard.press(key)
    page.wait_idle()


def test_keys_and_a_button_label_through_the_notes_and_a_reload_shows_the_labels(browser, lab, case_copy):  # noqa: F811
    from workbench.case import open_case
    from workbench.incident import reconstruct_incident
    from workbench.incident.triage_review import review_window
    from workbench.notes import Notes
    from workbench.values import format_value

    expect = _expect()
    url = f"sqlite:///{case_copy}"
    with open_case(url) as case:
        incident = reconstruct_incident(case)
        ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
    second, third = ranked.row(1, named=True), ranked.row(2, named=True)
    first_rule = ranked.filter("is_report").sort("reported_at").row(0, named=True)
    # what the labels below do only holds if the earliest rule match is ranked third, after a later one
    assert third["message_id"] == first_rule["message_id"] and second["is_report"]
    assert second["reported_at"] > first_rule["reported_at"] == incident.first_report_at
    # notes_url None: the notes beside the case, made by the first label saved
    params = {"case_url": url, "out_dir": str(lab.root / "triage-out"), "notes_url": None}
    name = parameterized_copy(NOTEBOOKS / "01_incident_reconstruction.ipynb", lab.root, params)

    page = LabPage(browser, lab, name, workspace="triage")
    try:
        page.run_through(REVIEW_CELL, timeout=240)
        assert page.error_outputs() == []
        box = page.cell_starting(REVIEW_CELL)
        card, keys = box.locator(".wb-triage-card"), box.locator(".wb-triage-keys input")
        expect(card).to_contain_text(f"Rank 1 of {ranked.height}")
        _press(page, keys, "j")
        expect(card).to_contain_text(f"Rank 2 of {ranked.height}")
        _press(page, keys, "y")
        expect(box.locator(".wb-triage-status")).to_contain_text("rank 2 saved as confirmed")
        expect(card).to_contain_text(f"Rank 3 of {ranked.height}")  # on to the next one not labelled
        assert keys.input_value() == ""  # each key acts once and is cleared
        box.locator("button.wb-triage-reject").click()
        page.wait_idle()
        expect(box.locator(".wb-triage-status")).to_contain_text("rank 3 saved as false-positive")
        expect(box.locator(".wb-triage-bounds")).to_contain_text("earliest confirmed by a reviewer")
        page.screenshot("triage-review-box", box, clip=True)
        assert page.errors == [] and page.blocked == []
    finally:
        page.close()

    with Notes(url) as notes:
        saved = {a.key: a.tags for a in notes.current("support_message")}
    assert saved == {second["message_id"]: ("confirmed",), third["message_id"]: ("false-positive",)}

    # The reload: a new kernel on the notebook sees only what the notes kept.
    lab.end_kernels()
    page = LabPage(browser, lab, name, workspace="triage-again")
    try:
        page.run_through(REVIEW_CELL, timeout=240)
        assert page.error_outputs() == []
        labels = page.kernel_json('dict(ranked.select("message_id", "review_label").drop_nulls().iter_rows())')
        assert labels == {second["message_id"]: "confirmed", third["message_id"]: "false-positive"}
        table = page.cell_starting(RANKED_CELL)
        expect(table).to_contain_text("Investigator's label")
        expect(table).to_contain_text("false-positive")
        bounds = page.cell_starting(BOUNDS_CELL)
        expect(bounds).to_contain_text("earliest confirmed by a reviewer")
        row = bounds.locator("tr", has_text="earliest confirmed by a reviewer")
        expect(row).to_contain_text(format_value(second["reported_at"]))
        expect(row.locator("td").last).to_have_text(str(second["rank"]))
        # the first report is now the confirmed message: the earlier rule match was rejected
        milestones = page.cell_starting('incident.record(findings, "milestones")')
        expect(milestones).to_contain_text(f"The first fault report arrived at {format_value(second['reported_at'])}")
        box = page.cell_starting(REVIEW_CELL)
        card, keys = box.locator(".wb-triage-card"), box.locator(".wb-triage-keys input")
        expect(card).to_contain_text(f"Rank 1 of {ranked.height}")  # the first one not labelled
        _press(page, keys, "j")
        expect(card).to_contain_text("confirmed")
        page.screenshot("triage-after-reload", bounds, clip=True)
        assert page.errors == [] and page.blocked == []
    finally:
        page.close()
    with open_case(url) as case:
        again = reconstruct_incident(case)
    assert again.first_report_at == second["reported_at"]
    assert again.inbox.filter(pl.col("set_by_hand").is_not_null()).height == 2
