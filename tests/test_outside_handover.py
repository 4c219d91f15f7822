"""An outside tester's hand-over (tests/outside_handover.py), ingested through hand-written mappings.

What should load, what should be quarantined and why, and what the case then says, were
worked out by hand from the files; each defect this hand-over found has its test here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest
import yaml
from outside_handover import FIRST_ALARM_UTC, FOREIGN, QUARANTINED, RECONCILED, build

from workbench import evidence
from workbench.ingest.batch import LINE
from workbench.ingest.mbox import MessageProblem, message_fields
from workbench.ingest.validate import check_values
from workbench.mapping import MappingError, ingest_mapped
from workbench.mapping.draft import write_draft
from workbench.queries import run
from workbench.queries.absence import absent


@pytest.fixture(scope="module")
def handover(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("outside") / "handover")


def _ingest(root: Path, mapping: str) -> tuple[dict, sqlite3.Connection, Path]:
    case = root.parent / f"{Path(mapping).stem}.db"
    report = ingest_mapped(root, root / mapping, case_url=case, progress=False)
    rows = {r["file"]: (r["rows_read"], r["rows_loaded"], r["rows_quarantined"]) for r in report.rows()}
    return rows, sqlite3.connect(case), case


@pytest.fixture(scope="module")
def ingested(handover):
    return _ingest(handover, "mapping.yaml")


def _quarantine(con: sqlite3.Connection) -> dict[tuple[str, int], tuple[str | None, str, str]]:
    rows = con.execute('SELECT file, line, "column", value, reason FROM quarantine')
    return {(f, line): (c, v, r) for f, line, c, v, r in rows}


def test_every_row_is_loaded_or_quarantined_as_worked_out_by_hand(ingested):
    rows, con, _ = ingested
    assert rows == RECONCILED
    assert all(read == loaded + quarantined for read, loaded, quarantined in rows.values())
    assert {k: c for k, (c, _, _) in _quarantine(con).items()} == QUARANTINED


def test_times_in_the_dst_changes_are_quarantined_with_the_reason_never_guessed(ingested):
    _, con, _ = ingested
    q = _quarantine(con)
    assert "does not exist in Europe/Stockholm" in q[("kösystem.sqlite#applicants", 11)][2]
    assert "occurs twice in Europe/Stockholm" in q[("kösystem.sqlite#applicants", 12)][2]
    assert "occurs twice" in q[("export/inloggningar.csv", 7)][2]
    assert "does not exist" in q[("export/inloggningar.csv", 8)][2]
    loaded = {t for (t,) in con.execute("SELECT time FROM logins")}
    assert not any(t.startswith(("2013-10-27", "2013-03-31")) for t in loaded)


def test_a_real_with_a_fraction_is_quarantined_not_cut_to_a_whole_number(ingested):
    # The queue system stores incomes as REAL; 230000.5 was loaded as 230000 without a word.
    _, con, _ = ingested
    assert con.execute("SELECT count(*) FROM applicants WHERE applicant_id = 1113").fetchone() == (0,)
    column, value, reason = _quarantine(con)[("kösystem.sqlite#applicants", 13)]
    assert (column, value) == ("annual_income", "230000.5") and "is not a whole number" in reason
    # whole reals still load (384000.0 is 384000)
    assert con.execute("SELECT annual_income FROM applicants WHERE applicant_id = 1101").fetchone() == (384000,)


def test_a_float_column_for_an_integer_is_checked_value_by_value():
    # The same rule for a Parquet file or any typed source: a fraction, NaN or infinity is no integer.
    raw = pl.DataFrame(
        {
            "applicant_id": [1.0, 2.5, float("nan"), float("inf"), 2.0**70],
            "year": [2013] * 5,
            "amount": [200.0] * 5,
            "paid_at": ["2013-01-01T00:00:00Z"] * 5,
            LINE: [1, 2, 3, 4, 5],
        }
    )
    good, bad = check_values(raw, "fees")
    assert good["applicant_id"].to_list() == [1] and good.schema["applicant_id"] == pl.Int64()
    assert bad[LINE].to_list() == [2, 3, 4, 5]
    assert bad["value"].to_list()[:2] == ["2.5", "NaN"]
    assert all("is not a whole number" in r for r in bad["reason"])


def test_encoded_words_and_8bit_latin1_headers_are_read_as_sent(ingested):
    # X-Kanal: =?iso-8859-1?q?Webbformul=E4r?= was compared undecoded with the value map and
    # quarantined; a raw ISO-8859-1 Subject became 'Fel adress p\ufffd min sida'.
    _, con, _ = ingested
    messages = dict(con.execute("SELECT message_id, channel FROM support_messages"))
    assert messages["<20131113100000.5@bostad.example>"] == "web_form"
    assert messages["<20131114091640.4@bostad.example>"] == "web_form"
    subject = con.execute("SELECT subject FROM support_messages WHERE sender_address = 'cecilia.o@example.com'")
    assert subject.fetchone() == ("Fel adress på min sida",)
    texts = [t for row in con.execute("SELECT subject, body FROM support_messages") for t in row if t]
    assert texts and not any("\ufffd" in t for t in texts)


def test_an_8bit_header_in_neither_utf8_nor_the_declared_charset_quarantines_the_message():
    raw = (
        b"Received: from mx by mail; Thu, 14 Nov 2013 08:25:00 +0100\r\nMessage-ID: <2@example.com>\r\n"
        b"Subject: Fel adress p\xe5 min sida\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHej\r\n"
    )
    with pytest.raises(MessageProblem) as caught:
        message_fields(raw)
    assert (
        caught.value.column == "subject" and "neither UTF-8 nor the message's charset (us-ascii)" in caught.value.reason
    )
    assert "Fel adress p\\xe5 min sida" in caught.value.reason  # the bad byte shown, not replaced


def test_tables_the_mapping_leaves_out_are_absent_not_empty(ingested):
    # They were created empty with nothing in manifest_absent: the reports then said "none"
    # where the case cannot tell.
    _, _, case = ingested
    unmapped = ["profile_changes", "listings", "interests", "offers", "contracts", "handler_actions"]
    assert absent(case) == dict.fromkeys(unmapped, "no file at ingest")
    manifest = {t for (t,) in sqlite3.connect(case).execute('SELECT DISTINCT "table" FROM manifest')}
    assert set(evidence.TABLES) - set(unmapped) == manifest & set(evidence.TABLES)


def test_the_case_shows_the_foreign_pages_and_the_first_alarm(ingested):
    _, con, case = ingested
    foreign = run("foreign_page_views", case)
    assert set(foreign.select("session_id", "account_id", "owner_applicant_id").iter_rows()) == FOREIGN
    alarm = con.execute("SELECT received_at FROM support_messages WHERE sender_address = 'anna.t@example.com'")
    assert alarm.fetchone()[0].startswith(FIRST_ALARM_UTC)


def test_an_nginx_log_and_a_maildir_give_the_same_case(handover, ingested):
    rows, con, case = _ingest(handover, "mapping_nginx_maildir.yaml")
    assert rows["loggar/nginx/access.log"] == (8, 7, 1)
    mail = {f: r for f, r in rows.items() if f.startswith("post/")}
    assert sorted(mail.values()) == sorted(r for f, r in RECONCILED.items() if f.startswith("post/eml/"))
    assert all(f.startswith("post/Maildir/cur/") for f in mail)
    q = _quarantine(con)
    assert (
        q[("loggar/nginx/access.log", 6)][0] is None
        and "does not match the log_format" in q[("loggar/nginx/access.log", 6)][2]
    )
    assert (
        set(run("foreign_page_views", case).select("session_id", "account_id", "owner_applicant_id").iter_rows())
        == FOREIGN
    )
    query = "SELECT * FROM support_messages ORDER BY message_id"
    assert con.execute(query).fetchall() == ingested[1].execute(query).fetchall()


def test_map_init_places_each_export_by_its_columns_and_reads_a_folder_of_iis_logs(handover, tmp_path):
    # The draft took the logouts export for logins (a ';' inside a quoted user agent made the
    # first data row look like the header, and ties went to the last file), left fees,
    # deployments, logouts and the incident log unplaced, and read one day's IIS log of two.
    draft = tmp_path / "draft.yaml"
    write_draft(handover, draft)
    tables = yaml.safe_load(draft.read_text(encoding="utf-8"))["tables"]
    sources = {t: spec["source"] for t, spec in tables.items()}
    assert sources["logins"]["csv"] == "export/inloggningar.csv" and "header" not in sources["logins"]
    assert sources["logouts"]["csv"] == "export/utloggningar.csv"
    assert sources["fees"] == {
        "csv": "export/köavgifter.csv",
        "delimiter": ";",
        "encoding": "cp1252",
        "decimal_comma": True,
    }
    assert sources["deployments"]["csv"] == "export/driftsättningar.csv"
    assert sources["incident_actions"]["csv"] == "export/incidentlogg.csv"
    assert sources["page_views"] == {"iis": "loggar/W3SVC2/*.log"}
    assert tables["logins"]["columns"]["applicant_id"] == "Kundnr" and tables["logins"]["columns"]["ip"] == "IP-adress"
    assert tables["fees"]["columns"] == {
        "applicant_id": "Kundnr",
        "year": "Avgiftsår",
        "amount": "Belopp",
        "paid_at": "Betalningsdag",
    }


def test_reasons_quote_the_value_as_written_in_the_declared_dialect(ingested):
    # A decimal comma was quoted as rewritten ('200.50'), and a semicolon CSV's malformed
    # record was told to have "comma-separated fields, quoting values that contain commas".
    _, con, _ = ingested
    q = _quarantine(con)
    column, value, reason = q[("export/köavgifter.csv", 5)]
    assert (column, value) == ("amount", "200,50") and reason.startswith("'200,50' is not a whole number")
    _, value, reason = q[("export/inloggningar.csv", 10)]
    assert value.startswith("2013-11-14 08:23:00;29b8ebfa02b3c4d5;1104;Mobilt BankID")
    assert "6 semicolon-separated fields" in reason and "values that contain semicolons" in reason
    assert "comma-separated" not in reason


def test_map_init_leaves_a_utf8_bom_out_of_the_column_names(handover, tmp_path):
    # Excel's "CSV UTF-8" starts with a BOM; ingest skips it, but the draft named the first
    # column '\ufeffTidpunkt', which map check then did not find in the file.
    (tmp_path / "h").mkdir()
    text = (handover / "export" / "utloggningar.csv").read_bytes().decode("cp1252")
    (tmp_path / "h" / "utloggningar.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    write_draft(tmp_path / "h", tmp_path / "draft.yaml")
    (table,) = yaml.safe_load((tmp_path / "draft.yaml").read_text(encoding="utf-8"))["tables"].values()
    assert table["source"]["encoding"] == "utf-8"
    assert table["columns"]["time"] == "Tidpunkt" and table["columns"]["session_id"] == "SessionsID"


def test_verify_re_hashes_the_hand_over_a_mapped_case_was_ingested_from(handover, ingested):
    # The manifest's paths are relative to the hand-over, not to the case's folder as for a
    # v1 ingest: verify re-hashed none of them ("not found beside the case") and could not
    # see a changed export. It now finds the hand-over by the mapping's sha256.
    from workbench.case import open_case
    from workbench.reportset.provenance import case_fingerprint
    from workbench.reportset.verification import Verification, _rehash_evidence

    _, _, case = ingested
    fingerprint = case_fingerprint(open_case(case))
    result = Verification()
    _rehash_evidence(open_case(case), fingerprint, result)
    assert result.evidence_rehashed == len(RECONCILED) + 1 and not result.differences  # and the mapping
    export = handover / "export" / "köavgifter.csv"
    kept = export.read_bytes()
    try:
        export.write_bytes(kept.replace(b"200,00", b"100,00", 1))
        result = Verification()
        _rehash_evidence(open_case(case), fingerprint, result)
        assert len(result.differences) == 1 and str(export) in result.differences[0]
    finally:
        export.write_bytes(kept)


def test_a_mapping_saved_as_ansi_is_refused_naming_line_column_and_byte(handover, tmp_path):
    # Notepad's 'ANSI' (Windows-1252) gave "cannot read the mapping: 'utf-8' codec can't
    # decode byte 0xf6 in position 27": no line, nothing about what to do.
    mapping = tmp_path / "ansi.yaml"
    text = (handover / "mapping.yaml").read_text(encoding="utf-8")
    mapping.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if not t.isascii())
    column = next(i for i, c in enumerate(text.splitlines()[line - 1], 1) if not c.isascii())
    with pytest.raises(MappingError) as caught:
        ingest_mapped(handover, mapping, case_url=tmp_path / "case.db", progress=False)
    message = str(caught.value)
    assert message.startswith(f"{mapping}:{line}: byte 0x") and f"at column {column} is not UTF-8" in message
    assert "allowed: a mapping saved as UTF-8" in message and "\\x" in message  # the bad byte shown, not replaced
    assert not (tmp_path / "case.db").exists()


def test_map_init_passes_over_a_json_lines_record_that_is_no_object(tmp_path):
    # polars' reader stopped the draft with a traceback ("ExpectedNull at character 0").
    (tmp_path / "h").mkdir()
    lines = [
        '{"Tidpunkt": "2013-11-14 08:45:00", "Åtgärd": "Inloggning avstängd", "Kommentar": "a"}',
        "not json",
        "[1, 2]",
        '{"Tidpunkt": "2013-11-14 10:30:00", "Åtgärd": "Rättning driftsatt"}',
    ]
    (tmp_path / "h" / "incident.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_draft(tmp_path / "h", tmp_path / "draft.yaml")
    table = yaml.safe_load((tmp_path / "draft.yaml").read_text(encoding="utf-8"))["tables"]["incident_actions"]
    assert table["source"] == {"jsonl": "incident.jsonl"}
    assert table["columns"]["time"] == "Tidpunkt" and table["columns"]["description"] == "Kommentar"
    assert table["columns"]["action"] == {
        "column": "Åtgärd",
        "values": {"Inloggning avstängd": "login_disabled", "Rättning driftsatt": "fix_deployed"},
    }


def test_an_iis_log_starting_with_a_utf8_bom_is_read_from_its_first_directive(handover, ingested):
    # IIS starts a UTF-8 log with a BOM; '\ufeff#Software: …' was taken for a log line before
    # any #Fields: directive and quarantined, one spurious row a file.
    assert (handover / "loggar" / "W3SVC2" / "u_ex131114.log").read_bytes().startswith(b"\xef\xbb\xbf")
    rows, con, _ = ingested
    assert rows["loggar/W3SVC2/u_ex131114.log"] == RECONCILED["loggar/W3SVC2/u_ex131114.log"]
    lines = {line for (line,) in con.execute("SELECT line FROM quarantine WHERE file LIKE '%u_ex131114.log'")}
    assert 1 not in lines


def test_map_init_maps_the_swedish_values_of_every_enumeration(handover, tmp_path):
    # The draft left every value of applicants.status, logouts.reason and incident_actions.action
    # as TODO (and map check named the three at once); Swedish words are now known.
    draft = tmp_path / "draft.yaml"
    write_draft(handover, draft)
    tables = yaml.safe_load(draft.read_text(encoding="utf-8"))["tables"]
    assert tables["applicants"]["columns"]["status"]["values"] == {
        "Aktiv": "active",
        "Bostad erhållen": "housed",
        "Vilande": "lapsed",
    }
    assert tables["logouts"]["columns"]["reason"]["values"] == {"Tidsgräns": "timeout", "Utloggad": "user"}
    assert set(tables["incident_actions"]["columns"]["action"]["values"].values()) == set(
        evidence.allowed_values("incident_actions", "action")
    )
    assert tables["logins"]["columns"]["method"]["values"]["Mobilt BankID"] == "bankid"
    assert tables["handlers"]["columns"] == {
        "handler_id": "Hnr",
        "name": "Namn",
        "team": "Grupp",
        "active_from": "AnställdFrån",
        "active_to": "AnställdTill",
    }
    lines = draft.read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if "TODO" in line and not line.startswith("#")]  # nothing left to fill in


def test_every_reason_this_hand_over_gives_has_a_kind_a_swedish_report_names(ingested):
    from workbench.quarantine_reasons import reason_kind

    reasons = [reason for _, _, reason in _quarantine(ingested[1]).values()]
    assert len(reasons) >= 10
    assert [r for r in reasons if reason_kind(r) is None] == []
