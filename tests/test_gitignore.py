"""Outputs that hold personal data are ignored by git; the project's own files are not.

``git check-ignore --no-index`` judges a path by the rules alone, tracked or not, so a rule
that swallowed a committed file (a test CSV, a notebook) is caught as well.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What the workbench writes, or a newcomer would, with applicant ids, IPs and user agents inside.
PERSONAL = [
    "build/exports/sessions-0123abcd.csv",  # the query browser's default
    "build/demo/case/case.duckdb",
    "build/demo/reports/auditor/02_exposure_and_changes/tables/sessions.csv",
    "notebooks/exports/possibly_affected-0123abcd.csv",  # the old default: out_dir "." from notebooks/
    "notebooks/exports/possibly_affected-0123abcd.parquet",
    "exports/sessions-0123abcd.parquet",
    "cases/small/evidence/logins.parquet",
    "cases/small/case.db",
    "mycase/evidence/page_views.parquet",
    "notebooks/restore_list.csv",  # notebook 02 run in Lab with out_dir "."
    "notification_list.csv",
    "notebooks/findings.json",
    "reports/auditor/findings.json",
    "reports/auditor/report-set.json",
    "report-set.json",
    "reports/auditor/index.html",
    "my-report/00_case_overview/00_case_overview.html",
    "my-report/01_incident_reconstruction/01_incident_reconstruction.pdf",
    "runs/00_case_overview/00_case_overview.ipynb",  # `workbench run … --out runs/`
    "notebooks/10_explore.executed.ipynb",
    "10_explore.executed.ipynb",
]

# Files that belong in git and must stay visible to it.
KEPT = [
    "workbench/data/fault_reports_handwritten.csv",
    "tests/data/fault_reports_handwritten.csv",
    "tests/data/bad/latin1/listings.csv",
    "tests/data/bad/truncated_parquet/logins.parquet",
    "tests/data/notebooks/broken1.ipynb",
    "notebooks/10_explore.ipynb",
    "notebooks/11_new_notebook.ipynb",
    "tests/browser/screenshots/allocation-search.png",
]


def _ignored(paths: list[str]) -> dict[str, bool]:
    """Whether git's rules ignore each path (checked by the rules only, as if nothing were tracked)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    out = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "--verbose", "--non-matching", *paths],
        capture_output=True,
        text=True,
    )
    assert out.returncode in (0, 1), out.stderr
    # "<source>:<line>:<pattern>\t<path>"; the pattern is empty for a path no rule matches, and a
    # matching negation ("!…") means the path is kept.
    verdicts = {}
    for line in out.stdout.splitlines():
        rule, path = line.split("\t", 1)
        pattern = rule.split(":", 2)[2]
        verdicts[path] = bool(pattern) and not pattern.startswith("!")
    return verdicts


def test_outputs_with_personal_data_are_ignored():
    verdicts = _ignored(PERSONAL)
    assert [p for p in PERSONAL if not verdicts[p]] == []


def test_the_projects_own_files_are_not_ignored():
    verdicts = _ignored(KEPT)
    assert [p for p in KEPT if verdicts[p]] == []


def test_no_tracked_file_falls_under_an_ignore_rule():
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    files = tracked.stdout.splitlines()
    assert len(files) > 100
    verdicts = _ignored(files)
    assert [p for p in files if verdicts[p]] == []
