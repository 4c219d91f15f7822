"""A report set journals its notebook runs, their queries and itself, records the journal's head, and `workbench
verify` fails when the journal no longer reaches it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import nbformat

from workbench.case import open_case
from workbench.cli import main
from workbench.notes import journal_entries
from workbench.notes.journal import file_sha256
from workbench.notes.record import case_fingerprint, result_sha256
from workbench.queries import run
from workbench.reportset.build import build_report

DATA = Path(__file__).parent / "data" / "notebooks"


def test_the_head_is_recorded_and_a_cut_journal_fails_verify(tiny_case, tmp_path, capsys):
    from workbench.ingest import ingest

    case = tmp_path / "case.db"
    ingest(tiny_case.evidence_dir, f"sqlite:///{case}", progress=False)
    notebook = tmp_path / "nb" / "first_report.ipynb"
    notebook.parent.mkdir()
    shutil.copy(DATA / "two_charts.ipynb", notebook)
    nb = nbformat.read(notebook, as_version=4)  # a query run in the kernel, to be journalled there
    nb.cells.append(nbformat.v4.new_code_cell("from workbench.queries import run\nrun('table_counts', case_url)"))
    nb.cells.append(  # and an export for readers after it
        nbformat.v4.new_code_cell(
            "from workbench.csvout import write_csv\nwrite_csv(pl.DataFrame({'n': [limit]}), out_dir + '/counts.csv')"
        )
    )
    nbformat.write(nb, notebook)

    build_report(str(case), "public", tmp_path / "plain", notebooks=[str(notebook)])
    plain = json.loads((tmp_path / "plain" / "report-set.json").read_text())
    assert "journal_head" not in plain  # no notes database: none made, none recorded
    assert not case.with_name("case.notes.sqlite").exists()

    assert main(["journal", "init", "--case", str(case)]) == 0
    build_report(str(case), "public", tmp_path / "set", notebooks=[str(notebook)], parameters={"limit": 2})
    record = json.loads((tmp_path / "set" / "report-set.json").read_text())
    entries = journal_entries(case)
    built = [e for e in entries if e.act == "report_set"]
    assert len(built) == 1 and record["journal_head"] == built[0].hash
    assert json.loads(built[0].details)["audience"] == "public"
    # in the kernel: the query, with its name, parameters, engine, row count and result hash
    # (the fingerprint checks at each notebook's start and end run queries of their own: journalled too)
    assert entries[0].act == "start" and [e.act for e in entries[-2:]] == ["notebook", "report_set"]
    queries = [json.loads(e.details) for e in entries if e.act == "query"]
    assert sorted({e.act for e in entries[1:-2]}) == ["export", "query"]
    (export,) = [json.loads(e.details) for e in entries if e.act == "export"]  # its path and sha256
    csv = tmp_path / "set" / "first_report" / "counts.csv"
    assert (export["path"], export["sha256"]) == (str(csv), file_sha256(csv))
    with open_case(str(case)) as opened:
        expected = run("table_counts", opened)
        fingerprint = case_fingerprint(opened)
    assert {"query": "table_counts", "parameters": {}, "engine": "sqlite"} | {
        "rows": expected.height,
        "result_sha256": result_sha256(expected),
    } in queries
    # the notebook run: its name, parameters as given to the kernel, its report with sha256, the case it ran on
    ran = json.loads(entries[-2].details)
    html = tmp_path / "set" / "first_report" / "first_report.html"
    assert (ran["notebook"], ran["audience"], ran["parameters"]["limit"]) == ("first_report.ipynb", "public", 2)
    assert ran["parameters"]["case_url"].endswith(str(case)) and ran["parameters"]["audience"] == "public"
    assert (ran["output"], ran["sha256"]) == (str(html), file_sha256(html))
    assert ran["case_fingerprint"] == record["reports"][0]["case_fingerprint"]
    assert {e.case_fingerprint for e in entries[1:]} == {fingerprint}
    assert [e.prev for e in entries[1:]] == [e.hash for e in entries[:-1]]

    capsys.readouterr()
    assert main(["verify", str(tmp_path / "set"), "--case", str(case)]) == 0
    assert "the case's journal verifies and reaches the head the set recorded" in capsys.readouterr().out

    with sqlite3.connect(case.with_name("case.notes.sqlite")) as conn:  # cut the tail, the set's entry with it
        conn.execute("DELETE FROM journal WHERE seq >= ?", (built[0].seq,))
    assert main(["verify", str(tmp_path / "set"), "--case", str(case)]) == 1
    err = capsys.readouterr().err
    assert f"does not reach the recorded head {record['journal_head']}" in err


def test_workbench_run_journals_each_notebook_run_with_its_parameters(tiny_db, tmp_path, capsys):
    notes = tmp_path / "team.notes.sqlite"
    assert main(["journal", "init", "--case", tiny_db, "--notes", str(notes)]) == 0
    out = tmp_path / "out"
    args = ["run", str(DATA / "two_charts.ipynb"), "--case", tiny_db, "--out", str(out), "-p", "limit", "4"]
    assert main([*args, "--notes", str(notes)]) == 0
    (entry,) = [e for e in journal_entries(tiny_db, notes) if e.act == "notebook"]
    ran = json.loads(entry.details)
    executed = out / "two_charts" / "two_charts.ipynb"
    assert (ran["notebook"], ran["parameters"]["limit"]) == ("two_charts.ipynb", 4)
    assert (ran["output"], ran["sha256"]) == (str(executed), file_sha256(executed))
    with open_case(tiny_db) as opened:
        assert entry.case_fingerprint == case_fingerprint(opened)
