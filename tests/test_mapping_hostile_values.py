"""Values and mappings an outside tester wrote, that the mapped ingest read wrongly without a word.

Hand-written hand-overs (invented people), each the smallest that showed the fault:

- in a source with a decimal comma, ``12.000`` loaded as 12 (a point read as the decimal
  mark), where its writer may have meant twelve thousand grouped by points;
- a 60th second (``18:00:60``) loaded as the next minute's first, in the mapping's readers,
  ``evidence/``'s CSV and the access log alike;
- a key given twice in ``mapping.yaml`` let the last one win;
- YAML read a value-map key ``Yes`` as a boolean, so no source value ever matched it, and
  a column named ``Off`` as ``False``;
- an ``extract`` pattern Python accepts but polars cannot run passed the mapping's checks
  and failed mid-ingest with a traceback.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import polars as pl
import pytest

from workbench.ingest.readers import LINE
from workbench.mapping import MappingError, ingest_mapped

FEES = """\
version: 1
timezone: Europe/Stockholm
tables:
  fees:
    source: {csv: f.csv, delimiter: ";", decimal_comma: true%s}
    columns: {applicant_id: id, year: ar, amount: belopp, paid_at: betald}
"""


def _ingest(root: Path, mapping: str, files: dict[str, str], tmp_path: Path) -> sqlite3.Connection:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "mapping.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    ingest_mapped(root, root / "mapping.yaml", case_url=tmp_path / "case.db", progress=False)
    return sqlite3.connect(tmp_path / "case.db")


def _fees(amounts: list[str]) -> str:
    rows = "".join(f"{i};2013;{a};2013-05-01 10:00:00\n" for i, a in enumerate(amounts, 1))
    return "id;ar;belopp;betald\n" + rows


def test_a_point_that_may_group_digits_in_a_decimal_comma_source_is_refused_not_read(tmp_path):
    amounts = ["1.000", "12.000", "1.234.567", "200.00", "7", "1,5", "12,000"]
    con = _ingest(tmp_path / "h", FEES % "", {"f.csv": _fees(amounts)}, tmp_path)
    loaded = dict(con.execute("SELECT applicant_id, amount FROM fees"))
    refused = {r[0]: r[1:] for r in con.execute("SELECT line, value, reason FROM quarantine")}
    # 200.00 has no group of three: the point reads as the comma does, as before; 12,000 is 12.
    assert loaded == {4: 200, 5: 7, 7: 12}
    for line, value in ((2, "1.000"), (3, "12.000"), (4, "1.234.567")):
        assert refused[line][0] == value and "could be a decimal point or digits grouped by points" in refused[line][1]
        assert "thousands: '.'" in refused[line][1]
    assert "could be" not in refused[7][1]  # 1,5 is no whole amount: refused for that
    assert len(refused) + len(loaded) == len(amounts)


def test_the_same_points_are_read_as_groups_when_the_source_declares_them(tmp_path):
    con = _ingest(tmp_path / "h", FEES % ", thousands: '.'", {"f.csv": _fees(["1.000", "12.000", "7"])}, tmp_path)
    assert dict(con.execute("SELECT applicant_id, amount FROM fees")) == {1: 1000, 2: 12000, 3: 7}


LOGINS = """\
version: 1
timezone: Europe/Stockholm
tables:
  logins:
    source: {csv: l.csv, delimiter: ";"}
    columns:
      time: Tid
      session_id: s
      applicant_id: a
      method: {constant: bankid}
      ip: null
      user_agent: null
"""


@pytest.mark.parametrize(
    "times",
    [["2013-12-13 18:00:59"] * 3, ["2013-12-13 18:00:59", "2013-12-13T17:00:01Z", "2013-12-13 18:0:1"]],
    ids=["one-shape", "mixed-shapes"],
)
def test_a_60th_second_is_refused_not_read_as_the_next_minute(tmp_path, times):
    # The batch's other values decide which parser reads it (Arrow's or polars'): both refuse it.
    bad = ["2013-12-13 18:00:60", "2013-12-31 23:59:60", "2013-12-13T18:00:60Z", "2013-12-13T18:00:60+01:00"]
    rows = [*times, *bad]
    text = "Tid;s;a\n" + "".join(f"{t};s{i};1\n" for i, t in enumerate(rows))
    con = _ingest(tmp_path / "h", LOGINS, {"l.csv": text}, tmp_path)
    refused = {v for (v,) in con.execute("SELECT value FROM quarantine WHERE \"column\" = 'time'")}
    assert set(bad) <= refused
    loaded = [t for (t,) in con.execute("SELECT time FROM logins")]
    assert not any(t.endswith(("17:01:00+00:00", "23:00:00+00:00")) for t in loaded)


@pytest.mark.parametrize(
    ("column", "fmt"),
    [("Tid", "%d.%m.%Y %H:%M:%S"), ("Tid", "%d/%m/%Y %T"), ("Tidz", "%d.%m.%Y %H:%M:%S%z")],
    ids=["format", "format-T", "format-zone"],
)
def test_a_60th_second_is_refused_under_a_declared_format_too(tmp_path, column, fmt):
    zone = "+0100" if column == "Tidz" else ""
    sep = "/" if "/" in fmt else "."
    times = [
        f"13{sep}12{sep}2013 18:00:60{zone}",
        f"13{sep}12{sep}2013 18:00:59{zone}",
        f"13{sep}12{sep}2013 18:59:60{zone}",
    ]
    text = "Tid;s;a\n" + "".join(f"{t};s{i};1\n" for i, t in enumerate(times))
    mapping = LOGINS.replace("time: Tid", f"time: {{column: Tid, format: '{fmt}'}}")
    con = _ingest(tmp_path / "h", mapping, {"l.csv": text}, tmp_path)
    refused = {v for (v,) in con.execute("SELECT value FROM quarantine")}
    assert refused == {times[0], times[2]}
    assert con.execute("SELECT count(*) FROM logins").fetchone() == (1,)


def test_a_60th_second_is_refused_in_evidence_csv_and_the_access_log():
    from workbench.ingest.access_log import parse_lines
    from workbench.ingest.validate import _parse_text

    typed, why = _parse_text(pl.col("t"), pl.Datetime("us", "UTC"), None)
    frame = pl.DataFrame({"t": ["2013-12-13T18:00:60Z", "2013-12-13T18:00:59Z"]}).select(
        typed.alias("v"), why.alias("w")
    )
    assert frame["v"][0] is None and "not a valid date and time" in frame["w"][0]
    assert frame["v"][1] is not None and frame["w"][1] is None
    line = (
        '83.250.14.7 - - [13/Dec/2013:18:52:{s} +0100] "GET /mina-sidor HTTP/1.1" 200 5 "-" "M" session=a account=1\n'
    )
    rows, refused, n = parse_lines((line.format(s="60") + line.format(s="07")).encode())
    assert n == 2 and rows[LINE].to_list() == [2] and refused[LINE].to_list() == [1]
    assert "13/Dec/2013:18:52:60" in refused["value"][0]


def test_a_key_given_twice_in_the_mapping_is_refused_with_both_lines(tmp_path):
    (tmp_path / "m.yaml").write_text(FEES % "" + "      amount: id\n", encoding="utf-8")
    text = (FEES % "").replace(
        "columns: {applicant_id: id, year: ar, amount: belopp, paid_at: betald}",
        "columns:\n      applicant_id: id\n      year: ar\n      amount: belopp\n      paid_at: betald\n      amount: id",
    )
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    from workbench.mapping import schema

    with pytest.raises(MappingError) as error:
        schema.load(tmp_path / "m.yaml")
    message = str(error.value)
    assert message.startswith("m.yaml:11: tables.fees.columns.amount: given twice (lines 9 and 11)")
    assert "allowed: each key once" in message


APPLICANTS = """\
version: 1
timezone: Europe/Stockholm
tables:
  applicants:
    source: {csv: a.csv}
    columns:
      applicant_id: id
      personnummer: pnr
      name: Off
      address: null
      postal_code: null
      city: null
      email: null
      phone: null
      employer: null
      annual_income: 010
      co_applicant_name: null
      co_applicant_personnummer: null
      student: {column: stud, values: {Yes: true, No: false}}
      protected_identity: {column: skydd, values: {On: true, 0: false}}
      queue_start: start
      registered_at: reg
      status: {constant: active}
      created_by_handler_id: null
"""


def test_column_names_and_value_map_keys_are_text_as_written_not_yaml_booleans_or_numbers(tmp_path):
    text = (
        "id,pnr,Off,010,stud,skydd,start,reg\n"
        "1,19850412-0000,A,100,Yes,On,2004-03-01,2013-12-13T17:00:00Z\n"
        "2,19850412-0001,B,200,No,0,2004-03-01,2013-12-13T17:00:00Z\n"
    )
    con = _ingest(tmp_path / "h", APPLICANTS, {"a.csv": text}, tmp_path)
    rows = con.execute("SELECT applicant_id, name, annual_income, student, protected_identity FROM applicants")
    assert rows.fetchall() == [(1, "A", 100.0, 1, 1), (2, "B", 200.0, 0, 0)]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


@pytest.mark.parametrize("pattern", [r"(?=A)(A\w+)", r"(a)\1"])
def test_an_extract_polars_cannot_run_is_refused_when_the_mapping_is_read(tmp_path, pattern):
    from workbench.mapping import schema

    text = (FEES % "").replace("amount: belopp", f"amount: {{column: belopp, extract: '{pattern}'}}")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as error:
        schema.load(tmp_path / "m.yaml")
    assert "tables.fees.columns.amount.extract: the reader's regular expressions cannot run it" in str(error.value)
    assert "m.yaml:6:" in str(error.value)


HANDLERS = """\
version: 1
tables:
  handlers:
    source: {csv: h.csv}
    columns:
      handler_id: hid
      name: namn
      team: %s
      active_from: %s
      active_to: %s
"""


@pytest.mark.parametrize(
    ("team", "active_from", "active_to", "key", "said"),
    [
        ("grupp", "{column: fran, format: '%Q-%Y'}", "null", "active_from.format", "'%Q' is not a strftime directive"),
        ("grupp", "{column: fran, format: '%H'}", "null", "active_from.format", "hour and minute"),
        ("grupp", "fran", "{constant: never}", "active_to.constant", "'never' is not a date"),
        ("{column: grupp, values: {}}", "fran", "null", "team.values", "an empty value map would refuse every row"),
    ],
    ids=["unknown-directive", "polars-refuses", "constant-no-date", "empty-value-map"],
)
def test_a_setting_that_would_refuse_every_row_stops_the_mapping_at_its_line(
    tmp_path, team, active_from, active_to, key, said
):
    # Each of these quarantined every row, one by one, with the same reason; now the mapping is refused.
    from workbench.mapping import schema

    (tmp_path / "m.yaml").write_text(HANDLERS % (team, active_from, active_to), encoding="utf-8")
    with pytest.raises(MappingError) as error:
        schema.load(tmp_path / "m.yaml")
    assert f": tables.handlers.columns.{key}: " in str(error.value) and said in str(error.value)


def test_a_date_constant_written_plainly_is_the_date_it_says(tmp_path):
    text = "hid,namn,grupp,fran\n7,Karin,Innerstaden,2008-09-01\n"
    mapping = HANDLERS % ("grupp", "fran", "{constant: 2014-01-31}")
    con = _ingest(tmp_path / "h", mapping, {"h.csv": text}, tmp_path)
    assert con.execute("SELECT handler_id, active_to FROM handlers").fetchall() == [(7, "2014-01-31")]


def test_a_whole_number_too_large_is_said_to_be_out_of_range_not_no_number(tmp_path):
    text = _fees(["99999999999999999999", "-99999999999999999999", "12"]).replace(",", "")
    con = _ingest(tmp_path / "h", FEES.replace(", decimal_comma: true", "") % "", {"f.csv": text}, tmp_path)
    reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine ORDER BY line")]
    assert len(reasons) == 2 and all("is a whole number out of range" in r for r in reasons)
    assert "9 223 372 036 854 775 807" in reasons[0]
    assert dict(con.execute("SELECT applicant_id, amount FROM fees")) == {3: 12}


CONCAT = LOGINS.replace("time: Tid", "time: {concat: [Tid, Off]}").replace(
    "user_agent: null", 'user_agent: {concat: [ua, {text: " / "}, ver]}'
)


def test_a_concat_with_an_empty_part_keeps_the_parts_it_has_never_a_silent_null(tmp_path):
    # Before: any empty part made the whole value null: a login time lost ("missing value"),
    # a user agent dropped without a word.
    rows = [
        "2013-12-13 18:00:00;+01:00;s1;1;Firefox;26",  # whole: loads
        "2013-12-13 18:00:00;;s2;1;Firefox;",  # no offset: a local time in the declared zone
        "2013-10-27 02:30:00;;s3;1;;",  # no offset, a time the zone has twice: refused, quoted
        ";;s4;1;Firefox;26",  # no time at all
    ]
    text = "Tid;Off;s;a;ua;ver\n" + "".join(r + "\n" for r in rows)
    con = _ingest(tmp_path / "h", CONCAT, {"l.csv": text}, tmp_path)
    loaded = con.execute("SELECT session_id, time, user_agent FROM logins ORDER BY session_id").fetchall()
    assert loaded == [
        ("s1", "2013-12-13 17:00:00.000000", "Firefox / 26"),
        ("s2", "2013-12-13 17:00:00.000000", "Firefox / "),
    ]
    refused = dict(con.execute("SELECT line, coalesce(value, '') || ' | ' || reason FROM quarantine"))
    assert refused[4].startswith("2013-10-27 02:30:00 | ") and "occurs twice in Europe/Stockholm" in refused[4]
    assert refused[5].startswith(" | missing value: column time requires a value")


def test_a_value_map_onto_a_value_its_column_cannot_hold_is_refused_at_its_line(tmp_path):
    # It quarantined every mapped row quoting the map's 'x', not the source's value.
    from workbench.mapping import schema

    text = (FEES % "").replace("year: ar", "year: {column: ar, values: {'13': 2013, '14': x}}")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as error:
        schema.load(tmp_path / "m.yaml")
    assert "tables.fees.columns.year.values.14: 'x' is not a whole number" in str(error.value)


def test_a_utf16_file_declared_utf8_is_hinted_as_utf16(tmp_path):
    # It was hinted "(Windows-1252 or Latin-1?)".
    from workbench.errors import EvidenceError

    root = tmp_path / "h"
    root.mkdir()
    (root / "h.csv").write_bytes("hid,namn,grupp,fran\n7,Karin Nyström,A,2008-09-01\n".encode("utf-16"))
    (root / "m.yaml").write_text(HANDLERS % ("grupp", "fran", "null"), encoding="utf-8")
    with pytest.raises(EvidenceError) as error:
        ingest_mapped(root, root / "m.yaml", case_url=tmp_path / "case.db", progress=False)
    assert "h.csv: not utf-8 at line 1: byte 0xFF" in str(error.value)
    assert "(UTF-16? a byte-order mark, or a zero byte beside every letter: declare encoding: utf-16)" in str(
        error.value
    )
    assert not (tmp_path / "case.db").exists()
