"""Stopping a report run: Ctrl-C or SIGTERM ends every worker process and kernel it started.

Each notebook of ``workbench report`` runs in a worker process, whose kernel is a further
process. Without this, a SIGTERM (a job scheduler's stop, ``kill``) ended the report process
alone: its workers ran their notebooks to the end, at national scale minutes and several GB
each, and Ctrl-C stopped the running notebooks but let the queued ones start.

- :func:`signals_interrupt` turns SIGTERM into :class:`Interrupted` (a ``KeyboardInterrupt``,
  as Ctrl-C is) in the main thread, so the same clean-up runs for both.
- :class:`Workers` holds the worker processes of one run; :meth:`Workers.stop` ends them and
  refuses to start more.
- :func:`die_with_parent` asks Linux to end a worker when the report process dies, even by
  SIGKILL. A worker's kernel ends with its worker: ipykernel watches its parent.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence

from ..children import die_with_parent

__all__ = ["Interrupted", "Workers", "die_with_parent", "exit_status", "signals_interrupt"]

STOP_GRACE_S = 10.0
"""How long a worker has to end its kernel after SIGTERM before it is killed."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` says which (SIGINT for Ctrl-C)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(exc: BaseException) -> int:
    """The exit status of a command stopped by ``exc``: 128 + the signal's number, as a shell gives."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Interrupted` in the main thread (as SIGINT raises KeyboardInterrupt).

    Outside the main thread (where Python cannot set a handler) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


class Workers:
    """The worker processes of one run, to end them all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.stopped = False

    def run(self, argv: Sequence[str]) -> int | None:
        """Run ``argv`` to its end; its exit status, or None if the run was stopped before it started."""
        with self._lock:
            if self.stopped:
                return None
            process = subprocess.Popen(list(argv))
            self._running.add(process)
        try:
            return process.wait()
        finally:
            with self._lock:
                self._running.discard(process)

    def stop(self, grace_s: float = STOP_GRACE_S) -> int:
        """End every running worker (SIGTERM, then SIGKILL after ``grace_s``); start no more. How many were running."""
        with self._lock:
            self.stopped = True
            running = list(self._running)
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in running:
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return len(running)
