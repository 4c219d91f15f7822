"""How ``workbench run`` and ``report`` drive papermill: IPC kernels and a progress line per notebook.

Kernels talk over IPC sockets (files in the Jupyter runtime folder, one set per kernel)
instead of TCP ports: runs side by side cannot race for a port ("Address already in use"),
nothing listens on the network, and ipykernel's warning about unencrypted TCP does not apply.

Progress goes to standard error as plain lines, one per notebook when it starts and ends
and one at most every :data:`PROGRESS_EVERY` seconds in between, so parallel runs and logs
stay readable::

    01_incident_reconstruction: cell 12 of 47, 0:00:08
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine, papermill_engines
from traitlets import default

__all__ = ["ENGINE_NAME", "PROGRESS_EVERY", "IPCKernelManager", "Progress", "WorkbenchEngine", "stopped_at"]

ENGINE_NAME = "workbench"
PROGRESS_EVERY = 10.0
"""Seconds between progress lines of one notebook (its first and last line always show)."""


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on IPC sockets, not TCP ports."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


class Progress:
    """Prints ``name: cell k of n, elapsed`` lines for one notebook run."""

    def __init__(self, name: str, total: int, stream: TextIO | None = None, every: float = PROGRESS_EVERY):
        self.name, self.total, self.every = name, total, every
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self._last = -every
        self.done = 0

    def _elapsed(self) -> str:
        return str(timedelta(seconds=round(time.monotonic() - self.started)))

    def cell(self, number: int) -> None:
        """Cell ``number`` (1-based, among code cells) starts."""
        self.done = number - 1
        now = time.monotonic() - self.started
        if number == 1 or now - self._last >= self.every:
            self._last = now
            print(f"{self.name}: cell {number} of {self.total}, {self._elapsed()}", file=self.stream, flush=True)

    def finish(self, failed_cell: int | None = None) -> None:
        """The run ended: completed, or stopped at code cell ``failed_cell``."""
        outcome = "done" if failed_cell is None else f"failed in cell {failed_cell} of {self.total}"
        print(f"{self.name}: {outcome} after {self._elapsed()}", file=self.stream, flush=True)


def stopped_at(code_cells: list[Any]) -> int | None:
    """The code cell (1-based) a papermill run stopped in, from the cells' papermill status; None if it ran through.

    A failing cell is marked ``failed``; a cell stopped by the client's timeout is closed as
    ``completed`` with the cells after it still ``pending``, so it is the one before them.
    """
    status = [c.metadata.get("papermill", {}).get("status") for c in code_cells]
    if "failed" in status:
        return status.index("failed") + 1
    if "pending" in status:
        return max(status.index("pending"), 1)
    return None


class WorkbenchEngine(NBClientEngine):
    """papermill's nbclient engine on an IPC kernel, reporting progress per code cell."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
        code = [c for c in nb_man.nb.cells if c.cell_type == "code"]
        name = Path(str(nb_man.nb.metadata.get("papermill", {}).get("input_path", "notebook"))).stem
        progress = Progress(name, len(code))
        numbers = {id(c): i for i, c in enumerate(code, 1)}
        original = nb_man.cell_start

        def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
            if id(cell) in numbers:
                progress.cell(numbers[id(cell)])
            return original(cell, cell_index, **kw)

        nb_man.cell_start = cell_start
        try:
            return super().execute_managed_notebook(
                nb_man, kernel_name, kernel_manager_class=IPCKernelManager, **kwargs
            )
        finally:
            stopped = stopped_at(code)
            # Kept in the executed notebook: papermill marks the other cells completed once the run ends.
            nb_man.nb.metadata.setdefault("workbench", {})["stopped_in_cell"] = stopped
            progress.finish(stopped)


papermill_engines.register(ENGINE_NAME, WorkbenchEngine)
