"""Notebook 00 run headless on the tiny case: findings checked against direct counts."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from workbench import evidence
from workbench.findings import load
from workbench.reportset.build import external_references, render_html
from workbench.reportset.execution import NOTEBOOKS_DIR, execute

NB = NOTEBOOKS_DIR / "00_case_overview.ipynb"


@pytest.fixture(scope="module")
def run00(tiny_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb00_out")
    execute(NB, out / "00.ipynb", {"case_url": str(tiny_db), "audience": "investigator", "out_dir": str(out)})
    return out


def test_findings_match_direct_counts_of_the_evidence(run00, tiny_case):
    f = {k: v["value"] for k, v in load(run00).items()}
    files = sorted(tiny_case.evidence_dir.iterdir())
    direct = {p.stem: pl.read_parquet(p).height for p in files}
    assert f["files_ingested"] == len(files) == len(evidence.TABLES)
    assert f["rows_read"] == sum(direct.values())
    assert f["rows_loaded"] + f["rows_quarantined"] == f["rows_read"]
    assert f["members"] == direct["applicants"]
    assert f["logins"] == direct["logins"] and f["page_views"] == direct["page_views"]
    assert f["support_messages"] == direct["support_messages"] and f["contracts"] == direct["contracts"]


def test_incident_times_match_the_evidence(run00, tiny_case):
    f = {k: v["value"] for k, v in load(run00).items()}
    actions = dict(tiny_case.evidence("incident_actions").select("action", "time").iter_rows())
    assert f["login_disabled_at"] == actions["login_disabled"].isoformat()
    assert f["fix_deployed_at"] == actions["fix_deployed"].isoformat()
    deployments = tiny_case.evidence("deployments")["time"]
    assert f["deployed_at"] == deployments.filter(deployments <= actions["login_disabled"]).max().isoformat()


def test_every_finding_names_its_query(run00):
    for name, entry in load(run00).items():
        assert entry["description"] and entry["query"], name


def test_manifest_hashes_shown_are_the_files_hashes(run00, tiny_case):
    html = render_html(run00 / "00.ipynb", run00 / "00.html", audience="investigator").read_text()
    assert external_references(html) == []
    for p in tiny_case.evidence_dir.iterdir():
        assert hashlib.sha256(p.read_bytes()).hexdigest()[:16] in html


@pytest.mark.parametrize("audience", ["auditor", "public"])
def test_other_audiences_render_offline_without_identifiers(tiny_db, tmp_path, audience, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    execute(NB, tmp_path / "00.ipynb", {"case_url": str(tiny_db), "audience": audience, "out_dir": str(tmp_path)})
    html = render_html(tmp_path / "00.ipynb", tmp_path / "00.html", audience=audience).read_text()
    assert external_references(html) == []
    assert "case = open_case(case_url)" not in html  # code is hidden
    assert load(tmp_path)["members"]["value"] > 5


def test_plain_papermill_cli_is_enough(tiny_db, tmp_path):
    """The issue's promise: `papermill NB out.ipynb -p case_url URL -p out_dir D`, then read D/findings.json."""
    import subprocess
    import sys
    from pathlib import Path

    from workbench.reportset.execution import ensure_kernel

    ensure_kernel()  # make install registers it; a bare pytest run may not have
    papermill = Path(sys.executable).with_name("papermill")
    done = subprocess.run(
        [
            str(papermill),
            str(NB),
            str(tmp_path / "out.ipynb"),
            "-p",
            "case_url",
            tiny_db,
            "-p",
            "out_dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert load(tmp_path)["files_ingested"]["value"] == len(evidence.TABLES)
