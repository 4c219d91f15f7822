"""`report --out` replaces only what a report set lists: a forged or copied report-set.json deletes nothing else.

A folder is emptied for a new set only when every file in it is listed in its
``report-set.json`` with the sha256 it has now; anything else (an unrelated file, a file
changed since, a symbolic link) is named and the folder is left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.reportset.contents import claim_folder, hash_tree

DATA = Path(__file__).parent / "data" / "notebooks"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _forged(folder: Path, files: dict | None = None, status: str = "complete") -> Path:
    record = {"format": 1, "status": status, "audience": "public", **({"files": files} if files is not None else {})}
    _write(folder / "report-set.json", json.dumps(record))
    return folder


def test_a_forged_report_set_json_does_not_empty_a_folder(tmp_path, tiny_db, capsys):
    out = _forged(tmp_path / "home")
    thesis = _write(out / "thesis" / "chapter1.txt", "years of work")
    _write(out / "notes.txt", "keep me")
    before = hash_tree(out)
    assert main(["report", "--case", tiny_db, "--audience", "public", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"workbench report: error: --out {out} holds 2 file(s) that its report-set.json does not list with the "
        "sha256 they have now, so this command did not write them or they changed since: notes.txt, "
        "thesis/chapter1.txt. The workbench removes only the files of a report set it wrote; move these away, "
        "or give another folder\n"
    )
    assert hash_tree(out) == before and thesis.read_text() == "years of work"


def test_a_copied_report_set_json_lists_files_that_are_not_these(tmp_path):
    out = tmp_path / "out"
    precious = _write(out / "00_x" / "00_x.html", "<p>my own page</p>")
    _forged(out, {"00_x/00_x.html": {"sha256": "0" * 64}})  # the hash of another set's page
    with pytest.raises(
        WorkbenchError, match=r"holds 1 file\(s\) that its report-set\.json does not list .*: 00_x/00_x\.html\."
    ):
        claim_folder(out, "public")
    assert precious.read_text() == "<p>my own page</p>"


def test_a_link_out_of_the_folder_is_refused_and_nothing_is_followed(tmp_path):
    outside = _write(tmp_path / "elsewhere" / "00_x.html", "<p>outside</p>")
    out = tmp_path / "out"
    out.mkdir()
    (out / "00_x").symlink_to(outside.parent, target_is_directory=True)
    (out / "index.html").symlink_to(outside)
    _forged(out, hash_tree(out))  # lists both through the links, with the right hashes
    with pytest.raises(
        WorkbenchError, match=r"holds 2 file\(s\) .*: 00_x \(a symbolic link\), index\.html \(a symbolic link\)\."
    ):
        claim_folder(out, "public")
    assert outside.read_text() == "<p>outside</p>" and (out / "00_x").is_symlink()


def test_a_report_set_json_that_is_a_link_is_no_report_set(tmp_path):
    record = _write(tmp_path / "elsewhere" / "report-set.json", json.dumps({"audience": "public", "files": {}}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "report-set.json").symlink_to(record)
    with pytest.raises(WorkbenchError, match=r"is not empty and holds no report-set\.json"):
        claim_folder(out, "public")
    assert record.is_file()


def test_a_set_it_wrote_is_emptied_file_by_file(tmp_path):
    out = tmp_path / "out"
    _write(out / "00_x" / "00_x.html", "<p>report</p>")
    _write(out / "00_x" / "tables" / "t.csv", "a\n1\n")
    _write(out / "index.html", "<p>index</p>")
    _forged(out, hash_tree(out))
    claim_folder(out, "public")
    assert [p.name for p in out.iterdir()] == ["report-set.json"]
    assert json.loads((out / "report-set.json").read_text())["status"] == "incomplete"


def test_a_killed_run_leaves_files_the_next_run_names_rather_than_removes(tmp_path):
    out = tmp_path / "out"
    claim_folder(out, "public")  # the marker of a run that started...
    _write(out / "00_x" / "00_x.ipynb", "{}")  # ...and was killed before it recorded what it wrote
    with pytest.raises(WorkbenchError, match=r"holds 1 file\(s\) .*: 00_x/00_x\.ipynb\. The workbench removes only"):
        claim_folder(out, "public")
    assert (out / "00_x" / "00_x.ipynb").is_file()


def test_a_failed_run_records_what_it_wrote_so_the_next_run_replaces_it(tiny_db, tmp_path, monkeypatch):
    import shutil

    import workbench.reportset.execution
    from workbench.reportset.build import build_report
    from workbench.reportset.execution import NotebookError

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(DATA / "broken1.ipynb", notebooks / "00_broken.ipynb")
    monkeypatch.setattr(workbench.reportset.execution, "NOTEBOOKS_DIR", notebooks)
    out = tmp_path / "out"
    with pytest.raises(NotebookError, match=r"^00_broken\.ipynb failed in cell"):
        build_report(tiny_db, "public", out, workers=1)
    record = json.loads((out / "report-set.json").read_text())
    assert record["status"] == "incomplete" and "00_broken/00_broken.ipynb" in record["files"]
    assert record["files"] == hash_tree(out)
    claim_folder(out, "public")
    assert [p.name for p in out.iterdir()] == ["report-set.json"]
