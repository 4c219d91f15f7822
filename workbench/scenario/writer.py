"""Write evidence and truth frames to disk, in declared column order, byte-for-byte stable."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from .. import evidence

__all__ = ["FORMATS", "conform", "write_chunks", "write_evidence", "write_frame", "write_truth"]

FORMATS = ("parquet", "csv")
# ISO 8601 with an explicit zone; every timestamp in the evidence is UTC.
CSV_DATETIME = "%Y-%m-%dT%H:%M:%S%.6fZ"


def write_frame(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    """Write one frame; Parquet without statistics that vary, CSV with zoned ISO times."""
    if fmt == "parquet":
        frame.write_parquet(path, compression="zstd", statistics=True)
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
    return out.sort(order or list(schema), maintain_order=True, nulls_last=True)


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


def write_evidence(
    tables: dict[str, pl.DataFrame], out: Path, fmt: str, streams: dict[str, Any] | None = None
) -> dict[str, int]:
    """Write every declared table to ``out/<table>.<fmt>``; returns rows per table.

    A table in ``streams`` is written a chunk at a time, in the order it is already in: page
    views rendered from their rows, a spooled table (interests) moved or copied from its spool.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name in evidence.TABLES:
        schema = evidence.polars_schema(name)
        if streams and name in streams and hasattr(streams[name], "write_to"):  # a spool.SpooledTable
            rows[name] = streams[name].write_to(out / f"{name}.{fmt}", fmt)
            continue
        if streams and name in streams:
            rows_of = streams[name]
            bounds = list(rows_of.bounds())
            if len(bounds) <= 1:  # one chunk or none: written whole, as any table
                frame = conform(name, rows_of.frame(), schema)
                write_frame(frame, out / f"{name}.{fmt}", fmt)
                rows[name] = frame.height
                continue
            chunks = (conform(name, rows_of.frame(lo, hi), schema) for lo, hi in bounds)
            rows[name] = write_chunks(chunks, out / f"{name}.{fmt}", fmt)
            continue
        frame = conform(name, tables[name], schema)
        write_frame(frame, out / f"{name}.{fmt}", fmt)
        rows[name] = frame.height
    return rows


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
