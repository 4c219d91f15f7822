"""Calls run one at a time on a worker thread, in the order they were made.

The allocation's main loop is the generator's critical path at national scale. What it hands
to :class:`.records.Records` (the reached candidates of a batch, its interests, its backdated
queue dates) is bookkeeping the next batch never reads back, so it can run on the second core
while the next batch is drawn and walked. One worker keeps the calls in order, and with them
the draws of the records' own random stream: the bytes written are those of calling the
methods directly (``tests/test_generate_inorder.py``).

At most ``depth`` calls wait: a caller that gets further ahead waits for the oldest, so the
batches held for the worker stay bounded. An error in the worker is raised in the caller by
its next :meth:`InOrder.submit` or by :meth:`InOrder.join`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["InOrder"]


class InOrder:
    """A worker thread running submitted calls one after another, in submission order."""

    def __init__(self, name: str, depth: int = 2):
        if depth < 1:
            raise ValueError(f"depth must be 1 or more, got {depth}")
        self.depth = depth
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._pending: deque[Future[Any]] = deque()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue ``fn(*args, **kwargs)``; the arguments must not be changed afterwards.

        First collects the calls already done (raising the first error) and waits while
        ``depth`` calls are still waiting.
        """
        if self._pool is None:
            raise RuntimeError("InOrder.submit after join")
        while self._pending and (self._pending[0].done() or len(self._pending) >= self.depth):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, *args, **kwargs))

    def join(self) -> None:
        """Wait for every call (raising the first error) and end the worker thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self.close()

    def close(self) -> None:
        """End the worker without waiting for its results: calls not yet started are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
