"""pyarrow's CSV reader and the Arrow casts of times allocate from ``arrow_pool()`` (jemalloc).

pyarrow's default pool on Linux (mimalloc) hands freed blocks back to the system at once, so
each block of a large CSV was fresh memory the kernel had to zero; see docs/performance.md, pass 11.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from workbench.ingest import readers
from workbench.ingest.sources import EvidenceFile
from workbench.mapping import times


def test_the_pool_is_jemalloc_where_pyarrow_has_it():
    pool = readers.arrow_pool()
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow is built without jemalloc")
    assert pool.backend_name == "jemalloc"


def test_without_jemalloc_the_default_pool(monkeypatch):
    def missing():
        raise NotImplementedError("built without jemalloc")

    monkeypatch.setattr(pa, "jemalloc_memory_pool", missing)
    assert readers.arrow_pool().backend_name == pa.default_memory_pool().backend_name


def test_csv_is_read_from_the_pool(tmp_path, monkeypatch):
    pools = []
    real = pacsv.open_csv

    def open_csv(*args, **kwargs):
        pools.append(kwargs.get("memory_pool"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pacsv, "open_csv", open_csv)
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,\n", encoding="utf-8")
    batches = list(readers.read_batches(EvidenceFile(path, "t", "csv", "t.csv", columns=["a", "b"])))
    assert pools and all(p is not None and p.backend_name == readers.arrow_pool().backend_name for p in pools)
    assert batches[0].frame.select("a", "b").rows() == [("1", "x"), ("2", None)]


def test_time_cast_allocates_from_the_pool(monkeypatch):
    used = []
    real = times.pc.cast

    def cast(*args, **kwargs):
        used.append(kwargs.get("memory_pool"))
        return real(*args, **kwargs)

    monkeypatch.setattr(times.pc, "cast", cast)
    parse = times.TimeParse("t", pl.col("t"), None, "UTC", True)
    frame = pl.DataFrame({"t": ["2013-12-09 00:00:05", None, "2013-12-09 10:20:30"]})
    staged = times.stage(frame, [parse])
    assert used and all(p is not None for p in used)
    assert staged["tl"].dt.to_string("%Y-%m-%d %H:%M:%S").to_list() == [
        "2013-12-09 00:00:05",
        None,
        "2013-12-09 10:20:30",
    ]
