"""Fault-report triage: the trained model beside the rules, its reasons, ranking and first-report bounds."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.errors import WorkbenchError
from workbench.incident.classify import score
from workbench.incident.triage import (
    FINAL_TEST_ROUND,
    first_report_bounds,
    fit,
    model_text,
    probabilities,
    rank_window,
    trained_model,
    training_corpus,
    triage,
)
from workbench.scenario.training_texts import training_messages

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "workbench" / "data" / "fault_reports_generated.csv"


def _messages(*bodies: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"message_id": [f"<m{i}>" for i in range(len(bodies))], "subject": [None] * len(bodies), "body": list(bodies)},
        schema_overrides={"subject": pl.String},
    )


def test_the_shipped_generated_messages_are_the_generators():
    """The incident room may not import the generator, so its messages ship as a CSV that must stay current."""
    now = training_messages()
    if os.environ.get("WORKBENCH_UPDATE_VALIDATION") == "1":
        now.write_csv(GENERATED)
    shipped = pl.read_csv(GENERATED, schema=dict(now.schema))
    assert shipped.equals(now), "stale generated messages: rerun with WORKBENCH_UPDATE_VALIDATION=1"
    assert set(shipped["label"]) == {0, 1} and shipped.filter(pl.col("label") == 1).height >= 60


def test_training_leaves_the_final_test_round_out():
    corpus = training_corpus()
    assert FINAL_TEST_ROUND not in set(corpus["round"])
    assert {0, 1, 8} <= set(corpus["round"]) and corpus["id"].is_unique().all()


def test_training_is_deterministic_and_the_fast_path_is_the_pipelines():
    corpus = training_corpus()
    texts = model_text(corpus.head(120))
    again = fit(corpus)
    shipped = trained_model()
    np.testing.assert_array_equal(probabilities(again, texts), probabilities(shipped, texts))
    np.testing.assert_allclose(probabilities(shipped, texts), shipped.predict_proba(texts)[:, 1], atol=1e-12)


def test_a_rule_match_is_explained_by_its_phrase_and_a_model_find_by_its_ngrams():
    found = triage(
        _messages(
            "Jag kom in på nån annans konto igår",
            # sms-style Swedish, no å/ä/ö, no rule wording: only the model can find it.
            "hej!! loggade in nyss o pa sidan stog ett namn ja inte kanner, o en adress i malmo. ja bor i umea",
            "Hej, när öppnar nästa visning på Gränsvägen? Mvh Lena",
        )
    ).row
    rule, model, unrelated = found(0, named=True), found(1, named=True), found(2, named=True)
    assert rule["is_report"] and rule["candidate"] and rule["explanation"].endswith('"nån annans konto"')
    assert rule["explanation"].startswith(rule["rule"])
    assert not model["is_report"] and model["candidate"] and model["probability"] >= 0.5, model
    assert model["explanation"] and "'" in model["explanation"]
    assert not unrelated["candidate"] and unrelated["probability"] < 0.2


def test_a_bad_threshold_is_refused():
    with pytest.raises(WorkbenchError, match="between 0 and 1"):
        triage(_messages("x"), threshold=1.5)


def _inbox() -> pl.DataFrame:
    start = datetime(2024, 3, 1, 18, tzinfo=UTC)
    bodies = [
        "Kan jag byta lägenhet?",  # 0: early, unrelated
        "hej!! loggade in nyss o pa sidan stog ett namn ja inte kanner, o en adress i malmo. ja bor i umea",  # 1: model only
        "Jag kom in på nån annans konto",  # 2: rule
        "Hur länge har jag stått i kön?",  # 3
        "I saw someone else's account when I logged in",  # 4: rule
    ]
    frame = _messages(*bodies).with_columns(
        reported_at=pl.Series([start + timedelta(minutes=10 * i) for i in range(len(bodies))])
    )
    return triage(frame)


def test_the_window_is_ranked_candidates_first_and_the_first_report_bounds_follow():
    inbox = _inbox()
    start, end = inbox["reported_at"].min(), inbox["reported_at"].max() + timedelta(seconds=1)
    ranked = rank_window(inbox, start, end)
    assert ranked["rank"].to_list() == [1, 2, 3, 4, 5]
    assert ranked.head(3)["candidate"].all() and not ranked.tail(2)["candidate"].any()
    bounds = {r["measure"]: r for r in first_report_bounds(ranked, top_n=2).iter_rows(named=True)}
    rule = bounds["earliest rule match"]
    candidate = bounds["earliest candidate (rule or probability at threshold)"]
    assert rule["message_id"] == "<m2>" and candidate["message_id"] == "<m1>"
    assert candidate["reported_at"] < rule["reported_at"]
    read = bounds["earliest among the top 2 a reviewer reads"]
    assert read["rank"] <= 2 and read["reported_at"] >= candidate["reported_at"]
    # Messages outside the window are not ranked.
    assert rank_window(inbox, start + timedelta(minutes=15), end).height == 3


def test_top_n_must_be_positive():
    with pytest.raises(WorkbenchError, match="top_n"):
        first_report_bounds(
            rank_window(_inbox(), datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)), 0
        )


def test_the_model_finds_the_planted_reports_of_the_tiny_case(tiny_case):
    messages = tiny_case.evidence("support_messages")
    found = triage(messages)
    truth = tiny_case.truth("fault_reports")["message_id"]
    s = score(found.filter("candidate")["message_id"], truth)
    assert s["recall"] == 1.0 and s["precision"] >= 0.75, s
