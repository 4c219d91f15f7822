"""Case evidence beside the text model: a hand-written case worked out on paper, and the generated tiny case's truth."""

from __future__ import annotations

import polars as pl
import pytest
from triagekit import BO, EXPECTED, MESSAGES, PHONE_CHANGED, write_case

from workbench.case import open_case
from workbench.incident import reconstruct_incident
from workbench.incident.classify import classify, score
from workbench.incident.triage import THRESHOLD
from workbench.incident.triage_case import case_evidence
from workbench.incident.triage_review import review_window
from workbench.incident.triage_weights import shipped_case_weights
from workbench.ingest import ingest


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory):
    root = tmp_path_factory.mktemp("triage_case")
    write_case(root / "evidence")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(root / "evidence", url, progress=False)
    case = open_case(url)
    incident = reconstruct_incident(case)
    start, end = incident.window["start"], incident.window["end"]
    found = case_evidence(case, incident.inbox, start, end, timezone="Europe/Stockholm")
    yield case, incident, {r["message_id"]: r for r in found.iter_rows(named=True)}
    case.close()


def test_each_hand_written_message_gets_the_evidence_worked_out_by_hand(handwritten):
    _, _, found = handwritten
    for message_id, expected in EXPECTED.items():
        got = found[message_id]
        for column, value in expected.items():
            assert got[column] == value, (message_id, column, got)
        assert got["evidence"] is not None or got["evidence_weight"] == 0, got


def test_the_reason_says_which_account_when_and_how_long_before(handwritten):
    _, _, found = handwritten
    names = found["<t-alva-names@x>"]
    # Alva's session first showed Bo's account at 10:05 UTC (11:05 CET); she wrote at 12:00 UTC: 115 minutes on.
    assert names["bound_minutes_before"] == 115
    assert names["evidence"] == (
        f"sender's session showed account {BO} at Sat 14 Dec 11:05, 1 h 55 min before the message; "
        "the message names that account's holder"
    )
    weights = shipped_case_weights().weights
    assert names["evidence_weight"] == pytest.approx(weights["bound"] + weights["names_account"], abs=1e-4)
    only_bound = found["<t-alva-mail@x>"]
    assert only_bound["evidence_weight"] == weights["bound"] and "names" not in only_bound["evidence"]
    phone = found["<t-bo-phone@x>"]["evidence"]
    assert f"changed the phone of the sender's account at {PHONE_CHANGED:%a %d %b} 11:06" in phone
    assert "member 2001" in phone
    assert found["<t-david-names@x>"]["evidence"] == (
        "the message names the name and street address of member 2003, not the sender"
    )


def test_the_evidence_ranks_but_never_classifies_nor_moves_the_first_report(handwritten):
    case, incident, found = handwritten
    start, end = incident.window["start"], incident.window["end"]
    ranked = review_window(case, incident.inbox, start, end)
    rank = dict(zip(ranked["message_id"], ranked["rank"], strict=True))
    # sms-speak the rules cannot read: the case evidence lifts it above the same sender's unrelated mail
    assert rank["<t-alva-names@x>"] < rank["<t-alva-mail@x>"] < rank["<t-alva-early@x>"]
    assert rank["<t-bo-phone@x>"] < rank["<t-bo-before@x>"]
    # the rules' verdict is the text's alone
    by_rules = classify(incident.inbox.select("message_id", "subject", "body"))
    assert (
        ranked.sort("message_id")["is_report"].to_list()
        == by_rules.filter(pl.col("message_id").is_in(ranked["message_id"].implode()))
        .sort("message_id")["is_report"]
        .to_list()
    )
    # the first report is still the earliest message classified as one, never a session's time
    reports = incident.inbox.filter("is_report")
    assert incident.first_report_at == reports["reported_at"].min()
    assert incident.first_report_at not in {r["bound_at"] for r in found.values()}


def test_bodies_are_hand_written_and_distinct():
    assert len({m[5] for m in MESSAGES}) == len(MESSAGES) and set(EXPECTED) == {m[0] for m in MESSAGES}


# --- The generated tiny case, where the truth is known -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_ranked(tiny_db):
    case = open_case(tiny_db)
    incident = reconstruct_incident(case)
    ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
    yield case, incident, ranked
    case.close()


def test_on_the_tiny_case_each_report_from_a_bound_sender_names_the_account_truth_bound_it_to(tiny_case, tiny_ranked):
    _, _, ranked = tiny_ranked
    truth = tiny_case.truth("fault_reports")["message_id"]
    swapped = tiny_case.truth("swapped_sessions")
    reports = ranked.filter(pl.col("message_id").is_in(truth.implode()))
    assert reports.height == truth.len()
    checked = 0
    for r in reports.filter(pl.col("sender_id").is_not_null()).iter_rows(named=True):
        bound_before = swapped.filter(
            (pl.col("authenticated_applicant_id") == r["sender_id"]) & (pl.col("bound_at") < r["reported_at"])
        )
        if bound_before.height:
            assert r["bound_account_id"] in set(bound_before["bound_account_id"]), r
            checked += 1
        assert r["evidence"], r  # every report from a known sender is backed by the case: bound, or changed by another
    assert checked >= 1
    # the evidence never lowers a report: its score is at least its probability, and no message that is not a
    # report ranks above it that did not by the text alone (another report may be lifted past it)
    by_text = ranked.sort(["candidate", "probability", "reported_at"], descending=[True, True, False])["message_id"]
    text_order, score_order = by_text.to_list(), ranked["message_id"].to_list()
    others = set(ranked["message_id"]) - set(truth)
    for r in reports.iter_rows(named=True):
        assert r["score"] >= r["probability"], r
        above_by_text = others & set(text_order[: text_order.index(r["message_id"])])
        above_now = others & set(score_order[: score_order.index(r["message_id"])])
        assert above_now <= above_by_text, r


def test_on_the_tiny_case_the_evidence_keeps_every_report_a_candidate_and_adds_no_false_one(tiny_case, tiny_ranked):
    _, _, ranked = tiny_ranked
    truth = tiny_case.truth("fault_reports")["message_id"]
    with_evidence = score(ranked.filter("candidate")["message_id"], truth)
    by_text = score(ranked.filter(pl.col("is_report") | (pl.col("probability") >= THRESHOLD))["message_id"], truth)
    assert with_evidence["recall"] == 1.0, with_evidence
    assert with_evidence["fp"] <= by_text["fp"], (with_evidence, by_text)


def test_auditors_see_no_reason_text_and_pseudonyms_for_customer_numbers(handwritten, monkeypatch):
    from workbench.audience import WITHHELD, AudienceError, fit
    from workbench.incident import TAGS

    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")
    case, incident, _ = handwritten
    ranked = review_window(case, incident.inbox, incident.window["start"], incident.window["end"])
    rows = ranked.select("rank", "score", "evidence", "sender_id", "bound_account_id", "bound_at", "body")
    audited = fit(rows, "auditor", columns=TAGS)
    assert set(audited["evidence"].drop_nulls()) == {WITHHELD} and set(audited["body"]) == {WITHHELD}
    shown = {str(v) for v in audited["sender_id"].drop_nulls()} | {
        str(v) for v in audited["bound_account_id"].drop_nulls()
    }
    assert shown and not shown & {str(i) for i in (2001, 2002, 2003, 2004)}
    assert audited["score"].to_list() == rows["score"].to_list()
    with pytest.raises(AudienceError):
        fit(rows, "public", columns=TAGS)
