"""Read the next batch of a table while this one is mapped, checked and written.

Reading (SQLite through ADBC, a log split in polars) and the work on a batch (transform,
checks, the case writer) each keep about one core busy, and both release the GIL for most
of their time; so on two cores the read of batch n+1 runs beside the work on batch n. At
most ``depth`` batches wait, so memory grows by that many. An error in the reader is raised
where the batch would have been taken; when the consumer stops early, the reader is closed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")
_ITEM, _ERROR, _DONE = "item", "error", "done"


def read_ahead(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """The items of ``items``, in order, read up to ``depth`` ahead in a thread of their own."""
    waiting: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(_ITEM, item):
                    return
            put(_DONE, None)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_ERROR, exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="workbench-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = waiting.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]
            elif kind == _ERROR:
                assert isinstance(value, BaseException)
                raise value
            else:
                return
    finally:
        stop.set()
        reader.join()
