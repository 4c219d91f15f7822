"""The case-evidence weights: fitted on the generated cases' windows, deterministic, and refitted with a reviewer's labels."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from triagekit import ALVA, DAVID, write_case

from workbench.case import open_case
from workbench.errors import WorkbenchError
from workbench.incident import reconstruct_incident
from workbench.incident.triage_review import case_training_rows_from, refit_case_weights, review_window
from workbench.incident.triage_weights import (
    CASE_FEATURES,
    case_training_rows,
    fit_case_weights,
    shipped_case_weights,
)
from workbench.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "workbench" / "data" / "triage_case_training.csv"


def _check_rows(name: str, case_fixture, url: str) -> None:
    truth = case_fixture.truth("fault_reports")["message_id"].to_list()
    with open_case(url) as case:
        incident = reconstruct_incident(case)
        now = case_training_rows_from(
            name, case, incident.inbox, incident.window["start"], incident.window["end"], truth
        )
    shipped = case_training_rows()
    if os.environ.get("WORKBENCH_UPDATE_VALIDATION") == "1":
        pl.concat([shipped.filter(pl.col("case") != name), now]).sort(
            "case", "message_id", descending=[True, False]
        ).write_csv(SHIPPED)
        shipped = case_training_rows()
    mine = shipped.filter(pl.col("case") == name)
    assert mine.drop("text_logit").equals(now.drop("text_logit")), "stale: rerun with WORKBENCH_UPDATE_VALIDATION=1"
    assert (mine["text_logit"] - now["text_logit"]).abs().max() < 1e-4
    # every report of the window is in the rows, labelled from the generator's truth
    assert set(mine.filter(pl.col("label") == 1)["message_id"]) <= set(truth) and mine["label"].sum() >= 1


def test_the_shipped_rows_are_the_tiny_cases_window(tiny_case, tiny_db):
    _check_rows("generated tiny, seed 1", tiny_case, tiny_db)


@pytest.mark.slow
def test_the_shipped_rows_are_the_small_cases_window(small_case, small_db):
    _check_rows("generated small, seed 1", small_case, small_db)


def test_the_weights_are_fitted_deterministically_and_say_what_the_truth_says():
    rows = case_training_rows()
    first, again = fit_case_weights(), fit_case_weights()
    assert first == again == shipped_case_weights()
    assert first.messages == rows.height and first.reports == rows["label"].sum()
    # in the generated windows, being bound, naming the account and a changed field go with reports
    for f in ("bound", "names_account", "changed_field"):
        reports = rows.filter(pl.col(f))["label"].mean()
        assert reports > rows["label"].mean() and first.weights[f] > 0, (f, first)
    # no generated message names another member: nothing to learn, so the penalty keeps that weight at 0
    assert not rows["names_member"].any() and first.weights["names_member"] == 0
    assert f"fitted on {rows.height} messages" in first.describe()


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory):
    root = tmp_path_factory.mktemp("triage_weights")
    write_case(root / "evidence")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(root / "evidence", url, progress=False)
    with open_case(url) as case:
        incident = reconstruct_incident(case)
        yield review_window(case, incident.inbox, incident.window["start"], incident.window["end"])


def test_the_fitted_weights_rank_a_bound_senders_vague_message_above_an_unbound_senders(handwritten):
    ranked = {r["message_id"]: r for r in handwritten.iter_rows(named=True)}
    alva, david = ranked["<t-alva-vague@x>"], ranked["<t-david-vague@x>"]
    assert alva["sender_id"] == ALVA and alva["bound_account_id"] is not None
    assert david["sender_id"] == DAVID and david["bound_account_id"] is None
    # the text alone cannot tell them apart and David's came first; the fitted weight of being bound lifts Alva's
    assert david["probability"] == alva["probability"] and david["reported_at"] < alva["reported_at"]
    assert alva["evidence_weight"] == shipped_case_weights().weights["bound"] > 0
    assert alva["score"] > david["score"] == david["probability"]
    assert alva["rank"] < david["rank"]
    assert alva["evidence"].startswith("sender's session showed account")  # the reason is still shown


def _labelled(ranked: pl.DataFrame, tags: dict[str, str]) -> pl.DataFrame:
    return ranked.with_columns(set_by_hand=pl.col("message_id").replace_strict(tags, default=None))


def test_retrain_changes_the_weights_when_the_labels_contradict_them(handwritten):
    shipped = shipped_case_weights()
    bound = handwritten.filter(pl.col("bound_account_id").is_not_null())["message_id"].to_list()
    assert len(bound) >= 3
    # a reviewer rejects every message from the bound sender: being bound then counts for less
    against = refit_case_weights(_labelled(handwritten, dict.fromkeys(bound, "false-positive")))
    assert against.labels == len(bound) and against.weights["bound"] < shipped.weights["bound"]
    # one of them also names the account: what a bound message naming the account adds falls too
    # (how the fit splits that between the two weights depends on the shipped rows)
    both = ("bound", "names_account")
    assert sum(against.weights[f] for f in both) < sum(shipped.weights[f] for f in both)
    # confirming them says the opposite
    agree = refit_case_weights(_labelled(handwritten, dict.fromkeys(bound, "confirmed")))
    assert agree.weights["bound"] > shipped.weights["bound"]
    # a label on a message the case says nothing about leaves the evidence weights nearly where they were
    plain = handwritten.filter(pl.col("evidence").is_null())["message_id"][0]
    quiet = refit_case_weights(_labelled(handwritten, {plain: "confirmed"}))
    assert quiet.weights == pytest.approx(shipped.weights, abs=0.05)
    assert set(quiet.weights) == set(CASE_FEATURES) and "1 reviewer label" in quiet.describe()


def test_a_bad_label_or_weight_is_refused():
    labels = pl.DataFrame(
        {
            "probability": [0.5],
            "label": [2],
            "bound_account_id": [1],
            "names_account": [False],
            "names_member": [False],
            "changed_field": [None],
        },
        schema_overrides={"changed_field": pl.String},
    )
    with pytest.raises(WorkbenchError, match="label is 1"):
        fit_case_weights(labels)
    with pytest.raises(WorkbenchError, match="must be positive"):
        fit_case_weights(labels.with_columns(label=pl.lit(1)), label_weight=0)
    with pytest.raises(WorkbenchError, match="not joined"):
        fit_case_weights(labels.drop("names_member").with_columns(label=pl.lit(1)))
