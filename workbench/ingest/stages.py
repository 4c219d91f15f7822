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
Memory stays bounded: a step starts an item only while fewer than ``depth`` of its items are
made and not yet taken, so with ``depth=1`` it makes the next item while the taker works on
the current one, and no more.
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
        self._queue: queue.Queue = queue.Queue()  # bounded by _room: an item is started only with room
        self._room = threading.Semaphore(depth)
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
            self._room.release()
            yield item
            item = None  # not held while waiting for the next one

    def close(self) -> None:
        """Stop making items and wait for the thread (it finishes the item in hand)."""
        self._stop.set()
        self._thread.join()

    def _run(self, produce: Callable[[], Iterator[T]]) -> None:
        items = None
        try:
            items = produce()
            while self._wait_for_room():
                try:
                    item = next(items)
                except StopIteration:
                    break
                self._queue.put(item)
                del item  # the taker's now; not held while the next one is made
            else:
                return  # stopped
        except BaseException as error:  # raised by the taker, where one thread would raise it
            self._queue.put(_Failed(error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally blocks (open files, bars) run in this thread
        self._queue.put(_DONE)

    def _wait_for_room(self) -> bool:
        """Wait until fewer than ``depth`` made items wait for the taker; False once stopped."""
        while not self._stop.is_set():
            if self._room.acquire(timeout=_POLL):
                return True
        return False
