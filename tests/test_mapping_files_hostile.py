"""Hostile inputs to the mapped ingest's file checks and readers: each is a clear error or a quarantined row.

Found by an outside tester: a database or glob outside SOURCE, a lone surrogate in JSON Lines,
bytes that are not UTF-8 in a Parquet BINARY column, a cut Parquet file, a BOM right before an
IIS ``#Fields:`` directive and a header-only CSV without a final newline.
"""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.errors import EvidenceError
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


# C. A lone surrogate escape in JSON Lines


def test_a_jsonl_line_with_a_lone_surrogate_escape_is_quarantined_and_the_others_load(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "h.jsonl").write_text(
        '{"hid": 1, "namn": "A", "grupp": "T", "fran": "2008-09-01", "till": null}\n'
        '{"hid": 2, "namn": "K\\ud800", "grupp": "T", "fran": "2008-09-01", "till": null}\n'
        '{"hid": 3, "namn": "\\ud83d\\ude00", "grupp": "T", "fran": "2008-09-01", "till": null}\n'  # a pair: fine
        '{"hid": 4, "namn": "\\\\ud800", "grupp": "T", "fran": "2008-09-01", "till": null}\n'  # a backslash, text
        '{"hid": 5, "\\udc00": 1, "namn": "B", "grupp": "T", "fran": "2008-09-01", "till": null}\n',  # in a key
        encoding="utf-8",
    )
    report, con = _ingest(tmp_path, _mapping(tmp_path, "handlers", '{jsonl: "h.jsonl"}', HANDLER_COLUMNS))
    assert con.execute("SELECT handler_id, name FROM handlers ORDER BY 1").fetchall() == [
        (1, "A"),
        (3, "\U0001f600"),
        (4, "\\ud800"),
    ]
    q = con.execute("SELECT file, line, reason FROM quarantine ORDER BY line").fetchall()
    assert [(f, n) for f, n, _ in q] == [("h.jsonl", 2), ("h.jsonl", 5)]
    assert "a lone surrogate escape \\ud800 is not a character" in q[0][2]
    assert "a lone surrogate escape \\udc00 is not a character" in q[1][2]
    assert report.rows()[0]["rows_read"] == 5


# D, E. Parquet: bytes that are not UTF-8, a cut file

LOGINS = (
    "    columns: {time: t, session_id: s, applicant_id: a, method: {constant: bankid}, ip: null, user_agent: null}\n"
)


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def test_a_parquet_binary_column_with_bytes_that_are_not_utf8_quarantines_those_rows(tmp_path):
    (tmp_path / "h").mkdir()
    binary = pa.array([b"s1", b"\x00\xff", b"s\xc3\xa5", None], pa.binary())
    other = pa.array([b"ok", b"ok", b"ok", b"\xfe"], pa.binary())  # not read by the mapping
    times = ["2013-12-13T17:00:00Z", "2013-12-13T17:01:00Z", "2013-12-13T17:02:00Z", "2013-12-13T17:03:00Z"]
    (tmp_path / "h" / "l.parquet").write_bytes(
        _parquet(pa.table({"t": times, "s": binary, "a": [1, 2, 3, 4], "x": other}))
    )
    report, con = _ingest(tmp_path, _mapping(tmp_path, "logins", '{parquet: "l.parquet"}', LOGINS))
    assert con.execute("SELECT session_id, applicant_id FROM logins ORDER BY 2").fetchall() == [("s1", 1), ("så", 3)]
    q = con.execute("SELECT file, line, value, reason, record FROM quarantine ORDER BY line").fetchall()
    assert [(f, n, v) for f, n, v, _, _ in q] == [("l.parquet", 2, "\\x00\\xff"), ("l.parquet", 4, None)]
    assert "source column 's' holds bytes that are not UTF-8 text: \\x00\\xff" in q[0][3]
    assert "session_id" in q[1][3]  # no value: refused by the checks, its record showing the bytes of x
    assert '"x":"\\\\xfe"' in q[1][4]
    assert report.rows() == [
        {"file": "l.parquet", "table": "logins", "rows_read": 4, "rows_loaded": 2, "rows_quarantined": 2}
    ]


@pytest.mark.parametrize("cut", [200, 12])
def test_a_cut_parquet_file_is_a_clear_error_and_no_case(tmp_path, cut):
    (tmp_path / "h").mkdir()
    whole = _parquet(pa.table({"t": ["2013-12-13T17:00:00Z"], "s": ["s1"], "a": [1]}))
    (tmp_path / "h" / "l.parquet").write_bytes(whole[:cut])
    mapping = _mapping(tmp_path, "logins", '{parquet: "l.parquet"}', LOGINS)
    with pytest.raises(EvidenceError, match=r"^l\.parquet: not a readable Parquet file \(.*\); allowed: a complete"):
        _ingest(tmp_path, mapping)
    assert not (tmp_path / "case.db").exists()


# F. A BOM right before an IIS directive

PAGES = (
    "    columns: {time: datetime, session_id: c, ip: null, path: cs-uri-stem, status: sc-status, account_id: null}\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_an_iis_log_whose_bom_is_followed_by_its_fields_directive_is_read(tmp_path, encoding):
    (tmp_path / "h").mkdir()
    log = "\ufeff#Fields: date time c cs-uri-stem sc-status\r\n2013-12-13 17:50:01 s1 /a 200\r\n"
    (tmp_path / "h" / "u.log").write_bytes(log.encode("utf-8"))
    source = f'{{iis: "u.log", encoding: {encoding}}}'
    report, con = _ingest(tmp_path, _mapping(tmp_path, "page_views", source, PAGES))
    assert con.execute("SELECT session_id, path, status FROM page_views").fetchall() == [("s1", "/a", 200)]
    assert report.rows()[0]["rows_quarantined"] == 0


# G. A header-only CSV without a final newline


@pytest.mark.parametrize("text", ["hid,namn,grupp,fran,till", "\ufeffhid,namn,grupp,fran,till\n", "x\nhid,namn,grupp"])
def test_a_header_only_csv_loads_no_rows_with_or_without_a_final_newline(tmp_path, text):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "h.csv").write_text(text + ",fran,till" * text.startswith("x"), encoding="utf-8")
    header = 2 if text.startswith("x") else 1
    report, con = _ingest(
        tmp_path, _mapping(tmp_path, "handlers", f'{{csv: "h.csv", header: {header}}}', HANDLER_COLUMNS)
    )
    assert report.rows() == [
        {"file": "h.csv", "table": "handlers", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    ]
    assert con.execute("SELECT count(*) FROM handlers").fetchone() == (0,)
