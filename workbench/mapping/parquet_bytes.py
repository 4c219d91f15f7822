"""Parquet BINARY columns as text: the rows whose bytes are not UTF-8 are quarantined, not a traceback.

A Parquet string column is UTF-8 by its type; a BINARY one (bytes without the UTF8 annotation)
may hold anything. Every source value is read as text, so such a column is decoded here, where
the row and its file are known: polars' cast decodes a whole column at once, but stops at the
first byte that is not UTF-8 (whether strict or not) without saying which row it is in, so a
column it refuses is decoded value by value (Python's decoder) to find the rows.
"""

from __future__ import annotations

import polars as pl

from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch

__all__ = ["binary_as_text"]

_SHOWN = 60  # bytes of a value the reason shows


def binary_as_text(batch: RawBatch, needed: frozenset[str] | None = None) -> RawBatch:
    """``batch`` with its BINARY columns as text; a row with bytes that are not UTF-8 in one the mapping reads is quarantined.

    ``needed``: the source columns the mapping reads (default: all). Bytes that are not UTF-8
    in another column are kept, as escapes (``\\xff``), only for the record of a refused row.
    """
    frame = batch.frame
    binary = [name for name, dtype in frame.schema.items() if dtype == pl.Binary]
    if not binary:
        return batch
    texts: list[pl.Series] = []
    bad: dict[int, tuple[str, str]] = {}  # row index: the first column read with bytes that are not UTF-8, shown
    for name in binary:
        try:
            texts.append(frame[name].cast(pl.String))
            continue
        except pl.exceptions.PolarsError:  # "invalid utf8": which row is not said
            pass
        values: list[str | None] = []
        for i, value in enumerate(frame[name].to_list()):
            try:
                values.append(None if value is None else value.decode("utf-8"))
            except UnicodeDecodeError:
                shown = _escaped(value)
                values.append(shown)
                if needed is None or name in needed:
                    bad.setdefault(i, (name, shown))
        texts.append(pl.Series(name, values, pl.String))
    frame = frame.with_columns(texts)
    if not bad:
        return RawBatch(frame, batch.malformed, batch.records)
    rows = sorted(bad)
    refused = frame[rows]
    cols = [c for c in frame.columns if not c.startswith("__")]
    problems = pl.DataFrame(
        {
            LINE: refused[LINE],
            "column": [None] * len(rows),
            "value": [bad[i][1] for i in rows],
            "reason": [
                f"source column {bad[i][0]!r} holds bytes that are not UTF-8 text: {_cut(bad[i][1])}; "
                "allowed: UTF-8 text (a Parquet string column, or BINARY holding UTF-8)"
                for i in rows
            ],
            "record": refused.select(pl.struct(pl.col(c).cast(pl.String) for c in cols).struct.json_encode())
            .to_series()
            .to_list(),
        },
        schema=PROBLEMS_SCHEMA,
    )
    keep = pl.Series([True] * frame.height)
    keep[rows] = False
    return RawBatch(frame.filter(keep), pl.concat([batch.malformed, problems]), batch.records)


def _escaped(value: bytes) -> str:
    """Bytes as Python writes them, without ``b''``: ASCII as itself, the others as ``\\xff``."""
    return repr(value)[2:-1]


def _cut(shown: str) -> str:
    return shown if len(shown) <= 4 * _SHOWN else shown[: 4 * _SHOWN] + "…"
