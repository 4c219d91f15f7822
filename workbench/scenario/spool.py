"""An evidence table written a batch at a time while it is simulated, never held whole.

The allocation's interests are the largest table the generator makes (12 million rows at
stockholm, about 120 million at national). Each monthly batch is conformed and appended to a
Parquet spool file as one row group as soon as it is drawn; at the end the spool becomes
``evidence/interests.parquet`` (moved, not copied) or is rewritten as CSV a row group at a
time. One file per table, as the evidence format asks; row groups are the batches.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from .. import evidence
from .writer import conform, write_chunks, write_frame

__all__ = ["SpooledTable"]


class SpooledTable:
    """Evidence table ``name`` appended batch by batch to the Parquet file ``path``.

    Batches must come in the table's written order: :func:`.writer.conform` sorts each one,
    and the file is their concatenation. ``rows`` counts what was appended.
    """

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, Path(path)
        self.schema = evidence.polars_schema(name)
        self.rows = 0
        self._writer: Any = None  # a pyarrow ParquetWriter once the first batch came

    def append(self, frame: pl.DataFrame) -> None:
        """Conform one batch and write it as a row group (an empty batch writes nothing)."""
        import pyarrow.parquet as pq

        if not frame.height:
            return
        table = conform(self.name, frame, self.schema).to_arrow()
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd", write_statistics=True)
        self._writer.write_table(table)
        self.rows += frame.height

    def close(self) -> SpooledTable:
        """Finish the file; with no rows, write an empty table of the declared schema."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pl.DataFrame(schema=self.schema).write_parquet(self.path, compression="zstd", statistics=True)
        return self

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The rows one row group (one batch) at a time, in file order."""
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as f:
            for i in range(f.num_row_groups):
                yield pl.from_arrow(f.read_row_group(i))  # type: ignore[misc]

    def frame(self) -> pl.DataFrame:
        """The whole table (for tests, small scales and the hand-over)."""
        return pl.read_parquet(self.path)

    def write_to(self, path: Path, fmt: str) -> int:
        """Write the table to ``path`` in ``fmt``: Parquet by moving the spool there, CSV a row group at a time."""
        self.close()
        if fmt == "parquet":
            shutil.move(self.path, path)  # a rename when both are on one file system
            self.path = Path(path)
            return self.rows
        if not self.rows:  # with its header, as any empty table
            write_frame(pl.DataFrame(schema=self.schema), path, fmt)
            return 0
        return write_chunks(self.chunks(), path, fmt)
