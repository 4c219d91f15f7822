"""The tag field and note box of the widgets, driven headless: set the inputs, click Save, read the notes and the journal."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from workbench.case import open_case
from workbench.errors import WorkbenchError
from workbench.exposure import review_exposure
from workbench.fairness import review_fairness
from workbench.incident import reconstruct_incident
from workbench.notes import Notes, verify_journal
from workbench.notes.verify import journal_entries
from workbench.widgets import AccountInspector, CaseworkerDashboard, TimelineExplorer
from workbench.widgets.annotate_box import AnnotationBox, notes_for, row_targets
from workbench.widgets.query_browser import QueryBrowser

KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def case(tiny_db):
    with open_case(tiny_db) as opened:
        yield opened


@pytest.fixture(scope="module")
def incident(case):
    return reconstruct_incident(case)


@pytest.fixture(scope="module")
def exposure(case):
    return review_exposure(case).exposure


@pytest.fixture
def notes(case, tmp_path):
    """Notes in a file of their own (never beside the shared tiny case), not made until something is saved."""
    return Notes(case, tmp_path / "n.sqlite")


def _fill(box: AnnotationBox, tag: str = "", note: str = "") -> None:
    box._w_tag.value, box._w_note.value = tag, note
    box._w_save.click()  # what a click on Save does


def _last_entry(case, notes: Notes) -> tuple[str, dict]:
    last = journal_entries(case, notes.url)[-1]
    return last.act, json.loads(last.details)


def test_the_account_inspector_comments_on_the_account_and_tags_a_session(case, exposure, notes, tmp_path):
    account = exposure.links.filter(pl.col("certain"))["account_id"].sort()[0]
    inspector = AccountInspector(exposure, "investigator", notes=notes)
    box = inspector.annotate
    assert box is not None and box.targets == [] and box._w_save.disabled  # nothing chosen, nothing to annotate
    inspector.select(str(account))
    assert box.target == ("account", str(account))  # the account shown comes first
    sessions = inspector.sessions["session_id"].to_list()
    assert {("session", s) for s in sessions} <= {(k, v) for _, k, v in box.targets}
    assert not (tmp_path / "n.sqlite").exists()  # showing the box reads nothing that is not there, makes no file
    assert "No annotation on it yet" in box._w_existing.value

    _fill(box, note="Owner rang: <b>Anna</b> saw her page")
    saved = box.saved
    assert (saved.kind, saved.key, saved.tags, saved.note) == (
        "account",
        str(account),
        (),
        "Owner rang: <b>Anna</b> saw her page",
    )
    assert [(a.kind, a.key, a.note) for a in notes.current()] == [("account", str(account), saved.note)]
    assert "Saved on account" in box.status and box._w_note.value == ""
    assert "&lt;b&gt;Anna&lt;/b&gt;" in box._w_existing.value and "<b>Anna</b>" not in box._w_existing.value
    act, details = _last_entry(case, notes)
    assert act == "annotation" and (details["kind"], details["key"]) == ("account", str(account))
    assert details["note_sha256"] == hashlib.sha256(saved.note.encode()).hexdigest()

    box.choose("session", sessions[0])
    _fill(box, tag="confirmed")
    assert [(a.kind, a.key, a.tags) for a in notes.current("session")] == [("session", sessions[0], ("confirmed",))]
    check, problems = verify_journal(case, notes.url)
    assert check.ok and check.entries == 2 and problems == []


def test_bad_input_is_said_in_the_status_and_nothing_is_saved(exposure, notes):
    inspector = AccountInspector(exposure, notes=notes)
    inspector.select(inspector.options[0])
    box = inspector.annotate
    _fill(box)
    assert "needs a tag or a note" in box.status and box.saved is None
    assert "wb-note-error" in box._w_status.value
    _fill(box, tag="Two Words")
    assert "tag 'Two Words' is not allowed" in box.status and box.saved is None
    assert box._w_tag.value == "Two Words"  # kept, to be corrected
    _fill(box, tag="contacted, swap-2019", note="called")  # several tags, comma-separated, free ones too
    assert box.saved.tags == ("contacted", "swap-2019")
    assert len(notes.history()) == 1
    with pytest.raises(WorkbenchError, match=r"session 'nope' is not shown here to annotate; offered: account"):
        box.choose("session", "nope")


def test_rejecting_a_fault_report_in_the_timeline_moves_the_first_report(case, incident, notes):
    explorer = TimelineExplorer(incident.events(), incident.marks, notes=notes)
    explorer.set_kinds(["fault report"])
    box = explorer.annotate
    first, second = incident.reports.sort("reported_at")["message_id"].head(2).to_list()
    assert [k for _, k, _ in box.targets] == ["support_message"] * len(box.targets)
    assert box.target == ("support_message", first)
    assert "message_id" not in explorer.table.columns  # offered to annotate, never shown as a column
    _fill(box, tag="false-positive", note="a question about rent, not the fault")
    with open_case(case.url) as fresh:
        corrected = reconstruct_incident(fresh, notes=notes.url)
    expected = incident.reports.filter(pl.col("message_id") == second)["reported_at"].item()
    assert corrected.first_report_at == expected > incident.first_report_at
    # mismatched sessions shown are offered too
    explorer.set_kinds(["mismatched session"])
    session = explorer.table["session_id"][0]
    box.choose("session", session)
    _fill(box, tag="needs-review")
    assert {(a.kind, a.key) for a in notes.current()} == {("support_message", first), ("session", session)}
    assert _last_entry(case, notes)[1]["tags"] == ["needs-review"]
    # withdrawn from the box, the rejection no longer counts: the first report is the rules' again
    explorer.set_kinds(["fault report"])
    box.choose("support_message", first)
    (rejection,) = box.existing()
    box.pick(rejection.annotation_id)
    box._w_reason.value = "it was about the fault after all"
    box._w_withdraw.click()
    with open_case(case.url) as fresh:
        assert reconstruct_incident(fresh, notes=notes.url).first_report_at == incident.first_report_at
    assert [v.state for v in notes.history(rejection.annotation_id)] == ["active", "withdrawn"]


def test_an_annotation_is_edited_and_withdrawn_from_the_box_and_its_history_kept(case, exposure, notes):
    inspector = AccountInspector(exposure, notes=notes)
    inspector.select(inspector.options[0])
    box = inspector.annotate
    _fill(box, tag="confirmed", note="first look")
    first = box.saved
    assert [v for _, v in box._w_pick.options] == ["", first.annotation_id] and box.picked is None
    assert box._w_pick.label == "a new annotation"  # shown, not blank
    assert box._w_withdraw.disabled and box._w_save.description == "Save"

    box.pick(first.annotation_id)  # its tags and note fill the fields, to be changed
    assert (box._w_tag.value, box._w_note.value) == ("confirmed", "first look")
    assert box._w_save.description == "Save edit" and not box._w_withdraw.disabled
    assert "version 1" in box._w_history.value
    box._w_tag.value, box._w_reason.value = "confirmed, contacted", "called the member"
    box._w_save.click()
    assert "Edited (version 2; the earlier ones are kept)" in box.status
    assert [(v.version, v.tags, v.reason) for v in notes.history(first.annotation_id)] == [
        (1, ("confirmed",), ""),
        (2, ("confirmed", "contacted"), "called the member"),
    ]
    assert [(a.annotation_id, a.note) for a in notes.current()] == [(first.annotation_id, "first look")]
    assert box.picked is None and (box._w_tag.value, box._w_reason.value) == ("", "")  # back to a new one
    act, details = _last_entry(case, notes)
    assert act == "annotation" and (details["version"], details["reason"]) == (2, "called the member")

    _fill(box, note="second look")  # a second annotation on the same account
    second = box.saved
    box.pick(second.annotation_id)
    _fill(box, tag="", note="")  # emptied: refused, nothing saved
    assert "needs a tag or a note" in box.status and len(notes.history(second.annotation_id)) == 1

    box.pick(first.annotation_id)
    box._w_reason.value = "wrong account"
    box._w_withdraw.click()
    assert "Withdrawn from account" in box.status and box.picked is None
    assert [v.state for v in notes.history(first.annotation_id)] == ["active", "active", "withdrawn"]
    assert notes.history(first.annotation_id)[-1].reason == "wrong account"
    assert [a.annotation_id for a in notes.current()] == [second.annotation_id]
    assert [v for _, v in box._w_pick.options] == ["", second.annotation_id]  # only what still counts is offered
    assert box._w_pick.label == "a new annotation"
    assert "1 withdrawn, kept in the history" in box._w_existing.value and "first look" not in box._w_existing.value
    check, problems = verify_journal(case, notes.url)
    assert check.ok and check.entries == 4 and problems == []  # two annotations, an edit, a withdrawal

    box._w_withdraw.click()  # nothing picked: said, nothing done
    assert "Choose under Edit" in box.status and len(notes.history()) == 4
    with pytest.raises(WorkbenchError, match=r"annotation 'nope' is not on what is chosen here; there are: "):
        box.pick("nope")


def test_the_dashboard_annotates_the_caseworker_and_an_allocation(case, notes):
    review = review_fairness(case, permutations=500, seed=1)
    dashboard = CaseworkerDashboard(review, "investigator", notes=notes)
    box = dashboard.annotate
    assert box.target == ("caseworker", str(dashboard.value))
    _fill(box, tag="needs-review", note="ask for the paper files")
    listing = dashboard.allocations["listing_id"][0]
    box.choose("allocation", listing)
    _fill(box, tag="confirmed")
    got = sorted((a.kind, a.key, a.tags) for a in notes.current())
    assert got == [
        ("allocation", str(listing), ("confirmed",)),
        ("caseworker", str(dashboard.value), ("needs-review",)),
    ]
    assert [e.act for e in journal_entries(case, notes.url)] == ["annotation", "annotation"]


def test_the_query_browser_annotates_a_key_of_a_row_shown(case, notes, tmp_path):
    browser = QueryBrowser(case, "investigator", out_dir=tmp_path, page_size=5, notes=notes)
    box = browser.annotate
    assert box.targets == []
    browser.selected = "sessions"
    browser.run()
    rows = browser.page_rows
    labels = [label for label, _, _ in box.targets]
    assert labels[0] == f"row 1 · session_id {rows['session_id'][0]}"
    assert {k for _, k, _ in box.targets} >= {"session", "account"}  # applicant_id names an account
    browser.show_page(1)  # the next page offers its own rows
    assert box.targets[0][0].startswith("row 6 · ")
    session = browser.page_rows["session_id"][0]
    assert box.target == ("session", session)
    _fill(box, tag="swap-2019", note="the same swap as in 2019")
    assert [(a.kind, a.key, a.tags) for a in notes.current()] == [("session", session, ("swap-2019",))]
    # a query without key columns has nothing to annotate
    browser.selected = "table_counts"
    browser.run()
    assert box.targets == [] and box._w_save.disabled


def test_row_targets_on_a_hand_written_page():
    page = pl.DataFrame(
        {
            "session_id": ["s1", None],
            "viewer_applicant_id": [1001, 1002],
            "n_pages": [3, 4],
            "message_id": [None, "<m1@x>"],
        }
    )
    assert row_targets(page, first=10) == [
        ("row 11 · session_id s1", "session", "s1"),
        ("row 11 · viewer_applicant_id 1001", "account", "1001"),
        ("row 12 · viewer_applicant_id 1002", "account", "1002"),
        ("row 12 · message_id <m1@x>", "support_message", "<m1@x>"),
    ]


def test_auditors_and_the_public_get_no_note_box(case, incident, exposure, notes, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    for audience in ("auditor", "public"):
        assert notes_for(case, None, audience) is None
        assert AccountInspector(exposure, audience, notes=notes).annotate is None
        assert TimelineExplorer(incident.events(), incident.marks, audience=audience, notes=notes).annotate is None
        assert QueryBrowser(case, audience, out_dir=tmp_path, notes=notes).annotate is None
    explorer = TimelineExplorer(incident.events(), incident.marks, audience="auditor", notes=notes)
    assert not [c for c in explorer._w_box.children if "wb-note-box" in c._dom_classes]
    investigator = notes_for(case, str(tmp_path / "m.sqlite"))
    assert isinstance(investigator, Notes) and investigator.url.database == str(tmp_path / "m.sqlite")
    with pytest.raises(WorkbenchError, match=r"notes must be a workbench\.notes\.Notes"):
        AccountInspector(exposure, notes=str(tmp_path / "m.sqlite"))


def test_without_notes_the_widgets_are_as_before(incident, exposure):
    assert AccountInspector(exposure).annotate is None
    explorer = TimelineExplorer(incident.events(), incident.marks)
    assert explorer.annotate is None
    assert not [c for c in explorer._w_box.children if "wb-note-box" in c._dom_classes]
