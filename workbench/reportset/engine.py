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
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellExecutionError
from nbclient.util import ensure_async
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from traitlets import Dict, List, default

__all__ = [
    "ENGINE_NAME",
    "PROGRESS_EVERY",
    "FanOutClient",
    "IPCKernelManager",
    "Progress",
    "WorkbenchEngine",
    "stopped_at",
]

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


class FanOutClient(PapermillNotebookClient):
    """papermill's client, running each per-copy cell once per copy (see :mod:`workbench.reportset.fanout`)."""

    copies = Dict(
        help="copy -> its parameters (audience, out_dir, language), in order; empty: one copy, every cell once"
    )
    fan_out: List[int] = List(help="indices of the cells that run per copy")
    names: List[str] = List(help="the names per-copy cells bind")

    async def async_execute_cell(
        self, cell: Any, cell_index: int, execution_count: int | None = None, store_history: bool = True
    ) -> Any:
        if len(self.copies) < 2 or cell_index not in self.fan_out:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        from .fanout import switch_code, tag_outputs

        outputs: list = []
        for copy, values in self.copies.items():
            assert self.kc is not None
            msg_id = await ensure_async(
                self.kc.execute(switch_code(copy, values, self.names), silent=True, store_history=False)
            )
            reply = await self.async_wait_for_reply(msg_id, cell)
            if reply is None or reply["content"].get("status") != "ok":
                raise CellExecutionError.from_cell_and_msg(cell, reply["content"] if reply else {})
            run = NotebookNode(cell)  # a shallow copy: the run gives it new outputs, tagged below
            try:
                await super().async_execute_cell(run, cell_index, execution_count, store_history)
            finally:  # a failing run keeps the outputs so far, its error last
                outputs += tag_outputs(run.get("outputs", []), copy)
                cell["execution_count"] = run.get("execution_count")
                cell["outputs"] = outputs
                self.nb["cells"][cell_index] = cell
        return cell

    execute_cell = run_sync(async_execute_cell)


class WorkbenchEngine(NBClientEngine):
    """papermill's nbclient engine on an IPC kernel, reporting progress per code cell."""

    @classmethod
    def execute_managed_notebook(
        cls, nb_man: Any, kernel_name: str, copies: dict[str, dict[str, str]] | None = None, **kwargs: Any
    ) -> Any:
        """Run the notebook; ``copies`` (copy -> its audience, out_dir, language) runs its per-copy cells once for each."""
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
            return cls._execute(
                nb_man, kernel_name, dict(copies or {}), kernel_manager_class=IPCKernelManager, **kwargs
            )
        finally:
            stopped = stopped_at(code)
            # Kept in the executed notebook: papermill marks the other cells completed once the run ends.
            nb_man.nb.metadata.setdefault("workbench", {})["stopped_in_cell"] = stopped
            progress.finish(stopped)

    @classmethod
    def _execute(
        cls,
        nb_man: Any,
        kernel_name: str,
        copies: dict[str, dict[str, str]],
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """As papermill's nbclient engine does, with :class:`FanOutClient` (papermill's own keywords kept)."""
        from papermill.engines import logger
        from papermill.utils import merge_kwargs, remove_args

        from .fanout import per_audience_cells

        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        fan_out, names = per_audience_cells(nb_man.nb) if len(copies) > 1 else (set(), [])
        final = merge_kwargs(
            kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name, log=logger
        )
        client = FanOutClient(nb_man, copies=copies, fan_out=sorted(fan_out), names=names, **final)
        return client.execute()


papermill_engines.register(ENGINE_NAME, WorkbenchEngine)
