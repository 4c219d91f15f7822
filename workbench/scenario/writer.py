"""Write evidence and truth frames to disk, in declared column order, byte-for-byte stable."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from .. import evidence

__all__ = [
    "FORMATS",
    "conform",
    "in_order",
    "write_chunks",
    "write_evidence",
    "write_frame",
    "write_rows",
    "write_truth",
]

FORMATS = ("parquet", "csv")
# ISO 8601 with an explicit zone; every timestamp in the evidence is UTC.
CSV_DATETIME = "%Y-%m-%dT%H:%M:%S%.6fZ"


def write_frame(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    """Write one frame; Parquet without statistics that vary, CSV with zoned ISO times.

    Parquet at zstd level 1, pyarrow's default and so the level of the tables written with
    its ``ParquetWriter``: polars' default (3) took about 1.5x the CPU (applicants, fees,
    logins at stockholm) for files 1-5 % smaller, read back as fast.
    """
    if fmt == "parquet":
        frame.write_parquet(path, compression="zstd", compression_level=1, statistics=True)
    else:  # evidence for the ingest to read, not a report: written as it is, not through workbench.csvout
        frame.write_csv(path, datetime_format=CSV_DATETIME, date_format="%Y-%m-%d")


def conform(name: str, frame: pl.DataFrame, schema: pl.Schema | None = None) -> pl.DataFrame:
    """``frame`` as table ``name`` is written: declared columns and dtypes, sorted by time then key."""
    schema = schema if schema is not None else evidence.polars_schema(name)
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise RuntimeError(f"generator bug: table {name} lacks columns {missing}")
    out = frame.select([pl.col(c).cast(t) for c, t in schema.items()])
    keys = [c.name for c in evidence.table(name).primary_key.columns] if name in evidence.TABLES else []
    order = (["time"] if "time" in schema and "time" not in keys else []) + keys
    order = order or list(schema)
    if in_order(out, order):  # most frames are made in their written order: the sort would only copy them
        return out
    return out.sort(order, maintain_order=True, nulls_last=True)


def in_order(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Whether ``frame`` is already sorted by ``keys`` (ascending, nulls last), ties allowed.

    Then a stable sort by them returns it unchanged; checking costs a fraction of sorting.
    """
    if frame.height < 2:
        return True
    ok: pl.Expr | None = None
    for c in reversed(keys):  # row i <= row i + 1: less on this key, or equal and in order on the next
        a, b = pl.col(c), pl.col(c).shift(-1)
        less = (a < b).fill_null(False) | (a.is_not_null() & b.is_null())
        ok = less | (a.eq_missing(b) if ok is None else a.eq_missing(b) & ok)
    assert ok is not None
    return bool(frame.select(ok.head(frame.height - 1).all()).item())


def write_chunks(chunks: Iterable[pl.DataFrame], path: Path, fmt: str) -> int:
    """Write frames of one table one after another into one file; returns the rows written.

    The same content as :func:`write_frame` of them all concatenated: CSV with one header,
    Parquet with a row group per chunk. Only one chunk is in memory at a time.
    """
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    with open(path, "wb") as fh:
        for chunk in chunks:
            if fmt == "parquet":
                table = chunk.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema, compression="zstd", write_statistics=True)
                writer.write_table(table)
            else:
                chunk.write_csv(fh, include_header=rows == 0, datetime_format=CSV_DATETIME, date_format="%Y-%m-%d")
            rows += chunk.height
        if writer is not None:
            writer.close()
    return rows


def write_rows(name: str, rows_of: Any, path: Path, fmt: str) -> int:
    """Write table ``name`` rendered from streamed rows (``frame(lo, hi)`` per ``bounds()``); returns its rows.

    A chunk at a time, in the order the rows are already in; one chunk or none is written
    whole, as any table.
    """
    schema = evidence.polars_schema(name)
    bounds = list(rows_of.bounds())
    if len(bounds) <= 1:
        frame = conform(name, rows_of.frame(), schema)
        write_frame(frame, path, fmt)
        return frame.height
    return write_chunks((conform(name, rows_of.frame(lo, hi), schema) for lo, hi in bounds), path, fmt)


def write_evidence(
    tables: dict[str, pl.DataFrame], out: Path, fmt: str, streams: dict[str, Any] | None = None
) -> dict[str, int]:
    """Write every declared table to ``out/<table>.<fmt>``; returns rows per table.

    A table in ``streams`` is written a chunk at a time, in the order it is already in: page
    views rendered from their rows (:func:`write_rows`), a table with ``write_to`` (the
    interests' spool, a table written ahead in a thread) moved or copied from where it waits.
    Those are taken last, so the tables written here overlap with what is still being written
    in a thread.
    """
    out.mkdir(parents=True, exist_ok=True)
    streams = streams or {}
    rows = {}
    waiting = [name for name in evidence.TABLES if hasattr(streams.get(name), "write_to")]
    for name in evidence.TABLES:
        if name in waiting:
            continue
        if name in streams:
            rows[name] = write_rows(name, streams[name], out / f"{name}.{fmt}", fmt)
            continue
        frame = conform(name, tables[name], evidence.polars_schema(name))
        write_frame(frame, out / f"{name}.{fmt}", fmt)
        rows[name] = frame.height
    for name in waiting:  # spool.SpooledTable, build.WrittenAhead
        rows[name] = streams[name].write_to(out / f"{name}.{fmt}", fmt)
    return {name: rows[name] for name in evidence.TABLES}


def write_truth(truth: dict[str, pl.DataFrame], out: Path, fmt: str) -> dict[str, int]:
    """Write every truth table to ``out/<name>.<fmt>``; returns rows per table."""
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, columns in evidence.TRUTH_TABLES.items():
        frame = truth.get(name, pl.DataFrame(schema=columns))
        frame = conform(name, frame, pl.Schema(columns))
        write_frame(frame, out / f"{name}.{fmt}", fmt)
        rows[name] = frame.height
    return rows
