"""The ``workbench`` kernel: this interpreter, with a time limit on every cell, reached over IPC.

A headless run must never wait without bound. Two guards make sure of it:

* **In the kernel**, for any client, plain ``papermill`` included: the kernel spec loads this
  module as an IPython extension, which starts a timer with each cell. A cell still running
  after ``WORKBENCH_CELL_TIMEOUT`` seconds (default :data:`DEFAULT_CELL_TIMEOUT`) is stopped
  with :class:`CellTimeLimitExceeded`, which names the limit; the client sees an ordinary
  failing cell and keeps the executed notebook. Interrupting the kernel by hand still raises
  ``KeyboardInterrupt``.
* **In the client** (:mod:`workbench.reportset.engine`), for ``workbench run`` and
  ``report``: nbclient's own timeout, a little longer than the kernel's, in case the kernel
  cannot answer at all.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError

__all__ = [
    "CELL_TIMEOUT_ENV",
    "DEFAULT_CELL_TIMEOUT",
    "KERNEL_NAME",
    "CellTimeLimitExceeded",
    "cell_time_limit",
    "ensure_kernel",
    "kernel_argv",
    "load_ipython_extension",
]

KERNEL_NAME = "workbench"
_EXTENSION = "workbench.reportset.kernel"  # this module, loaded by the kernel as an IPython extension
CELL_TIMEOUT_ENV = "WORKBENCH_CELL_TIMEOUT"
DEFAULT_CELL_TIMEOUT = 1800.0
"""Seconds a cell may run before the kernel stops it: far above any report cell at national scale."""


class CellTimeLimitExceeded(BaseException):
    """A cell ran longer than the kernel's cell time limit; not an Exception, so no ``except Exception`` swallows it."""


def cell_time_limit(environ: dict[str, str] | None = None) -> float:
    """The kernel's cell time limit in seconds, from ``WORKBENCH_CELL_TIMEOUT`` (e.g. ``"600"``)."""
    text = (os.environ if environ is None else environ).get(CELL_TIMEOUT_ENV, "")
    if not text.strip():
        return DEFAULT_CELL_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise WorkbenchError(f"{CELL_TIMEOUT_ENV}={text!r} is not a positive number of seconds, e.g. 600")
    return value


class _CellWatchdog:
    """Stops the running cell when it outlasts the limit: SIGINT to this process, raised as our error."""

    def __init__(self, limit: float):
        self.limit = limit
        self._timer: threading.Timer | None = None
        self._fired = False
        self._saved: Any = None

    def start(self, _info: Any = None) -> None:
        self.stop()
        self._fired = False
        # pre_run_cell runs in the main thread, the only one that may set a signal handler.
        self._saved = signal.signal(signal.SIGINT, self._on_sigint)
        self._timer = threading.Timer(self.limit, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self, _result: Any = None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._saved is not None:
            signal.signal(signal.SIGINT, self._saved)
            self._saved = None

    def _expire(self) -> None:
        self._fired = True
        os.kill(os.getpid(), signal.SIGINT)  # a real signal: it wakes a sleep or a blocking read too

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._fired:
            self._fired = False
            raise CellTimeLimitExceeded(
                f"this cell ran longer than the cell time limit of {self.limit:g} s and was stopped; "
                f"set {CELL_TIMEOUT_ENV} (seconds) or workbench run/report --cell-timeout to allow longer"
            )
        saved = self._saved
        if callable(saved):
            saved(signum, frame)
        else:
            raise KeyboardInterrupt


def load_ipython_extension(ipython: Any) -> None:
    """Loaded by the ``workbench`` kernel spec (``--ext workbench.reportset.kernel``): time-limit every cell."""
    try:
        limit = cell_time_limit()
    except WorkbenchError as exc:  # a bad setting must not leave the kernel without a limit
        print(f"workbench kernel: {exc}; using {DEFAULT_CELL_TIMEOUT:g} s", file=sys.stderr)
        limit = DEFAULT_CELL_TIMEOUT
    watchdog = _CellWatchdog(limit)
    ipython.events.register("pre_run_cell", watchdog.start)
    ipython.events.register("post_run_cell", watchdog.stop)
    if getattr(ipython, "kernel", None) is not None:  # in a kernel process, not an IPython in some other program
        # A crash's Python stack goes to the process's own stderr, the kernel log (engine.py), and not
        # through the pipe ipykernel reads fd 2 from, which dies with the process before it is read.
        import faulthandler

        raw = getattr(sys.stderr, "_original_stdstream_copy", None)  # fd 2 itself when ipykernel does not pipe it
        # A copy of our own: ipykernel closes its copy at shutdown, and the number could then name another file.
        faulthandler.enable(file=os.dup(raw) if isinstance(raw, int) else 2, all_threads=False)


def kernel_argv(python: str | None = None) -> list[str]:
    """The command that starts the ``workbench`` kernel: this interpreter, ipykernel, the cell time limit."""
    return [
        python or sys.executable,
        "-Xfrozen_modules=off",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--ext",
        _EXTENSION,
    ]


def ensure_kernel() -> str:
    """Register this interpreter as the ``workbench`` kernel (unless it already is) and return its name.

    Pinning the kernel to this interpreter means any client, plain papermill included, runs
    the notebooks with the same packages as the caller and the same cell time limit.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        if manager.get_kernel_spec(KERNEL_NAME).argv == kernel_argv():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        spec = {
            "argv": kernel_argv(),
            "display_name": "Python (workbench)",
            "language": "python",
            "metadata": {"debugger": True},
        }
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
        manager.install_kernel_spec(tmp, KERNEL_NAME, prefix=sys.prefix)
    return KERNEL_NAME
