"""Hostile inputs to the mapped ingest's file checks and readers: each is a clear error or a quarantined row.

Found by an outside tester: a database or glob outside SOURCE, a lone surrogate in JSON Lines,
bytes that are not UTF-8 in a Parquet BINARY column, a cut Parquet file, a BOM right before an
IIS ``#Fields:`` directive and a header-only CSV without a final newline.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from workbench.mapping import ingest_mapped
from workbench.mapping.schema import MappingError

HANDLER_COLUMNS = "    columns: {handler_id: hid, name: namn, team: grupp, active_from: fran, active_to: till}\n"
SQL = "SELECT hid, namn, grupp, fran, NULL AS till FROM h"


def _mapping(tmp_path: Path, table: str, source: str, columns: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        f"version: 1\ntimezone: UTC\ntables:\n  {table}:\n    source: {source}\n{columns}", encoding="utf-8"
    )
    return path


def _ingest(tmp_path: Path, mapping: Path):
    report = ingest_mapped(tmp_path / "h", mapping, case_url=tmp_path / "case.db", progress=False)
    return report, sqlite3.connect(tmp_path / "case.db")


def _sqlite(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE h (hid, namn, grupp, fran)")
    con.execute("INSERT INTO h VALUES (1, 'A', 'T', '2008-09-01')")
    con.commit()
    con.close()


# A. An SQLite database outside SOURCE


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_an_sqlite_database_outside_source_is_refused_like_a_csv(tmp_path, where):
    _sqlite(tmp_path / "outside" / "ko.sqlite")
    (tmp_path / "h").mkdir()
    url = f"sqlite:///{tmp_path}/outside/ko.sqlite" if where == "absolute" else "sqlite:///../outside/ko.sqlite"
    mapping = _mapping(tmp_path, "handlers", f'{{sql: "{SQL}", url: "{url}"}}', HANDLER_COLUMNS)
    with pytest.raises(
        MappingError,
        match=r"^m\.yaml:5: tables\.handlers\.source\.url: '.*/outside/ko\.sqlite' leads outside the source folder",
    ):
        _ingest(tmp_path, mapping)
    assert not (tmp_path / "case.db").exists()


def test_an_sqlite_database_inside_source_by_a_path_through_dots_is_recorded_by_its_place(tmp_path):
    _sqlite(tmp_path / "h" / "db" / "ko.sqlite")
    url = "sqlite:///db/../db/ko.sqlite"
    report, con = _ingest(tmp_path, _mapping(tmp_path, "handlers", f'{{sql: "{SQL}", url: "{url}"}}', HANDLER_COLUMNS))
    assert [r["file"] for r in report.rows()] == ["db/ko.sqlite#handlers"]
    assert con.execute("SELECT handler_id FROM handlers").fetchall() == [(1,)]


def test_a_folder_named_as_the_sqlite_database_is_said_to_be_a_folder(tmp_path):
    (tmp_path / "h" / "ko.sqlite").mkdir(parents=True)
    mapping = _mapping(tmp_path, "handlers", f'{{sql: "{SQL}", url: "sqlite:///ko.sqlite"}}', HANDLER_COLUMNS)
    with pytest.raises(MappingError, match=r"^m\.yaml:5: .*ko\.sqlite' is a folder, not an SQLite database file"):
        _ingest(tmp_path, mapping)


# B. An absolute path as a source's glob


@pytest.mark.parametrize("command", ["ingest", "check"])
def test_an_absolute_glob_is_a_mapping_error_not_a_traceback(tmp_path, command):
    from workbench.mapping.check import check

    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("hid,namn,grupp,fran,till\n99,S,X,2008-09-01,\n")
    (tmp_path / "h").mkdir()
    mapping = _mapping(tmp_path, "handlers", f'{{csv: "{tmp_path}/outside/secret.csv"}}', HANDLER_COLUMNS)
    said = r"m\.yaml:5: tables\.handlers\.source: csv: '.*/outside/secret\.csv' is an absolute path; allowed: a glob relative"
    if command == "ingest":
        with pytest.raises(MappingError, match="^" + said):
            _ingest(tmp_path, mapping)
    else:
        text, ok = check(tmp_path / "h", mapping)
        assert not ok
        assert re.match("^The mapping cannot be used: " + said, text), text
