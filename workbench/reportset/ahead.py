"""Leak-scan a set's pages while the last notebooks still run, on the cycles their kernels leave.

``workbench report`` used to scan each auditor and public set whole after every notebook had
ended, one set after another, on one core (national: the report process alone for most of the
27 s after notebook 03). :class:`AheadScans` searches a notebook's pages of every scanned set as
soon as they are rendered (:meth:`workbench.reportset.disclosure.SetCheck.prescan`), in one
thread of the lowest CPU priority (nice 19): it takes a core only when the kernels leave one
idle, and does not slow them. The check at the end searches what is left (the last notebook's
pages, the index, ``report-set.json``) and any file changed since.

The scans wait for the case's identifiers: they begin only once the run has started reading
them (:class:`~workbench.reportset.disclosure.SharedIdentifiers`), so they never start the read
early, beside two kernels. :meth:`AheadScans.stop` is called before the last notebook is
rendered: the page being searched is dropped (the check searches it) and nothing else begins,
so the scans never compete with the run's own work at the end. An error in a scan ahead is
left to the check, which meets it again and raises it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .disclosure import SetCheck

__all__ = ["NICE", "AheadScans"]

NICE = 19
"""The niceness of the thread that scans ahead: a core only when nothing else wants it."""


class AheadScans:
    """Scans ahead of each set's check, in one low-priority thread; ``ready()`` says whether the keys are being read."""

    def __init__(self, checks: Mapping[str, SetCheck], ready: Callable[[], bool]) -> None:
        self.checks = dict(checks)
        self.ready = ready
        self.stopped = threading.Event()
        self._waiting: list[dict[str, Path]] = []
        self._pool: ThreadPoolExecutor | None = None

    def add(self, folders: Mapping[str, Path]) -> None:
        """Scan ahead the folders (set name -> a notebook's folder in that set) once the keys are being read."""
        if self.stopped.is_set() or not self.checks:
            return
        self._waiting.append({name: folder for name, folder in folders.items() if name in self.checks})
        if not self.ready():
            return  # kept until the read begins (a later add)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="leak-scan-ahead", initializer=_lower_priority)
        for job in self._waiting:
            for name, folder in job.items():
                self._pool.submit(self._scan, name, folder)
        self._waiting = []

    def _scan(self, name: str, folder: Path) -> None:
        if self.stopped.is_set():
            return
        try:
            self.checks[name].prescan(folder, self.stopped)
        except Exception:  # the check at the end searches the folder again, and meets the error
            return

    def stop(self) -> None:
        """No further scan ahead; the one under way drops its page. Does not wait."""
        self.stopped.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def drain(self) -> None:
        """Wait for every scan asked for so far to finish (none is added after)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._pool = None
        self.stopped.set()

    def close(self) -> None:
        """Stop, and wait for the thread to end."""
        self.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _lower_priority() -> None:
    """In the scanning thread: the lowest CPU priority, for this thread only (Linux: a thread's own niceness)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):  # not Linux: the thread keeps the process's priority
        pass
