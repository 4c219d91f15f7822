"""Notebook 03 run headless with papermill: findings checked against the generator's truth."""

from __future__ import annotations

import json

import polars as pl
import pytest

from workbench.findings import load
from workbench.ingest import ingest
from workbench.reportset.build import external_references, render_html
from workbench.reportset.execution import NOTEBOOKS_DIR, execute
from workbench.values import format_value

NB = NOTEBOOKS_DIR / "03_queue_fairness.ipynb"
ISSUE_FINDINGS = {
    "allocations_replayed",
    "allocations_in_queue_order",
    "explained_deviations",
    "unexplained_deviations",
    "applicants_skipped",
    "queue_days_jumped_total",
    "caseworkers_flagged",
    "fake_profiles_suspected",
    "backdated_queue_dates",
}


def _values(out) -> dict:
    return {k: v["value"] for k, v in load(out).items()}


def _markdown(notebook) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join(
        "".join(o.get("data", {}).get("text/markdown", ""))
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
    )


@pytest.fixture(scope="module")
def run03(small_db, tmp_path_factory):
    """Notebook 03's folder in the small case's investigator set, rendered once per session (tests/reportkit.py)."""
    from reportkit import report_set

    return report_set(tmp_path_factory, small_db, "investigator") / NB.stem


def test_findings_match_the_planted_fraud(run03, small_case):
    f = _values(run03)
    assert ISSUE_FINDINGS <= set(f)
    contracts = small_case.evidence("contracts")
    fraud = small_case.truth("fraudulent_allocations")
    assert f["allocations_replayed"] == contracts.height
    assert f["allocations_in_queue_order"] + f["explained_deviations"] + f["unexplained_deviations"] == contracts.height
    assert f["unexplained_deviations"] == fraud.height
    assert f["explained_deviations"] >= small_case.truth("priority_allocations").height
    assert sorted(f["caseworkers_flagged"]) == sorted(small_case.truth("corrupt_handlers")["handler_id"].to_list())
    assert f["fake_profiles_suspected"] == small_case.truth("fake_profiles").height
    actions = small_case.evidence("handler_actions")
    changes = actions.filter(pl.col("action") == "queue_date_change")
    assert f["backdated_queue_dates"] == changes.filter(pl.col("new_value") < pl.col("old_value")).height > 0
    assert f["applicants_skipped"] >= f["unexplained_deviations"] and f["queue_days_jumped_total"] > 0
    assert f["p_floor"] < f["alpha"] == 0.01
    # the power statement names whom it covers: every caseworker not flagged, none too small here
    corrupt = small_case.truth("corrupt_handlers")["handler_id"].to_list()
    assert f["caseworkers_too_few_to_judge"] == 0 and f["caseworkers_too_few_named"] == []
    assert set(f["caseworkers_power_covers"]).isdisjoint(corrupt)
    assert len(f["caseworkers_power_covers"]) == f["caseworkers_tested"] - len(corrupt)
    assert 0 < f["detectable_fraud_percent"] <= f["mde_ceiling_percent"] == 20


def test_every_finding_names_its_query_and_the_text_is_bound_to_them(run03):
    for name, entry in load(run03).items():
        assert entry["description"] and entry["query"], name
    text = _markdown(run03 / NB.name)  # the investigator's executed copy: its own outputs
    f = _values(run03)
    assert "departed from it without one" in text and "Nothing was found" not in text
    assert f"{f['unexplained_deviations']} departed from it without one" in text


def test_a_no_fraud_case_says_plainly_that_nothing_was_found_and_what_it_could_have_seen(case_factory, tmp_path):
    case = case_factory(scale="small", seed=4, fraud=False)
    url = f"duckdb:///{tmp_path / 'case.duckdb'}"
    ingest(case.evidence_dir, url, progress=False)
    execute(
        NB,
        tmp_path / "03.ipynb",
        {"case_url": url, "audience": "investigator", "out_dir": str(tmp_path), "permutations": 5000},
    )
    f = _values(tmp_path)
    assert f["unexplained_deviations"] == 0 and f["caseworkers_flagged"] == []
    assert f["fake_profiles_suspected"] == 0 and f["backdated_queue_dates"] == 0
    assert f["explained_deviations"] >= case.truth("priority_allocations").height > 0
    text = _markdown(tmp_path / "03.ipynb")
    assert "**Nothing was found.**" in text
    percent = f["detectable_fraud_percent"]
    assert 0 < percent <= 20
    covered = ", ".join(str(h) for h in f["caseworkers_power_covers"])
    assert (
        f"For each of caseworkers {covered} (those not flagged with enough allocations to judge), selling "
        f"{format_value(percent, 'detectable_fraud_percent')} of their allocations out of queue order would have "
        "got them flagged" in text
    )


@pytest.mark.parametrize("audience", ["auditor", "public"])
def test_other_audiences_run_render_offline_and_hide_who(tiny_db, tiny_case, tmp_path, audience, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    execute(
        NB,
        tmp_path / "03.ipynb",
        {"case_url": tiny_db, "audience": audience, "out_dir": str(tmp_path), "permutations": 5000},
    )
    html = render_html(tmp_path / "03.ipynb", tmp_path / "03.html", audience=audience).read_text()
    assert external_references(html) == []
    f = _values(tmp_path)
    # the tiny case's corrupt caseworker handles their districts alone: no peers to compare, not flagged
    assert f["caseworkers_flagged"] == (0 if audience == "public" else [])
    assert f["caseworkers_without_peers"] == len(tiny_case.truth("corrupt_handlers"))
    text = _markdown(tmp_path / "03.ipynb")
    assert "no peers could be compared with them" in text
    # the tiny case's caseworkers either have no peers or too few allocations: no power claim at all
    assert f["caseworkers_power_covers"] == (0 if audience == "public" else [])
    assert f["caseworkers_too_few_to_judge"] >= 1 and "detectable_fraud_percent" not in f
    assert "The test cannot say how large a fraud it could have seen" in text
    assert "would have got them flagged with at least" not in text
    for name in tiny_case.evidence("handlers")["name"]:
        assert name not in html
    for email in tiny_case.evidence("applicants")["email"].head(200):
        assert email not in html
