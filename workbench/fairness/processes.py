"""Share independent pieces of an analysis between this process and spawned ones, results in input order.

For work that holds Python's lock (a loop of short numpy calls), threads take turns on one
core; a second process runs beside this one. The children are *spawned*: they start from a
fresh interpreter and import only the module of the function they run, so they never hold a
copy of the evidence; each piece is sent to them pickled (keep pieces small: a design, not a
frame). Results come back in the order of the inputs, so anything built from them is the same
as from a plain loop, wherever each piece ran.

An error in a child is raised here with its type and message (the child's traceback is the
``__cause__``). If this process is interrupted (Ctrl-C, a kernel interrupt) or fails, the
children are terminated at once instead of finishing their current piece; in every case they
have exited, and been waited for, when :func:`shared` returns or raises. Should this process be
killed outright, each child sees it go (its parent's sentinel) and exits too.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from ..children import orphan_guard

__all__ = ["AHEAD", "children", "shared"]

T = TypeVar("T")
R = TypeVar("R")

AHEAD = 2
"""Pieces queued to a child at once: it starts the next while this process hands over another."""


@contextmanager
def children(count: int, initializer: Callable[..., object] | None = None, initargs: tuple = ()) -> Iterator[Any]:
    """A pool of ``count`` spawned processes, each set up by ``initializer(*initargs)`` once.

    On a normal exit the pool is shut down and its processes waited for; when an exception
    (KeyboardInterrupt too) leaves the block, pieces not started are cancelled and the
    processes are terminated first, so the caller is not kept waiting for their current piece.
    """
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(initializer, initargs),
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        raise
    finally:
        pool.shutdown(wait=True)


def _start(initializer: Callable[..., object] | None, initargs: tuple) -> None:
    """In a child as it starts: exit when the parent is gone, then ``initializer(*initargs)``."""
    orphan_guard()
    if initializer is not None:
        initializer(*initargs)


def shared(
    here: Callable[[T], R],
    there: Callable[[T], R],
    items: Sequence[T],
    processes: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple = (),
    *,
    from_end: bool = False,
) -> list[R]:
    """``[here(item) for item in items]``, the items shared between this thread and ``processes`` children.

    ``there`` runs in a child (a module-level function, as pickle requires) and must give the
    same result as ``here``. Each worker takes the next item not yet taken, in the order of
    ``items`` (put the longest first so that no one is left with a long one at the end), until
    none is left. With ``from_end`` the children take theirs from the end of ``items`` instead,
    backwards, while this thread goes forwards: each side works through neighbouring items (which
    may share a cache) and they meet wherever the work divides evenly. With ``processes`` 0
    everything runs here.
    """
    results: list[Any] = [None] * len(items)
    if processes <= 0 or len(items) <= 1:
        return [here(item) for item in items]
    lock = threading.Lock()
    ends = [0, len(items)]  # items[ends[0]:ends[1]] are not taken yet
    stop = threading.Event()
    errors: list[BaseException] = []

    def take(child: bool = False) -> int | None:
        with lock:
            if stop.is_set() or ends[0] >= ends[1]:
                return None
            if child and from_end:
                ends[1] -= 1
                return ends[1]
            ends[0] += 1
            return ends[0] - 1

    def drive(pool: ProcessPoolExecutor) -> None:
        # keeps up to AHEAD items queued to the child (one running, the next ready) until none is left
        pending: deque[tuple[int, Future[R]]] = deque()
        try:
            while True:
                while len(pending) < AHEAD and (i := take(child=True)) is not None:
                    pending.append((i, pool.submit(there, items[i])))
                if not pending:
                    return
                i, future = pending.popleft()
                results[i] = future.result()
        except BaseException as error:  # the child's error, raised again in the caller
            stop.set()
            errors.append(error)

    drivers: list[threading.Thread] = []
    try:
        with children(processes, initializer, initargs) as pool:
            drivers += [threading.Thread(target=drive, args=(pool,), name=f"child-{k}") for k in range(processes)]
            for driver in drivers:
                driver.start()
            while (i := take()) is not None:
                results[i] = here(items[i])
            for driver in drivers:
                driver.join()
    finally:
        # after an error here (or Ctrl-C), children() has terminated the processes: their drivers
        # end at once (BrokenProcessPool, not raised: the error here is)
        stop.set()
        for driver in drivers:
            driver.join()
    if errors:
        raise errors[0]
    return results
