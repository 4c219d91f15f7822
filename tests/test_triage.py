"""Fault-report triage: the trained model beside the rules, its reasons, ranking and first-report bounds."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.errors import WorkbenchError
from workbench.incident.classify import evaluate, handwritten_corpus, score
from workbench.incident.triage import (
    HELD_OUT_ROUNDS,
    THRESHOLD,
    first_report_bounds,
    fit,
    model_text,
    probabilities,
    rank_window,
    trained_model,
    training_corpus,
    training_fingerprint,
    triage,
)
from workbench.incident.triage_eval import carrying, summary
from workbench.scenario.training_texts import training_messages

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "workbench" / "data" / "fault_reports_generated.csv"
RECORD = ROOT / "workbench" / "data" / "fault_report_validation.json"


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


def test_training_takes_rounds_1_to_12_and_leaves_the_blind_rounds_out():
    corpus = training_corpus()
    assert set(corpus["round"]) == set(range(13)) and not set(HELD_OUT_ROUNDS) & set(corpus["round"])
    assert corpus["id"].is_unique().all()
    # model version 4 trains on rounds 11 and 12, version 3's blind test, message for message
    assert set(handwritten_corpus("heldout")["id"]) <= set(corpus["id"])


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


def test_a_report_told_only_by_an_effect_is_a_candidate_and_a_question_about_ones_settings_is_not():
    """Hand-written here, in none of the rounds: the pairing of a thing of the account with "not mine / never"."""
    found = triage(
        _messages(
            "Hej, på min sida står nu att jag har en hund och två barn i hushållet. Jag bor själv i en etta.",
            "hallo?? min epost pa kontot e nan hotmail ja aldrig haft",
            "My pages lists an employer called Fjällbo Bygg. I have been retired since 2011.",
            "Hur ändrar jag min e-postadress på Mina sidor?",
            "Is it normal that the site asks me to log in again every day?",
            "I changed my phone number myself last night, is it saved?",
        )
    )
    assert not found["is_report"].any()  # the rules read none of them
    assert found["candidate"].to_list() == [True, True, True, False, False, False], found["probability"].to_list()


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
    candidate = bounds["earliest candidate (score at threshold, or a rule the model does not rule out)"]
    assert rule["message_id"] == "<m2>" and candidate["message_id"] == "<m1>"
    assert candidate["reported_at"] < rule["reported_at"]
    read = bounds["earliest candidate among the top 2 a reviewer reads"]
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


# --- How the model carries: the fresh rounds and their recorded scores ---------------------------------------------


def _triage_record() -> list[dict]:
    return json.loads(RECORD.read_text(encoding="utf-8"))["triage"]["history"]


def test_the_fresh_rounds_are_balanced_new_and_in_the_styles_the_corpus_lacked():
    fresh = handwritten_corpus("fresh")
    assert sorted(set(fresh["round"])) == [9, 10] and fresh["id"].is_unique().all()
    for r in (9, 10):
        one = fresh.filter(pl.col("round") == r)
        assert one.height == 40 and one["label"].sum() == 20
    older = pl.concat([handwritten_corpus("development")["body"], handwritten_corpus("test")["body"]])
    assert not set(fresh["body"]) & set(older)
    notes = " ".join(fresh.filter(pl.col("label") == 1)["note"])
    for style in ("sms-speak", "mixed", "question", "parent", "after an unrelated question", "effects", "forwarded"):
        assert style in notes, style
    # sms-speak Swedish without å/ä/ö, among reports and non-reports alike
    sms = fresh.filter(pl.col("note").str.starts_with("sms-speak") & (pl.col("lang") == "sv"))
    assert set(sms["label"]) == {0, 1} and not sms["body"].str.contains("[åäö]").any()


def test_the_rules_score_on_the_fresh_rounds_as_first_recorded():
    fresh = pl.concat([handwritten_corpus(part) for part in ("fresh", "heldout", "blind")])
    for row in (r for r in _triage_record() if r["method"] == "rules"):
        got = evaluate(fresh.filter(pl.col("round") == row["round"]))
        assert (got["tp"], got["fp"], got["fn"]) == (row["tp"], row["fp"], row["fn"]), row


def test_rounds_11_and_12_keep_their_first_scores_and_the_model_now_does_no_worse_there():
    """Model version 3 was frozen, then rounds 11 and 12 were scored once; version 4 trains on them.

    Their first scores stay in the record. The model that trains on them (in-sample, so a weak
    floor) must do no worse there than version 3 did blind.
    """
    record = json.loads(RECORD.read_text(encoding="utf-8"))["triage"]
    assert record["model_sha256"] == training_fingerprint(), "the model changed since version 4 was frozen"
    first = {(r["round"], r["method"]): r for r in record["history"] if r["round"] in (11, 12)}
    assert {m for _, m in first} == {"rules", "model", "combined"} and {r for r, _ in first} == {11, 12}
    assert all(r["when"].startswith("first score: model version 3") for r in first.values())
    held = handwritten_corpus("heldout")
    for r in (11, 12):
        test = triage(held.filter(pl.col("round") == r))
        truth = test.filter(pl.col("label") == 1)["id"]
        for method, chosen in (("model", pl.col("probability") >= THRESHOLD), ("combined", pl.col("candidate"))):
            got = score(test.filter(chosen)["id"], truth)
            want = first[(r, method)]
            assert want["reports"] == truth.len()
            assert got["precision"] >= want["precision"] and got["recall"] >= want["recall"], (r, method, got)


def test_a_rule_match_the_model_gives_almost_nothing_is_no_candidate(monkeypatch):
    """The rules' verdict stays is_report; a candidate needs the model at RULE_BAR as well (chosen by cross-validation)."""
    from workbench.incident import triage as triage_module
    from workbench.incident.triage_case import rescore

    rule_worded = _messages("Jag kom in på nån annans konto igår", "I saw someone else's account when I logged in")
    for p, want in ((triage_module.RULE_BAR / 2, False), (triage_module.RULE_BAR, True)):
        monkeypatch.setattr(triage_module, "probabilities", lambda model, texts, p=p: np.full(len(texts), p))
        found = triage(rule_worded)
        assert found["is_report"].all() and found["candidate"].to_list() == [want, want], p
        # the case evidence's rescoring applies the same bar, to the score
        no_evidence = [pl.lit(False).alias(f) for f in ("bound", "names_account", "names_member", "changed_field")]
        again = rescore(found.with_columns(*no_evidence, candidate=pl.lit(not want)))
        assert again["candidate"].to_list() == [want, want], p


def test_the_blind_rounds_are_new_and_never_trained_on():
    blind = handwritten_corpus("blind")
    assert sorted(set(blind["round"])) == list(HELD_OUT_ROUNDS) and blind["id"].is_unique().all()
    corpus = training_corpus()
    assert not set(blind["id"]) & set(corpus["id"]) and not set(blind["body"]) & set(corpus["body"])
    for r in HELD_OUT_ROUNDS:
        one = blind.filter(pl.col("round") == r)
        assert one["label"].sum() >= 15 and (one["label"] == 0).sum() >= 15, r


def test_the_blind_rounds_score_as_first_recorded():
    """Model version 4 was frozen, then rounds 13 and 14 were scored once: the shipped model gives those scores now.

    A changed model (another training fingerprint) must be scored again and recorded as a new entry, never over these.
    """
    record = json.loads(RECORD.read_text(encoding="utf-8"))["triage"]
    assert record["model_sha256"] == training_fingerprint(), "the model changed since rounds 13-14 were scored"
    first = {(r["round"], r["method"]): r for r in record["history"] if r["round"] in HELD_OUT_ROUNDS}
    assert {m for _, m in first} == {"rules", "model", "combined"} and {r for r, _ in first} == set(HELD_OUT_ROUNDS)
    blind = handwritten_corpus("blind")
    for r in HELD_OUT_ROUNDS:
        test = triage(blind.filter(pl.col("round") == r))
        truth = test.filter(pl.col("label") == 1)["id"]
        for method, chosen in (
            ("rules", pl.col("is_report")),
            ("model", pl.col("probability") >= THRESHOLD),
            ("combined", pl.col("candidate")),
        ):
            got = score(test.filter(chosen)["id"], truth)
            want = first[(r, method)]
            assert (got["tp"], got["fp"], got["fn"]) == (want["tp"], want["fp"], want["fn"]), (r, method)
            assert want["reports"] == truth.len() and want["when"].startswith("first score: model version 4")


@pytest.mark.slow
def test_leave_one_round_out_scores_every_round_for_rules_model_and_combined():
    table = carrying()
    cv = table.filter(pl.col("part") == "cross-validation")
    assert cv["round"].to_list() == list(range(1, 13))
    pooled = table.filter(pl.col("part") == "cross-validation, pooled").row(0, named=True)
    assert pooled["messages"] == cv["messages"].sum()
    # combined adds the model's finds to the rules': it recalls at least as much as the model, round by round
    assert (cv["combined_recall"] >= cv["model_recall"]).all()
    s = summary(table)
    # model version 4: the combined triage meets the target in cross-validation, on average and in the worst round
    assert s["min_combined_recall"] >= 0.9 and s["min_combined_precision"] >= 0.9, s
    assert s["mean_model_precision"] >= 0.9 and s["mean_model_recall"] >= 0.9, s


def test_auditors_see_no_message_text_and_the_public_counts_only(monkeypatch):
    from workbench.audience import WITHHELD, AudienceError, fit
    from workbench.incident import TAGS

    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")
    inbox = _inbox()
    ranked = rank_window(inbox, inbox["reported_at"].min(), inbox["reported_at"].max() + timedelta(seconds=1))
    rows = ranked.select("rank", "message_id", "reported_at", "probability", "rule", "explanation", "subject", "body")
    audited = fit(rows, "auditor", columns=TAGS)
    for column in ("explanation", "body"):
        assert set(audited[column].drop_nulls()) == {WITHHELD}, column
    assert audited["probability"].to_list() == rows["probability"].to_list()
    with pytest.raises(AudienceError):
        fit(rows, "public", columns=TAGS)
    counts = fit(ranked.group_by("candidate").len("n"), "public", columns=TAGS)
    assert counts["n"].sum() == ranked.height


def test_the_fast_score_dedupes_and_chunks_yet_equals_the_pipelines(monkeypatch):
    """Repeated texts are scored once and chunks run on two threads: each message still gets the Pipeline's probability."""
    from workbench.incident import triage_features

    monkeypatch.setattr(triage_features, "CHUNK", 7)
    corpus = training_corpus()
    bodies = corpus.head(25)["body"].to_list()
    # auto-replies repeat; an empty message and one of unknown words only score the intercept
    texts = model_text(
        pl.DataFrame(
            {"subject": [None] * 40, "body": bodies + bodies[:10] + ["", "qqq zzz", bodies[0], "", bodies[3]]},
            schema_overrides={"subject": pl.String},
        )
    )
    model = trained_model()
    linear = model.named_steps["model"]
    got = probabilities(model, texts)
    np.testing.assert_allclose(got, model.predict_proba(texts)[:, 1], atol=1e-12)
    one_thread = model.named_steps["features"].decision(
        texts, linear.coef_.ravel(), float(linear.intercept_[0]), threads=1
    )
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-one_thread)), atol=1e-15)
    assert got[0] == got[25] == got[37] and got[3] == got[39] and got[35] == got[38]
    assert len(set(got.round(6))) > 20  # the messages are told apart, not all given one score
