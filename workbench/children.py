"""Child processes that end with the process that started them.

A worker started by :class:`concurrent.futures.ProcessPoolExecutor` outlives a parent that is
killed (a kernel restarted or ended with SIGKILL, a report stopped): it finishes the task it
holds, then waits for the next one for ever, since it holds its task queue's write end
itself and never sees the pipe close. :func:`orphan_guard` as the pool's initializer makes
the worker watch its parent's sentinel and exit as soon as the parent is gone, however it
ended::

    ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=orphan_guard)

A worker started with :mod:`subprocess` (a report's notebook worker) has no sentinel to
watch; :func:`die_with_parent` asks Linux to signal it when its parent dies.
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


def orphan_guard() -> None:
    """A pool worker's initializer: exit as soon as the process that started it is gone (any OS).

    The watch is a daemon thread waiting on the parent's sentinel, which is ready once the
    parent has exited, killed or not, including before the worker got here. In a process not
    started by :mod:`multiprocessing` it does nothing.
    """
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True, name="parent-watch").start()


def _exit_with(sentinel: int) -> None:
    import multiprocessing.connection

    multiprocessing.connection.wait([sentinel])  # ready when the parent has exited, however it ended
    os._exit(1)
