"""Child processes that end with the process that started them.

A worker started by :class:`concurrent.futures.ProcessPoolExecutor` outlives a parent that is
killed (a kernel restarted or ended with SIGKILL, a report stopped): it finishes the task it
holds, then waits for the next one for ever, since it holds its task queue's write end
itself and never sees the pipe close. :func:`orphan_guard` as the pool's initializer asks
Linux to send the worker SIGTERM when its parent dies, and ends a worker whose parent is
already gone when it starts::

    ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=orphan_guard, initargs=(os.getpid(),))

Elsewhere than on Linux it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

__all__ = ["die_with_parent", "orphan_guard"]


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In a child: be sent ``sig`` when the thread that started it ends (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def orphan_guard(parent: int) -> None:
    """A pool worker's initializer: end when process ``parent`` dies, or now if it already has.

    Linux sends the death signal when the *thread* that forked the child ends, so a pool must
    start its workers from a thread that lives as long as the process (the main thread, or
    ``concurrent.futures``' own management thread, which lives as long as the pool).
    """
    die_with_parent()
    if sys.platform.startswith("linux") and os.getppid() != parent:  # it died before the line above
        os._exit(1)
