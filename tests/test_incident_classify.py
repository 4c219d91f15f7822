"""Fault-report rules: scored against the generator's planted reports and a hand-written corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from workbench.classify import (
    RULES_SHA256,
    classify,
    evaluate,
    handwritten_corpus,
    rules_table,
    score,
    validation_record,
)
from workbench.errors import WorkbenchError

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "workbench" / "data" / "fault_report_validation.json"


def _generated_score(case) -> dict:
    messages = case.evidence("support_messages")
    found = classify(messages).filter("is_report")["message_id"]
    return {"messages": messages.height, "reports": case.truth("fault_reports").height,
            **score(found, case.truth("fault_reports")["message_id"])}


@pytest.fixture(scope="module")
def generated(tiny_case, small_case):
    return {"tiny": _generated_score(tiny_case), "small": _generated_score(small_case)}


@pytest.mark.parametrize("scale", ["tiny", "small"])
def test_rules_find_the_planted_reports(generated, scale):
    s = generated[scale]
    assert s["reports"] >= 2
    assert s["precision"] >= 0.95 and s["recall"] >= 0.95, s


def test_validation_record_is_current(generated):
    """The record the notebook shows must be what the rules score now."""
    cases = [
        {"corpus": f"generated {scale}, seed 1", "messages": s["messages"], "reports": s["reports"],
         "precision": round(s["precision"], 4), "recall": round(s["recall"], 4)}
        for scale, s in generated.items()
    ]
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    if os.environ.get("WORKBENCH_UPDATE_VALIDATION") == "1":
        record.update(rules_sha256=RULES_SHA256, cases=cases)
        RECORD.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stale = "stale validation record: rerun with WORKBENCH_UPDATE_VALIDATION=1 after reviewing the new scores"
    assert record["rules_sha256"] == RULES_SHA256, stale
    assert record["cases"] == cases, stale
    assert validation_record()["current"] is True


def test_handwritten_corpus_is_the_one_in_tests_data():
    shipped = ROOT / "workbench" / "data" / "fault_reports_handwritten.csv"
    assert (ROOT / "tests" / "data" / "fault_reports_handwritten.csv").read_bytes() == shipped.read_bytes()


def test_handwritten_corpus_is_large_bilingual_and_has_hard_negatives():
    corpus = handwritten_corpus()
    assert corpus.height >= 60 and corpus["id"].is_unique().all()
    assert set(corpus["lang"]) == {"sv", "en"} and set(corpus["label"]) == {0, 1}
    negatives = corpus.filter(pl.col("label") == 0)
    assert negatives.filter(pl.col("note").str.starts_with("hard negative")).height >= 15
    assert negatives.filter(pl.col("body").str.contains("(?i)inloggning|logga in|sign in|log in")).height >= 2
    assert negatives.filter(pl.col("body").str.contains("(?i)avgift|fee")).height >= 2


def test_handwritten_precision_meets_the_target():
    assert evaluate(handwritten_corpus())["precision"] >= 0.9


@pytest.mark.xfail(strict=True, reason="held-out recall is 0.71: indirect wordings are missed; see the report")
def test_handwritten_recall_meets_the_target():
    assert evaluate(handwritten_corpus())["recall"] >= 0.9


def test_handwritten_scores_are_the_recorded_ones():
    """The held-out score the notebook reports is the one recorded as round 3; tuning on the corpus would change it."""
    got = evaluate(handwritten_corpus())
    round3 = validation_record()["history"].filter(pl.col("round") == 3).row(0, named=True)
    assert (got["tp"], got["fp"], got["fn"]) == (round3["tp"], round3["fp"], round3["fn"])


def _one(body: str, subject: str | None = None, extra=()) -> dict:
    frame = pl.DataFrame({"message_id": ["<m>"], "subject": [subject], "body": [body]}, schema_overrides={"subject": pl.String})
    return classify(frame, extra).row(0, named=True)


def test_the_matched_phrase_is_quoted_from_the_message():
    got = _one("Hej!\n\nNÄR jag loggade in såg jag NÅGON ANNANS uppgifter.")
    assert got["is_report"] and got["rule"] == "sv: another person's account or data"
    assert got["matched_text"] == "NÅGON ANNANS uppgifter"


@pytest.mark.parametrize("body", [
    "Jag såg aldrig någon annans uppgifter, men är mina säkra?",
    "I did not see anyone else's data.",
    "Could another user see my data if I forget to log out?",
    "Jag betalade till fel konto, kan ni föra tillbaka pengarna?",
    "Kan inte logga in sedan i morse.",
])
def test_negated_hypothetical_and_money_sentences_are_not_reports(body):
    assert not _one(body)["is_report"]


def test_investigators_add_phrases():
    body = "Jag fick se en annans sida efter inloggningen."
    assert not _one(body)["is_report"]
    got = _one(body, extra=["FICK SE en annans sida"])
    assert got["is_report"] and got["rule"] == "extra: FICK SE en annans sida"
    assert got["matched_text"] == "fick se en annans sida"
    assert rules_table(["fick se en annans sida"])["rule"][-1] == "extra: fick se en annans sida"


def test_an_empty_extra_phrase_is_refused():
    with pytest.raises(WorkbenchError, match="extra report phrases must be non-empty strings, got ' '"):
        _one("x", extra=[" "])


def test_score_of_empty_sets():
    assert score([], []) == {"precision": 1.0, "recall": 1.0, "tp": 0, "fp": 0, "fn": 0}
    assert score(["a"], [])["precision"] == 0.0
