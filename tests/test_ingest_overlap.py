"""Ingest's steps in threads (workbench/ingest/stages.py): same case, same errors, no thread left."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from evidence_frames import handmade_frames, write_evidence

from workbench.errors import EvidenceError
from workbench.ingest import ingest, load as load_module
from workbench.ingest.sources import check_file, discover, file_sha256
from workbench.ingest.stages import Ahead


def _ingest_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ingest-")]


# -- Ahead on its own ------------------------------------------------------------------------


def test_items_come_in_order_and_an_error_at_its_place():
    def produce():
        yield from range(5)
        raise ValueError("broken at 5")

    got = []
    with Ahead(produce) as ahead, pytest.raises(ValueError, match="broken at 5"):
        for item in ahead:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]
    assert _ingest_threads() == []


def test_the_thread_waits_once_depth_items_are_ready():
    made = []

    def produce():
        for i in range(100):
            made.append(i)
            yield i

    with Ahead(produce, depth=2) as ahead:
        items = iter(ahead)
        assert next(items) == 0
        time.sleep(0.3)
        # One taken, two waiting in the queue, one made and waiting for room: no more.
        assert len(made) <= 4
        assert list(items) == list(range(1, 100))


def test_close_stops_a_waiting_thread_and_runs_its_cleanup():
    cleaned = threading.Event()

    def produce():
        try:
            yield from range(1_000_000)
        finally:
            cleaned.set()

    ahead = Ahead(produce, depth=1)
    items = iter(ahead)
    assert next(items) == 0
    started = time.perf_counter()
    ahead.close()
    assert time.perf_counter() - started < 2
    assert cleaned.is_set()
    assert _ingest_threads() == []
    assert list(items) in ([], [1])  # what was waiting in the queue, at most; never hangs


def test_an_empty_producer_ends_at_once():
    with Ahead(lambda: iter(())) as ahead:
        assert list(ahead) == []


# -- ingest with and without the threads -----------------------------------------------------


def _messy(folder: Path) -> Path:
    """Hand-made evidence with duplicates, orphans, bad values and a malformed record."""
    frames = handmade_frames()
    logins = frames["logins"]
    frames["logins"] = pl.concat([logins, logins.head(1)])  # a duplicate key, in a later batch
    write_evidence(frames, folder, "csv")
    with open(folder / "logins.csv", "a", encoding="utf-8") as fh:
        fh.write("2013-12-13 18:11:00,s-ddd,1001,bankid,,\n")  # naive timestamp
        fh.write("2013-12-13T18:11:00Z,s-eee,1001,bankid\n")  # malformed: too few fields
    with open(folder / "page_views.csv", "a", encoding="utf-8") as fh:
        fh.write("2013-12-13T18:12:00Z,s-zzz,,/mina-sidor,200,\n")  # orphan session
        fh.write("2013-12-13T18:12:00Z,s-aaa,,/mina-sidor,2x0,\n")  # not a whole number
    with open(folder / "listings.csv", "a", encoding="utf-8") as fh:
        fh.write("9,Prov AB,Solna,1,5000,castle,2013-01-01T00:00:00Z,2013-01-02T00:00:00Z,none\n")  # enum
    return folder


def _tables_in_load_order(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        out = {}
        for name in names:
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if r[0] != "ingested_at"
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            out[name] = con.execute(f'select {listed} from "{name}" order by rowid').fetchall()
        return out
    finally:
        con.close()


@pytest.mark.parametrize("batch_rows", [1, 2, 1_000])
def test_threads_write_the_same_case_in_the_same_order(tmp_path, batch_rows):
    folder = _messy(tmp_path / "evidence")
    cases = {}
    reports = {}
    for overlap in (False, True):
        path = tmp_path / f"case-{overlap}.duckdb"
        reports[overlap] = ingest(folder, f"duckdb:///{path}", progress=False, batch_rows=batch_rows, overlap=overlap)
        cases[overlap] = _tables_in_load_order(path)
    assert _ingest_threads() == []
    assert cases[True] == cases[False]
    # The evidence is not clean: the comparison covers quarantine rows of every kind.
    reasons = " ".join(str(row) for row in cases[True]["quarantine"])
    for kind in ("duplicate key", "orphan", "without time zone", "malformed record", "not a whole number", "castle"):
        assert kind in reasons
    assert len(cases[True]["quarantine"]) == 6
    assert [(r.file, r.rows_read, r.rows_loaded, r.rows_quarantined, r.samples) for r in reports[True].files] == [
        (r.file, r.rows_read, r.rows_loaded, r.rows_quarantined, r.samples) for r in reports[False].files
    ]
    assert reports[True].unchecked_references == reports[False].unchecked_references


def test_a_file_broken_mid_load_raises_the_same_error_and_leaves_no_case(tmp_path):
    bad = Path(__file__).parent / "data" / "bad" / "corrupt_parquet_page"
    errors = []
    for overlap in (False, True):
        out = tmp_path / str(overlap)
        out.mkdir()
        with pytest.raises(EvidenceError) as caught:
            ingest(bad, f"duckdb:///{out / 'case.duckdb'}", batch_rows=50, progress=False, overlap=overlap)
        errors.append(str(caught.value))
        assert list(out.iterdir()) == []
    assert errors[0] == errors[1]
    assert "cannot be read" in errors[1]
    assert _ingest_threads() == []


def test_a_failing_write_stops_the_threads(tmp_path, monkeypatch):
    frames = handmade_frames()
    folder = write_evidence(frames, tmp_path / "evidence")
    original = load_module.DuckDBWriter.append
    calls = {"n": 0}

    def append(self, name, frame):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("No space left on device")
        original(self, name, frame)

    monkeypatch.setattr(load_module.DuckDBWriter, "append", append)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="No space left"):
        ingest(folder, f"duckdb:///{out / 'case.duckdb'}", batch_rows=1, progress=False)
    assert list(out.iterdir()) == []
    assert _ingest_threads() == []


def test_parquet_hashed_beside_the_load_has_the_same_sha256(tmp_path):
    folder = write_evidence(handmade_frames(), tmp_path / "evidence")
    shas = {}
    for overlap in (False, True):
        report = ingest(folder, f"duckdb:///{tmp_path / f'{overlap}.duckdb'}", progress=False, overlap=overlap)
        shas[overlap] = {r.file: (r.sha256, r.bytes) for r in report.files}
    expected = {
        f"evidence/{p.name}": (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size)
        for p in folder.glob("*.parquet")
    }
    assert shas[True] == shas[False] == expected


def test_a_file_that_grows_after_its_check_is_refused(tmp_path):
    folder = write_evidence(handmade_frames(), tmp_path / "evidence")
    source = discover(folder).files["logins"]
    check_file(source, hash_now=False)
    assert source.sha256 == "" and source.bytes == (folder / "logins.parquet").stat().st_size
    with open(folder / "logins.parquet", "ab") as fh:
        fh.write(b"more")
    with pytest.raises(EvidenceError, match=r"logins\.parquet: the file changed during ingest"):
        file_sha256(source)
