"""Notebook 01 run headless on the tiny case; its findings.json checked against truth."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import polars as pl
import pytest

from workbench.findings import load
from workbench.incident.classify import evaluate, handwritten_corpus
from workbench.reportset.build import external_references, render_html
from workbench.reportset.execution import NOTEBOOKS_DIR, execute, notebook_parameters

NB = NOTEBOOKS_DIR / "01_incident_reconstruction.ipynb"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def findings(tiny_duckdb, tmp_path_factory):
    """Notebook 01's findings in the tiny case's investigator set, rendered once per session (tests/reportkit.py)."""
    from reportkit import report_set

    out = report_set(tmp_path_factory, tiny_duckdb, "investigator") / NB.stem
    return {k: v["value"] for k, v in load(out).items()}, load(out)


@pytest.fixture(scope="module")
def truth(tiny_case):
    logins = tiny_case.evidence("logins").select("session_id", login_at="time")
    swapped = tiny_case.truth("swapped_sessions").join(logins, on="session_id")
    offset = dict(tiny_case.truth("clock_offsets").iter_rows())["mail"]
    reports = (
        tiny_case.evidence("support_messages")
        .join(tiny_case.truth("fault_reports"), on="message_id")
        .with_columns(web=pl.col("received_at") - timedelta(seconds=offset))
        .sort("web")
    )
    return {"swapped": swapped, "reports": reports}


def test_parameters_are_exactly_those_of_the_issue():
    assert list(notebook_parameters(NB)) == [
        "case_url",
        "audience",
        "language",
        "out_dir",
        "timezone",
        "idle_timeout_minutes",
        "on_call_delay_hours",
        "extra_report_phrases",
        "notes_url",
    ]


def test_mismatches_and_onset_match_truth(findings, truth):
    f, _ = findings
    assert f["sessions_mismatched"] == truth["swapped"].height
    assert _t(f["onset_at"]) == truth["swapped"]["bound_at"].min()


def test_fault_reports_and_first_report_match_truth(findings, truth):
    f, _ = findings
    assert f["fault_reports"] == truth["reports"].height
    first = truth["reports"]["web"][0]
    assert abs((_t(f["first_report_at"]) - first).total_seconds()) <= f["mail_clock_uncertainty_seconds"]


def test_incident_times_and_response_times(findings, tiny_case, truth):
    f, _ = findings
    actions = dict(tiny_case.evidence("incident_actions").select("action", "time").iter_rows())
    assert _t(f["login_disabled_at"]) == actions["login_disabled"]
    assert _t(f["fix_deployed_at"]) == actions["fix_deployed"]
    assert _t(f["login_enabled_at"]) == actions["login_enabled"]
    onset, first = truth["swapped"]["bound_at"].min(), truth["reports"]["web"][0]
    assert f["time_to_detect_hours"] == pytest.approx((first - onset).total_seconds() / 3600, abs=0.01)
    assert f["time_to_contain_hours"] == pytest.approx(
        (actions["login_disabled"] - first).total_seconds() / 3600, abs=0.01
    )
    assert f["onset_local"].startswith("Fri 13 Dec 2013")


def test_possibly_affected_is_a_direct_count(findings, tiny_case):
    f, _ = findings
    logins = tiny_case.evidence("logins").filter(
        (pl.col("time") >= _t(f["deployed_at"])) & (pl.col("time") < _t(f["fix_deployed_at"]))
    )
    assert f["people_possibly_affected"] == logins["applicant_id"].n_unique()


def test_on_call_savings_match_truth(findings, truth):
    f, _ = findings
    swapped = truth["swapped"]
    t = truth["reports"]["web"][0] + timedelta(hours=1)
    total = swapped["bound_account_id"].n_unique()
    assert f["exposures_actual"] == total
    # Disabling login at t spares the sessions that would have logged in from t on.
    assert (
        f["exposures_avoidable_with_on_call"]
        == total - swapped.filter(pl.col("login_at") < t)["bound_account_id"].n_unique()
    )
    assert f["exposures_avoidable_with_on_call"] > 0


def test_classifier_scores_are_reported(findings):
    f, _ = findings
    heldout = evaluate(handwritten_corpus())
    assert f["fault_report_recall_handwritten"] == round(heldout["recall"], 4)
    assert f["fault_report_precision_handwritten"] == round(heldout["precision"], 4)
    assert f["fault_report_precision_generated"] >= 0.95 and f["fault_report_recall_generated"] >= 0.95
    assert f["validation_is_current"] is True


def test_every_finding_is_described_and_named_figures_name_their_query(findings):
    _, raw = findings
    for name in (
        "deployed_at",
        "onset_at",
        "first_report_at",
        "login_disabled_at",
        "fix_deployed_at",
        "time_to_detect_hours",
        "time_to_contain_hours",
        "sessions_mismatched",
        "people_possibly_affected",
        "fault_reports",
        "exposures_avoidable_with_on_call",
    ):
        assert raw[name]["description"] and raw[name]["query"], name


def test_public_report_has_no_per_person_rows(tiny_db, tiny_case, tmp_path):
    execute(NB, tmp_path / "01.ipynb", {"case_url": str(tiny_db), "audience": "public", "out_dir": str(tmp_path)})
    f = {k: v["value"] for k, v in load(tmp_path).items()}
    # Incident-wide totals are shown exactly (docs/disclosure.md), small or not.
    assert isinstance(f["fault_reports"], int) and f["sessions_mismatched"] > 5
    html = render_html(tmp_path / "01.ipynb", tmp_path / "01.html", audience="public").read_text()
    assert external_references(html) == []
    assert "per-person rows are not shown in the public report" in html
    swapped = tiny_case.truth("swapped_sessions")
    people = {str(v) for v in swapped["authenticated_applicant_id"].to_list() + swapped["bound_account_id"].to_list()}
    assert not people & set(re.findall(r"\b\d{7}\b", html))
    assert not set(swapped["session_id"]) & set(re.findall(r"[0-9a-f]{32}", html))


def test_unclassified_mail_is_every_other_message_in_the_window(findings, tiny_case):
    f, _ = findings
    offset = dict(tiny_case.truth("clock_offsets").iter_rows())["mail"]
    start, end = _t(f["deployed_at"]), _t(f["login_disabled_at"])
    inbox = tiny_case.evidence("support_messages").with_columns(web=pl.col("received_at") - timedelta(seconds=offset))
    in_window = inbox.filter((pl.col("web") >= start) & (pl.col("web") < end))
    other = in_window.join(tiny_case.truth("fault_reports"), on="message_id", how="anti")
    assert f["messages_not_classified_in_window"] == other.height > 0
