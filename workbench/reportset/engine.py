"""How ``workbench run`` and ``report`` drive papermill: IPC kernels and a progress line per notebook.

Kernels talk over IPC sockets (files in the Jupyter runtime folder, one set per kernel)
instead of TCP ports: runs side by side cannot race for a port ("Address already in use"),
nothing listens on the network, and ipykernel's warning about unencrypted TCP does not apply.

Each kernel's own standard output and error (the process's, not its cells' output, which
reaches the notebook over IPC) go to a log file the caller names (``kernel_log``), not to the
terminal: what ipykernel logs as it is shut down, such as a traceback from a reply it could no
longer send, is nobody's business on a stop. When a kernel dies in a cell the run fails with
:class:`KernelDied`, which carries the kernel's exit status, so the caller can quote the log.

Progress goes to standard error as plain lines, one per notebook when it starts and ends
and one at most every :data:`PROGRESS_EVERY` seconds in between, so parallel runs and logs
stay readable::

    01_incident_reconstruction: cell 12 of 47, 0:00:08
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbclient.util import ensure_async
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from traitlets import Dict, List, default

__all__ = [
    "ENGINE_NAME",
    "KERNEL_LOG_LINES",
    "PROGRESS_EVERY",
    "FanOutClient",
    "IPCKernelManager",
    "KernelDied",
    "Progress",
    "WorkbenchEngine",
    "kernel_died",
    "last_words",
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


class KernelDied(DeadKernelError):
    """The kernel process ended while the notebook ran; ``status`` is its exit status (negative: killed by that signal)."""

    def __init__(self, status: int | None = None) -> None:
        super().__init__("Kernel died")
        self.status = status

    def how(self) -> str:
        """How the kernel ended, in words: ``"was killed by SIGKILL"``, ``"exited with status 3"``."""
        if self.status is None:
            return "ended"
        if self.status < 0:
            with contextlib.suppress(ValueError):
                return f"was killed by {signal.Signals(-self.status).name}"
            return f"was killed by signal {-self.status}"
        return f"exited with status {self.status}"


KERNEL_LOG_LINES = 15
"""How many of the last lines of a dead kernel's log its notebook's error quotes."""


def last_words(log: Path, lines: int = KERNEL_LOG_LINES, width: int = 300) -> list[str]:
    """The last ``lines`` non-blank lines of the kernel log ``log`` (each cut at ``width`` characters); [] if none.

    A crash's report from :mod:`faulthandler` lists the innermost call first, so from its last
    ``Fatal Python error`` line on the first ``lines`` lines are quoted instead.
    """
    try:
        with log.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    fatal = [i for i, line in enumerate(kept) if line.startswith("Fatal Python error")]
    kept = kept[fatal[-1] : fatal[-1] + lines] if fatal else kept[-lines:]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in kept]


def kernel_died(name: str, died: KernelDied, where: str, output: Path, log: Path) -> str:
    """The error for notebook ``name`` whose kernel ``died`` in ``where`` (its executed copy at ``output``), quoting ``log``."""
    said = last_words(log)
    text = f"{name}: the kernel {died.how()} in {where}, and the run was stopped. The executed notebook is kept at {output}"
    if said:
        return text + ". The last lines the kernel process wrote:\n" + "\n".join(f"    | {line}" for line in said)
    text += ". The kernel process wrote nothing"
    if died.status == -signal.SIGKILL:
        text += " (SIGKILL without a word is how the system's out-of-memory killer ends a process; `dmesg` says)"
    return text


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

    def finish(self, failed_cell: int | None = None, stopped: bool = False) -> None:
        """The run ended: completed, failed in code cell ``failed_cell``, or ``stopped`` (Ctrl-C, SIGTERM)."""
        outcome = "done" if failed_cell is None else f"failed in cell {failed_cell} of {self.total}"
        if stopped:
            outcome = "stopped"
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
        try:
            return await self._execute_copies(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            raise KernelDied(self._exit_status()) from None

    def _exit_status(self) -> int | None:
        """The dead kernel's exit status, while its manager still holds the process."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return None if process is None else process.poll()

    async def _execute_copies(
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
        running: list[int | None] = [None]  # the code cell that runs

        def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
            if id(cell) in numbers:
                running[0] = numbers[id(cell)]
                progress.cell(numbers[id(cell)])
            return original(cell, cell_index, **kw)

        nb_man.cell_start = cell_start
        interrupted = died = False
        try:
            return cls._execute(
                nb_man, kernel_name, dict(copies or {}), kernel_manager_class=IPCKernelManager, **kwargs
            )
        except KeyboardInterrupt:
            interrupted = True
            raise
        except KernelDied:  # papermill closes the cell as completed: the cell that ran is where it died
            died = True
            raise
        finally:
            stopped = running[0] if died else stopped_at(code)
            # Kept in the executed notebook: papermill marks the other cells completed once the run ends.
            nb_man.nb.metadata.setdefault("workbench", {})["stopped_in_cell"] = stopped
            progress.finish(stopped, stopped=interrupted)

    @classmethod
    def _execute(
        cls,
        nb_man: Any,
        kernel_name: str,
        copies: dict[str, dict[str, str]],
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        kernel_log: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """As papermill's nbclient engine does, with :class:`FanOutClient` (papermill's own keywords kept).

        ``kernel_log`` names the file the kernel process's standard output and error are
        appended to; without it they are the caller's.
        """
        from papermill.engines import logger
        from papermill.utils import merge_kwargs, remove_args

        from .fanout import per_audience_cells

        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        fan_out, names = per_audience_cells(nb_man.nb) if len(copies) > 1 else (set(), [])
        final = merge_kwargs(
            kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name, log=logger
        )
        client = FanOutClient(nb_man, copies=copies, fan_out=sorted(fan_out), names=names, **final)
        with open(kernel_log, "ab") if kernel_log else contextlib.nullcontext() as log:
            # jupyter_client passes these to Popen when it starts the kernel; the kernel holds its own copy
            streams = {"stdout": log, "stderr": log} if log else {}
            try:
                return client.execute(**streams)
            except RuntimeError as exc:  # jupyter_client's "Kernel died before replying to kernel_info"
                if isinstance(exc, KernelDied) or not str(exc).startswith("Kernel died"):
                    raise
                raise KernelDied() from None


papermill_engines.register(ENGINE_NAME, WorkbenchEngine)
