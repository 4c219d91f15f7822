"""A large SQLite table read as rowid ranges, two at a time (issue 16, point 4); hand-written databases.

The ranges must give the query's rows in its order with the same ``__line`` as reading it
whole, and only where that is certain: a whole table SQLite walks in rowid order, without
gaps in its rowids; anything else is read whole.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench.ingest.batch import LINE
from workbench.mapping import ingest_mapped, read as mapping_read, sqlite_read
from workbench.mapping.files import SourceFile
from workbench.mapping.schema import SourceSpec

NAMES = ["kundnr", "sessions_id", "anmald"]


def _db(path: Path, rows: list[tuple], create: str = "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald TEXT)"):
    con = sqlite3.connect(path)
    con.executescript(create)
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.commit()
    con.close()
    return path


def _rows(n: int) -> list[tuple]:
    # sessions null for the first rows, then text, one blob; a time left out now and then
    return [
        (
            100 + i,
            None if i < 7 else (b"\x00\xff" if i == 12 else f"s{i}"),
            None if i % 5 == 3 else f"2013-12-{1 + i % 28:02d} 17:50:00",
        )
        for i in range(n)
    ]


def _source(path: Path, query: str = "SELECT * FROM t") -> SourceFile:
    spec = SourceSpec(kind="sql", target=query, url=f"sqlite:///{path.name}", where="m.yaml:3: tables.interests.source")
    return SourceFile("interests", spec, f"{path.name}#t", path)


def _read(source: SourceFile, batch_rows: int) -> list[pl.DataFrame]:
    return [b.frame for b in mapping_read.read_table([source], NAMES, batch_rows, frozenset({"sessions_id", "anmald"}))]


def test_ranges_cover_the_rowids_without_gaps(tmp_path):
    path = _db(tmp_path / "ko.sqlite", _rows(23))
    assert sqlite_read.row_ranges(path, "SELECT * FROM t", NAMES, 5) == [(1, 6), (6, 11), (11, 16), (16, 21), (21, 24)]
    assert sqlite_read.row_ranges(path, 'select * from "t";', NAMES, 5) is not None
    assert sqlite_read.row_ranges(path, "SELECT * FROM t", NAMES, 23) is None  # one batch: nothing to share


def test_read_in_ranges_equals_read_whole(tmp_path, monkeypatch):
    path = _db(tmp_path / "ko.sqlite", _rows(23))
    source = _source(path)
    assert len(mapping_read.units([source], NAMES, 5, frozenset({"sessions_id", "anmald"}))) == 5
    ranged = _read(source, 5)
    assert [f.height for f in ranged] == [5, 5, 5, 5, 3]  # a range a batch, its typing row dropped
    monkeypatch.setattr(mapping_read, "sqlite_parts", lambda *a: None)
    assert len(mapping_read.units([source], NAMES, 5, frozenset({"sessions_id", "anmald"}))) == 1
    whole = _read(source, 5)
    got, want = pl.concat(ranged, how="diagonal_relaxed"), pl.concat(whole, how="diagonal_relaxed")
    assert got[LINE].to_list() == list(range(1, 24))
    assert got.equals(want)
    assert got["sessions_id"][12] == "x'00FF'" and got["kundnr"].to_list() == [100 + i for i in range(23)]


@pytest.mark.parametrize(
    ("why", "create", "query"),
    [
        ("a deleted row leaves a gap", "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald TEXT)", None),
        (
            "no rowid",
            "CREATE TABLE t (kundnr INTEGER PRIMARY KEY, sessions_id TEXT, anmald TEXT) WITHOUT ROWID",
            "SELECT * FROM t",
        ),
        (
            "a view",
            "CREATE TABLE u (kundnr INTEGER, sessions_id TEXT, anmald TEXT); CREATE VIEW t AS SELECT * FROM u",
            "SELECT * FROM t",
        ),
        (
            "not the whole table",
            "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald TEXT)",
            "SELECT * FROM t WHERE kundnr > 0",
        ),
        (
            "ordered",
            "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald TEXT)",
            "SELECT * FROM t ORDER BY anmald",
        ),
        (  # a whole table, but one SQLite does not walk by rowid itself: the plan says so
            "a virtual table",
            "CREATE VIRTUAL TABLE t USING fts5(kundnr, sessions_id, anmald)",
            "SELECT * FROM t",
        ),
    ],
)
def test_anything_but_a_whole_table_in_rowid_order_is_read_whole(tmp_path, why, create, query):
    if "view" in why:
        path = tmp_path / "ko.sqlite"
        con = sqlite3.connect(path)
        con.executescript(create)
        con.executemany("INSERT INTO u VALUES (?, ?, ?)", _rows(23))
        con.commit()
        con.close()
    else:
        path = _db(tmp_path / "ko.sqlite", _rows(23), create)
    if query is None:  # a gap
        con = sqlite3.connect(path)
        con.execute("DELETE FROM t WHERE kundnr = 110")
        con.commit()
        con.close()
        query = "SELECT * FROM t"
    assert sqlite_read.row_ranges(path, query, NAMES, 5) is None, why
    assert len(mapping_read.units([_source(path, query)], NAMES, 5)) == 1


def test_a_column_named_like_the_rowid_is_read_whole(tmp_path):
    path = _db(tmp_path / "ko.sqlite", [(i, f"x{i}") for i in range(9)], "CREATE TABLE t (oid INTEGER, b TEXT)")
    assert sqlite_read.row_ranges(path, "SELECT * FROM t", ["oid", "b"], 2) is None


def test_a_quarantined_row_in_a_later_range_names_its_row(tmp_path):
    # Rows 21 to 23 (the last range of five) repeat keys first loaded in the second and first
    # ranges: quarantined with their own row and the row each key was first loaded from.
    rows = [(1 + i % 20 if i != 20 else 9, f"s{i}", "Ja") for i in range(23)]
    root = tmp_path / "handover"
    root.mkdir()
    _db(root / "ko.sqlite", rows, "CREATE TABLE t (id INTEGER, namn TEXT, aktiv TEXT)")
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            tables:
              handlers:
                source: {sql: "SELECT * FROM t", url: "sqlite:///ko.sqlite"}
                timezone: UTC
                columns:
                  handler_id: id
                  name: namn
                  team: {constant: A}
                  active_from: {constant: '2008-09-01'}
                  active_to: null
            """
        )
    )
    assert len(sqlite_read.row_ranges(root / "ko.sqlite", "SELECT * FROM t", ["id", "namn", "aktiv"], 5) or []) == 5
    for workers, batch_rows in ((1, 5), (2, 5), (2, 100)):
        case = tmp_path / f"case-{workers}-{batch_rows}.duckdb"
        report = ingest_mapped(
            root,
            tmp_path / "m.yaml",
            case_url=f"duckdb:///{case}",
            progress=False,
            batch_rows=batch_rows,
            workers=workers,
        )
        (file,) = report.files
        assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (23, 20, 3)
        with duckdb.connect(str(case), read_only=True) as con:
            quarantined = con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
            names = [r[0] for r in con.execute("SELECT name FROM handlers").fetchall()]
        assert [line for line, _ in quarantined] == [21, 22, 23], (workers, batch_rows)
        assert "first loaded from ko.sqlite#handlers:9" in quarantined[0][1]
        assert "first loaded from ko.sqlite#handlers:2" in quarantined[1][1]
        assert names == [f"s{i}" for i in range(20)]


class _Recorder:
    def __init__(self):
        self.appends: list[tuple[str, pl.DataFrame]] = []

    def append(self, name: str, frame: pl.DataFrame) -> None:
        self.appends.append((name, frame))


def test_a_tables_small_batches_are_appended_together_in_order():
    # DuckDB compresses many small appends a second time at CHECKPOINT; the writer gets runs
    # of at least batch_rows rows, in order, one chunk a column, and the rest at the end.
    from workbench.mapping.run import _Pending

    writer = _Recorder()
    pending = _Pending(writer, "fees", 5)  # type: ignore[arg-type]
    for start in (0, 3, 6, 9):
        pending.add(pl.DataFrame({"x": list(range(start, start + 3))}))
        pending.add(pl.DataFrame({"x": []}, schema={"x": pl.Int64()}))
    assert [f.height for _, f in writer.appends] == [6, 6]
    pending.flush()
    pending.flush()  # nothing left: no empty append
    assert [f.height for _, f in writer.appends] == [6, 6]
    assert pl.concat(f for _, f in writer.appends)["x"].to_list() == list(range(12))
    assert all(name == "fees" and f.n_chunks() == 1 for name, f in writer.appends)
    pending.add(pl.DataFrame({"x": [12]}))
    pending.flush()
    assert writer.appends[-1][1]["x"].to_list() == [12]


def test_a_range_is_read_without_a_blob_test_a_value_unless_its_text_columns_hold_a_blob(tmp_path, monkeypatch):
    # Blobs at the last row of the second range and in the middle of the fourth, one of them
    # valid UTF-8 (read unguarded it would pass for the text "ab"); numbers and a real stored
    # in the text columns elsewhere. Each range is read unguarded once; the two with a blob
    # are read again, guarded, and every value is what the guarded read of the whole gives.
    rows = [(100 + i, f"s{i}", f"2013-12-{1 + i % 28:02d} 17:50:00") for i in range(23)]
    rows[9] = (109, b"ab", "2013-12-10 17:50:00")
    rows[17] = (117, "s17", b"\x00\xff")
    rows[2] = (102, 4711, 2.5)
    rows[21] = (121, None, 7)
    path = _db(tmp_path / "ko.sqlite", rows)
    calls: list[bool] = []
    stream = sqlite_read._stream

    def counted(*args):
        calls.append(args[-1])
        return stream(*args)

    monkeypatch.setattr(sqlite_read, "_stream", counted)
    ranged = pl.concat(_read(_source(path), 5), how="diagonal_relaxed")
    assert calls == [False, False, True, False, False, True, False]  # ranges 2 and 4 again, guarded
    calls.clear()
    monkeypatch.setattr(mapping_read, "sqlite_parts", lambda *a: None)
    whole = pl.concat(_read(_source(path), 5), how="diagonal_relaxed")
    assert calls == [True]  # read whole: guarded, as before
    assert ranged.equals(whole)
    assert ranged["sessions_id"][9] == "x'6162'" and ranged["anmald"][17] == "x'00FF'"
    assert ranged["sessions_id"][2] == "4711" and ranged["anmald"][21] == "7" and ranged["sessions_id"][21] is None
    assert ranged["sessions_id"][0] == "s0" and ranged["anmald"][22] == "2013-12-23 17:50:00"


def test_a_range_read_unguarded_that_comes_in_two_batches_is_read_again_guarded_from_its_second(tmp_path, monkeypatch):
    # ADBC types a column from its first batch only: a second batch could hold a blob it
    # copies into a text column, so the rest of the range is read again, guarded.
    rows = [(100 + i, f"s{i}" if i != 8 else b"ab", "2013-12-01 17:50:00") for i in range(10)]
    path = _db(tmp_path / "ko.sqlite", rows)
    calls: list[bool] = []
    stream = sqlite_read._stream

    def counted(*args):
        calls.append(args[-1])
        return stream(*args)

    monkeypatch.setattr(sqlite_read, "_stream", counted)
    monkeypatch.setattr(sqlite_read, "_batch_size", lambda *a: 4)
    frames = list(sqlite_read.read_batches(path, "SELECT * FROM t", NAMES, 4, {"sessions_id", "anmald"}, (1, 11)))
    assert calls == [False, True]  # the first batch (typing row and 3 rows) kept, the rest read guarded
    assert frames[0].height == 3 and sum(f.height for f in frames) == 10
    got = pl.concat(frames)
    assert got["kundnr"].to_list() == [100 + i for i in range(10)]
    assert got["sessions_id"][8] == "x'6162'" and got["sessions_id"][7] == "s7"
