"""Numbers, times and quotes as organisations write them, through a mapping.

Hand-written hand-overs (invented people): a source that declares ``thousands:`` has its
correctly grouped numbers (``384 000,00``) read, and anything grouped otherwise quarantined
quoting it; a source that does not declare it gets a reason that says what to declare; ``map
init`` proposes it. A time that is no time, and a quote never closed, are quarantined with a
reason a reader can act on.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from mappingkit import write_handover

from workbench.mapping import MappingError, ingest_mapped
from workbench.mapping.draft import write_draft

NBSP, NNBSP = "\u00a0", "\u202f"
HEADER = "Exportdatum;2014-01-10\nKundnr;Personnr;Fornamn;Efternamn;Adress;Postnr;Ort;Epost;Telefon;Arbetsgivare;Inkomst;Student;Skyddad;Kostart;Registrerad;Status\n"


def _row(kundnr: int, income: str) -> str:
    return f"{kundnr};19850412-0000;Åsa;Öberg;;;;;;;{income};Nej;Nej;2004-03-01;2013-12-13 18:42:05;Aktiv\n"


def _handover(tmp_path: Path, incomes: list[str], source_extra: str = "") -> tuple[Path, Path]:
    root = tmp_path / "h"
    mapping = write_handover(root)
    rows = "".join(_row(2001 + i, v) for i, v in enumerate(incomes))
    (root / "export" / "sokande_2014.csv").write_bytes(
        (HEADER + rows).encode("cp1252", errors="strict")
        if NBSP not in rows and NNBSP not in rows
        else (HEADER + rows).encode("utf-8")
    )
    text = mapping.read_text()
    if NBSP in rows or NNBSP in rows:  # cp1252 has a no-break space, not a narrow one: write these in UTF-8
        text = text.replace(
            "encoding: cp1252, decimal_comma: true, header: 2", "encoding: utf-8, decimal_comma: true, header: 2"
        )
    mapping.write_text(text.replace("decimal_comma: true, header: 2", f"decimal_comma: true{source_extra}, header: 2"))
    return root, mapping


def _ingest(root: Path, mapping: Path, tmp_path: Path) -> tuple[dict, dict]:
    ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    con = sqlite3.connect(tmp_path / "case.db")
    try:
        loaded = dict(con.execute("SELECT applicant_id, annual_income FROM applicants"))
        refused = {
            line: (column, value, reason)
            for line, column, value, reason in con.execute(
                "SELECT line, \"column\", value, reason FROM quarantine WHERE file = 'export/sokande_2014.csv'"
            )
        }
        return loaded, refused
    finally:
        con.close()


def test_grouped_by_spaces_is_read_when_the_source_declares_it(tmp_path):
    incomes = ["384 000,00", f"1{NBSP}250{NBSP}000,00", f"12{NNBSP}000", "500,00", "-1 000", "", "999"]
    loaded, refused = _ingest(*_handover(tmp_path, incomes, ", thousands: ' '"), tmp_path)
    assert refused == {}
    assert loaded == {2001: 384000, 2002: 1250000, 2003: 12000, 2004: 500, 2005: -1000, 2006: None, 2007: 999}


@pytest.mark.parametrize("bad", ["38 4000,00", "3 84", "1 2345", " 000,00", "1  000"])
def test_a_number_grouped_otherwise_is_quarantined_as_written(tmp_path, bad):
    loaded, refused = _ingest(*_handover(tmp_path, ["384 000,00", bad], ", thousands: ' '"), tmp_path)
    assert loaded == {2001: 384000}
    ((line, (column, value, reason)),) = refused.items()
    assert (line, column) == (4, "annual_income")
    assert value == bad and f"'{bad}'" in reason
    assert "not grouped in threes by a space" in reason and "allowed:" in reason


def test_without_the_declaration_a_grouped_number_is_quarantined_saying_what_to_declare(tmp_path):
    loaded, refused = _ingest(*_handover(tmp_path, ["384 000,00", "250000,00"]), tmp_path)
    assert loaded == {2002: 250000}
    (column, value, reason) = refused[3]
    assert (column, value) == ("annual_income", "384 000,00")
    assert "grouped by spaces" in reason and "thousands: ' '" in reason


def test_points_as_separators_with_a_decimal_comma(tmp_path):
    incomes = ["1.234,00", "12.345.678", "1.23", "1.234.56"]
    loaded, refused = _ingest(*_handover(tmp_path, incomes, ", thousands: '.'"), tmp_path)
    assert loaded == {2001: 1234, 2002: 12345678}
    # 1.23 is neither grouped nor, with a decimal comma, a decimal: never read as 1.23 or 123
    assert {line: r[1] for line, r in refused.items()} == {5: "1.23", 6: "1.234.56"}
    assert all("not grouped in threes by '.'" in r[2] for r in refused.values())


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (", thousands: ','", "also the decimal mark"),
        (", thousands: x", "'x' is not one of"),
    ],
)
def test_a_separator_that_cannot_be_read_is_a_mapping_error_naming_line_and_key(tmp_path, extra, says):
    root, mapping = _handover(tmp_path, ["384 000,00"], extra)
    with pytest.raises(MappingError, match=r"^mapping\.yaml:\d+: ") as err:
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    assert "tables.applicants.source.thousands" in str(err.value) and says in str(err.value)
    assert not (tmp_path / "case.db").exists()


def test_map_init_proposes_the_separator_and_the_decimal_comma(tmp_path):
    root, _ = _handover(tmp_path, ["384 000,00", "1 250 000,00", "12 000,50"])
    for other in ("inloggningar.csv",):
        (root / "export" / other).unlink()
    text, _ = write_draft(root, tmp_path / "draft.yaml")
    applicants = yaml.safe_load(text)["tables"]["applicants"]
    assert applicants["source"]["thousands"] == " " and applicants["source"]["decimal_comma"] is True
    assert applicants["columns"]["annual_income"] in ("Inkomst", {"column": "Inkomst"})


def test_a_time_that_is_no_time_says_which_column_and_what_is_allowed(tmp_path):
    root, mapping = _handover(tmp_path, ["384 000,00"], ", thousands: ' '")
    logins = root / "export" / "inloggningar.csv"
    logins.write_bytes(logins.read_bytes() + "2013-13-45 25:61:00;s3;1001;BankID;10.0.0.3;Firefox\n".encode("cp1252"))
    ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    con = sqlite3.connect(tmp_path / "case.db")
    try:
        ((column, reason),) = con.execute(
            "SELECT \"column\", reason FROM quarantine WHERE file = 'export/inloggningar.csv'"
        ).fetchall()
    finally:
        con.close()
    assert column == "time"
    assert reason == (
        "'2013-13-45 25:61:00' is not a date and time (time); "
        "allowed: ISO 8601, e.g. 2013-12-13 18:42:05 (a local time) or 2013-12-13T17:42:05Z (UTC)"
    )


def test_a_quote_never_closed_says_so_and_keeps_every_line_it_swallowed(tmp_path):
    root, mapping = _handover(tmp_path, ["384 000,00"], ", thousands: ' '")
    logins = root / "export" / "inloggningar.csv"
    tail = '2013-12-13 19:00:00;"s3;1001;BankID;10.0.0.3;Firefox\n2013-12-13 19:01:00;s4;1001;BankID;10.0.0.3;Firefox\n'
    logins.write_bytes(logins.read_bytes() + tail.encode("cp1252"))
    report = ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    con = sqlite3.connect(tmp_path / "case.db")
    try:
        ((line, value, reason),) = con.execute(
            "SELECT line, value, reason FROM quarantine WHERE file = 'export/inloggningar.csv'"
        ).fetchall()
    finally:
        con.close()
    assert line == 4 and value == tail.rstrip("\n")  # both lines, as written: nothing lost
    assert reason.startswith('malformed record: a " opened here is never closed, so 2 lines ran into one record')
    assert reason.endswith("and closing every quote")
    (row,) = [r for r in report.rows() if r["file"] == "export/inloggningar.csv"]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"] == 3


IIS_HEAD = "#Software: Microsoft Internet Information Services 7.5\n#Version: 1.0\n"
IIS_LINE = "2013-12-13 17:50:01 192.0.2.1 GET /mina-sidor - 10.0.0.1 ASP.NET_SessionId=s1;+kund=1001 200\n"
IIS_FIELDS = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(Cookie) sc-status\n"


def test_an_iis_log_without_fields_directive_is_refused_saying_so(tmp_path):
    root, mapping = _handover(tmp_path, ["384 000,00"], ", thousands: ' '")
    (root / "logs" / "u_ex131213.log").write_text(IIS_HEAD + IIS_LINE, encoding="ascii")
    with pytest.raises(MappingError) as err:
        ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    assert "its columns are: datetime (the log has no #Fields: directive naming its fields)" in str(err.value)
    assert not (tmp_path / "case.db").exists()


def test_an_iis_line_separated_by_tabs_is_quarantined_asking_whether_it_is(tmp_path):
    root, mapping = _handover(tmp_path, ["384 000,00"], ", thousands: ' '")
    log = IIS_HEAD + IIS_FIELDS + IIS_LINE + IIS_LINE.replace(" ", "\t")
    (root / "logs" / "u_ex131213.log").write_text(log, encoding="ascii")
    ingest_mapped(root, mapping, case_url=tmp_path / "case.db", progress=False)
    con = sqlite3.connect(tmp_path / "case.db")
    try:
        refused = con.execute("SELECT line, reason FROM quarantine WHERE file = 'logs/u_ex131213.log'").fetchall()
        loaded = con.execute("SELECT count(*) FROM page_views").fetchone()[0]
    finally:
        con.close()
    assert loaded == 1
    assert refused == [
        (
            5,
            "malformed line: 1 field (separated by tabs? IIS separates by spaces) where the #Fields: directive "
            "of line 3 names 9; allowed: one space-separated value per field ('-' for none)",
        )
    ]


def test_whole_decimals_strip_exactly_what_the_capturing_pattern_did():
    import random

    import polars as pl

    from workbench.mapping.numbers import whole_decimals

    fixed = ["200.00", "-7.0", "10.", "0.", "0.00", "-0.0", "007.00", "100.000", "1000.0", "12.50", "+3.00"]
    fixed += [".00", "1.0.0", "", "-", "1.", "\u0661\u0662.\u0660", "12.0 ", " 12.0", "12,00", "1e3.0", None]
    rng = random.Random(7)
    alphabet = ["0", "0", "1", "9", ".", "-", "+", " ", "\u0663"]
    drawn = ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(3000)]
    values = pl.Series("v", fixed + drawn, dtype=pl.String)
    capturing = values.str.replace(r"^(-?\d+)\.0*$", "${1}")
    stripped = pl.select(whole_decimals(pl.lit(values))).to_series()
    assert stripped.to_list() == capturing.to_list()
    assert stripped[:4].to_list() == ["200", "-7", "10", "0"]  # not echoed: the pattern's own reading
