"""One case per report set: a case re-ingested during `workbench report` stops the run, and verify fails a mixed set.

The re-ingest is real (the tiny case without fraud ingested into the same case path): once
between two notebooks, from the progress hook `report` calls as each report is done, and once
from inside a running notebook. `report` holds the case lock shared, so a workbench ingest is
refused outright (tested first); the re-ingests below switch the lock off, standing for a
writer that takes none, so that the fingerprint check alone must catch them. A mixed set, as
a workbench without the check made it, is put together from two real sets.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.reportset.build import build_report
from workbench.reportset.contents import hash_tree
from workbench.reportset.execution import NotebookError

DATA = Path(__file__).parent / "data" / "notebooks"
REINGESTS = DATA / "reingests_the_case_while_running.ipynb"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> tuple[Path, Path]:
    """Two cheap report notebooks, ``first_report`` and ``second_report`` (both the two-charts fixture)."""
    folder = tmp_path_factory.mktemp("notebooks")
    for name in ("first_report", "second_report"):
        shutil.copy(DATA / "two_charts.ipynb", folder / f"{name}.ipynb")
    return folder / "first_report.ipynb", folder / "second_report.ipynb"


def _ingested(evidence: Path, db: Path) -> str:
    from workbench.ingest import ingest

    url = f"sqlite:///{db}"
    ingest(evidence, url, progress=False)
    return url


def _digest(url: str) -> str:
    from workbench.reportset.fingerprint import case_digest

    return case_digest(url)


def test_an_ingest_while_a_report_runs_is_refused_and_the_case_stays(tiny_case, tiny_case_no_fraud, reports, tmp_path):
    from workbench.caselock import CaseLockedError
    from workbench.ingest import ingest

    url = _ingested(tiny_case.evidence_dir, tmp_path / "case.db")
    before = _digest(url)
    refused: list[str] = []

    def reingest(_text: str) -> None:  # told as each report (and the leak scan) is done, while report holds the case
        with pytest.raises(CaseLockedError) as caught:
            ingest(tiny_case_no_fraud.evidence_dir, url, progress=False)
        refused.append(str(caught.value))

    index = build_report(url, "public", tmp_path / "set", notebooks=[str(nb) for nb in reports], progress=reingest)
    assert index.is_file()
    assert len(refused) >= 2 and "in use by a reader" in refused[0] and "cannot ingest case" in refused[0]
    assert _digest(url) == before
    assert json.loads((tmp_path / "set" / "report-set.json").read_text())["status"] == "complete"


def test_report_stops_when_the_case_is_reingested_between_notebooks(
    tiny_case, tiny_case_no_fraud, reports, tmp_path, monkeypatch
):
    import contextlib

    import workbench.ingest.pipeline
    from workbench.ingest import ingest

    monkeypatch.setattr(workbench.ingest.pipeline, "CaseLock", lambda *a, **k: contextlib.nullcontext())
    url = _ingested(tiny_case.evidence_dir, tmp_path / "case.db")
    before = _digest(url)
    out = tmp_path / "set"

    def reingest(_text: str) -> None:  # told as each report is done: the first one, here
        ingest(tiny_case_no_fraud.evidence_dir, url, progress=False)

    with pytest.raises(NotebookError) as caught:
        build_report(url, "public", out, notebooks=[str(nb) for nb in reports], workers=1, progress=reingest)
    after = _digest(url)
    assert before != after
    assert str(caught.value) == (
        f"second_report.ipynb: the case changed while the report set was being made: its fingerprint was {before} "
        f"when the set began and is {after} at the start of this notebook (the case was re-ingested or altered). "
        "The reports would mix two cases, so the run stops; render the set again once the case stays as it is"
    )
    record = json.loads((out / "report-set.json").read_text())
    assert record["status"] == "incomplete"  # verify refuses it; the next report may replace it
    assert (out / "first_report" / "first_report.html").is_file()
    assert not (out / "second_report" / "second_report.html").exists()


def test_report_stops_when_the_case_is_reingested_while_a_notebook_runs(tiny_case, tiny_case_no_fraud, tmp_path):
    url = _ingested(tiny_case.evidence_dir, tmp_path / "case.db")
    before = _digest(url)
    out = tmp_path / "set"
    with pytest.raises(NotebookError) as caught:
        build_report(
            url,
            "public",
            out,
            notebooks=[str(REINGESTS)],
            parameters={"evidence": str(tiny_case_no_fraud.evidence_dir)},
        )
    after = _digest(url)
    assert before != after
    assert str(caught.value).startswith(
        f"reingests_the_case_while_running.ipynb: the case changed while the report set was being made: its "
        f"fingerprint was {before} when the set began and is {after} at the end of this notebook"
    )
    assert not (out / "index.html").exists()


def test_report_exits_1_naming_both_fingerprints(tiny_case, tiny_case_no_fraud, tmp_path, monkeypatch, capsys):
    import workbench.reportset.execution

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(REINGESTS, notebooks / "00_reingests.ipynb")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", notebooks)
    url = _ingested(tiny_case.evidence_dir, tmp_path / "case.db")
    before = _digest(url)
    out = tmp_path / "set"
    evidence = str(tiny_case_no_fraud.evidence_dir)
    args = ["report", "--case", url, "--audience", "public", "--out", str(out), "-p", "evidence", evidence]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "\nworkbench report: error: 00_reingests.ipynb: the case changed while the report set was" in err
    assert before in err and _digest(url) in err


@pytest.fixture(scope="module")
def two_cases(tiny_case, tiny_case_no_fraud, tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("two_cases")
    return (
        _ingested(tiny_case.evidence_dir, folder / "fraud.db"),
        _ingested(tiny_case_no_fraud.evidence_dir, folder / "no_fraud.db"),
    )


@pytest.fixture(scope="module")
def mixed_set(two_cases, reports, tmp_path_factory) -> Path:
    """Reports of two cases in one set, as a workbench without the check made it when the case changed midway.

    The set of the first case with its ``second_report`` taken from a set of the second;
    ``report-set.json`` lists that report and hashes every file, so the hashes alone verify.
    """
    first, second = two_cases
    notebooks = [str(nb) for nb in reports]
    one = build_report(first, "public", tmp_path_factory.mktemp("one"), notebooks=notebooks).parent
    other = build_report(second, "public", tmp_path_factory.mktemp("other"), notebooks=notebooks[1:]).parent
    mixed = tmp_path_factory.mktemp("mixed") / "set"
    shutil.copytree(one, mixed)
    shutil.rmtree(mixed / "second_report")
    shutil.copytree(other / "second_report", mixed / "second_report")
    record = json.loads((mixed / "report-set.json").read_text())
    [entry] = json.loads((other / "report-set.json").read_text())["reports"]
    record["reports"] = [r if r["notebook"] != "second_report" else entry for r in record["reports"]]
    record["files"] = hash_tree(mixed)
    (mixed / "report-set.json").write_text(json.dumps(record, indent=2))
    return mixed


def test_each_report_records_the_fingerprint_it_saw(mixed_set, two_cases):
    first, second = two_cases
    record = json.loads((mixed_set / "report-set.json").read_text())
    seen = {r["notebook"]: r["case_fingerprint"] for r in record["reports"]}
    assert seen == {"first_report": _digest(first), "second_report": _digest(second)}
    for name, digest in seen.items():
        html = (mixed_set / name / f"{name}.html").read_text()
        section = html[html.index('id="provenance"') :]
        assert f'<code class="wb-case-fingerprint">{digest}</code>' in section


def test_verify_fails_a_set_whose_reports_saw_two_cases(mixed_set, two_cases, capsys):
    first, second = two_cases
    assert main(["verify", str(mixed_set), "--case", first]) == 1
    err = capsys.readouterr().err
    assert "NOT verified: 1 difference(s)" in err
    assert (
        f"the reports were made from more than one case: second_report saw the case with fingerprint "
        f"{_digest(second)}, but the set was made from {_digest(first)} (as first_report saw it)"
    ) in err
    assert "altered since rendering" not in err  # the hashes alone would verify


def test_verify_names_a_report_that_records_no_fingerprint(mixed_set, two_cases, tmp_path, capsys):
    first, _ = two_cases
    old = tmp_path / "old"
    shutil.copytree(mixed_set, old)
    record = json.loads((old / "report-set.json").read_text())
    for r in record["reports"]:
        r.pop("case_fingerprint")
    (old / "report-set.json").write_text(json.dumps(record))
    assert main(["verify", str(old), "--case", first]) == 1
    err = capsys.readouterr().err
    assert (
        "first_report, second_report: report-set.json records no case fingerprint for these reports, so "
        "nothing shows they saw the case the set was made from; render the set again"
    ) in err
