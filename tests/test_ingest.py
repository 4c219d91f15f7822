"""Ingest round trips on SQLite, DuckDB and PostgreSQL, manifest, reconciliation and atomicity."""

from __future__ import annotations

import argparse
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from evidence_frames import BIG, handmade_frames, write_evidence
from pg import pg_url, reader_url  # noqa: F401  (fixture)
from polars.testing import assert_frame_equal

from workbench import evidence
from workbench.case import open_case
from workbench.errors import EvidenceError
from workbench.ingest import add_ingest_command, ingest, load as load_module
from workbench.queries.absence import absent

ENGINES = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _key(name: str, frame: pl.DataFrame) -> list[str]:
    return [c.name for c in evidence.table(name).primary_key.columns] or list(frame.columns)


def target(engine: str, tmp_path: Path, request) -> str:
    """Where a test writes its case on ``engine``."""
    if engine == "sqlite":
        return str(tmp_path / "case.db")
    if engine == "duckdb":
        return f"duckdb:///{tmp_path / 'case.duckdb'}"
    return request.getfixturevalue("pg_url")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("engine", ENGINES)
def test_round_trip_reads_back_every_table_exactly(engine, fmt, tmp_path, request):
    frames = handmade_frames()
    folder = write_evidence(frames, tmp_path / "evidence", fmt)
    url = target(engine, tmp_path, request)

    report = ingest(folder, url, progress=False)

    assert report.rows_quarantined == 0
    assert [r.table for r in sorted(report.files, key=lambda r: r.table)] == sorted(evidence.TABLES)
    with open_case(reader_url(url)) as case:
        assert case.dialect == engine
        for name, frame in frames.items():
            got = case.read_table(name)
            assert_frame_equal(got, frame.sort(_key(name, frame)), check_exact=True)
        assert case.read_table("quarantine").height == 0
        assert case.read_table("manifest").height == len(evidence.TABLES)


@pytest.mark.parametrize("engine", ENGINES)
def test_timestamps_read_back_as_the_same_utc_instant(engine, tmp_path, request):
    folder = write_evidence(handmade_frames(), tmp_path / "evidence", "csv")
    # The same instant written in Stockholm time: stored and read back as UTC.
    (folder / "deployments.csv").write_text(
        "time,version,description\n2013-12-13T18:52:00.000001+01:00,4.12.0,x\n", encoding="utf-8"
    )
    url = target(engine, tmp_path, request)
    ingest(folder, url, progress=False)
    with open_case(reader_url(url)) as case:
        got = case.read(sa.select(case.table("deployments").c.time))
    assert got.schema["time"] == pl.Datetime("us", "UTC")
    assert got["time"].to_list() == [datetime(2013, 12, 13, 17, 52, 0, 1, tzinfo=UTC)]


def test_big_integers_booleans_and_empty_strings_survive(tmp_path):
    frames = handmade_frames()
    folder = write_evidence(frames, tmp_path / "evidence", "csv")
    ingest(folder, tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        applicants = case.read_table("applicants")
    row = applicants.filter(pl.col("applicant_id") == BIG).row(0, named=True)
    assert (row["protected_identity"], row["student"], row["employer"], row["city"]) == (True, False, "", None)


@pytest.mark.parametrize("engine", ENGINES)
def test_manifest_hashes_equal_the_files(engine, tmp_path, request):
    folder = write_evidence(handmade_frames(), tmp_path / "evidence", "parquet")
    url = target(engine, tmp_path, request)
    before = datetime.now(UTC)
    ingest(folder, url, progress=False)
    with open_case(reader_url(url)) as case:
        manifest = case.read_table("manifest")
    assert manifest.height == len(evidence.TABLES)
    for row in manifest.iter_rows(named=True):
        path = tmp_path / row["path"]
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), row["path"]
        assert row["bytes"] == path.stat().st_size
        assert row["rows_read"] == row["rows_loaded"] == pl.read_parquet(path).height
        assert row["rows_quarantined"] == 0
        assert row["format"] == "parquet" and row["table"] == path.stem
        assert row["format_version"] == evidence.FORMAT_VERSION
        assert row["workbench_version"] not in ("", None)
        assert before - timedelta(seconds=1) <= row["ingested_at"] <= datetime.now(UTC)


def _messy_evidence(folder: Path) -> Path:
    """Hand-made evidence plus bad rows in three files."""
    write_evidence(handmade_frames(), folder, "csv")
    with open(folder / "logins.csv", "a", encoding="utf-8") as fh:
        fh.write("2013-12-13T18:10:00Z,s-aaa,1001,bankid,,\n")  # duplicate key
        fh.write("2013-12-13 18:11:00,s-ddd,1001,bankid,,\n")  # naive timestamp
    with open(folder / "page_views.csv", "a", encoding="utf-8") as fh:
        fh.write("2013-12-13T18:12:00Z,s-zzz,,/mina-sidor,200,\n")  # orphan session
    with open(folder / "listings.csv", "a", encoding="utf-8") as fh:
        fh.write("9,Prov AB,Solna,1,5000,castle,2013-01-01T00:00:00Z,2013-01-02T00:00:00Z,none\n")  # enum
    return folder


@pytest.mark.parametrize("engine", ENGINES)
def test_every_file_reconciles_with_the_tables(engine, tmp_path, request):
    folder = _messy_evidence(tmp_path / "evidence")
    url = target(engine, tmp_path, request)

    report = ingest(folder, url, progress=False)

    by_table = {r.table: r for r in report.files}
    assert {t: r.rows_quarantined for t, r in by_table.items() if r.rows_quarantined} == {
        "logins": 2,
        "page_views": 1,
        "listings": 1,
    }
    with open_case(reader_url(url)) as case:
        quarantine = case.read_table("quarantine")
        for r in report.files:
            assert r.rows_read == r.rows_loaded + r.rows_quarantined
            assert case.read_table(r.table).height == r.rows_loaded
            assert quarantine.filter(pl.col("file") == r.file).height == r.rows_quarantined
        manifest = case.read_table("manifest")
    assert manifest.select("path", "rows_read", "rows_loaded", "rows_quarantined").sort("path").rows() == [
        (r.file, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in sorted(report.files, key=lambda r: r.file)
    ]


def test_report_prints_reconciliation_and_first_quarantined_rows(tmp_path):
    report = ingest(_messy_evidence(tmp_path / "evidence"), tmp_path / "case.db", progress=False)
    text = report.format()
    assert "evidence/logins.csv" in text and "quarantined" in text
    line = next(r for r in text.splitlines() if r.startswith("evidence/logins.csv"))
    assert line.split()[-3:] == ["5", "3", "2"]
    assert "evidence/logins.csv:6: time: '2013-12-13 18:11:00' is a timestamp without time zone" in text
    assert report.frame().columns == ["file", "table", "rows_read", "rows_loaded", "rows_quarantined"]


def test_missing_tables_are_recorded_absent_apart_from_empty_ones(tmp_path):
    frames = {k: v for k, v in handmade_frames().items() if k not in ("handlers", "deployments")}
    folder = write_evidence(frames, tmp_path / "evidence")
    (folder / "raw").mkdir()
    (folder / "README.txt").write_text("notes", encoding="utf-8")

    report = ingest(folder, tmp_path / "case.db", progress=False)

    assert report.missing_tables == ["deployments", "handlers"]
    assert report.ignored == ["README.txt", "raw"]
    # With no handlers file at all, references to handlers are reported, not checked.
    assert "offers.handler_id → handlers.handler_id" in report.unchecked_references
    assert "Absent, no file for these tables: deployments, handlers" in report.format()
    with open_case(tmp_path / "case.db") as case:
        empty = case.read_table("handlers")
        assert empty.height == 0 and empty.schema == evidence.polars_schema("handlers")
        assert case.read_table("offers").height == 2
        # absent (no file) is recorded apart from present with 0 rows
        absent_rows = case.read_table("manifest_absent")
        assert absent_rows["table"].to_list() == ["deployments", "handlers"]
        assert absent_rows["reason"].to_list() == ["no file at ingest"] * 2
        assert absent_rows["looked_for"][0] == "evidence/deployments.csv, evidence/deployments.parquet"
        assert set(case.read_table("manifest")["table"]).isdisjoint({"deployments", "handlers"})
        assert absent(case) == {"deployments": "no file at ingest", "handlers": "no file at ingest"}


def test_a_table_present_with_no_rows_is_not_absent(tmp_path):
    frames = handmade_frames()
    frames["logouts"] = frames["logouts"].clear()
    folder = write_evidence(frames, tmp_path / "evidence", fmt="csv")
    report = ingest(folder, tmp_path / "case.db", progress=False)
    assert report.missing_tables == [] and "Absent" not in report.format()
    with open_case(tmp_path / "case.db") as case:
        assert case.read_table("logouts").height == 0
        assert case.read_table("manifest_absent").height == 0 and absent(case) == {}
        row = case.read_table("manifest").filter(pl.col("table") == "logouts").row(0, named=True)
        assert row["rows_read"] == 0 and row["path"] == "evidence/logouts.csv"


def test_raw_forms_are_named_among_what_ingest_looked_for(tmp_path):
    frames = {k: v for k, v in handmade_frames().items() if k != "page_views"}
    folder = write_evidence(frames, tmp_path / "evidence")
    ingest(folder, tmp_path / "case.db", progress=False)
    with open_case(tmp_path / "case.db") as case:
        row = case.read_table("manifest_absent").row(0, named=True)
    assert row["table"] == "page_views"
    assert row["looked_for"] == (
        "evidence/page_views.csv, evidence/page_views.parquet, evidence/access.log, raw/access.log"
    )


def test_default_case_is_case_db_beside_the_folder(tmp_path):
    folder = write_evidence(handmade_frames(), tmp_path / "run" / "evidence")
    report = ingest(folder, progress=False)
    assert (tmp_path / "run" / "case.db").is_file()
    assert report.case_url == f"sqlite:///{tmp_path / 'run' / 'case.db'}"


@pytest.mark.parametrize("engine", ENGINES)
def test_reingest_replaces_the_case(engine, tmp_path, request):
    frames = handmade_frames()
    url = target(engine, tmp_path, request)
    ingest(write_evidence(frames, tmp_path / "one"), url, progress=False)
    fewer = {**frames, "logouts": frames["logouts"].clear()}
    ingest(write_evidence(fewer, tmp_path / "two"), url, progress=False)
    with open_case(reader_url(url)) as case:
        assert case.read_table("logouts").height == 0
        assert set(case.read_table("manifest")["path"].str.extract(r"^(\w+)/")) == {"two"}


def _fail_on_second_append(monkeypatch):
    """Make every writer fail in the middle of a load, as a full disk would."""
    calls = {"n": 0}
    for cls in (load_module.SQLiteWriter, load_module.DuckDBWriter, load_module.PostgresWriter):
        original = cls.append

        def append(self, name, frame, _original=original):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("No space left on device")
            _original(self, name, frame)

        monkeypatch.setattr(cls, "append", append)


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_ingest_leaves_the_previous_case_untouched(engine, tmp_path, request, monkeypatch):
    frames = handmade_frames()
    url = target(engine, tmp_path, request)
    ingest(write_evidence(frames, tmp_path / "good"), url, progress=False)
    other = write_evidence({**frames, "logouts": frames["logouts"].clear()}, tmp_path / "other")
    before = sorted(p.name for p in tmp_path.iterdir())
    digest = hashlib.sha256((tmp_path / "case.db").read_bytes()).hexdigest() if engine == "sqlite" else None
    _fail_on_second_append(monkeypatch)

    with pytest.raises(OSError, match="No space left"):
        ingest(other, url, progress=False)

    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left
    if digest:
        assert hashlib.sha256((tmp_path / "case.db").read_bytes()).hexdigest() == digest
    with open_case(reader_url(url)) as case:
        assert case.read_table("logouts").height == 1
        assert set(case.read_table("manifest")["path"].str.extract(r"^(\w+)/")) == {"good"}


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_file_found_broken_mid_load_leaves_no_case(engine, tmp_path, request):
    # The footer is intact, so the whole-file checks pass; the second row group is corrupt.
    bad = Path(__file__).parent / "data" / "bad" / "corrupt_parquet_page"
    url = target(engine, tmp_path, request)
    with pytest.raises(EvidenceError, match=r"corrupt_parquet_page/logins\.parquet: cannot be read: .*page header"):
        ingest(bad, url, batch_rows=50, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_keys_and_lines_hold_across_batches(tmp_path):
    frames = handmade_frames()
    logins = frames["logins"]
    frames["logins"] = pl.concat([logins, logins.head(1), logins.slice(1, 1)])  # rows 4, 5 repeat 1, 2
    folder = write_evidence(frames, tmp_path / "evidence")
    ingest(folder, tmp_path / "case.db", batch_rows=2, progress=False)
    with open_case(tmp_path / "case.db") as case:
        q = case.read_table("quarantine")
        assert case.read_table("logins").height == 3
    assert q.select("line", "column", "value").rows() == [(4, "session_id", "s-aaa"), (5, "session_id", "s-bbb")]
    assert q["reason"].to_list() == [
        "duplicate key session_id=s-aaa: first loaded from row 1; allowed: one row per key, the first is kept",
        "duplicate key session_id=s-bbb: first loaded from row 2; allowed: one row per key, the first is kept",
    ]


def test_csv_lines_count_quoted_line_breaks_across_blocks(tmp_path, monkeypatch):
    from workbench.ingest import readers

    monkeypatch.setattr(readers, "_CSV_BLOCK", 256)  # many small blocks
    good = "<{}@x>,2013-12-14T09:00:00Z,email,,a@example.com,s,b\n"
    kinds = {
        "good": good,
        "two lines": '<{}@x>,2013-12-14T09:00:00Z,email,,a@example.com,s,"two\nlines"\n',
        "too few fields": "<{}@x>,2013-12-14T09:00:00Z,email,,a@example.com\n",
        "bad enum": good.replace("email", "fax"),
    }
    rows = [
        "two lines" if i % 7 == 3 else "too few fields" if i % 11 == 5 else "bad enum" if i % 13 == 8 else "good"
        for i in range(40)
    ]
    text = "message_id,received_at,channel,sender_applicant_id,sender_address,subject,body\n"
    expected, line = {}, 2
    for i, kind in enumerate(rows):
        if kind in ("too few fields", "bad enum"):
            expected[line] = (f"<{i}@x>", kind)
        text += kinds[kind].format(i)
        line += kinds[kind].count("\n")
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "support_messages.csv").write_text(text, encoding="utf-8")

    report = ingest(folder, tmp_path / "case.db", progress=False)

    with open_case(tmp_path / "case.db") as case:
        q = case.read_table("quarantine")
    ids = pl.coalesce(pl.col("value").str.extract(r"^(<\d+@x>)"), pl.col("record").str.json_path_match("$.message_id"))
    kind = (
        pl.when(pl.col("reason").str.starts_with("malformed record: 5 fields"))
        .then(pl.lit("too few fields"))
        .otherwise(pl.lit("bad enum"))
    )
    assert {r[0]: (r[1], r[2]) for r in q.select("line", ids, kind).rows()} == expected
    assert len(expected) == 6 and sum(k == "two lines" for k in rows) == 6
    assert (report.files[0].rows_read, report.files[0].rows_quarantined) == (40, 6)


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench")
    add_ingest_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_prints_reconciliation_and_exits_0_when_only_rows_were_quarantined(tmp_path, capsys):
    folder = _messy_evidence(tmp_path / "evidence")
    status = _run_cli(["ingest", str(folder), "--case", f"duckdb:///{tmp_path / 'case.duckdb'}"])
    out = capsys.readouterr().out
    assert status == 0
    assert "evidence/page_views.csv" in out and "4 rows quarantined" in out


def test_cli_exits_1_with_one_message_for_an_unusable_file(tmp_path, capsys):
    bad = Path(__file__).parent / "data" / "bad" / "missing_column"
    status = _run_cli(["ingest", str(bad), "--case", str(tmp_path / "case.db")])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.startswith("workbench ingest: error: missing_column/logins.csv: missing column 'method'")
    assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "case.db").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_generated_tiny_case_round_trips(tiny_case, engine, tmp_path, request):
    url = target(engine, tmp_path, request)
    report = ingest(tiny_case.evidence_dir, url, progress=False)
    # The generator's evidence is clean: nothing may be quarantined, and nothing lost.
    assert report.rows_quarantined == 0
    assert report.missing_tables == []
    with open_case(reader_url(url)) as case:
        for name in evidence.TABLES:
            expected = tiny_case.evidence(name)
            assert_frame_equal(case.read_table(name), expected.sort(_key(name, expected)), check_exact=True)


def test_csv_with_bom_crlf_and_header_only(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    rows = [
        "time,session_id,reason",
        "2013-12-13T18:05:00Z,s1,user",
        '2013-12-13T18:06:00Z,"s\r\n2",timeout',
        "2013-12-13T18:07:00Z,s3,crash",
    ]
    (folder / "logouts.csv").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")
    (folder / "deployments.csv").write_text("time,version,description\n", encoding="utf-8")

    report = ingest(folder, tmp_path / "case.db", progress=False)

    with open_case(tmp_path / "case.db") as case:
        assert sorted(case.read_table("logouts")["session_id"]) == ["s\r\n2", "s1"]
        assert case.read_table("quarantine").select("line", "value").rows() == [(5, "crash")]
    assert {r.table: r.rows_read for r in report.files} == {"logouts": 3, "deployments": 0}


def test_a_csv_batch_is_searched_for_line_ends_in_its_bytes():
    import pyarrow as pa

    from workbench.ingest.readers import _has_newline

    assert not _has_newline(pa.array(["a", None, "b c"]))
    assert _has_newline(pa.array(["a", "two\nlines"]))
    assert _has_newline(pa.array(["two\r\nlines"]))
    assert not _has_newline(pa.array([None, None], pa.string()))
    assert _has_newline(pa.array([1, 2]))  # not text: counted value by value, as before
    assert _has_newline(pa.array(["x\ny", "z"]).slice(1))  # a slice's buffer may say too much, never too little
