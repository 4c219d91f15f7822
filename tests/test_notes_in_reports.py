"""Annotations in the analyses: messages set by hand move notebook 01's fault reports and first-report time."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from nbinprocess import notebook_path, run_in_process

from workbench.audience import pseudonym
from workbench.case import open_case
from workbench.findings import load
from workbench.incident import reconstruct_incident
from workbench.notes import Notes, NotesError
from workbench.notes.reviews import annotation_list, read_annotations, review_verdicts


@pytest.fixture(scope="module")
def baseline(tiny_db):
    """Notebook 01's analysis on the tiny case with no notes: the rules' own reports."""
    with open_case(tiny_db) as case:
        incident = reconstruct_incident(case)
        return incident.reports, incident.inbox, incident.first_report_at


def _notes(tiny_db, path, marks: dict[str, str]) -> str:
    """A notes database at ``path`` tagging each message of ``marks`` with its tag; returns its path."""
    with Notes(tiny_db, path) as notes:
        for message, tag in marks.items():
            notes.annotate("support_message", message, tag=tag, note=f"read by hand: {tag}")
    return str(path)


def test_rejecting_and_confirming_messages_moves_the_first_report_exactly(tiny_db, baseline, tmp_path):
    reports, inbox, _ = baseline
    assert reports.height >= 3
    first_two = reports["message_id"].head(2).to_list()
    third_at = reports["reported_at"][2]
    # a message the rules did not classify, received before the third report: confirmed, it becomes the first
    missed = inbox.filter(~pl.col("is_report") & (pl.col("reported_at") < third_at)).sort("reported_at")
    assert missed.height, "the tiny case has unclassified mail before its third report"
    confirmed = missed.row(-1, named=True)
    notes = _notes(tiny_db, tmp_path / "n.sqlite", {first_two[0]: "false-positive", first_two[1]: "false-positive"})
    with open_case(tiny_db) as case:
        rejected = reconstruct_incident(case, notes=notes)
    assert rejected.first_report_at == third_at
    assert rejected.reports.height == reports.height - 2
    assert not set(first_two) & set(rejected.reports["message_id"])

    _notes(tiny_db, notes, {confirmed["message_id"]: "confirmed"})
    with open_case(tiny_db) as case:
        both = reconstruct_incident(case, notes=notes)
    assert both.first_report_at == confirmed["reported_at"] < third_at
    row = both.reports.filter(pl.col("message_id") == confirmed["message_id"]).row(0, named=True)
    assert (row["rule"], row["set_by_hand"]) == ("set by hand: confirmed", "confirmed")
    assert both.response("time_to_detect")["to_at"] == confirmed["reported_at"]
    # the messages already read are no longer among those to read
    assert confirmed["message_id"] not in both.unclassified["message_id"].to_list()


def test_the_latest_review_counts_and_a_withdrawn_one_does_not(tiny_db, baseline, tmp_path):
    reports, _, first = baseline
    message = reports["message_id"][0]
    with Notes(tiny_db, tmp_path / "n.sqlite") as notes:
        a = notes.annotate("support_message", message, tag="false-positive")
        assert review_verdicts(notes.current(), "support_message") == {message: "false-positive"}
        notes.annotate("support_message", message, tag="confirmed")  # a later judgement wins
        assert review_verdicts(notes.current(), "support_message") == {message: "confirmed"}
        notes.withdraw(notes.current()[-1].annotation_id)
        assert review_verdicts(notes.current(), "support_message") == {message: "false-positive"}
        notes.withdraw(a.annotation_id)
        assert review_verdicts(notes.current(), "support_message") == {}
        notes.annotate("support_message", message, tag=["confirmed", "false-positive"])  # says nothing
        assert review_verdicts(notes.current(), "support_message") == {}
    with open_case(tiny_db) as case:
        assert reconstruct_incident(case, notes=tmp_path / "n.sqlite").first_report_at == first


def test_a_named_notes_database_that_does_not_exist_is_an_error(tiny_db, tmp_path):
    with open_case(tiny_db) as case, pytest.raises(NotesError, match=r"no notes database at .*missing\.sqlite"):
        read_annotations(case, tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()
    with open_case(tiny_db) as case:  # None: beside the case, and the tiny case has none
        assert read_annotations(case, None) == ()


def test_each_audience_sees_what_it_may(tiny_db, baseline, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "k3y-for-tests-0123456789abcdef")
    message = baseline[0]["message_id"][0]
    with Notes(tiny_db, tmp_path / "n.sqlite") as notes:
        notes.annotate("support_message", message, tag="confirmed", note="Rang her back: Anna saw Bo's page")
        found = notes.current()
    investigator = annotation_list(found, "investigator")
    assert investigator.select("key", "tags", "note").row(0) == (
        message,
        "confirmed",
        "Rang her back: Anna saw Bo's page",
    )
    auditor = annotation_list(found, "auditor")
    assert "note" not in auditor.columns and auditor["has_note"].to_list() == [True]
    assert auditor["key"][0].startswith("B-") and message not in auditor["key"].to_list()
    assert "Anna" not in str(auditor.rows())
    public = annotation_list(found, "public")
    assert public.columns == ["kind", "tag", "n"]
    assert public.rows() == [
        ("support_message", "confirmed", 1)
    ]  # a total by kind and tag: shown exactly (docs/disclosure.md)


def _first(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _widget(run, kind: type):
    """The one widget of ``kind`` a notebook run showed."""
    (widget,) = [v for v in run.values if isinstance(v, kind)]
    return widget


def test_notebook_01_reads_notes_url_and_says_how_many_were_set_by_hand(tiny_db, baseline, tmp_path):
    from workbench.widgets import TimelineExplorer

    reports, _, first = baseline
    second = reports["message_id"][1]
    # a tag that settles nothing (needs-review) is not set by hand, but shows in the timeline's note box
    notes = _notes(tiny_db, tmp_path / "n.sqlite", {reports["message_id"][0]: "false-positive", second: "needs-review"})
    out = tmp_path / "out"
    run = run_in_process(notebook_path("01"), {"case_url": tiny_db, "out_dir": str(out), "notes_url": notes})
    found = {k: v["value"] for k, v in load(out).items()}
    assert _first(found["first_report_at"]) == reports["reported_at"][1] > first
    assert (found["messages_set_by_hand"], found["reports_added_by_hand"], found["reports_removed_by_hand"]) == (
        1,
        0,
        1,
    )
    assert found["fault_reports"] == reports.height - 1
    # the counts stand after their phrase, so no verb has to agree with a 1 or a 0
    assert (
        "**1** support message was set by hand: confirmed as fault reports the rules missed, **0**; "
        "rejected as false positives of the rules, **1**." in run.printed
    )
    assert "read by hand: false-positive" in run.shown  # the investigator's report lists the annotation
    # the notebook gives its notes to its timeline: the investigator sees, and adds to, the same notes there
    explorer = _widget(run, TimelineExplorer)
    explorer.set_kinds(["fault report"])
    box = explorer.annotate
    assert box.notes.url.database == notes and box.target == ("support_message", second)
    assert [a.tags for a in box.existing()] == [("needs-review",)] and "needs-review" in box._w_existing.value
    box._w_tag.value = "confirmed"
    box._w_save.click()
    with Notes(tiny_db, notes) as kept:
        assert ("support_message", second, ("confirmed",)) in [(a.kind, a.key, a.tags) for a in kept.current()]


@pytest.fixture(scope="module")
def exposure(tiny_db):
    from workbench.exposure import review_exposure

    with open_case(tiny_db) as case:
        return review_exposure(case)


def test_notebook_02_marks_sessions_and_accounts_confirmed_or_dismissed(tiny_db, exposure, tmp_path, monkeypatch):
    from workbench.exposure import review_exposure, reviewed_accounts, reviewed_sessions
    from workbench.widgets import AccountInspector

    sessions = exposure.binding.sessions
    bound = sessions.filter(pl.col("status") == "bound").sort("session_id")
    own = sessions.filter(pl.col("status") == "own").sort("session_id")
    account = exposure.binding.links.filter(pl.col("certain"))["account_id"].sort()[0]
    path = tmp_path / "n.sqlite"
    with Notes(tiny_db, path) as notes:
        notes.annotate("session", bound["session_id"][0], tag="confirmed", note="seen in the access log")
        notes.annotate("session", own["session_id"][0], tag="false-positive")
        notes.annotate("session", own["session_id"][1], tag="needs-review")  # not a review verdict: not listed
        notes.annotate("account", account, tag="false-positive", note="owner says it was her partner")
    with open_case(tiny_db) as case:
        review = review_exposure(case, notes=path)
    got = reviewed_sessions(review)
    assert got.select("session_id", "status", "review").rows() == sorted(
        [(bound["session_id"][0], "bound", "confirmed"), (own["session_id"][0], "own", "dismissed")]
    )
    assert reviewed_accounts(review).rows() == [(account, "bound", "dismissed")]
    assert review.bounds == exposure.bounds  # the evidence's counts are not moved by a judgement by hand

    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "k3y-for-tests-0123456789abcdef")
    shown, inspectors = {}, {}
    for audience in ("investigator", "auditor", "public"):
        out = tmp_path / audience
        run = run_in_process(
            notebook_path("02"),
            {"case_url": tiny_db, "out_dir": str(out), "audience": audience, "notes_url": str(path)},
        )
        shown[audience] = run.shown
        inspectors[audience] = _widget(run, AccountInspector)
    assert bound["session_id"][0] in shown["investigator"] and "dismissed" in shown["investigator"]
    assert bound["session_id"][0] not in shown["auditor"] and "dismissed" in shown["auditor"]
    assert bound["session_id"][0] not in shown["public"] and str(account) not in shown["public"]
    # free-text notes: the investigator's report lists them, the auditor's and the public's never
    assert (
        "owner says it was her partner" in shown["investigator"] and "seen in the access log" in shown["investigator"]
    )
    for hidden in ("owner says it was her partner", "seen in the access log"):
        assert hidden not in shown["auditor"] + shown["public"]
    assert "Annotations on sessions, accounts and changes" in shown["auditor"]  # tags with pseudonyms
    review_later = own["session_id"][1]  # tagged needs-review: in the annotation list only, as its pseudonym
    assert "needs-review" in shown["auditor"] and review_later not in shown["auditor"]
    assert pseudonym(review_later, "session_id", "k3y-for-tests-0123456789abcdef") in shown["auditor"]
    # the notebook gives its notes to its inspector, for investigators only
    inspector = inspectors["investigator"]
    inspector.select(str(account))
    found = inspector.annotate.existing()
    assert [(a.tags, a.note) for a in found] == [(("false-positive",), "owner says it was her partner")]
    assert inspectors["auditor"].annotate is None and inspectors["public"].annotate is None


def test_notebook_03_shows_the_review_state_of_flagged_caseworkers_allocations(tiny_db, tmp_path, monkeypatch):
    from workbench.fairness import allocation_reviews, review_fairness
    from workbench.widgets import CaseworkerDashboard

    with open_case(tiny_db) as case:
        plain = review_fairness(case, permutations=2000)
    flagged = plain.caseworkers_of_interest  # flagged, a serious red flag, or too few to judge: the red-flag section's
    assert flagged, "the tiny case with fraud has a caseworker of interest"
    theirs = plain.replay.allocations.filter(pl.col("handler_id") == flagged[0]).sort("listing_id")
    path = tmp_path / "n.sqlite"
    with Notes(tiny_db, path) as notes:
        notes.annotate("allocation", theirs["listing_id"][0], tag="confirmed", note="lease signed the same day")
        notes.annotate("allocation", theirs["listing_id"][1], tag="false-positive")
        notes.annotate("caseworker", flagged[0], tag="needs-review", note="ask for the paper files")
    with open_case(tiny_db) as case:
        review = review_fairness(case, permutations=2000, notes=path)
    rows = {r["handler_id"]: r for r in allocation_reviews(review, "investigator").to_dicts()}
    assert set(rows) == set(flagged)
    first = rows[flagged[0]]
    assert (first["n_allocations"], first["n_confirmed"], first["n_dismissed"]) == (theirs.height, 1, 1)
    assert first["n_not_reviewed"] == theirs.height - 2
    public = allocation_reviews(review, "public")
    assert public.columns == ["review", "n"] and "handler_id" not in public.columns
    total = sum(r["n_allocations"] for r in rows.values())
    assert dict(public.rows()) == {"confirmed": 1, "dismissed": 1, "not reviewed": total - 2}
    out = tmp_path / "out"
    run = run_in_process(
        notebook_path("03"), {"case_url": tiny_db, "out_dir": str(out), "permutations": 2000, "notes_url": str(path)}
    )
    assert "Review state of these caseworkers" in run.shown
    assert "lease signed the same day" in run.shown  # the investigator's report lists the annotations
    dashboard = _widget(run, CaseworkerDashboard)  # given the notebook's notes: the caseworker's tag shows
    dashboard.value = flagged[0]
    assert dashboard.annotate.target == ("caseworker", str(flagged[0]))
    assert [(a.tags, a.note) for a in dashboard.annotate.existing()] == [(("needs-review",), "ask for the paper files")]
