"""The bad-input corpus in tests/data/bad/: each folder is an evidence folder named for what it tests.

Row-level problems are quarantined (ingest succeeds); the exact quarantine rows are asserted.
Whole-file problems stop ingest with one message naming the file and why, and no case.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.case import open_case
from workbench.errors import EvidenceError
from workbench.ingest import ingest

BAD = Path(__file__).parent / "data" / "bad"
TS_ALLOWED = "allowed: ISO 8601 with a zone, Z or ±HH:MM, e.g. 2013-12-13T17:42:05Z or 2013-12-13T18:42:05+01:00"

# folder -> quarantine rows (file, line, column, value, reason), in file order
QUARANTINED = {
    "wrong_type": [
        (
            "wrong_type/logins.csv",
            3,
            "applicant_id",
            "abc",
            "'abc' is not a whole number; allowed: a whole number, e.g. 1048213",
        ),
    ],
    "bad_timestamp": [
        (
            "bad_timestamp/logins.csv",
            3,
            "time",
            "2013-13-45T25:00:00Z",
            f"'2013-13-45T25:00:00Z' is not a valid date and time; {TS_ALLOWED}",
        ),
        ("bad_timestamp/logins.csv", 4, "time", "yesterday", f"'yesterday' is not an ISO 8601 timestamp; {TS_ALLOWED}"),
    ],
    "naive_timestamp": [
        (
            "naive_timestamp/logins.csv",
            3,
            "time",
            "2013-12-13 18:06:00",
            f"'2013-12-13 18:06:00' is a timestamp without time zone; {TS_ALLOWED}",
        ),
    ],
    "unknown_enum": [
        (
            "unknown_enum/logins.csv",
            3,
            "method",
            "smartcard",
            "'smartcard' is not an allowed value; allowed: bankid, password",
        ),
    ],
    "duplicate_key": [
        (
            "duplicate_key/logins.csv",
            4,
            "session_id",
            "s1",
            "duplicate key session_id=s1: first loaded from line 2; allowed: one row per key, the first is kept",
        ),
    ],
    "orphan_session": [
        (
            "orphan_session/page_views.csv",
            3,
            "session_id",
            "s9",
            "orphan: session_id 's9' has no row in logins; allowed: a session_id loaded into logins.session_id",
        ),
    ],
    "missing_value": [
        (
            "missing_value/logins.csv",
            3,
            "applicant_id",
            None,
            "missing value: column applicant_id requires a value; allowed: any applicant_id; an empty field, a missing field and null all count as no value",
        ),
    ],
    "malformed_record": [
        (
            "malformed_record/logins.csv",
            3,
            None,
            "2013-12-13T18:06:00Z,s2,1002,bankid",
            "malformed record: 4 fields, the header has 6; allowed: 6 comma-separated fields "
            "(time, session_id, applicant_id, method, ip, user_agent), quoting values that contain commas",
        ),
    ],
    # Quoted values span lines: the bad record starts on physical line 5, not row 3.
    "multiline_line_numbers": [
        (
            "multiline_line_numbers/support_messages.csv",
            5,
            "channel",
            "fax",
            "'fax' is not an allowed value; allowed: email, web_form",
        ),
    ],
}

# folder -> regular expression the single error message must match (file named first)
REFUSED = {
    "missing_column": r"^missing_column/logins\.csv: missing column 'method'; table logins requires the columns time, session_id, applicant_id, method, ip, user_agent$",
    "misspelt_column": r"^misspelt_column/logins\.csv: missing column 'method'; the header \(line 1\) has 'metod' in column 4 \(is it 'method' misspelt\?\) instead; table logins requires the columns time, session_id, applicant_id, method, ip, user_agent$",
    "extra_column": r"^extra_column/logins\.csv: unexpected column 'browser'; allowed are only the columns of table logins: time, session_id, applicant_id, method, ip, user_agent \(remove or rename the extra column\)$",
    "truncated_parquet": r"^truncated_parquet/logins\.parquet: truncated Parquet file: the footer signature PAR1 is missing at the end \(859 bytes\); allowed: a complete Parquet file",
    "latin1": r"^latin1/listings\.csv: not UTF-8 at line 2: byte 0xF6 in '210345,Stockholmshem,Södermalm,.*' \(Latin-1 or Windows-1252\?\); allowed: UTF-8 text",
    "empty_file": r"^empty_file/logins\.csv: empty file \(0 bytes\); allowed: a CSV file with a header and rows$",
    "not_a_csv": r"^not_a_csv/logins\.csv: not a CSV file: it is a PNG image \(starts with b'\\x89PNG'\); allowed: UTF-8 CSV text with a header line$",
    "unclosed_quote": r"^unclosed_quote/logins\.csv: a double quote is never closed: the file has an odd number \(1\) of '\"' characters, the last on line 2",
    "naive_timestamp_parquet": r"^naive_timestamp_parquet/logins\.parquet: column 'time' holds timestamps without time zone \(Datetime\(time_unit='us', time_zone=None\)\); allowed: timestamps with a zone",
    "unknown_table": r"^unknown_table/page_view\.csv: no evidence table is named 'page_view': unknown table 'page_view'\. Did you mean 'page_views'\?",
    "two_files_one_table": r"^two_files_one_table/logins\.parquet: table 'logins' has two files \(two_files_one_table/logins\.csv and two_files_one_table/logins\.parquet\); allowed: one file per table$",
}


def test_every_corpus_folder_is_tested():
    tested = set(QUARANTINED) | set(REFUSED) | {"corrupt_parquet_page"}  # the last: test_ingest.py
    assert {p.name for p in BAD.iterdir() if p.is_dir()} == tested


@pytest.mark.parametrize("folder", sorted(QUARANTINED))
def test_bad_rows_are_quarantined_with_their_reason(folder, tmp_path):
    report = ingest(BAD / folder, tmp_path / "case.db", progress=False)

    with open_case(tmp_path / "case.db") as case:
        q = case.read_table("quarantine")
        loaded = {r.table: case.read_table(r.table).height for r in report.files}
    assert q.select("file", "line", "column", "value", "reason").rows() == QUARANTINED[folder]
    assert q["record"].is_null().to_list() == [row[2] is None for row in QUARANTINED[folder]]  # malformed: no fields
    for r in report.files:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
        assert loaded[r.table] == r.rows_loaded
    assert report.rows_quarantined == len(QUARANTINED[folder])


def test_quarantine_keeps_the_whole_row(tmp_path):
    ingest(BAD / "unknown_enum", tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        record = case.read_table("quarantine")["record"][0]
    assert pl.Series([record]).str.json_decode().to_list() == [
        {
            "time": "2013-12-13T18:06:00Z",
            "session_id": "s2",
            "applicant_id": "1002",
            "method": "smartcard",
            "ip": "10.0.0.2",
            "user_agent": "Mozilla/5.0",
        }
    ]


def test_several_problems_in_one_row_are_all_named(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "logins.csv").write_text(
        "time,session_id,applicant_id,method,ip,user_agent\n2013-12-13 18:05:00,s1,x1,sms,,\n", encoding="utf-8"
    )
    ingest(folder, tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        row = case.read_table("quarantine").row(0, named=True)
    assert (row["line"], row["column"], row["value"]) == (2, "time", "2013-12-13 18:05:00")
    assert row["reason"] == (
        f"'2013-12-13 18:05:00' is a timestamp without time zone; {TS_ALLOWED}; also: "
        "applicant_id: 'x1' is not a whole number; allowed: a whole number, e.g. 1048213; "
        "method: 'sms' is not an allowed value; allowed: bankid, password"
    )


@pytest.mark.parametrize("folder", sorted(REFUSED))
def test_unusable_file_stops_ingest_with_one_message_and_no_case(folder, tmp_path):
    with pytest.raises(EvidenceError) as raised:
        ingest(BAD / folder, tmp_path / "case.db", progress=False)
    message = str(raised.value)
    assert len(message.splitlines()) == 1
    assert pl.Series([message]).str.contains(REFUSED[folder]).item(), message
    assert list(tmp_path.iterdir()) == []
