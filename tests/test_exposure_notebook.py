"""Notebook 02 run headless on the tiny case: findings checked against truth, exports and audiences."""

from __future__ import annotations

import re
import string
from datetime import datetime

import polars as pl
import pytest

from workbench.exposure.changes import RESTORE_ACTIONS
from workbench.exposure.notify import ART33_TEMPLATE
from workbench.findings import load
from workbench.reportset.build import external_references, render_html
from workbench.reportset.execution import NOTEBOOKS_DIR, execute, notebook_parameters

NB = NOTEBOOKS_DIR / "02_exposure_and_changes.ipynb"
KEY = "test-key-0123456789abcdef"


def _exact(value, truth):
    assert value == {"min": truth, "likely": truth, "max": truth}


@pytest.fixture(scope="module")
def run02(tiny_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb02_out")
    execute(NB, out / "02.ipynb", {"case_url": str(tiny_db), "audience": "investigator", "out_dir": str(out)})
    return out


def test_parameters_are_the_documented_ones():
    assert set(notebook_parameters(NB)) == {
        "case_url",
        "audience",
        "language",
        "out_dir",
        "timezone",
        "idle_timeout_minutes",
        "notes_url",
    }


def test_findings_match_truth(run02, tiny_case):
    f = {k: v["value"] for k, v in load(run02).items()}
    swapped = tiny_case.truth("swapped_sessions")
    unauthorized = tiny_case.truth("unauthorized_changes")
    _exact(f["accounts_bound_to_others"], swapped["bound_account_id"].n_unique())
    _exact(f["people_put_into_others_accounts"], swapped["authenticated_applicant_id"].n_unique())
    _exact(f["accounts_exposed"], swapped["bound_account_id"].n_unique())
    assert f["people_who_changed_others_data"] == unauthorized["actor_applicant_id"].n_unique()
    assert f["accounts_changed_by_others"] == unauthorized["owner_account_id"].n_unique()
    assert f["field_changes_by_others"] == unauthorized.height
    assert f["allocation_affected"] == tiny_case.truth("allocation_touched").height
    assert f["allocation_claim"] == "does not hold" and f["allocation_possibly_affected"] == 0
    assert f["sessions_bound"] == swapped.height and f["bindings_unexplained"] == 0
    assert f["page_log_gaps"] == "none detected" and f["sessions_unsettled"] == 0
    start, end = (datetime.fromisoformat(f[k]) for k in ("deployed_at", "fix_deployed_at"))
    logins = tiny_case.evidence("logins").filter((pl.col("time") >= start) & (pl.col("time") < end))
    assert f["people_possibly_affected"] == logins["applicant_id"].n_unique()
    assert f["people_who_made_changes"] >= f["people_who_changed_others_data"]
    assert f["restore_conflicts"] + f["fields_restored_by_owner"] >= 1  # the generator plants owners changing back


def test_every_finding_names_its_query_and_the_art33_summary_is_bound_to_findings(run02):
    found = load(run02)
    for name, entry in found.items():
        assert entry["description"] and entry["query"], name
    placeholders = {field for _, field, _, _ in string.Formatter().parse(ART33_TEMPLATE) if field}
    assert placeholders <= set(found)


def test_exports_for_investigators(run02, tiny_case):
    restore = pl.read_csv(run02 / "restore_list.csv", infer_schema_length=0)
    found = load(run02)
    by_action = dict(restore.group_by("action").len().iter_rows())
    figures = ("field_changes_to_restore", "fields_restored_by_owner", "restore_conflicts")
    assert [by_action.get(a, 0) for a in RESTORE_ACTIONS] == [found[n]["value"] for n in figures]
    assert restore.height == sum(found[n]["value"] for n in figures)
    notices = pl.read_csv(run02 / "notification_list.csv", infer_schema_length=0)
    assert (
        notices.height == load(run02)["notifications"]["value"] and notices["personnummer"].n_unique() == notices.height
    )
    owners = {str(a) for a in tiny_case.truth("unauthorized_changes")["owner_account_id"]}
    assert owners <= set(notices["applicant_id"].drop_nulls())


def test_public_report_has_no_exports_and_no_identifiers(tiny_db, tiny_case, tmp_path):
    execute(NB, tmp_path / "02.ipynb", {"case_url": str(tiny_db), "audience": "public", "out_dir": str(tmp_path)})
    assert not list(tmp_path.glob("*.csv"))
    html = render_html(tmp_path / "02.ipynb", tmp_path / "02.html", audience="public").read_text()
    assert external_references(html) == []
    applicants = tiny_case.evidence("applicants")
    # Identifiers written as the page would print them: customer numbers in cells, names, personnummer.
    numbers = set(re.findall(r">\s*(\d[\d\u202f]{6,})\s*<", html))
    ids = {f"{a:,}".replace(",", "\u202f") for a in applicants["applicant_id"]} | {
        str(a) for a in applicants["applicant_id"]
    }
    assert not numbers & ids
    for column in ("personnummer", "name", "email", "co_applicant_personnummer"):
        leaked = [v for v in applicants[column].drop_nulls().to_list() if v in html]
        assert not leaked, (column, leaked[:3])
    # A breakdown by protected identity: 0 stays 0, 1 to 4 is "1–4", never "<5".
    shown = load(tmp_path)["protected_identity_exposed"]["value"]
    assert all(v == 0 or v == "1–4" or (isinstance(v, int) and v >= 5) for v in shown.values()), shown


def test_auditor_exports_are_pseudonymised(tiny_db, tiny_case, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    execute(NB, tmp_path / "02.ipynb", {"case_url": str(tiny_db), "audience": "auditor", "out_dir": str(tmp_path)})
    restore = pl.read_csv(tmp_path / "restore_list.csv", infer_schema_length=0)
    assert restore["account_id"].str.starts_with("P-").all()
    assert (restore["restore_value"] == "[withheld]").all()
    notices = pl.read_csv(tmp_path / "notification_list.csv", infer_schema_length=0)
    assert notices["personnummer"].str.starts_with("N-").all()
    assert notices["email"].drop_nulls().str.starts_with("E-").all()
