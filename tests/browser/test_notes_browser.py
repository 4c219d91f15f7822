"""Annotating through the widgets in real JupyterLab, and the annotations in notebook 01 (issue 18 point 4).

In the explore notebook, on a copy of the tiny case: the timeline's note box rejects the
first fault report as a false positive and tags a mismatched session ``confirmed``; the
account inspector's note box comments on an account. A fresh kernel on the notebook then
shows both annotations under the widgets, and the rejected report gone from the timeline;
there the comment is edited (tagged ``contacted``) and then withdrawn, each a new version.
Notebook 01, run in Lab with the notes, reports the second report's time as the first-report
time and says one message was set by hand (the effect tests/test_notes_in_reports.py pins).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from labkit import LabPage, browser, lab, parameterized_copy  # noqa: F401  (fixtures)
from test_lab import CUT_TEXT

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTE = "Owner rang back: she saw another member's page <b>twice</b>"


def _expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def case_copy(lab, tiny_db):  # noqa: F811
    """A copy of the tiny case in the Lab root: its notes go beside it, never beside the shared one."""
    folder = lab.root / "annotated"
    folder.mkdir()
    shutil.copy(tiny_db.removeprefix("sqlite:///"), folder / "case.db")
    return folder / "case.db"


def _labels(select) -> list[str]:
    """The options of a drop-down as text (ipywidgets writes their spaces as no-break spaces)."""
    return [t.replace("\xa0", " ") for t in select.locator("option").evaluate_all("os => os.map(o => o.textContent)")]


def _choose(select, starts: str) -> None:
    """Choose the first option of ``select`` whose text starts with ``starts``, as a person would."""
    labels = _labels(select)
    found = [i for i, label in enumerate(labels) if label.startswith(starts)]
    assert found, f"no option starting {starts!r} among {labels}"
    select.select_option(index=found[0])


def _save(page: LabPage, box, tag: str, note: str, said: str) -> None:
    box.locator(".wb-note-tag input").fill(tag)
    box.locator(".wb-note-note textarea").fill(note)
    page.wait_idle()
    box.locator("button.wb-note-save").click()
    _expect()(box.locator(".wb-note-status")).to_contain_text(said, timeout=20_000)
    page.wait_idle()


def test_tag_and_comment_in_the_widgets_reload_and_see_them_then_notebook_01_follows(browser, lab, case_copy):  # noqa: F811
    from workbench.case import open_case
    from workbench.findings import load
    from workbench.incident import reconstruct_incident
    from workbench.notes import Notes
    from workbench.values import format_value

    expect = _expect()
    url = f"sqlite:///{case_copy}"
    with open_case(url) as case:
        before = reconstruct_incident(case)
    reports = before.reports.sort("reported_at")
    first_message, second_at = reports["message_id"][0], reports["reported_at"][1]
    session = before.mismatched.sort("bound_at")["session_id"][0]
    params = {"case_url": url, "out_dir": str(lab.root / "explore-out")}
    name = parameterized_copy(NOTEBOOKS / "10_explore.ipynb", lab.root, params)

    page = LabPage(browser, lab, name, workspace="annotate")
    try:
        page.run_through("inspector")  # the caseworker cells after it are not needed here
        assert page.error_outputs() == []
        timeline = page.cell("timeline")
        timeline.locator(".widget-select-multiple select").select_option(["fault report", "mismatched session"])
        page.wait_idle()
        box = timeline.locator(".wb-note-box-timeline")
        target = box.locator(".wb-note-target select")
        _choose(target, f"message {first_message} ")
        page.wait_idle()
        _save(page, box, "false-positive", "a question about the rent", f"Saved on support message {first_message}")
        _choose(target, f"session {session} ")
        page.wait_idle()
        _save(page, box, "confirmed", "", f"Saved on session {session}")
        expect(box.locator(".wb-note-existing")).to_contain_text("confirmed")

        account = page.kernel_json("inspector.options[0]")
        inspector = page.cell("inspector")
        inspector.locator(".widget-dropdown select").first.select_option(account)
        page.wait_idle()
        account_box = inspector.locator(".wb-note-box-account")
        assert page.kernel_json("inspector.annotate.target") == ["account", account]
        assert _labels(account_box.locator(".wb-note-target select"))[0] == f"account {account} (this one)"
        _save(page, account_box, "", NOTE, f"Saved on account {account}")
        page.screenshot("notes-account-box", account_box, clip=True)
        for cut_box in (box, account_box):  # the chosen entry, a session id or Message-ID, shows whole
            assert cut_box.evaluate(CUT_TEXT) == [], cut_box.inner_text()[:200]
        assert page.errors == [] and page.blocked == []
    finally:
        page.close()

    with Notes(url) as notes:
        got = sorted((a.kind, a.key, a.tags, a.note) for a in notes.current())
    assert got == [
        ("account", account, (), NOTE),
        ("session", session, ("confirmed",), ""),
        ("support_message", first_message, ("false-positive",), "a question about the rent"),
    ]

    # Notebook 01 with the notes, started in a page of its own while the explore notebook is reopened.
    lab.end_kernels()
    out = lab.root / "nb01-notes-out"
    nb01 = parameterized_copy(
        NOTEBOOKS / "01_incident_reconstruction.ipynb",
        lab.root,
        {"case_url": url, "out_dir": str(out), "notes_url": str(case_copy.with_name("case.notes.sqlite"))},
    )
    incident = LabPage(browser, lab, nb01, workspace="incident-notes")
    try:
        incident.start_all()
        # Reload: a new kernel on the notebook sees only what the notes database kept.
        page = LabPage(browser, lab, name, workspace="annotate-again")
        try:
            page.run_through("inspector")
            assert page.error_outputs() == []
            timeline = page.cell("timeline")
            timeline.locator(".widget-select-multiple select").select_option(["fault report", "mismatched session"])
            page.wait_idle()
            target = timeline.locator(".wb-note-box-timeline .wb-note-target select")
            assert not [x for x in _labels(target) if first_message in x], (
                "the rejected report is no longer a fault report"
            )
            _choose(target, f"session {session} ")
            page.wait_idle()
            expect(timeline.locator(".wb-note-box-timeline .wb-note-existing")).to_contain_text("confirmed")
            inspector = page.cell("inspector")
            inspector.locator(".widget-dropdown select").first.select_option(account)
            page.wait_idle()
            existing = inspector.locator(".wb-note-box-account .wb-note-existing")
            expect(existing).to_contain_text("Owner rang back: she saw another member's page <b>twice</b>")
            assert existing.locator("b", has_text="twice").count() == 0  # the note is text, never markup
            page.screenshot("notes-after-reload", inspector.locator(".wb-note-box-account"), clip=True)
            # Edit the note's tags, then withdraw it: each a version, the earlier ones listed and kept.
            account_box = inspector.locator(".wb-note-box-account")
            _choose(account_box.locator(".wb-note-pick select"), "(no tag): Owner rang back")
            page.wait_idle()
            expect(account_box.locator(".wb-note-note textarea")).to_have_value(NOTE)
            _save(page, account_box, "contacted", NOTE, "Edited (version 2; the earlier ones are kept)")
            _choose(account_box.locator(".wb-note-pick select"), "contacted: Owner rang back")
            page.wait_idle()
            expect(account_box.locator(".wb-note-history")).to_contain_text("version 2")
            account_box.locator(".wb-note-reason input").fill("wrong account")
            page.wait_idle()
            account_box.locator("button.wb-note-withdraw").click()
            expect(account_box.locator(".wb-note-status")).to_contain_text("Withdrawn from account", timeout=20_000)
            expect(account_box.locator(".wb-note-existing")).to_contain_text("1 withdrawn, kept in the history")
            shown = account_box.locator(".wb-note-pick select").evaluate("s => s.options[s.selectedIndex].textContent")
            assert shown.replace("\xa0", " ") == "a new annotation"  # back to a new one, never a blank choice
            page.screenshot("notes-withdrawn", account_box, clip=True)
            assert page.errors == [] and page.blocked == []
        finally:
            page.close()
        with Notes(url) as notes:
            (withdrawn,) = [a for a in notes.current(withdrawn=True) if a.kind == "account"]
            versions = [(v.version, v.tags, v.state, v.reason) for v in notes.history(withdrawn.annotation_id)]
        assert versions == [
            (1, (), "active", ""),
            (2, ("contacted",), "active", ""),
            (3, ("contacted",), "withdrawn", "wrong account"),
        ]

        # The first report is now the second one, and one message was set by hand.
        incident.wait_done()
        assert incident.error_outputs() == []
        found = {k: v["value"] for k, v in load(out).items()}
        assert datetime.fromisoformat(found["first_report_at"]) == second_at
        assert (found["messages_set_by_hand"], found["reports_removed_by_hand"]) == (1, 1)
        expect(incident.cell_starting('incident.record(findings, "set by hand")')).to_contain_text(
            "1 support message was set by hand"
        )
        milestones = incident.cell_starting('incident.record(findings, "milestones")')
        expect(milestones).to_contain_text(f"The first fault report arrived at {format_value(second_at)}")
        incident.screenshot("notes-notebook-01", milestones)
        assert incident.errors == [] and incident.blocked == []
    finally:
        incident.close()
