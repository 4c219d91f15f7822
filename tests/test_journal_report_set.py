"""A report set records the journal's head, and `workbench verify` fails when the journal no longer reaches it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from workbench.cli import main
from workbench.notes import journal_entries
from workbench.reportset.build import build_report

DATA = Path(__file__).parent / "data" / "notebooks"


def test_the_head_is_recorded_and_a_cut_journal_fails_verify(tiny_case, tmp_path, capsys):
    from workbench.ingest import ingest

    case = tmp_path / "case.db"
    ingest(tiny_case.evidence_dir, f"sqlite:///{case}", progress=False)
    notebook = tmp_path / "nb" / "first_report.ipynb"
    notebook.parent.mkdir()
    shutil.copy(DATA / "two_charts.ipynb", notebook)

    build_report(str(case), "public", tmp_path / "plain", notebooks=[str(notebook)])
    plain = json.loads((tmp_path / "plain" / "report-set.json").read_text())
    assert "journal_head" not in plain  # no notes database: none made, none recorded
    assert not case.with_name("case.notes.sqlite").exists()

    assert main(["journal", "init", "--case", str(case)]) == 0
    build_report(str(case), "public", tmp_path / "set", notebooks=[str(notebook)])
    record = json.loads((tmp_path / "set" / "report-set.json").read_text())
    entries = journal_entries(case)
    built = [e for e in entries if e.act == "report_set"]
    assert len(built) == 1 and record["journal_head"] == built[0].hash
    assert json.loads(built[0].details)["audience"] == "public"

    capsys.readouterr()
    assert main(["verify", str(tmp_path / "set"), "--case", str(case)]) == 0
    assert "the case's journal verifies and reaches the head the set recorded" in capsys.readouterr().out

    with sqlite3.connect(case.with_name("case.notes.sqlite")) as conn:  # cut the tail, the set's entry with it
        conn.execute("DELETE FROM journal WHERE seq >= ?", (built[0].seq,))
    assert main(["verify", str(tmp_path / "set"), "--case", str(case)]) == 1
    err = capsys.readouterr().err
    assert f"does not reach the recorded head {record['journal_head']}" in err
