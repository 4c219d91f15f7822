"""Run independent pieces of an analysis side by side on the machine's cores, results in input order.

The fairness statistics loop over caseworkers (or simulations) whose computations share
nothing; where each piece is numpy work on whole arrays, which releases the GIL, threads use
every core without copying the evidence into other processes. Results come back in the
order of the inputs, so anything built from them is the same as from a plain loop.
"""

from __future__ import annotations

import contextvars
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

__all__ = ["ahead", "cores", "in_threads", "side_by_side"]

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def in_threads(work: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """``map(work, items)``, on ``workers`` threads (None: :func:`cores`; 1: in this thread), in input order."""
    todo = list(items)
    n = min(cores() if workers is None else workers, len(todo))
    if n <= 1:
        yield from map(work, todo)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="fairness") as pool:
        yield from pool.map(work, todo)


def side_by_side(work: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """``map(work, items)`` on ``workers`` threads (None: :func:`cores`), in input order, taking items as it goes.

    Unlike :func:`in_threads`, which takes every item first, an item is taken only when fewer
    than ``workers`` are being worked on, so at most ``workers`` items (and their results not
    yet given back) are held at once: for items that are large, such as a replay part's queue rows.
    """
    n = cores() if workers is None else workers
    if n <= 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="fairness-part") as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            # each item in a copy of the caller's context (language, journal), as if run here
            pending.append(pool.submit(contextvars.copy_context().run, work, item))
            if len(pending) >= n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_END = object()


def ahead(items: Iterable[T]) -> Iterator[T]:
    """``items`` in turn, each next one produced on another thread while the caller works on this one.

    For a producer that works outside Python's lock (a query read by DuckDB) and a consumer that
    does too (polars): the two overlap, and at most two items are held at once. The items are
    produced one after another, never two at a time; an error producing one is raised here.
    """
    source = iter(items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ahead") as pool:
        coming = pool.submit(next, source, _END)
        while (item := coming.result()) is not _END:
            coming = pool.submit(next, source, _END)
            yield cast(T, item)
