"""Read and map the tables' inputs in worker threads while the writer loads the case.

Most of a mapped ingest is reading and converting sources (SQLite through ADBC, polars'
CSV and log parsing, Arrow casts), which release the GIL, so on a machine with more than one
core it can run beside the writer. :class:`Prefetch` starts a reader for each part of each
table (one an input file, :func:`.read.units`), in load order, at most ``workers`` at a
time; each batch a reader yields is mapped and value-checked (:func:`.run.make`) in a second
pool of ``workers`` threads. The writer (:func:`.run.load_table`) takes the batches of one
table after another, in the order sequential ingest reads them, and runs everything that
spans batches (the key and reference checks, the writes) itself. So the case is the same,
row for row and in the same order, as with ``workers=1``.

Memory stays bounded: a part waits once ``DEPTH`` of its batches are ready and not yet
taken, so at most ``workers × (DEPTH + 1)`` batches are held besides the writer's. The
exception is what the caller names ``early``, small and slow to read (the mail folder: pure
Python under the GIL, one part): it is read first, all of it, while the writer loads the
tables before it, rather than alone when the writer reaches it.

An error in a thread is raised in the writer when it reaches that batch, as the same
exception sequential ingest raises there, and an earlier error (a key check, an earlier
batch) wins as it would. :meth:`Prefetch.close` stops the threads and waits for them, so no
reader still holds a source open when ingest returns or aborts its writer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

from ..ingest.batch import RawBatch
from ..ingest.manifest import FileReport
from .files import SourceFile, sha256_of

__all__ = ["DEPTH", "Later", "Prefetch"]

DEPTH = 1  # batches made and waiting for the writer, a part

T = TypeVar("T")
Part = Callable[[], Iterator[RawBatch]]


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


class Prefetch(Generic[T]):
    """The batches of every table, read and made ahead in threads; use as a context manager."""

    def __init__(
        self,
        tables: Sequence[tuple[str, list[Part], Callable[[RawBatch], T]]],
        workers: int,
        early: Collection[str] = (),
    ):
        self._stop = threading.Event()
        self._readers = ThreadPoolExecutor(workers, thread_name_prefix="mapping-read")
        self._makers = ThreadPoolExecutor(workers, thread_name_prefix="mapping-make")
        self._queues: dict[str, list[queue.Queue]] = {}
        # The pools run their work first come, first served: the tables in ``early`` first, with
        # room for all their batches (so that their reader does not wait for the writer), then the
        # others in order.
        for name, parts, _ in tables:
            self._queues[name] = [queue.Queue(0 if name in early else DEPTH) for _ in parts]
        for name, parts, make in sorted(tables, key=lambda t: t[0] not in early):
            for part, waiting in zip(parts, self._queues[name], strict=True):
                self._readers.submit(self._read, part, make, waiting)

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batches(self, table: str) -> Iterator[T]:
        """The made batches of ``table``, in order; raises what reading or making one raised."""
        for waiting in self._queues.pop(table):
            while (item := waiting.get()) is not _DONE:
                if isinstance(item, _Failed):
                    raise item.error
                yield item.result()

    def close(self) -> None:
        """Stop reading and wait for every thread (a reader finishes the batch in hand)."""
        self._stop.set()
        self._readers.shutdown(wait=True, cancel_futures=True)
        self._makers.shutdown(wait=True, cancel_futures=True)

    def _read(self, part: Part, make: Callable[[RawBatch], T], waiting: queue.Queue) -> None:
        try:
            batches = part()
            try:
                for batch in batches:
                    if not self._put(waiting, self._makers.submit(make, batch)):
                        return
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()
        except BaseException as error:  # raised in the writer, where sequential ingest raises it
            self._put(waiting, _Failed(error))
            return
        self._put(waiting, _DONE)

    def _put(self, waiting: queue.Queue, item: object) -> bool:
        while not self._stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


class Later:
    """SQLite databases hashed in a thread beside the readers (0.7 CPU-s for ko.sqlite at stockholm).

    Their sha256 is filled into the reports before the manifest is written; a failure is
    raised there (the writer aborts: no case). Leaving the block waits for the thread.
    """

    def __init__(self, active: bool):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="mapping-hash") if active else None
        self.digests: dict[Path, Future[str]] = {}

    def __enter__(self) -> Later:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def hash(self, path: Path) -> None:
        assert self.pool is not None
        self.digests[path] = self.pool.submit(sha256_of, path)

    def fill(self, reports: list[FileReport], inputs: dict[str, list[SourceFile]]) -> None:
        paths = {(t, f.label): f.path for t, files in inputs.items() for f in files if f.path in self.digests}
        for report in reports:
            if (path := paths.get((report.table, report.file))) is not None:
                report.sha256 = self.digests[path].result()
