"""SQLite values of mixed kinds, and a URL naming no installed dialect (outside tester, round A); hand-written databases.

ADBC types an SQLite column from the kinds its first batch holds and writes a real it puts
in a text column with printf's %e (six digits), a blob as its bytes; what the mapping gets
must be SQLite's own value: a real in its own digits, an integer as the integer, a blob as
its SQL literal, on the blob's row only.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench.mapping import MappingError, ingest_mapped, sqlite_read
from workbench.mapping.files import SourceFile
from workbench.mapping.schema import SourceSpec
from workbench.mapping.sql import query_columns

NAMES = ["hid", "namn", "grupp", "fran"]


def _db(path: Path, rows: list[tuple], create: str = "CREATE TABLE h (hid, namn, grupp, fran)") -> Path:
    con = sqlite3.connect(path)
    con.execute(create)
    con.executemany("INSERT INTO h VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


def _ingest(tmp_path: Path, rows: list[tuple], batch_rows: int = 1000) -> tuple[list[tuple], list[tuple]]:
    """Handlers loaded (id, team) and quarantined (line, column, value, reason) from a table ``h`` of ``rows``."""
    root = tmp_path / "handover"
    root.mkdir()
    _db(root / "db.sqlite", rows)
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            tables:
              handlers:
                source: {sql: "SELECT hid, namn, grupp, fran FROM h", url: "sqlite:///db.sqlite"}
                timezone: UTC
                columns: {handler_id: hid, name: namn, team: grupp, active_from: fran, active_to: null}
            """
        )
    )
    case = tmp_path / "case.duckdb"
    report = ingest_mapped(
        root, tmp_path / "m.yaml", case_url=f"duckdb:///{case}", progress=False, batch_rows=batch_rows
    )
    (file,) = report.files
    assert file.rows_read == len(rows) == file.rows_loaded + file.rows_quarantined
    with duckdb.connect(str(case), read_only=True) as con:
        loaded = con.execute("SELECT handler_id, team FROM handlers ORDER BY handler_id").fetchall()
        quarantined = con.execute('SELECT line, "column", value, reason FROM quarantine ORDER BY line').fetchall()
    return loaded, quarantined


def test_a_real_among_other_kinds_in_a_text_column_keeps_sqlites_digits(tmp_path):
    rows = [(1, "A", 1234567.891, "2008-09-01"), (2, "B", 42, "2008-09-01"), (3, "C", "Innerstaden", "2008-09-01")]
    loaded, quarantined = _ingest(tmp_path, rows)
    assert loaded == [(1, "1234567.891"), (2, "42"), (3, "Innerstaden")]  # not '1.234568e+06'
    assert quarantined == []


def test_whole_reals_and_integers_mixed_with_text_in_a_number_column_load_as_the_integers(tmp_path):
    rows = [(2.0, "A", "T", "2008-09-01"), (1, "B", "T", "2008-09-01"), ("x", "C", "T", "2008-09-01")]
    loaded, quarantined = _ingest(tmp_path, rows)
    assert loaded == [(1, "T"), (2, "T")]  # not '1.000000e+00' quarantined
    assert [(line, column, value) for line, column, value, _ in quarantined] == [(3, "handler_id", "x")]
    assert "'x' is not a whole number" in quarantined[0][3]


def test_one_blob_in_a_number_column_quarantines_its_own_row_only(tmp_path):
    loaded, quarantined = _ingest(tmp_path, [(1, "A", "T", "2008-09-01"), (b"\x00\xff", "B", "T", "2008-09-01")])
    assert loaded == [(1, "T")]  # not 'x'31'' quarantined
    assert [(line, column, value) for line, column, value, _ in quarantined] == [(2, "handler_id", "x'00FF'")]


def test_mixed_kinds_read_in_small_batches_are_the_values_sqlite_holds(tmp_path):
    # Batches of two: each column's type is fixed by the first batch of a read and later
    # values are copied into it (a real as %e text, a blob into text as its bytes, here
    # valid UTF-8 that would pass for the text 'ab').
    rows = [
        ("1", "A", "T", "2008-09-01"),
        ("2", "B", "T", "2008-09-01"),
        (2.5, "C", 1e-7, "2008-09-01"),
        (b"ab", "D", b"ab", 20080901.0),
        (7, "E", 3.0, None),
        (9.0, "F", 2.5, "2008-09-01"),
        ("2.0", "G", " 10 ", "2008-09-01"),  # texts: as written, whatever number they look like
    ]
    path = _db(tmp_path / "db.sqlite", rows)
    frames = list(sqlite_read.read_batches(path, "SELECT * FROM h", NAMES, 2, {"grupp"}))
    got = pl.concat(frames, how="vertical_relaxed")
    assert got["hid"].cast(pl.String).to_list() == ["1", "2", "2.5", "x'6162'", "7", "9", "2.0"]
    assert got["grupp"].to_list() == [
        "T",
        "T",
        "1.0e-07",
        "x'6162'",
        "3.0",
        "2.5",
        " 10 ",
    ]  # a text column: SQLite's text
    assert got["fran"].to_list() == ["2008-09-01"] * 3 + ["20080901", None] + ["2008-09-01"] * 2


@pytest.mark.parametrize("affinity", ["", "NUMERIC", "TEXT"])
def test_a_range_read_without_a_blob_test_still_gives_a_real_in_sqlites_digits(tmp_path, affinity):
    # A rowid range is read without testing each text value; a real in it must not come as %e.
    rows = [(i, f"n{i}", 1234567.891 if i == 3 else f"t{i}", "2008-09-01") for i in range(1, 11)]
    path = _db(tmp_path / "db.sqlite", rows, f"CREATE TABLE h (hid INTEGER, namn TEXT, grupp {affinity}, fran TEXT)")
    ranges = sqlite_read.row_ranges(path, "SELECT * FROM h", NAMES, 4)
    assert ranges == [(1, 5), (5, 9), (9, 11)]
    text = {"namn", "grupp", "fran"}
    ranged = pl.concat(f for r in ranges for f in sqlite_read.read_batches(path, "SELECT * FROM h", NAMES, 4, text, r))
    whole = pl.concat(sqlite_read.read_batches(path, "SELECT * FROM h", NAMES, 4, text))
    assert ranged.equals(whole)
    assert ranged["grupp"][2] == "1234567.891" and ranged["grupp"][3] == "t4"


def test_a_url_naming_no_installed_dialect_is_a_clear_error(tmp_path):
    cases = [("nosuchdialect://x", "Can't load plugin")]
    if importlib.util.find_spec("MySQLdb") is None:  # a dialect SQLAlchemy knows, its driver not installed
        cases.append(("mysql://user@host/db", "No module named"))
    for url, why in cases:
        spec = SourceSpec(kind="sql", target="SELECT 1 AS hid", url=url, where="m.yaml:4: tables.handlers.source")
        with pytest.raises(MappingError) as raised:
            query_columns(SourceFile("handlers", spec, "db", None))
        message = str(raised.value)
        assert message.startswith(f"m.yaml:4: tables.handlers.source.url: {url!r} names a database dialect")
        assert "unknown or whose driver is not installed" in message and why in message
        assert "allowed: a SQLAlchemy URL of an installed dialect and driver" in message
