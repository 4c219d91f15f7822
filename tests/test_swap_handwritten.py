"""Notebooks 01 and 02 on incident cases written row by row (tests/swapkit.py), not generated.

A session swapped in mid-session: the onset is its first foreign page (11:05 CET), not its
login (10:40 CET); time to detect counts from there; the at-risk rate counts the same logins
above and below its line; the pages shown to another person are exactly the three that name
the foreign account. Two honest concurrent sessions of one person are not a swap.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from swapkit import ALVA_LOGIN, MAIL_OFFSET_S, REPORT_RECEIVED, SWAP_AT, write_case

from workbench.case import open_case
from workbench.exposure import review_exposure
from workbench.findings import load
from workbench.incident import reconstruct_incident
from workbench.ingest import ingest
from workbench.reportset.execution import NOTEBOOKS_DIR, Job, execute_many


def _ingested(name: str, tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp(name)
    write_case(name, root / "evidence")
    url = f"sqlite:///{root / 'case.db'}"
    ingest(root / "evidence", url, progress=False)
    return url


@pytest.fixture(scope="module")
def midsession(tmp_path_factory):
    """Notebooks 01 and 02 run headless on the mid-session swap: findings and the text they said.

    The two run at once, each in its own process and kernel as ``workbench run`` runs them
    (``execute_many``): a kernel spends seconds starting, and the other core is idle meanwhile.
    """
    url = _ingested("midsession_swap", tmp_path_factory)
    out = tmp_path_factory.mktemp("midsession_out")
    notebooks = ("01_incident_reconstruction.ipynb", "02_exposure_and_changes.ipynb")
    jobs = [
        Job(
            NOTEBOOKS_DIR / nb,
            out / nb[:2] / nb,
            {"case_url": url, "audience": "investigator", "out_dir": str(out / nb[:2])},
        )
        for nb in notebooks
    ]
    execute_many(jobs, workers=2)
    text = "".join(json.dumps(json.loads(job.output.read_text())["cells"]) for job in jobs)
    findings = {k: v["value"] for job in jobs for k, v in load(job.output.parent).items()}
    return findings, text


def test_the_onset_is_the_first_foreign_page_not_the_login(midsession):
    f, text = midsession
    assert f["sessions_mismatched"] == 1
    assert datetime.fromisoformat(f["onset_at"]) == SWAP_AT
    assert f["onset_local"] == "Sat 14 Dec 2013 11:05"
    assert f["onset_login_local"] == "Sat 14 Dec 2013 10:40"
    assert f["onset_minutes_after_login"] == (SWAP_AT - ALVA_LOGIN).total_seconds() / 60 == 25.0
    assert "The first was bound at login" not in text
    assert "Sat 14 Dec 2013 11:05" in text and "Sat 14 Dec 2013 10:40" in text


def test_time_to_detect_starts_at_the_first_foreign_page(midsession):
    f, _ = midsession
    assert f["mail_clock_offset_seconds"] == MAIL_OFFSET_S
    reported = REPORT_RECEIVED.timestamp() - MAIL_OFFSET_S  # 12:58 UTC on the web clock
    assert f["time_to_detect_hours"] == round((reported - SWAP_AT.timestamp()) / 3600, 2) == 2.88
    assert f["first_report_local"] == "Sat 14 Dec 2013 13:58"


def test_the_at_risk_rate_counts_the_same_logins_above_and_below_its_line(midsession):
    f, _ = midsession
    # Alva (10:40) and Cecilia (10:55) logged in beside another member's open session; only
    # Alva's session showed another account. Bo (10:30) and David (12:00) found none open.
    assert f["logins_with_another_session_open"] == 2
    assert f["logins_at_risk_bound"] == 1
    assert f["binding_rate_percent"] == 50.0
    assert f["mismatched_without_open_session"] == 0
    assert f["smoke_test_pairs_needed"] == 5  # 0.5 ** 5 <= 5 % < 0.5 ** 4


def test_pages_shown_to_others_are_the_three_that_name_the_foreign_account(midsession):
    f, _ = midsession
    assert f["pages_shown_to_others"] == {"min": 3, "likely": 3, "max": 3}
    assert f["accounts_exposed"] == {"min": 1, "likely": 1, "max": 1}
    assert f["people_put_into_others_accounts"] == {"min": 1, "likely": 1, "max": 1}
    assert (f["sessions_bound"], f["bindings_unexplained"], f["sessions_unsettled"]) == (1, 0, 0)


def test_a_swap_with_no_other_session_open_at_login_is_outside_the_rate(tmp_path_factory):
    with open_case(_ingested("swap_without_open_session", tmp_path_factory)) as case:
        incident = reconstruct_incident(case)
        review = review_exposure(case)
    # At risk: Bo (Alva's session open) and Cecilia; neither was bound. Alva was bound, but
    # nobody else was logged in when she logged in: she is counted beside the rate, not in it.
    assert incident.binding_rate["logins_at_risk"] == 2
    assert incident.binding_rate["mismatched"] == 0 and incident.binding_rate["rate"] == 0.0
    assert incident.binding_rate["mismatched_not_at_risk"] == 1
    assert incident.onset_at == SWAP_AT
    assert review.binding.unexplained["session_id"].to_list() == ["s-alva"]


def test_two_concurrent_sessions_of_one_person_are_not_a_swap(tmp_path_factory):
    with open_case(_ingested("one_person_two_sessions", tmp_path_factory)) as case:
        incident = reconstruct_incident(case)
        review = review_exposure(case)
    assert incident.mismatched.height == 0 and incident.onset_at is None
    assert incident.binding_rate["logins_at_risk"] == 0  # his own open session puts no login at risk
    assert incident.binding_rate["mismatched"] == incident.binding_rate["mismatched_not_at_risk"] == 0
    assert set(review.binding.sessions["status"]) == {"own"}
    for name in ("people_in_bound_sessions", "accounts_bound_to_others", "accounts_exposed", "pages_shown_to_others"):
        b = review.bounds[name]
        assert (b.min, b.likely, b.max) == (0, 0, 0), name
    assert review.bounds["people_possibly_affected"].likely == 2
