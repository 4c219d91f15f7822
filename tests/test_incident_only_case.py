"""The hand-written incident-only case (tests/incident_only_kit.py): every report notebook, answers asserted exactly.

No generator is involved: the answers below were worked out from the rows in the kit.
"""

from __future__ import annotations

import re

import pytest
from incident_only_kit import INCIDENT_TABLES, write
from nbinprocess import notebook_path, run_in_process

from workbench import evidence
from workbench.findings import load
from workbench.ingest import ingest
from workbench.queries.absence import absent

NOT_INCIDENT = [t for t in evidence.TABLES if t not in INCIDENT_TABLES]
MAIL_CLOCK = "no web-form message could be paired with the contact-form request in its sender's session"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("incident_only")
    url = f"sqlite:///{root / 'case.db'}"
    report = ingest(write(root / "evidence"), url, progress=False)
    assert report.missing_tables == NOT_INCIDENT
    out = {}
    for nb in ("00", "01", "02", "03"):
        folder = root / nb
        run = run_in_process(notebook_path(nb), {"case_url": url, "out_dir": str(folder)})
        out[nb] = ({k: v["value"] for k, v in load(folder).items()}, run.printed)
    out["url"] = url
    return out


def test_the_manifest_records_the_queue_evidence_as_absent(runs):
    assert absent(runs["url"]) == dict.fromkeys(NOT_INCIDENT, "no file at ingest")
    f, text = runs["00"]
    assert f["evidence_tables_absent"] == NOT_INCIDENT
    assert f["logins"] == 3 and f["page_views"] == 4 and f["support_messages"] == 1
    assert f["members"] == {"unknown": "the case has no applicants evidence: no file at ingest"}
    assert f["contracts"] == {"unknown": "the case has no contracts evidence: no file at ingest"}
    assert "**This case lacks evidence:** `applicants` (no file at ingest)" in text


def test_incident_answers_are_exact_and_the_mail_clock_is_unknown_not_zero(runs):
    f, text = runs["01"]
    assert f["sessions_mismatched"] == 1 and f["exposures_actual"] == 1
    assert f["onset_at"] == "2013-12-13T18:05:00+00:00"
    assert f["people_possibly_affected"] == 3 and f["fault_reports"] == 1
    assert f["logins_with_another_session_open"] == 1 and f["binding_rate_percent"] == 100.0
    # no web-form message: the mail clock is unknown, its pairs are a true 0
    assert f["mail_clock_pairs"] == 0
    assert MAIL_CLOCK in f["mail_clock_offset_seconds"]["unknown"]
    assert MAIL_CLOCK in f["mail_clock_uncertainty_seconds"]["unknown"]
    # the report's time stays on the mail clock, and every time built on it has an unknown uncertainty
    assert f["first_report_at"] == "2013-12-14T08:00:00+00:00"
    assert f["time_to_detect_hours"] == 13.92 and f["time_to_contain_hours"] == 47.0
    assert f["onset_to_fix_hours"] == 110.92
    assert MAIL_CLOCK in f["time_to_detect_uncertainty_minutes"]["unknown"]
    assert MAIL_CLOCK in f["time_to_contain_uncertainty_minutes"]["unknown"]
    # onset to fix is on the web and incident-log clocks: no mail clock in its reason
    assert "incident log" in f["onset_to_fix_uncertainty_minutes"]["unknown"]
    assert MAIL_CLOCK not in f["onset_to_fix_uncertainty_minutes"]["unknown"]
    assert "The mail server's clock cannot be estimated" in text
    assert "(± unknown)" in text
    assert "0 min" not in text


def test_exposure_answers_what_the_web_log_can_and_names_what_it_cannot(runs):
    f, text = runs["02"]
    assert f["sessions_bound"] == 1 and f["window_sessions"] == 3
    assert f["accounts_exposed"] == {"min": 1, "likely": 1, "max": 1}
    assert f["pages_shown_to_others"] == {"min": 2, "likely": 2, "max": 2}  # bounds since mid-session swaps
    assert f["field_changes_by_others"] == 1 and f["accounts_changed_by_others"] == 1
    assert f["field_changes_to_restore"] == 1 and f["restore_conflicts"] == 0
    assert f["co_applicants_exposed"] == {"unknown": "the case has no applicants evidence: no file at ingest"}
    assert f["interests_registered_by_others"] == {"unknown": "the case has no interests evidence: no file at ingest"}
    assert f["notifications"] == {
        "unknown": "the case has no applicants, interests or offers evidence: no file at ingest"
    }
    assert "Unknown here because the case has no applicants evidence: no file at ingest." in text


def test_queue_fairness_says_it_cannot_be_answered(runs):
    f, text = runs["03"]
    for name in ("allocations_replayed", "unexplained_deviations", "caseworkers_flagged", "p_floor"):
        assert "contracts" in f[name]["unknown"], name
    assert f["alpha"] == 0.01 and f["permutations"] == 20000  # parameters stay known
    assert "cannot be answered from this case" in text
    assert "Nothing was found" not in text and "No caseworker was flagged" not in text


def test_no_prose_prints_none_nan_or_null(runs):
    for nb in ("00", "01", "02", "03"):
        _, text = runs[nb]
        assert not re.search(r"\b(None|nan|NaN|null)\b", text), (nb, text)
