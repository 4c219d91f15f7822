"""The SQLite source read columnar through ADBC (issue 16): types, read-only, odd queries; hand-written databases."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import polars as pl
import pytest

from workbench.ingest.batch import LINE
from workbench.mapping import MappingError, ingest_mapped, schema as mapping_schema, sqlite_read
from workbench.mapping.files import SourceFile
from workbench.mapping.schema import SourceSpec
from workbench.mapping.sql import read_query
from workbench.mapping.transform import text_sources


def _db(path: Path, rows: list[tuple], create: str = "CREATE TABLE t (a, b)") -> Path:
    con = sqlite3.connect(path)
    con.execute(create)
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.commit()
    con.close()
    return path


def _read(path: Path, query: str, batch_rows: int) -> list[pl.DataFrame]:
    spec = SourceSpec(kind="sql", target=query, url=f"sqlite:///{path.name}", where="m.yaml:3: tables.t.source")
    source = SourceFile("handlers", spec, f"{path.name}#t", path)
    batches = list(read_query(source, batch_rows))
    assert all(b.malformed.is_empty() for b in batches)
    return [b.frame for b in batches]


def test_each_batch_keeps_the_one_type_it_holds_else_text(tmp_path):
    # ADBC alone fixes a column's type from its first batch and fails on the next kind of value;
    # here the first batch holds only integers (a) and only nulls (b), the second a text in each.
    rows = [(i, None) for i in range(6)] + [("19850412-0000", "x"), (7, 2.5)]
    path = _db(tmp_path / "ko.sqlite", rows)
    first, second = _read(path, "SELECT a, b FROM t", batch_rows=5)
    assert first[LINE].to_list() == [1, 2, 3, 4, 5] and second[LINE].to_list() == [6, 7, 8]
    assert first.schema == pl.Schema({"a": pl.Int64(), "b": pl.String(), LINE: pl.Int64()})  # b: nulls only
    assert first["a"].to_list() == [0, 1, 2, 3, 4] and first["b"].null_count() == 5
    # mixed kinds in one batch: text, as the values were (a real in SQLite's own notation, the same number)
    assert second["a"].to_list() == ["5", "19850412-0000", "7"]
    assert second["b"].to_list()[:2] == [None, "x"] and float(second["b"][2]) == 2.5


def test_reals_blobs_and_an_empty_result(tmp_path):
    path = _db(tmp_path / "ko.sqlite", [(1.5, b"\x00\xff"), (None, b"A")])
    (frame,) = _read(path, "SELECT a, b FROM t", batch_rows=10)
    assert frame["a"].dtype == pl.Float64() and frame["a"].to_list() == [1.5, None]
    assert frame["b"].to_list() == ["x'00FF'", "x'41'"]  # a blob as its SQL literal, never undecodable text
    (empty,) = _read(path, "SELECT a, b FROM t WHERE a > 9", batch_rows=10)
    assert empty.height == 0 and empty.columns == ["a", "b", LINE]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT a, b FROM t ORDER BY a DESC;",
        "SELECT a, b FROM t ORDER BY a DESC -- newest first",
        "WITH x AS (SELECT a, b FROM t) SELECT a, b FROM x ORDER BY a DESC",
        'SELECT a, b AS "odd ""name""" FROM t ORDER BY 1 DESC',
    ],
    ids=["semicolon", "comment", "cte", "quoted-name"],
)
def test_queries_as_people_write_them_keep_their_order(tmp_path, query):
    path = _db(tmp_path / "ko.sqlite", [(i, f"v{i}") for i in range(4)])
    (frame,) = _read(path, query, batch_rows=10)
    assert frame["a"].to_list() == [3, 2, 1, 0]
    assert frame.columns[1] in ("b", 'odd "name"') and frame[frame.columns[1]].to_list() == ["v3", "v2", "v1", "v0"]


def test_the_adbc_connection_is_read_only(tmp_path):
    path = _db(tmp_path / "ko.sqlite", [(1, "x")])
    with sqlite_read.connect(path) as con, con.cursor() as cursor:
        with pytest.raises(sqlite_read.ReadError, match="readonly database"):
            cursor.execute("INSERT INTO t VALUES (2, 'y')")
            con.commit()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (1,)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1 AS a, 2 AS b; DELETE FROM t",
        "SELECT a, b FROM t) ; DELETE FROM t; SELECT (1",
        "ATTACH 'other.db' AS o",
        "DELETE FROM t RETURNING a, b",
    ],
    ids=["two-statements", "breaking-out", "attach", "delete-returning"],
)
def test_a_query_that_would_write_fails_and_writes_nothing(tmp_path, query):
    root = tmp_path / "h"
    root.mkdir()
    _db(root / "ko.sqlite", [(7, "Karin")])
    mapping = textwrap.dedent(
        f"""\
        version: 1
        tables:
          handlers:
            source: {{sql: "{query}", url: "sqlite:///ko.sqlite"}}
            timezone: UTC
            columns: {{handler_id: a, name: b, team: {{constant: A}}, active_from: {{constant: '2008-09-01'}}, active_to: null}}
        """
    )
    (tmp_path / "m.yaml").write_text(mapping)
    with pytest.raises(
        MappingError, match=r"m\.yaml:4: tables\.handlers\.source\.sql: the query failed on ko\.sqlite"
    ) as error:
        ingest_mapped(root, tmp_path / "m.yaml", case_url=tmp_path / "case.db", progress=False)
    if query.startswith(("ATTACH", "DELETE")):  # the authorizer's refusal says why (found from outside: it did not)
        assert "opened read-only: a query may only read; ATTACH, PRAGMA and writes are refused" in str(error.value)
    assert sqlite3.connect(root / "ko.sqlite").execute("SELECT * FROM t").fetchall() == [(7, "Karin")]
    assert not (root / "other.db").exists() and not (tmp_path / "case.db").exists()


def test_a_query_failing_on_a_later_row_stops_ingest_and_writes_nothing(tmp_path):
    # The first row reads fine (so preparing and the first step pass); the fourth overflows.
    root = tmp_path / "h"
    root.mkdir()
    _db(root / "ko.sqlite", [(7, "Karin"), (8, "Bo"), (9, "Eva"), (10, "Åsa")])
    query = "SELECT CASE WHEN a > 9 THEN abs(-9223372036854775807 - 1) ELSE a END AS a, b FROM t"
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent(
            f"""\
            version: 1
            tables:
              handlers:
                source: {{sql: "{query}", url: "sqlite:///ko.sqlite"}}
                timezone: UTC
                columns: {{handler_id: a, name: b, team: {{constant: A}}, active_from: {{constant: '2008-09-01'}}, active_to: null}}
            """
        )
    )
    with pytest.raises(
        MappingError, match=r"tables\.handlers\.source\.sql: the query failed on ko\.sqlite: .*overflow"
    ):
        ingest_mapped(root, tmp_path / "m.yaml", case_url=tmp_path / "case.db", progress=False)
    assert not (tmp_path / "case.db").exists()


def test_columns_the_mapping_reads_as_text_are_text_from_the_first_row_and_read_once(tmp_path, monkeypatch):
    # A session column null for the whole first batch, then text and a blob: inferred, it would be
    # taken for integers, fail on "s1" and be read again from the start as text.
    rows = [(i, None, "2013-12-13 17:50:00") for i in range(5)] + [(5, "s1", None), (6, b"\x00\xff", "x")]
    path = _db(tmp_path / "ko.sqlite", rows, "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald TEXT)")
    offsets: list[int] = []
    stream = sqlite_read._stream

    def counted(path, query, columns, text, offset, batch_rows, rows=None, whole=(), guard=True):
        offsets.append(offset)
        return stream(path, query, columns, text, offset, batch_rows, rows, whole, guard)

    monkeypatch.setattr(sqlite_read, "_stream", counted)
    names = ["kundnr", "sessions_id", "anmald"]
    frames = list(sqlite_read.read_batches(path, "SELECT * FROM t", names, 5, {"sessions_id", "anmald"}))
    assert offsets == [0]  # one read, no second one after a type mismatch
    want = pl.Schema({"kundnr": pl.Int64(), "sessions_id": pl.String(), "anmald": pl.String()})
    assert all(f.schema == want for f in frames) and frames[0]["sessions_id"].null_count() == frames[0].height
    got = pl.concat(frames)
    assert got["kundnr"].to_list() == list(range(7))
    assert got["sessions_id"].to_list()[4:] == [None, "s1", "x'00FF'"]  # a blob still as its SQL literal
    assert got["anmald"].to_list()[4:] == ["2013-12-13 17:50:00", None, "x"]
    offsets.clear()  # without the hint: the mismatch on "s1" makes a second read, from row 6
    assert [f.height for f in sqlite_read.read_batches(path, "SELECT * FROM t", names, 5)] == [5, 2]
    assert offsets == [0, 5]


@pytest.mark.parametrize("affinity", ["INTEGER", "TEXT", "REAL", "BLOB", ""])
def test_a_column_read_as_text_shows_blobs_as_literals_and_everything_else_as_written(tmp_path, affinity):
    # Blobs are told apart by comparison with the empty blob: it must hold in a column of any
    # affinity, for the empty blob too, and leave numbers, text and NULL alone.
    rows = [(1, 5), (2, 2.5), (3, "abc"), (4, b""), (5, b"\x00\xff"), (6, None), (7, ""), (8, "x''")]
    path = _db(tmp_path / "ko.sqlite", rows, f"CREATE TABLE t (i INTEGER, v {affinity})")
    got = pl.concat(sqlite_read.read_batches(path, "SELECT * FROM t", ["i", "v"], 3, {"v"}))
    values = got["v"].to_list()
    assert [float(v) for v in values[:2]] == [5, 2.5]  # numbers as SQLite writes them, the same numbers
    assert values[2:] == ["abc", "x''", "x'00FF'", None, "", "x''"]
    assert got["i"].to_list() == list(range(1, 9))


def test_text_sources_are_the_columns_every_use_of_which_is_text(tmp_path):
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            tables:
              interests:
                source: {sql: "SELECT * FROM anm", url: "sqlite:///ko.sqlite"}
                timezone: UTC
                columns:
                  listing_id: objekt_id
                  applicant_id: kundnr
                  registered_at: anmald
                  withdrawn_at: {concat: [anmald, {text: ''}]}
                  session_id: {column: kundnr, extract: '(\\d+)'}
            """
        )
    )
    table = mapping_schema.load(tmp_path / "m.yaml").tables["interests"]
    # kundnr feeds an integer column as it is, so its type is the database's; anmald is only ever a time
    assert text_sources(table) == {"anmald"}


def test_a_whole_table_read_as_text_is_streamed_unwrapped_and_reads_as_any_other_query(tmp_path):
    rows = [(i, None, "2013-12-13 17:50:00") for i in range(4)] + [(4, "s1", 7), (5, b"\x00\xff", None), (6, 2.5, "x")]
    path = _db(tmp_path / "ko.sqlite", rows, "CREATE TABLE t (kundnr INTEGER, sessions_id TEXT, anmald)")
    names, text = ["kundnr", "sessions_id", "anmald"], {"sessions_id", "anmald"}
    assert "OFFSET" not in sqlite_read._wrapped('select * from "t";', names, {1, 2}, 0)
    assert "OFFSET" in sqlite_read._wrapped("SELECT * FROM t WHERE 1", names, {1, 2}, 0)
    whole = pl.concat(sqlite_read.read_batches(path, "SELECT * FROM t", names, 3, text))
    other = pl.concat(sqlite_read.read_batches(path, "SELECT * FROM t WHERE kundnr >= 0", names, 3, text))
    assert whole.equals(other)
    assert whole["sessions_id"].to_list()[3:] == [None, "s1", "x'00FF'", "2.5"]
    assert whole["anmald"].to_list()[3:] == ["2013-12-13 17:50:00", "7", None, "x"]
