"""Missing evidence is unknown, never zero: drop each table in turn, run the report notebooks, check the findings.

Cost, measured on two cores: the tiny case ingests in about 0.4 s, and a report notebook
run in this process (tests/nbinprocess.py) takes 0.3-2 s, against 7-14 s each through a
kernel. All 15 tables x 4 notebooks would be about 60 s. So each table runs notebook 00
(it counts every table) and only the notebooks that read that table (:data:`READS`); for
the others a cheaper check stands in: none of their findings needs the table
(:mod:`workbench.needs`), and ``test_reads_cover_every_finding_that_needs_a_table`` fails if
one ever does, so a skipped notebook can never be one whose answers depend on the table.
That is 42 runs, about 40 s. The real kernel runs once per partial case, in
``test_report_builds_the_full_set_for_a_partial_case``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from nbinprocess import notebook_path, run_in_process

from workbench import evidence
from workbench.findings import load
from workbench.ingest import ingest
from workbench.needs import NEEDS, NEEDS_NOTHING, needs
from workbench.values import is_unknown

NOTEBOOKS = ("00", "01", "02", "03")
# The tables each report notebook reads (00 reads them all: it counts every table).
READS = {
    "00": set(evidence.TABLES),
    "01": {
        "deployments",
        "incident_actions",
        "logins",
        "logouts",
        "page_views",
        "profile_changes",
        "support_messages",
        "interests",
    },
    "02": {
        "deployments",
        "incident_actions",
        "logins",
        "logouts",
        "page_views",
        "profile_changes",
        "applicants",
        "listings",
        "interests",
        "offers",
    },
    "03": {
        "applicants",
        "fees",
        "listings",
        "interests",
        "offers",
        "contracts",
        "handlers",
        "handler_actions",
        "logins",
    },
}
PARAMETERS = {"03": {"permutations": 2000}}  # the tiny case's test is quick at any count; fewer is quicker
# Times that stay known when a clock cannot be estimated: they carry that clock's unknown uncertainty.
CLOCK_CARRIED = {
    "first_report_at": "time_to_detect_uncertainty_minutes",
    "first_report_local": "time_to_detect_uncertainty_minutes",
    "time_to_detect_hours": "time_to_detect_uncertainty_minutes",
    "time_to_contain_hours": "time_to_contain_uncertainty_minutes",
}
INCIDENT = ("deployments", "logins", "logouts", "page_views", "profile_changes", "support_messages", "incident_actions")
ALLOCATION = ("applicants", "fees", "listings", "interests", "offers", "contracts", "handlers", "handler_actions")
WORDS_NEVER_IN_PROSE = re.compile(r"\b(None|nan|NaN|null)\b")


def _case_without(source: Path, root: Path, dropped: set[str]) -> str:
    """Ingest the tiny case's evidence without the files of ``dropped`` (and without raw/, so no raw form stands in)."""
    folder = root / "evidence"
    folder.mkdir(parents=True)
    for path in source.iterdir():
        if path.stem not in dropped:
            shutil.copy(path, folder / path.name)
    url = f"sqlite:///{root / 'case.db'}"
    report = ingest(folder, url, progress=False)
    assert report.missing_tables == [t for t in evidence.TABLES if t in dropped]
    return url


def _run(url: str, out: Path, notebooks=NOTEBOOKS) -> dict[str, tuple[dict, str]]:
    runs = {}
    for nb in notebooks:
        folder = out / nb
        run = run_in_process(notebook_path(nb), {"case_url": url, "out_dir": str(folder), **PARAMETERS.get(nb, {})})
        runs[nb] = (load(folder), run.printed)
    return runs


@pytest.fixture(scope="module")
def full(tiny_case, tmp_path_factory):
    """Every report notebook on the whole tiny case: the values a dropped table may not turn into zeros."""
    root = tmp_path_factory.mktemp("full")
    return _run(_case_without(tiny_case.evidence_dir, root, set()), root)


def test_every_recorded_finding_declares_what_it_needs(full):
    recorded = {name for findings, _ in full.values() for name in findings}
    assert recorded - set(NEEDS) - NEEDS_NOTHING == set(), "declare these in workbench/needs.py"
    assert {name for findings, _ in full.values() for name, e in findings.items() if is_unknown(e["value"])} == set()


def test_reads_cover_every_finding_that_needs_a_table(full):
    for nb, (findings, _) in full.items():
        needed = {t for name in findings for t in needs(name)}
        assert needed <= READS[nb], (nb, needed - READS[nb])


# Counts of what the evidence cannot settle: less evidence can only raise them.
GROWS_WITH_DOUBT = {"sessions_unsettled"}


def _is_bounds(value) -> bool:
    return isinstance(value, dict) and {"min", "max"} <= set(value)


def _check(table: str, runs: dict, full: dict) -> None:
    for nb, (findings, text) in runs.items():
        assert not WORDS_NEVER_IN_PROSE.search(text), (nb, WORDS_NEVER_IN_PROSE.search(text))
        for name, entry in findings.items():
            value = entry["value"]
            if table in needs(name):
                assert is_unknown(value), f"{nb}: {name} needs {table} but reads {value!r}"
                assert table in value["unknown"], f"{nb}: {name}: the reason does not name {table}"
            elif not is_unknown(value) and name not in NEEDS_NOTHING:
                before = full[nb][0][name]["value"]
                if name in CLOCK_CARRIED and value != before:  # moved with a clock it could not be corrected by
                    assert is_unknown(findings[CLOCK_CARRIED[name]]["value"]), (nb, name)
                    continue
                if name in GROWS_WITH_DOUBT and value != before:  # counts what the evidence cannot settle
                    assert value >= before, (nb, name, before, value)
                    continue
                if _is_bounds(value) and _is_bounds(before) and value != before:
                    # Bounds may widen without the table (an honest "between"), never narrow or move off the truth.
                    assert value["min"] <= before["min"] and value["max"] >= before["max"], (nb, name, before, value)
                    continue
                assert value == before, f"{nb}: {name} changed from {before!r} to {value!r} without {table}"
        assert set(findings) == set(full[nb][0]), nb


@pytest.mark.parametrize("table", evidence.TABLES)
def test_a_case_missing_one_table_runs_and_says_unknown_not_zero(table, tiny_case, full, tmp_path):
    url = _case_without(tiny_case.evidence_dir, tmp_path, {table})
    runs = _run(url, tmp_path, [nb for nb in NOTEBOOKS if table in READS[nb]])
    assert "00" in runs
    _check(table, runs, full)
    assert runs["00"][0]["evidence_tables_absent"]["value"] == [table]
    assert f"**This case lacks evidence:** `{table}` (no file at ingest)" in runs["00"][1]


@pytest.mark.parametrize(("kept", "unanswered"), [(INCIDENT, "03"), (ALLOCATION, "01")])
def test_realistic_partial_cases_run_every_notebook(kept, unanswered, tiny_case, full, tmp_path):
    dropped = set(evidence.TABLES) - set(kept)
    runs = _run(_case_without(tiny_case.evidence_dir, tmp_path, dropped), tmp_path)
    for table in dropped:
        for nb, (findings, _) in runs.items():
            for name, entry in findings.items():
                if table in needs(name):
                    assert is_unknown(entry["value"]) and table in entry["value"]["unknown"], (nb, name)
    # the notebook whose question needs only the dropped evidence answers nothing but its parameters and scores
    findings, text = runs[unanswered]
    known = {n for n, e in findings.items() if not is_unknown(e["value"])}
    assert known <= NEEDS_NOTHING, known - NEEDS_NOTHING
    assert "Unknown here because the case has no" in text
    for nb, (_, text) in runs.items():
        assert not WORDS_NEVER_IN_PROSE.search(text), (nb, WORDS_NEVER_IN_PROSE.search(text))


@pytest.mark.parametrize("kept", [INCIDENT, ALLOCATION], ids=["incident_only", "allocation_only"])
def test_report_builds_the_full_set_for_a_partial_case(kept, tiny_case, tmp_path):
    """``workbench report`` on a partial case: every notebook through a real kernel, and an index of what it could not answer."""
    from reportkit import pseudonym_key

    from workbench.reportset.build import build_report
    from workbench.reportset.contents import load_set

    url = _case_without(tiny_case.evidence_dir, tmp_path / "case", set(evidence.TABLES) - set(kept))
    with pseudonym_key():
        build_report(url, "investigator", tmp_path / "reports", parameters={"permutations": 2000})
    record = load_set(tmp_path / "reports")
    assert [r["notebook"][:2] for r in record["reports"]] == list(NOTEBOOKS)
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Questions this case could not answer" in index
    missing = "contracts" if kept == INCIDENT else "support_messages"
    assert f"the case has no {missing}" in index or f", {missing}" in index
