"""A report set end to end on the tiny case: index, hashes, provenance, CSVs beside long tables, verify.

Two small fixture notebooks run in parallel, rendered for auditors; verify is then run on
the set as rendered, after tampering, and against another case.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from reportkit import pseudonym_key

from workbench import __version__
from workbench.cli import main
from workbench.reportset.build import external_references
from workbench.reportset.contents import hash_tree
from workbench.reportset.leakscan import identifiers, scan

DATA = Path(__file__).parent / "data" / "notebooks"
NOTEBOOKS = [str(DATA / "long_table_and_findings.ipynb"), str(DATA / "two_charts.ipynb")]


def _chromium() -> bool:
    from workbench.errors import WorkbenchError
    from workbench.reportset.pdf import find_chromium

    try:
        return bool(find_chromium())
    except WorkbenchError:
        return False


@pytest.fixture(scope="module")
def auditor_set(tiny_db, tmp_path_factory):
    from workbench.reportset.build import build_report

    out = tmp_path_factory.mktemp("auditor_set")
    with pseudonym_key():
        build_report(
            tiny_db,
            "auditor",
            out,
            notebooks=NOTEBOOKS,
            parameters={"limit": 4, "max_rows": 5},
            workers=2,
            pdf=_chromium(),
        )
    return out


def test_the_set_holds_reports_findings_and_csvs_but_no_executed_notebooks(auditor_set):
    files = sorted(hash_tree(auditor_set))
    assert "index.html" in files
    assert "long_table_and_findings/long_table_and_findings.html" in files
    assert "long_table_and_findings/findings.json" in files
    assert "two_charts/two_charts.html" in files
    csvs = [f for f in files if f.endswith(".csv")]
    assert csvs and all(f.startswith("long_table_and_findings/tables/") for f in csvs)
    assert not [f for f in files if f.endswith((".ipynb", ".lock"))], files


def test_report_set_json_hashes_every_file(auditor_set):
    record = json.loads((auditor_set / "report-set.json").read_text())
    assert record["status"] == "complete" and record["audience"] == "auditor"
    assert record["files"] == hash_tree(auditor_set)
    for path, entry in record["files"].items():
        assert hashlib.sha256((auditor_set / path).read_bytes()).hexdigest() == entry["sha256"]
    assert record["parameters"] == {"limit": 4, "max_rows": 5}
    assert record["workbench_version"] == __version__


def test_index_lists_reports_with_findings_and_every_hash(auditor_set):
    index = (auditor_set / "index.html").read_text()
    assert external_references(index) == []
    assert '<a href="long_table_and_findings/long_table_and_findings.html">Long table and findings</a>' in index
    assert '<a href="two_charts/two_charts.html">Two charts</a>' in index
    findings = json.loads((auditor_set / "long_table_and_findings" / "findings.json").read_text())
    members = f"{findings['members']['value']:,}".replace(",", "\u202f")
    assert "Queue members in the export" in index and members in index
    for path, entry in hash_tree(auditor_set).items():
        if path != "index.html":
            assert entry["sha256"] in index, path


def test_long_table_is_truncated_with_a_note_and_a_pseudonymised_csv(auditor_set, tiny_case):
    folder = auditor_set / "long_table_and_findings"
    html = (folder / "long_table_and_findings.html").read_text()
    [csv_path] = (folder / "tables").glob("*.csv")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    exposed = json.loads((folder / "findings.json").read_text())["exposure_subjects"]["value"]
    assert exposed > 5 and len(rows) == exposed  # every row, not the 5 shown
    assert f"Showing 5 of {exposed:,}".replace(",", "\u202f") in html
    assert (
        f'<a class="wb-csv" href="tables/{csv_path.name}">all {exposed:,} rows (CSV)</a>'.replace(",", "\u202f") in html
    )
    assert all(r["applicant_id"].startswith("P-") and r["personnummer"].startswith("N-") for r in rows)
    hits = scan([csv_path], identifiers(tiny_case.evidence_dir)).hits
    assert hits == []


def test_investigator_csv_holds_the_identifiers_the_auditor_csv_hides(tiny_db, tiny_case, tmp_path):
    """The positive control of the CSV check above: without the audience layer the scan finds people."""
    assert main(["run", NOTEBOOKS[0], "--case", tiny_db, "--out", str(tmp_path), "-p", "max_rows", "5"]) == 0
    [csv_path] = (tmp_path / "long_table_and_findings" / "tables").glob("*.csv")
    assert scan([csv_path], identifiers(tiny_case.evidence_dir)).hits


def test_every_report_has_a_provenance_section(auditor_set, tiny_case):
    html = (auditor_set / "long_table_and_findings" / "long_table_and_findings.html").read_text()
    section = html[html.index('id="provenance"') :]
    for p in tiny_case.evidence_dir.iterdir():
        assert hashlib.sha256(p.read_bytes()).hexdigest() in section, p.name
    assert re.search(r"every row read was loaded or quarantined:\s<strong>yes</strong>", section)
    assert f"workbench <strong>{__version__}</strong>" in section and "commit <code>" in section
    assert '<td class="wb-param">max_rows</td><td>5</td>' in section
    assert "<td class=\"wb-param\">audience</td><td>'auditor'</td>" in section
    # each finding's query, with its SQL for auditors
    assert "<code>table_counts</code>" in section and "<code>exposure_subjects</code>" in section
    assert "SQL (sqlite):" in section and "SELECT" in section
    assert "<code>chart_context</code>" in section  # recorded without a query, and said so


def test_public_provenance_names_queries_without_sql(tiny_db):
    from workbench.reportset.provenance import case_fingerprint, environment, render_section

    findings = {"members": {"value": 10, "description": "Members", "query": "table_counts"}}
    args = dict(
        case=tiny_db,
        case_label="case.db",
        fingerprint=case_fingerprint(tiny_db),
        env=environment(),
        parameters={"audience": "public"},
        findings=findings,
    )
    public, auditor = render_section(audience="public", **args), render_section(audience="auditor", **args)
    # the public reads what each query does and the findings' labels; names and SQL are for auditors
    assert "table_counts" not in public and "<code>" not in public.split("wb-case-fingerprint")[0]
    assert "Findings: Members" in public and "SELECT" not in public
    assert "<code>table_counts</code>" in auditor and "<code>members</code>" in auditor and "SELECT" in auditor


def test_charts_render_export_safe_in_a_run(auditor_set):
    findings = json.loads((auditor_set / "long_table_and_findings" / "findings.json").read_text())
    assert findings["chart_context"]["value"] == "export"


def test_verify_accepts_the_set_as_rendered(auditor_set, tiny_db, capsys):
    assert main(["verify", str(auditor_set), "--case", tiny_db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified:") and "15 evidence files" in out


def test_verify_names_an_altered_a_missing_and_an_added_file(auditor_set, tiny_db, tmp_path, capsys):
    copy = tmp_path / "set"
    shutil.copytree(auditor_set, copy)
    html = copy / "two_charts" / "two_charts.html"
    html.write_text(html.read_text().replace("Two charts", "Three charts"))
    next((copy / "long_table_and_findings" / "tables").glob("*.csv")).unlink()
    (copy / "notes.txt").write_text("added later")
    assert main(["verify", str(copy), "--case", tiny_db]) == 1
    err = capsys.readouterr().err
    assert "NOT verified: 3 difference(s)" in err
    assert "altered since rendering: two_charts/two_charts.html" in err
    assert "missing from the report set: long_table_and_findings/tables/" in err
    assert "not part of the report set (added after rendering): notes.txt" in err


def test_verify_names_the_evidence_of_another_case(auditor_set, tiny_case_no_fraud, tmp_path, capsys):
    from workbench.ingest import ingest

    other = f"sqlite:///{tmp_path / 'other.db'}"
    ingest(tiny_case_no_fraud.evidence_dir, other, progress=False)
    assert main(["verify", str(auditor_set), "--case", other]) == 1
    err = capsys.readouterr().err
    assert "evidence file evidence/handler_actions.parquet differs: sha256 " in err
    assert "case tables have other row counts than the reports were made from" in err


def test_verify_takes_a_duckdb_case_given_as_a_plain_path(auditor_set, tiny_duckdb, capsys):
    # The newcomer's command, `workbench verify DIR --case build/demo/case/case.duckdb`; the set was
    # rendered from the same evidence ingested into SQLite, so it verifies against this DuckDB case.
    assert main(["verify", str(auditor_set), "--case", tiny_duckdb.removeprefix("duckdb:///")]) == 0, (
        capsys.readouterr().err
    )


def test_verify_refuses_a_folder_that_is_not_a_report_set(tmp_path, tiny_db, capsys):
    assert main(["verify", str(tmp_path), "--case", tiny_db]) == 2
    assert "is not a report set: it has no report-set.json" in capsys.readouterr().err


def test_report_refuses_to_overwrite_a_folder_that_is_not_a_report_set(tmp_path, tiny_db, capsys):
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["report", "--case", tiny_db, "--audience", "public", "--out", str(tmp_path)]) == 2
    assert "is not empty and holds no report-set.json" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _a_set_for(folder: Path, audience: str | None) -> Path:
    """A folder as `workbench report` leaves it: report-set.json naming ``audience`` (None: naming none), one report."""
    (folder / "00_x").mkdir(parents=True)
    (folder / "00_x" / "00_x.html").write_text(f"<p>{audience} report</p>")
    record = {
        "format": 1,
        "status": "complete",
        **({"audience": audience} if audience else {}),
        "files": hash_tree(folder),
    }
    (folder / "report-set.json").write_text(json.dumps(record))
    return folder


@pytest.mark.parametrize(
    ("there", "asked"), [("investigator", "public"), ("public", "investigator"), ("auditor", "investigator")]
)
def test_report_refuses_to_write_one_audiences_set_over_anothers(tmp_path, tiny_db, capsys, there, asked):
    out = _a_set_for(tmp_path / there, there)
    before = hash_tree(out)
    with pseudonym_key():
        assert main(["report", "--case", tiny_db, "--audience", asked, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"workbench report: error: --out {out} holds the {there} report set; this run is for {asked}. "
        f"Give another folder, or add --force to replace it with the {asked} set\n"
    )
    assert hash_tree(out) == before
    assert json.loads((out / "report-set.json").read_text())["audience"] == there


def test_a_set_whose_audience_is_not_recorded_is_refused_too(tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.reportset.contents import claim_folder

    out = _a_set_for(tmp_path / "old", None)
    with pytest.raises(
        WorkbenchError,
        match=rf"^--out {out} holds a report set whose report-set\.json names no "
        r"audience; this run is for public\. Give another folder, or add --force",
    ):
        claim_folder(out, "public")
    assert (out / "00_x" / "00_x.html").is_file()


def test_a_set_is_rewritten_for_its_own_audience_and_marked_as_whose_at_once(tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.reportset.contents import claim_folder

    out = _a_set_for(tmp_path / "public", "public")
    claim_folder(out, "public")
    assert [p.name for p in out.iterdir()] == ["report-set.json"]
    assert json.loads((out / "report-set.json").read_text()) == {
        "format": 1,
        "status": "incomplete",
        "audience": "public",
    }
    # A run interrupted now still leaves the folder marked as the public one
    with pytest.raises(WorkbenchError, match=rf"^--out {out} holds the public report set; this run is for auditor\."):
        claim_folder(out, "auditor")


def test_force_replaces_another_audiences_set(tmp_path, tiny_db, capsys, monkeypatch):
    import workbench.reportset.execution

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(DATA / "two_charts.ipynb", notebooks / "00_two_charts.ipynb")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", notebooks)
    out = _a_set_for(tmp_path / "public", "investigator")
    assert (
        main(["report", "--case", tiny_db, "--audience", "public", "--out", str(out), "--force", "--workers", "1"]) == 0
    )
    record = json.loads((out / "report-set.json").read_text())
    assert (record["audience"], record["status"]) == ("public", "complete")
    assert [r["notebook"] for r in record["reports"]] == ["00_two_charts"]
    assert not (out / "00_x").exists()
    assert f"public index: {out / 'index.html'}" in capsys.readouterr().out


def test_widgets_become_a_note_and_their_saved_state_stays_out(auditor_set):
    html = (auditor_set / "long_table_and_findings" / "long_table_and_findings.html").read_text()
    assert "WIDGET-OPTION-MARKER" not in html  # neither the saved widget state nor the text fallback
    assert "widget-state+json" not in html and "An interactive widget stands here in JupyterLab" in html


def test_pdf_prints_every_report_into_the_set(auditor_set, tiny_db):
    if not _chromium():
        message = "--pdf needs Chromium (apt-get install -y chromium)"
        pytest.fail(f"CI=true and {message}") if os.environ.get("CI") == "true" else pytest.skip(message)
    record = json.loads((auditor_set / "report-set.json").read_text())
    pdfs = [r["pdf"] for r in record["reports"]]
    assert pdfs == ["long_table_and_findings/long_table_and_findings.pdf", "two_charts/two_charts.pdf"]
    index = (auditor_set / "index.html").read_text()
    for pdf in pdfs:
        assert pdf in record["files"] and (auditor_set / pdf).read_bytes().startswith(b"%PDF-")
        assert f'href="{pdf}"' in index
