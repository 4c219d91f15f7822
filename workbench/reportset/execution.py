"""Execute parameterized notebooks headless with papermill, on the project's own kernel.

Parameters are checked against the notebook's cell tagged ``parameters`` before anything
runs (:mod:`workbench.reportset.parameters`, whose names are re-exported here). Several
notebooks run in parallel processes with :func:`execute_many`.

While a notebook runs, its kernel sees ``WORKBENCH_RUN=papermill`` (so
``workbench.widgets.charts.setup()`` picks export-safe charts) and ``WORKBENCH_OUT_DIR``, the
folder of the executed notebook (where long tables write their CSV). Given a case fingerprint
in ``WORKBENCH_CASE_FINGERPRINT`` (see :mod:`workbench.reportset.fingerprint`), a notebook runs
only while its case keeps that fingerprint, checked at its start and end.

The kernel process's own standard output and error (not its cells' output) go to a log file
in the run's scratch folder, ``kernel.log``, deleted with it: ipykernel's words as it is shut
down do not reach the terminal. A kernel that dies in a cell (``os._exit``, a crash in a
library, the out-of-memory killer) fails its notebook with an error that names the cell, how
the kernel ended and quotes the last lines of that log (:data:`~workbench.reportset.engine.KERNEL_LOG_LINES`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WorkbenchError
from ..settings import OUT_DIR_ENV, RUN_ENV, RUN_MARKER
from .kernel import CELL_TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT, KERNEL_NAME, ensure_kernel
from .parameters import (
    NotebookError,
    ParameterError,
    check_parameters,
    declared_type,
    notebook_parameters,
    parse_value,
    plan_parameters,
)
from .stopping import Workers, signals_interrupt

__all__ = [
    "CLIENT_GRACE",
    "DEFAULT_CELL_TIMEOUT",
    "KERNEL_NAME",
    "NOTEBOOKS_DIR",
    "RUN_ENV",
    "Job",
    "NotebookError",
    "ParameterError",
    "check_parameters",
    "declared_type",
    "ensure_kernel",
    "execute",
    "execute_many",
    "notebook_parameters",
    "parse_value",
    "plan_parameters",
    "start_order",
]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CLIENT_GRACE = 60.0
"""Seconds the client waits beyond the kernel's cell time limit before it gives up on the kernel itself."""


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel started inside, restoring them afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(
    notebook: str | Path,
    output: str | Path,
    parameters: dict | None = None,
    env: Mapping[str, str] | None = None,
    cell_timeout: float | None = None,
    copies: Mapping[str, Mapping[str, str]] | None = None,
    kernel_log: str | Path | None = None,
) -> Path:
    """Run ``notebook`` with ``parameters`` and write the executed copy to ``output``.

    Unknown parameter names are an error listing the declared ones (papermill itself only
    warns). On failure the executed notebook is kept and the error names the failing cell.
    ``env`` adds environment variables for the kernel, e.g. ``{"PGPASSWORD": ...}``.

    A run never waits without bound: the kernel stops a cell that runs longer than
    ``cell_timeout`` seconds (default :data:`DEFAULT_CELL_TIMEOUT`), and the client gives up
    on a kernel that has not answered :data:`CLIENT_GRACE` seconds after that.

    When ``env`` holds ``WORKBENCH_CASE_FINGERPRINT`` and ``WORKBENCH_CASE_URL``, the case is
    fingerprinted just before the notebook starts and just after it ends; a fingerprint other
    than the one given is a :class:`~workbench.reportset.fingerprint.CaseChangedError` naming
    both, and the one seen is recorded in the executed notebook's metadata.

    ``copies`` (copy -> its parameters, e.g. ``{"investigator": {"audience": "investigator",
    "out_dir": ".../investigator/00_x", "language": "en"}, "public-sv": {"audience": "public",
    "out_dir": ".../public-sv/00_x", "language": "sv"}}``) runs the notebook once for several
    copies: its per-copy cells run once for each, their outputs tagged (see
    :mod:`workbench.reportset.fanout`).

    The kernel process's standard output and error are appended to ``kernel_log`` (by default
    a file in a temporary folder, deleted afterwards). A kernel that dies in a cell is a
    NotebookError naming the cell, how the kernel ended and quoting the log's last lines.
    """
    with contextlib.ExitStack() as scratch:
        if kernel_log is None:
            import tempfile

            kernel_log = (
                Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="workbench-kernel-"))) / "kernel.log"
            )
        return _execute(Path(notebook), Path(output), parameters, env, cell_timeout, copies, Path(kernel_log))


def _execute(
    notebook: Path,
    output: Path,
    parameters: dict | None,
    env: Mapping[str, str] | None,
    cell_timeout: float | None,
    copies: Mapping[str, Mapping[str, str]] | None,
    kernel_log: Path,
) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .engine import ENGINE_NAME, KernelDied, kernel_died, stopped_at
    from .fingerprint import case_check, record_seen

    parameters = dict(parameters or {})
    check_parameters(notebook, parameters)
    limit = DEFAULT_CELL_TIMEOUT if cell_timeout is None else cell_timeout
    if not 0 < limit < float("inf"):
        raise NotebookError(f"the cell timeout must be a positive number of seconds, e.g. 600; got {cell_timeout}")
    output.parent.mkdir(parents=True, exist_ok=True)
    kernel_env = {
        RUN_ENV: RUN_MARKER,
        OUT_DIR_ENV: str(output.parent.resolve()),
        CELL_TIMEOUT_ENV: f"{limit:g}",
        **(env or {}),
    }

    def where() -> str:
        import nbformat

        try:
            nb = nbformat.read(str(output), as_version=4)
        except (OSError, ValueError):
            return "a cell"
        cells = [c for c in nb.cells if c.cell_type == "code"]
        number = nb.metadata.get("workbench", {}).get("stopped_in_cell") or stopped_at(cells)
        if number is None:
            return "a cell"
        first = next((line.strip() for line in cells[number - 1].source.splitlines() if line.strip()), "")
        return f"cell {number} of {len(cells)} (it begins: {first[:120]!r})"

    same_case = case_check(notebook.name, kernel_env)
    try:
        with _environment(kernel_env):
            same_case("start")
            try:
                papermill.execute_notebook(
                    str(notebook),
                    str(output),
                    parameters=parameters,
                    engine_name=ENGINE_NAME,
                    kernel_name=ensure_kernel(),
                    language="python",
                    progress_bar=False,
                    cwd=str(output.parent),
                    execution_timeout=int(limit + CLIENT_GRACE),
                    copies={k: dict(v) for k, v in (copies or {}).items()},
                    kernel_log=str(kernel_log),
                )
            except PapermillExecutionError:
                same_case("end")  # a notebook that failed because its case changed says so
                raise
            record_seen(output, same_case("end"))
    except KernelDied as exc:
        raise NotebookError(kernel_died(notebook.name, exc, where(), output, kernel_log)) from None
    except TimeoutError:  # nbclient's CellTimeoutError: the kernel did not answer in time
        raise NotebookError(
            f"{notebook.name}: the kernel did not answer within {limit + CLIENT_GRACE:g} s in {where()}, "
            f"and the run was stopped. The executed notebook is kept at {output}"
        ) from None
    except PapermillExecutionError as exc:
        if exc.ename == "CellTimeLimitExceeded":
            raise NotebookError(
                f"{notebook.name}: {where()} ran longer than the cell timeout of {limit:g} s and was stopped "
                f"(raise it with --cell-timeout). The executed notebook is kept at {output}"
            ) from None
        first = next((line.strip() for line in (exc.source or "").splitlines() if line.strip()), "")
        raise NotebookError(
            f"{notebook.name} failed in cell {exc.exec_count} with {exc.ename}: {exc.evalue}. "
            f"The executed notebook is kept at {output} (the cell begins: {first[:120]!r})"
        ) from None
    return output


@dataclass(frozen=True, eq=False)
class Job:
    """One notebook to execute: ``Job("notebooks/01_x.ipynb", "out/01_x/01_x.ipynb", {...})``."""

    notebook: Path
    output: Path
    parameters: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    cell_timeout: float | None = None
    copies: dict = field(default_factory=dict)  # copy -> {audience, out_dir, language}, for a run of several copies


def _run_job(job: Job, kernel_log: str | Path | None = None) -> str | None:
    """Execute one job here, its kernel's own output to ``kernel_log``; the error message if it failed."""
    try:
        execute(job.notebook, job.output, job.parameters, job.env, job.cell_timeout, job.copies, kernel_log)
    except WorkbenchError as exc:
        return str(exc)
    except Exception as exc:  # reported like a failing notebook: the other jobs keep running
        return f"{job.notebook.name}: {type(exc).__name__}: {exc}"
    return None


def _worker() -> None:
    """Entry point of a worker process: ``python -c '...' JOB.json RESULT.json``.

    SIGTERM, or the death of the process that started it, stops the notebook as Ctrl-C
    would: papermill shuts the kernel down, and the worker exits quietly with 128 + the signal.
    """
    import json

    from .stopping import die_with_parent, exit_status, signals_interrupt

    die_with_parent()
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    job = Job(
        Path(spec["notebook"]),
        Path(spec["output"]),
        spec["parameters"],
        spec["env"],
        spec["cell_timeout"],
        spec["copies"],
    )
    try:
        with signals_interrupt():
            error = _run_job(job, spec.get("kernel_log"))
    except KeyboardInterrupt as exc:  # the run was stopped: the report says so once, for all its workers
        raise SystemExit(exit_status(exc)) from None
    Path(sys.argv[2]).write_text(json.dumps({"error": error}), encoding="utf-8")


def _run_in_process(job: Job, scratch: Path, workers: Workers | None = None) -> str | None:
    """Execute one job in a fresh interpreter (its kernel is a further process); the error if any.

    A plain subprocess, not multiprocessing: that would re-import the caller's main script,
    which fails for scripts without a ``__main__`` guard.
    """
    import json
    import tempfile

    spec = {
        "notebook": str(job.notebook),
        "output": str(job.output),
        "parameters": job.parameters,
        "env": job.env,
        "cell_timeout": job.cell_timeout,
        "copies": job.copies,
    }
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        spec["kernel_log"] = str(Path(tmp) / "kernel.log")
        spec_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        code = "from workbench.reportset.execution import _worker; _worker()"
        status = (workers or Workers()).run([sys.executable, "-c", code, str(spec_path), str(result_path)])
        if status is None:
            return f"{job.notebook.name}: not started, the run was stopped"
        if not result_path.is_file():
            return f"{job.notebook.name}: the worker process ended with status {status} without a result"
        return json.loads(result_path.read_text(encoding="utf-8"))["error"]


def worker_count(jobs: int, workers: int | None = None) -> int:
    """How many of ``jobs`` notebooks :func:`execute_many` runs at once: ``workers``, by default the CPUs, at most ``jobs``."""
    return max(1, min(workers or os.cpu_count() or 1, jobs))


def start_order(jobs: list[Job], workers: int | None = None) -> list[Job]:
    """``jobs`` in the order to start them: the highest-numbered notebook first (``03_x`` before ``00_x``).

    With one worker (``workers``, as :func:`execute_many` takes it) the order cannot shorten
    the run, and the notebooks keep the order they were given: progress, and a stop on a case
    that changed between notebooks, follow the catalogue.

    With fewer workers than notebooks, the set is done soonest when the longest notebook
    starts first. The later notebooks are the longer analyses: at stockholm scale 03 ran
    about 59 s, 01 40 s, 02 18 s and 00 13 s; started in catalogue order, 03 waited for 00
    and 02 and then ran alone on one core for 20 s or more. Each notebook runs in its own
    process and kernel, so the order changes no result.
    """
    if worker_count(len(jobs), workers) == 1:
        return list(jobs)
    return sorted(jobs, key=lambda job: job.notebook.name, reverse=True)


def execute_many(jobs: list[Job], workers: int | None = None, on_done=None) -> list[Path]:
    """Execute independent notebooks in parallel processes; every job runs even if one fails.

    ``workers`` defaults to the number of CPUs (at most the number of jobs); each job runs in
    its own Python process and kernel. ``on_done(job, error)`` is called in this thread as
    each finishes. Raises NotebookError listing every failure.

    Ctrl-C or SIGTERM ends the running notebooks' processes and kernels and starts no more
    (:mod:`workbench.reportset.stopping`); it is raised as ``KeyboardInterrupt``.
    """
    for job in jobs:  # fail before starting anything
        check_parameters(job.notebook, job.parameters)
    with signals_interrupt():
        return _execute_many(jobs, workers, on_done)


def _execute_many(jobs: list[Job], workers: int | None, on_done) -> list[Path]:
    import tempfile

    workers = worker_count(len(jobs), workers)
    errors: dict[Job, str | None] = {}
    # The run's scratch: each job's folder holds its kernel's log (and a worker's job and result files).
    with tempfile.TemporaryDirectory(prefix="workbench-jobs-") as scratch:
        if workers == 1:
            for job in jobs:
                with tempfile.TemporaryDirectory(dir=scratch) as tmp:
                    errors[job] = _run_job(job, Path(tmp) / "kernel.log")
                if on_done:
                    on_done(job, errors[job])
        else:
            _run_in_workers(jobs, workers, Path(scratch), errors, on_done)
    failures = [error for job in jobs if (error := errors[job])]
    if failures:
        if len(failures) > 1:
            failures = [f"{len(failures)} of {len(jobs)} notebooks failed:", *(f"- {f}" for f in failures)]
        raise NotebookError("\n".join(failures))
    return [job.output for job in jobs]


def _run_in_workers(jobs: list[Job], workers: int, scratch: Path, errors: dict, on_done) -> None:
    """Run ``jobs`` in ``workers`` processes at once, their errors into ``errors``; a stop ends them all."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    ensure_kernel()  # once, before workers race to register it
    running = Workers()
    with ThreadPoolExecutor(workers) as pool:
        # The threads only wait on worker processes; the work happens there.
        futures = {pool.submit(_run_in_process, job, scratch, running): job for job in jobs}
        try:
            for future in as_completed(futures):
                job = futures[future]
                errors[job] = future.result()
                if on_done:
                    on_done(job, errors[job])
        except BaseException:  # Ctrl-C, SIGTERM (see stopping.py) or a failing on_done: end the others
            pool.shutdown(wait=False, cancel_futures=True)
            running.stop()
            raise
