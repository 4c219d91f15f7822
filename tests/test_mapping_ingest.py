"""Ingest through a mapping file (issue 16) on a small hand-written hand-over (tests/mappingkit.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from mappingkit import write_handover

from workbench.cli import main
from workbench.errors import EvidenceError
from workbench.mapping import MappingError, ingest_mapped


@pytest.fixture
def handover(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "h", write_handover(tmp_path / "h")


def _ingest(handover, tmp_path):
    root, mapping = handover
    report = ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    return report, sqlite3.connect(tmp_path / "case.db")


def _quarantine(con, file):
    return {
        line: (col, value, reason)
        for line, col, value, reason in con.execute(
            'SELECT line, "column", value, reason FROM quarantine WHERE file = ?', (file,)
        )
    }


def test_every_input_reconciles_and_its_sha256_is_in_the_manifest(handover, tmp_path):
    report, con = _ingest(handover, tmp_path)
    rows = {r["file"]: (r["rows_read"], r["rows_loaded"], r["rows_quarantined"]) for r in report.rows()}
    assert rows == {
        "export/sokande_2014.csv": (4, 1, 3),
        "export/inloggningar.csv": (2, 2, 0),
        "logs/u_ex131213.log": (4, 2, 2),
        "mail/1.eml": (1, 1, 0),
        "mail/2.eml": (1, 0, 1),
        "ko.sqlite#handlers": (1, 1, 0),
    }
    manifest = dict(con.execute("SELECT path, sha256 FROM manifest"))
    root = handover[0]
    for path in ("export/sokande_2014.csv", "logs/u_ex131213.log", "mail/2.eml", "mapping.yaml"):
        assert manifest[path] == hashlib.sha256((root / path).read_bytes()).hexdigest(), path
    assert manifest["ko.sqlite#handlers"] == hashlib.sha256((root / "ko.sqlite").read_bytes()).hexdigest()
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == report.rows_quarantined == 6


def test_swedish_csv_in_windows_1252_with_decimal_commas_and_local_times(handover, tmp_path):
    _, con = _ingest(handover, tmp_path)
    row = con.execute("SELECT name, annual_income, student, registered_at, status FROM applicants").fetchone()
    # 18:42:05 in Stockholm in December is 17:42:05 UTC; "384000,00" is 384000; Nej is false
    assert row == ("Åsa Öberg", 384000, 0, "2013-12-13 17:42:05.000000", "active")
    assert con.execute("SELECT method FROM logins ORDER BY time").fetchall() == [("bankid",), ("password",)]
    assert con.execute("SELECT handler_id, name, active_from FROM handlers").fetchall() == [
        (7, "Karin Nyström", "2008-09-01")
    ]


def test_times_in_the_dst_changes_are_quarantined_never_guessed(handover, tmp_path):
    _, con = _ingest(handover, tmp_path)
    q = _quarantine(con, "export/sokande_2014.csv")
    assert q[4][:2] == ("registered_at", "2013-10-27 02:30:00") and "occurs twice in Europe/Stockholm" in q[4][2]
    assert q[5][:2] == ("registered_at", "2013-03-31 02:30:00") and "does not exist in Europe/Stockholm" in q[5][2]


def test_a_value_outside_the_value_map_is_quarantined_with_the_map(handover, tmp_path):
    _, con = _ingest(handover, tmp_path)
    column, value, reason = _quarantine(con, "export/sokande_2014.csv")[6]
    assert (column, value) == ("student", "Kanske")
    assert "outside the value map" in reason and "allowed: Ja, Nej" in reason
    record = con.execute("SELECT record FROM quarantine WHERE line = 6").fetchone()[0]
    assert '"Efternamn":"Ås"' in record  # the source row, as handed over


def test_iis_fields_directives_are_honoured_when_they_change_mid_file(handover, tmp_path):
    _, con = _ingest(handover, tmp_path)
    views = con.execute(
        "SELECT time, session_id, ip, path, status, account_id FROM page_views ORDER BY time"
    ).fetchall()
    assert views == [
        ("2013-12-13 17:50:01.000000", "s1", "10.0.0.1", "/mina-sidor", 200, 1001),
        # the second directive logs no c-ip: ip may be null, so the line loads without one
        ("2013-12-13 17:55:03.000000", "s2", None, "/mina-sidor/ko", 200, 1001),
    ]
    q = _quarantine(con, "logs/u_ex131213.log")
    assert "10 fields where the #Fields: directive of line 4 names 9" in q[6][2]
    assert q[6][1].endswith("200 extra")  # the raw line
    assert q[10][0] == "session_id" and "'cs(Cookie)' is not logged under the #Fields: directive of line 9" in q[10][2]


def test_an_eml_with_a_broken_mime_structure_is_quarantined(handover, tmp_path):
    _, con = _ingest(handover, tmp_path)
    assert con.execute("SELECT message_id, channel, sender_address FROM support_messages").fetchall() == [
        ("<m1@mail.example>", "email", "asa@example.com")
    ]
    q = _quarantine(con, "mail/2.eml")
    assert q[1][0] == "body" and "MIME structure is broken" in q[1][2]


def _edit(mapping: Path, old: str, new: str) -> None:
    text = mapping.read_text()
    assert old in text
    mapping.write_text(text.replace(old, new))


def test_a_mapping_naming_a_missing_source_column_is_an_error_naming_line_key_and_columns(handover, tmp_path):
    root, mapping = handover
    _edit(mapping, "employer: Arbetsgivare", "employer: Arbetsgivar")
    with pytest.raises(MappingError) as err:
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    line = next(n for n, t in enumerate(mapping.read_text().splitlines(), 1) if "Arbetsgivar" in t)
    assert f"mapping.yaml:{line}: tables.applicants.columns.employer" in str(err.value)
    assert "'Arbetsgivar' is not in export/sokande_2014.csv" in str(err.value) and "Arbetsgivare" in str(err.value)
    assert not (tmp_path / "case.db").exists()  # nothing written


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        (
            "    columns:\n      handler_id",
            "    colums:\n      handler_id",
            "tables.handlers.colums",
            "unknown key 'colums'",
        ),
        ("      active_to: null\n", "", "tables.handlers.columns", "'active_to' is a required property"),
        (
            '"Lösenord": password',
            '"Lösenord": passwd',
            "tables.logins.columns.method.values.Lösenord",
            "allowed: bankid, password",
        ),
        ("timezone: Europe/Stockholm", "timezone: Europe/Stokholm", "timezone", "unknown time zone"),
        (
            "encoding: cp1252, decimal",
            "encoding: cp9999, decimal",
            "tables.applicants.source.encoding",
            "unknown encoding",
        ),
        (
            '{iis: "logs/u_ex*.log"}',
            '{iis: "logs/u_ex*.log", delimiter: ";"}',
            "tables.page_views.source.delimiter",
            "does not apply",
        ),
    ],
)
def test_mapping_errors_name_the_file_line_and_key(handover, tmp_path, old, new, key, says):
    root, mapping = handover
    _edit(mapping, old, new)
    with pytest.raises(MappingError, match=r"^mapping\.yaml:\d+: ") as err:
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    assert key in str(err.value) and says in str(err.value)
    line = int(str(err.value).split(":")[1])
    assert key.split(".")[-1] in mapping.read_text().splitlines()[line - 1] or key.endswith("columns")


def test_a_wrong_encoding_is_a_clear_error_either_way(handover, tmp_path):
    root, mapping = handover
    _edit(mapping, "encoding: cp1252, decimal", "encoding: utf-8, decimal")
    with pytest.raises(EvidenceError, match=r"export/sokande_2014.csv: not utf-8 at line 3: byte 0xC5"):
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    _edit(mapping, "encoding: utf-8, decimal", "encoding: cp1252, decimal")
    (root / "export" / "sokande_2014.csv").write_text(
        (root / "export" / "sokande_2014.csv").read_bytes().decode("cp1252"), encoding="utf-8"
    )
    with pytest.raises(EvidenceError, match=r"declared cp1252, but the file is UTF-8"):
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    assert not (tmp_path / "case.db").exists()


def test_a_query_that_fails_on_the_source_database_is_an_error_naming_the_key(handover, tmp_path):
    root, mapping = handover
    _edit(mapping, "FROM handlaggare", "FROM handlaggar")
    with pytest.raises(
        MappingError, match=r"tables\.handlers\.source\.sql: the query failed on ko\.sqlite: no such table: handlaggar"
    ):
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)


def test_the_source_database_is_opened_read_only(handover, tmp_path):
    root, mapping = handover
    _edit(mapping, '"SELECT hid, namn, grupp, fran FROM handlaggare"', '"SELECT 1 AS hid; DELETE FROM handlaggare"')
    with pytest.raises(MappingError):
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    assert sqlite3.connect(root / "ko.sqlite").execute("SELECT count(*) FROM handlaggare").fetchone() == (1,)


def test_cli_ingest_with_mapping(handover, tmp_path, capsys):
    root, mapping = handover
    assert (
        main(["ingest", str(root), "--mapping", str(mapping), "--case", str(tmp_path / "c.db"), "--no-progress"]) == 0
    )
    out = capsys.readouterr().out
    assert "logs/u_ex131213.log" in out and "6 rows quarantined" in out
    _edit(mapping, "FROM handlaggare", "FROM nothing")
    assert main(["ingest", str(root), "--mapping", str(mapping), "--case", str(tmp_path / "d.db")]) == 1
    assert "the query failed" in capsys.readouterr().err
    assert not (tmp_path / "d.db").exists()
