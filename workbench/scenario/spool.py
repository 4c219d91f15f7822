"""An evidence table written a batch at a time while it is simulated, never held whole.

The allocation's interests are the largest table the generator makes (12 million rows at
stockholm, about 120 million at national). Each monthly batch is conformed and appended to a
Parquet spool file as one row group as soon as it is drawn; at the end the spool becomes
``evidence/interests.parquet`` (moved, not copied) or is rewritten as CSV a row group at a
time. One file per table, as the evidence format asks; row groups are the batches.

A batch is conformed, compressed and written in a thread of its own while the caller goes on
simulating the next one (polars and pyarrow release the GIL, so this uses the second core).
At most one batch waits to be written, so the spool holds no more than two batches at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def append(self, frame: pl.DataFrame) -> None:
        """Conform one batch and write it as a row group (an empty batch writes nothing).

        The write runs in the spool's own thread; this returns once the batch before it is
        written, so batches reach the file in the order they came and at most one waits.
        """
        if not frame.height:
            return
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"spool-{self.name}")
        self._pending = self._pool.submit(self._write, frame)
        self.rows += frame.height

    def _wait(self) -> None:
        """Wait for the batch being written; its error, if any, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write(self, frame: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = conform(self.name, frame, self.schema).to_arrow()
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # No dictionary pages: the interests' keys and times barely repeat within a batch, so
            # pyarrow hashed every value only to fall back to plain pages (at stockholm 2.2 -> 0.9
            # CPU-s to write the table, 145 -> 120 MB, and faster to read back); same rows.
            self._writer = pq.ParquetWriter(
                self.path, table.schema, compression="zstd", write_statistics=True, use_dictionary=False
            )
        self._writer.write_table(table)

    def close(self) -> SpooledTable:
        """Finish the file; with no rows, write an empty table of the declared schema."""
        try:
            self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
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
