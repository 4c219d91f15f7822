"""The interests are spooled to disk a batch at a time and come out as if written whole.

Pinned content hashes of every file at tiny and small are in ``tests/test_generate_stream.py``;
here the spool itself, on hand-written rows, and what ``generate`` leaves behind.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pyarrow.parquet as pq
import pytest

from workbench.scenario.spool import SpooledTable
from workbench.scenario.writer import conform, write_frame


def _interests(rows: list[tuple]) -> pl.DataFrame:
    """Interest rows (listing, applicant, registered day of Dec 2013, withdrawn day or None, session)."""
    at = lambda d: None if d is None else datetime(2013, 12, d, 12, tzinfo=UTC)  # noqa: E731
    return pl.DataFrame(
        {
            "listing_id": [r[0] for r in rows],
            "applicant_id": [r[1] for r in rows],
            "registered_at": [at(r[2]) for r in rows],
            "withdrawn_at": [at(r[3]) for r in rows],
            "session_id": [r[4] for r in rows],
        },
        schema_overrides={"registered_at": pl.Datetime("us", "UTC"), "withdrawn_at": pl.Datetime("us", "UTC")},
    )


BATCHES = [
    [(10, 1_000_001, 2, None, None), (10, 1_000_007, 3, 5, "s-a"), (11, 1_000_001, 2, None, None)],
    [],  # a month with no interests writes no row group
    [(12, 1_000_003, 9, None, None), (12, 1_000_004, 9, 10, None)],
]


def test_batches_become_row_groups_of_one_file_equal_to_the_whole(tmp_path):
    spool = SpooledTable("interests", tmp_path / "spool" / "interests.parquet")
    for rows in BATCHES:
        spool.append(_interests(rows))
    spool.close()
    whole = conform("interests", _interests([r for b in BATCHES for r in b]))
    assert spool.rows == 5
    assert pq.ParquetFile(spool.path).num_row_groups == 2
    assert spool.frame().equals(whole)
    assert [c.height for c in spool.chunks()] == [3, 2]
    assert spool.frame()["withdrawn_at"].null_count() == 3


def test_csv_written_a_row_group_at_a_time_is_byte_equal(tmp_path):
    spool = SpooledTable("interests", tmp_path / "interests.spool.parquet")
    for rows in BATCHES:
        spool.append(_interests(rows))
    assert spool.write_to(tmp_path / "interests.csv", "csv") == 5
    write_frame(conform("interests", _interests([r for b in BATCHES for r in b])), tmp_path / "whole.csv", "csv")
    text = (tmp_path / "interests.csv").read_text()
    assert text == (tmp_path / "whole.csv").read_text()
    assert text.count("\n") == 6 and text.startswith("listing_id,applicant_id,")


def test_parquet_is_moved_not_rewritten(tmp_path):
    spool = SpooledTable("interests", tmp_path / "spool.parquet")
    spool.append(_interests(BATCHES[0]))
    assert spool.write_to(tmp_path / "interests.parquet", "parquet") == 3
    assert not (tmp_path / "spool.parquet").exists()
    assert spool.path == tmp_path / "interests.parquet"
    assert pl.read_parquet(spool.path)["applicant_id"].to_list() == [1_000_001, 1_000_007, 1_000_001]


def test_a_batch_that_fails_in_the_writing_thread_fails_the_next_call_and_keeps_the_order(tmp_path):
    spool = SpooledTable("interests", tmp_path / "s.parquet")
    for _ in range(20):  # many batches in a row: each must land in its place
        spool.append(_interests(BATCHES[0]).with_columns(pl.col("listing_id") + 10 * _))
    spool.close()
    assert spool.frame()["listing_id"].to_list() == [x + 10 * i for i in range(20) for x in (10, 10, 11)]
    bad = SpooledTable("interests", tmp_path / "bad.parquet")
    bad.append(_interests(BATCHES[0]).drop("session_id"))
    with pytest.raises(RuntimeError, match="lacks columns"):
        bad.close()


def test_no_interests_give_an_empty_table_with_its_columns(tmp_path):
    spool = SpooledTable("interests", tmp_path / "s.parquet").close()
    assert spool.frame().height == 0
    assert spool.frame().columns == ["listing_id", "applicant_id", "registered_at", "withdrawn_at", "session_id"]
    assert spool.write_to(tmp_path / "interests.csv", "csv") == 0
    assert (tmp_path / "interests.csv").read_text().startswith("listing_id,applicant_id,")


def test_generate_leaves_no_spool_and_interests_in_batches(tiny_case):
    root = tiny_case.root
    assert not (root / ".spool").exists()
    f = pq.ParquetFile(root / "evidence" / "interests.parquet")
    assert f.num_row_groups >= 2  # tiny publishes over a year: a row group per month
    assert f.metadata.num_rows == pl.read_parquet(root / "evidence" / "interests.parquet").height


def test_national_listing_ids_are_unique_and_start_with_their_year():
    """National publishes 125,000 listings a year: five digits after the year would run into the next year."""
    from workbench.scenario.allocation import plan_listings
    from workbench.scenario.world import World, scale

    world = World(scale("national"), 1)
    plan_listings(world)
    lst = world.tables["listings"]
    ids, year = lst["listing_id"], lst["published_at"].dt.year()
    assert lst.height == 6 * 125_000 and ids.n_unique() == lst.height
    assert (ids // 1_000_000 == year % 100).all()
    # in publication order within a year, so the allocation's monthly batches come in key order
    ordered = lst.with_columns(y=year).sort("published_at", "listing_id")
    assert all(g["listing_id"].is_sorted() for _, g in ordered.group_by("y"))


def test_the_spool_writes_no_dictionary_pages(tmp_path):
    """Keys and times barely repeat in a batch: dictionary pages only cost hashing (same rows)."""
    spool = SpooledTable("interests", tmp_path / "interests.parquet")
    spool.append(_interests([(10, 1_000_000 + i, 1 + i % 20, None, None) for i in range(500)]))
    spool.close()
    meta = pq.ParquetFile(spool.path).metadata
    encodings = {e for i in range(meta.num_columns) for e in meta.row_group(0).column(i).encodings}
    assert not encodings & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}, encodings
    assert spool.frame()["registered_at"].n_unique() == 20


def test_frames_are_written_at_zstd_level_1(tmp_path, monkeypatch):
    """Polars' default level costs about 1.5x the CPU for 1-5 % smaller files."""
    seen = {}
    real = pl.DataFrame.write_parquet

    def spy(self, path, **kwargs):
        seen.update(kwargs)
        return real(self, path, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", spy)
    frame = conform("interests", _interests([(10, 1_000_001, 2, None, None)]))
    write_frame(frame, tmp_path / "i.parquet", "parquet")
    assert seen["compression"] == "zstd" and seen["compression_level"] == 1
    assert pl.read_parquet(tmp_path / "i.parquet").equals(frame)
