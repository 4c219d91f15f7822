"""Run a step of ingest in a thread of its own, a few items ahead of the step that takes them.

Ingest is a chain of steps over batches, each needing the one before it in file order:
read and type (pyarrow, polars), then the key and reference checks (numpy), then the write
(DuckDB, SQLite, PostgreSQL). Done one after another in one thread, the machine's second
core idles whenever a step runs that uses one core (the key checks, much of a write). Most
of that work releases the GIL, so with each step in a thread of its own (:class:`Ahead`),
the next batch is read and checked while the current one is written.

Order and results do not change: each step still takes its items one at a time and in
order, and an exception raised in a thread travels down the chain as an item, so the
caller raises the same exception, at the same place in the sequence, as one thread would.
Memory stays bounded: a step waits once ``depth`` of its items are ready and not yet taken.
:meth:`Ahead.close` stops the thread and waits for it (it finishes the item in hand), so
nothing reads a source after ingest returns or aborts its writer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Ahead"]

T = TypeVar("T")

_POLL = 0.1  # seconds between looks at the stop flag while waiting on a queue


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


class Ahead(Generic[T]):
    """The items of ``produce()``, made in a thread, at most ``depth`` ahead; iterate once.

    Use as a context manager, or call :meth:`close`. ``produce`` is called in the thread.
    """

    def __init__(self, produce: Callable[[], Iterator[T]], depth: int = 1, name: str = "ingest-ahead"):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce,), name=name, daemon=True)
        self._thread.start()

    def __enter__(self) -> Ahead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        while True:
            try:
                item = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._thread.is_alive():
                    continue
                try:  # the thread may have put its last item just before it ended
                    item = self._queue.get_nowait()
                except queue.Empty:
                    return  # stopped (close) before it finished: nothing more comes
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def close(self) -> None:
        """Stop making items and wait for the thread (it finishes the item in hand)."""
        self._stop.set()
        self._thread.join()

    def _run(self, produce: Callable[[], Iterator[T]]) -> None:
        items = None
        try:
            items = produce()
            for item in items:
                if not self._put(item):
                    return
        except BaseException as error:  # raised by the taker, where one thread would raise it
            self._put(_Failed(error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally blocks (open files, bars) run in this thread
        self._put(_DONE)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False
