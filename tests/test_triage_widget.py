"""The triage review box, headless: one message at a time, keys that label through the notes, retrain and re-rank."""

from __future__ import annotations

import polars as pl
import pytest
from triagekit import write_case

from workbench.case import open_case
from workbench.errors import WorkbenchError
from workbench.incident import reconstruct_incident
from workbench.incident.triage_review import LABEL_WEIGHT, labelled, refit, review_window
from workbench.ingest import ingest
from workbench.notes import Notes
from workbench.widgets import TriageReview


@pytest.fixture(scope="module")
def case_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("triage_widget")
    write_case(root / "evidence")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(root / "evidence", url, progress=False)
    return url


@pytest.fixture
def review(case_url, tmp_path):
    case = open_case(case_url)
    incident = reconstruct_incident(case)
    ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
    notes = Notes(case, tmp_path / "notes.sqlite")
    yield TriageReview(ranked, notes=notes, top_n=3), notes, ranked
    case.close()


def test_it_opens_on_the_top_message_with_its_reasons_escaped(review):
    box, _, ranked = review
    top = ranked.row(0, named=True)
    assert box.current["message_id"] == top["message_id"] and box.position == 0
    card = box._w_card.value
    assert f"Rank 1 of {ranked.height}" in card
    for reason in (top["explanation"], top["evidence"]):
        if reason:
            assert reason.replace("'", "&#x27;").replace('"', "&quot;") in card
    # a message's own markup is shown as text, never rendered
    box.ranked = box.ranked.with_columns(body=pl.lit("<script>alert(1)</script>"))
    box._refresh()
    assert "<script>" not in box._w_card.value and "&lt;script&gt;" in box._w_card.value


def test_keys_label_through_the_notes_and_move_on(review):
    box, notes, ranked = review
    first, second = ranked["message_id"][0], ranked["message_id"][1]
    box._w_keys.value = "y"  # typed in the key box
    assert box._w_keys.value == "" and box.labels == {first: "confirmed"} and box.position == 1
    box.press("n")
    saved = {a.key: a.tags for a in notes.current("support_message")}
    assert saved == {first: ("confirmed",), second: ("false-positive",)}
    assert box.current["message_id"] == ranked["message_id"][2]
    box.press("k")
    assert box.position == 1
    box.press("x")
    assert "unknown key 'x'" in box.status and box.position == 1
    # the bounds follow the labels: the earliest confirmed message is the one confirmed
    bounds = {r["measure"]: r for r in box.bounds.iter_rows(named=True)}
    assert bounds["earliest confirmed by a reviewer"]["message_id"] == first
    assert "earliest confirmed by a reviewer" in box._w_bounds.value


def test_the_notebooks_next_run_reads_the_labels(review, case_url, tmp_path):
    box, _, ranked = review
    target = ranked.filter(~pl.col("is_report"))["message_id"][0]
    box.position = ranked["message_id"].to_list().index(target)
    box.confirm()
    with open_case(case_url) as case:
        again = reconstruct_incident(case, notes=tmp_path / "notes.sqlite")
    row = again.inbox.filter(pl.col("message_id") == target).row(0, named=True)
    assert row["is_report"] and row["set_by_hand"] == "confirmed"


def test_retrain_fits_on_the_labels_and_ranks_again(review):
    box, _, ranked = review
    seen: list[pl.DataFrame] = []

    def fit(labels: pl.DataFrame):
        seen.append(labels)
        return refit(labels)

    box._fit = fit
    sms = "<t-alva-names@x>"  # sms-speak the shipped model finds unlikely
    box.position = ranked["message_id"].to_list().index(sms)
    before = box.current["probability"]
    box.confirm()
    box.press("r")
    assert box.retrained == 1 and seen[0].height == 1 and seen[0]["label"].to_list() == [1]
    after = box.ranked.filter(pl.col("message_id") == sms)["probability"][0]
    assert after > before, (before, after)
    assert box.ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    assert box.current is None or box.current["message_id"] not in box.labels
    assert "retrained on 1 label" in box.status


def test_labels_become_weighted_training_rows():
    frame = pl.DataFrame(
        {"subject": [None, "x"], "body": ["a", "b"], "set_by_hand": ["confirmed", "false-positive"]},
        schema_overrides={"subject": pl.String},
    )
    assert labelled(frame)["label"].to_list() == [1, 0]
    assert LABEL_WEIGHT > 1
    with pytest.raises(WorkbenchError, match="label is 1"):
        refit(pl.DataFrame({"subject": ["s"], "body": ["b"], "label": [2]}))


def test_only_investigators_review(review):
    _, notes, ranked = review
    note = TriageReview.or_note(ranked, notes=notes, audience="auditor")
    assert "for investigators" in note.data
    assert "nowhere to keep labels" in TriageReview.or_note(ranked, notes=None).data
    with pytest.raises(WorkbenchError, match="investigators only"):
        TriageReview(ranked, notes=notes, audience="public")


def test_the_ranked_table_shows_the_reviewers_labels_beside_the_rules(review, case_url, tmp_path, monkeypatch):
    """``is_report`` and ``rule`` stay the rules'; ``review_label`` is what the investigator said, read from the notes."""
    from workbench.audience import AudienceError, fit
    from workbench.incident import TAGS

    box, _, ranked = review
    assert ranked["review_label"].null_count() == ranked.height  # nothing labelled yet
    missed = ranked.filter(~pl.col("is_report"))["message_id"][0]
    matched = ranked.filter(pl.col("is_report"))["message_id"][0]
    ids = ranked["message_id"].to_list()
    box.position = ids.index(missed)
    box.confirm()
    box.position = ids.index(matched)
    box.reject()
    live = box.reviewed().filter(pl.col("review_label").is_not_null())
    assert dict(zip(live["message_id"], live["review_label"], strict=True)) == {
        missed: "confirmed",
        matched: "false-positive",
    }
    with open_case(case_url) as case:
        incident = reconstruct_incident(case, notes=tmp_path / "notes.sqlite")
        again = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
    said = dict(zip(again["message_id"], again["review_label"], strict=True))
    assert said[missed] == "confirmed" and said[matched] == "false-positive"
    assert sum(v is not None for v in said.values()) == 2
    rules = {r["message_id"]: r for r in again.iter_rows(named=True) if r["message_id"] in (missed, matched)}
    assert not rules[missed]["is_report"] and rules[missed]["rule"] is None
    assert rules[matched]["is_report"] and rules[matched]["rule"]
    # auditors see the tag; the public sees only counts of each label
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")
    rows = again.select("rank", "message_id", "review_label", "rule", "body")
    audited = fit(rows, "auditor", columns=TAGS)
    assert audited["review_label"].to_list() == rows["review_label"].to_list()
    with pytest.raises(AudienceError):
        fit(rows, "public", columns=TAGS)
    counts = fit(again.group_by("review_label").len("n"), "public", columns=TAGS)
    assert counts["n"].sum() == again.height
