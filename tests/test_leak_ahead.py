"""Leak scans begun ahead (reportset.ahead, SetCheck.prescan) find exactly what a scan of the whole set at the end finds."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import polars as pl
import pytest

from workbench.reportset.ahead import AheadScans
from workbench.reportset.disclosure import LeakError, check_set, leak_check
from workbench.reportset.keytable import KeyTable, KindView
from workbench.reportset.leakscan import Identifiers, Prescanned, add_values, prescan, scan

SET_FILE = "report-set.json"


def _ids(table: bool) -> Identifiers:
    numbers = ["2210728", "2210729", "5551234"]
    names = ["kalle anka", "musse pigg"]
    if not table:
        return Identifiers(keys={"applicants.applicant_id": set(numbers), "applicants.name": set(names)})
    kinds = [("applicants.applicant_id", pl.Series(numbers)), ("applicants.name", pl.Series(names))]
    t = KeyTable.build(kinds)
    return Identifiers(keys={kind: KindView(t, kind) for kind, _ in kinds})


def _write_set(root: Path) -> None:
    """Two notebooks' folders: a figure equal to a member's number, that number elsewhere, a name, another member."""
    (root / "00").mkdir(parents=True)
    (root / "00" / "findings.json").write_text(json.dumps({"views": {"value": 2210728}}), encoding="utf-8")
    (root / "00" / "00.html").write_text(
        "<p>Page views: 2\u202f210\u202f728</p>\n<p>Kalle\nAnka</p>\n", encoding="utf-8"
    )
    (root / "00" / "t.csv").write_text("n,who\r\n1,2210728\r\n2,5551234\r\n", encoding="utf-8")
    (root / "01").mkdir()
    (root / "01" / "01.html").write_text("<td>2 210 729</td>\n" + "x,1\n" * 300_000 + "Musse Pigg\n", encoding="utf-8")


def _hits(result) -> list[tuple]:
    return [(h.file, h.kind, h.identifier, h.context, h.line) for h in result.hits]


@pytest.mark.parametrize("table", [False, True])
def test_files_scanned_ahead_give_the_hits_of_a_scan_at_the_end(tmp_path, table):
    _write_set(tmp_path)
    ids = _ids(table)
    add_values(ids, "parameter note", ["Hemlig Plats"])
    (tmp_path / "01" / "02.json").write_text('{"t": "hemlig plats"}', encoding="utf-8")
    plain = scan([tmp_path], ids, every_file=True)
    assert {(h.kind, h.identifier) for h in plain.hits} >= {
        ("parameter note", "hemlig plats"),
        ("applicants.name", "kalle anka"),
    }
    known: dict[Path, Prescanned] = {}
    prescan([tmp_path / "00", tmp_path / "01"], ids, known, every_file=True)
    assert set(known) == {p for p in tmp_path.rglob("*") if p.is_file()}
    again = scan([tmp_path], ids, every_file=True, known=known)
    assert _hits(again) == _hits(plain) and again.files == plain.files
    # the set's own figure is set aside at the end, after the scan ahead held it as a key: its hit goes
    with pytest.raises(LeakError) as at_end:
        check_set(tmp_path, ids, audience="auditor")
    with pytest.raises(LeakError) as ahead:
        check_set(tmp_path, ids, audience="auditor", known=known)
    assert str(ahead.value) == str(at_end.value)
    assert "00/t.csv line 3: applicants.applicant_id" in str(ahead.value)  # 5551234, CRLF lines as read_text
    assert "00/t.csv line 2" not in str(ahead.value)  # 2210728 is the set's figure
    assert "01/01.html line 300002: applicants.name" in str(ahead.value)


def test_a_file_changed_after_its_scan_ahead_is_searched_again(tmp_path):
    (tmp_path / "00").mkdir()
    page = tmp_path / "00" / "00.html"
    page.write_text("<p>nothing here</p>\n", encoding="utf-8")
    ids = _ids(table=True)
    known: dict[Path, Prescanned] = {}
    prescan([tmp_path], ids, known, every_file=True)
    assert known[page].hits == ()
    page.write_text("<p>nothing here</p>\n<p>musse pigg</p>\n", encoding="utf-8")  # rewritten after
    with pytest.raises(LeakError, match=r"00/00\.html line 2: applicants\.name"):
        check_set(tmp_path, ids, audience="public", known=known)
    (tmp_path / "00" / "new.csv").write_text("a\n5551234\n", encoding="utf-8")  # a file not scanned ahead
    page.write_text("<p>clean</p>\n", encoding="utf-8")
    with pytest.raises(LeakError, match=r"00/new\.csv line 2: applicants\.applicant_id"):
        check_set(tmp_path, ids, audience="public", known=known)


def test_a_stopped_scan_ahead_leaves_its_file_to_the_scan(tmp_path):
    _write_set(tmp_path)
    ids = _ids(table=False)
    stop = threading.Event()
    stop.set()
    known: dict[Path, Prescanned] = {}
    prescan([tmp_path], ids, known, every_file=True, stop=stop)
    assert known == {}
    with pytest.raises(LeakError, match=r"01/01\.html line 300002"):
        check_set(tmp_path, ids, audience="auditor", known=known)


def _check(root: Path, reads: list) -> object:
    def read() -> Identifiers:
        reads.append(1)
        return _ids(table=True)

    notebook = root.parent / "00.ipynb"  # the reports' own text: a value it holds is set aside
    notebook.write_text('{"cells": []}', encoding="utf-8")
    plan = {notebook: {"note": "Hemlig Plats", "audience": "public"}}
    return leak_check(None, "public", root, plan, ["note"], identifiers=read)  # type: ignore[arg-type]


def test_scans_ahead_wait_for_the_read_then_the_check_finds_every_leak(tmp_path):
    root = tmp_path / "public"
    (root / "00").mkdir(parents=True)
    (root / "00" / "00.html").write_text("<p>Plats: hemlig plats</p>\n", encoding="utf-8")
    (root / "01").mkdir()
    (root / "01" / "01.html").write_text("<p>clean</p>\n", encoding="utf-8")
    reads: list = []
    check = _check(root, reads)
    started = [False]
    ahead = AheadScans({"public": check}, lambda: started[0])  # type: ignore[dict-item]
    ahead.add({"public": root / "00", "investigator": tmp_path / "investigator" / "00"})
    assert reads == [] and check.known == {}  # type: ignore[attr-defined]  # the read has not begun: nothing ahead
    started[0] = True
    ahead.add({"public": root / "01"})
    ahead.drain()
    assert set(check.known) == {root / "00" / "00.html", root / "01" / "01.html"}  # type: ignore[attr-defined]
    assert reads == [1]
    (root / SET_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(LeakError, match=r"00/00\.html line 1: parameter note"):
        check("{}")  # type: ignore[operator]
    assert reads == [1]  # read once, for the scans ahead and the check
    assert json.loads((root / SET_FILE).read_text())["failed"] == "leak scan"


def test_a_clean_set_scanned_ahead_passes_and_says_what_it_searched(tmp_path):
    root = tmp_path / "public"
    (root / "00").mkdir(parents=True)
    (root / "00" / "00.html").write_text("<p>clean</p>\n", encoding="utf-8")
    said: list[str] = []
    check = leak_check(None, "public", root, {}, [], said.append, identifiers=lambda: _ids(table=True))  # type: ignore[arg-type]
    check.prescan(root / "00")
    check("{}")
    assert said == ["public leak scan: 5 keys searched in 2 files: no hit"]
