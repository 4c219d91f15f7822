"""Execute parameterized notebooks headless with papermill, on the project's own kernel.

Parameters are checked against the notebook's cell tagged ``parameters`` before anything
runs: an unknown name lists the declared ones, a value whose type differs from the literal
default is refused, and so are a ``timezone`` zoneinfo does not know, an unknown ``audience``
and a number outside its range (:mod:`workbench.reportset.bounds`). Several notebooks run in parallel processes with
:func:`execute_many`.

While a notebook runs, its kernel sees ``WORKBENCH_RUN=papermill`` (so
``workbench.widgets.charts.setup()`` picks export-safe charts) and ``WORKBENCH_OUT_DIR``, the
folder of the executed notebook (where long tables write their CSV). Given a case fingerprint
in ``WORKBENCH_CASE_FINGERPRINT`` (see :mod:`workbench.reportset.fingerprint`), a notebook runs
only while its case keeps that fingerprint, checked at its start and end.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import cast

from ..errors import WorkbenchError
from ..settings import OUT_DIR_ENV, RUN_ENV, RUN_MARKER
from .bounds import out_of_range
from .kernel import CELL_TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT, KERNEL_NAME, ensure_kernel

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
]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CLIENT_GRACE = 60.0
"""Seconds the client waits beyond the kernel's cell time limit before it gives up on the kernel itself."""


class NotebookError(WorkbenchError):
    """A notebook failed, or was given parameters it does not declare."""


class ParameterError(NotebookError):
    """A parameter a notebook does not declare, or a value it does not allow: refused before anything runs."""


def notebook_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import tempfile

    import nbformat
    import papermill

    nb = nbformat.read(str(notebook), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name"):
        return dict(papermill.inspect_notebook(str(notebook)))
    # papermill cannot infer types without a kernel name; inspect a copy that has ours
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python", "display_name": "Python (workbench)"}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(notebook).name
        nbformat.write(nb, str(copy))
        return dict(papermill.inspect_notebook(str(copy)))


def declared_type(parameter: dict) -> str:
    """A parameter's type: its ``# type:`` annotation, else the type of its literal default."""
    import ast

    annotated = parameter.get("inferred_type_name") or "None"
    if annotated != "None":
        return annotated
    try:
        return type(ast.literal_eval(parameter.get("default", "None"))).__name__
    except (ValueError, SyntaxError):
        return "None"


def _listing(declared: Mapping[str, dict]) -> str:
    return ", ".join(f"{k} ({declared_type(v)})" for k, v in declared.items())


def _unknown(notebook: Path, unknown: list[str], declared: Mapping[str, dict]) -> ParameterError:
    import difflib

    close = sorted({c for name in unknown for c in difflib.get_close_matches(name, list(declared), n=2)})
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return ParameterError(
        f"{notebook.name} does not declare parameter(s) {unknown}; it declares: {_listing(declared)}.{hint}"
    )


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple), "dict": (dict,)}
# How a message names a type to someone who typed a value on the command line.
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a mapping",
    "NoneType": "nothing",
}


def _type_error(notebook: Path, name: str, type_name: str, default: object, value: object) -> ParameterError:
    import json

    got = "a boolean" if isinstance(value, bool) else _KINDS.get(type(value).__name__, type(value).__name__)
    message = (
        f"{notebook.name}: parameter {name} must be {_KINDS.get(type_name, type_name)} (default {default}), "
        f"got {got} {value!r}"
    )
    if type_name == "list":
        items = json.dumps(value if isinstance(value, (list, tuple)) else [str(value)], ensure_ascii=False)
        message += (
            f". Write a list in brackets: on the command line quoted for the shell, e.g. -p {name} '{items}'; "
            f"in a --params file {name}: {items}"
        )
    return ParameterError(message)


def _check_timezone(notebook: Path, value: str) -> None:
    """Refuse a time zone name zoneinfo does not know, suggesting close ones, before any notebook runs."""
    import difflib
    from zoneinfo import ZoneInfo, available_timezones

    known = available_timezones()
    if value in known:
        return
    if not known:  # no list of zones on this machine: ask zoneinfo itself
        try:
            ZoneInfo(value)
            return
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            pass
    lowered = {k.lower(): k for k in known}
    close = [lowered[c] for c in difflib.get_close_matches(value.lower(), sorted(lowered), n=3)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ParameterError(
        f"{notebook.name}: parameter timezone must be a time zone name such as "
        f"'Europe/Stockholm' or 'UTC', got {value!r}.{hint}"
    )


def _check_value(notebook: Path, name: str, value: object) -> None:
    """Checks by name, for values whose type alone says too little: time zones and audiences."""
    if name == "timezone" and isinstance(value, str):
        _check_timezone(notebook, value)
    elif name == "audience" and isinstance(value, str):
        from ..audience import Audience
        from ..errors import UnknownNameError

        try:
            Audience.parse(value)
        except UnknownNameError as exc:
            raise ParameterError(f"{notebook.name}: parameter audience: {exc}") from None


def check_parameters(notebook: str | Path, parameters: Mapping, declared: Mapping[str, dict] | None = None) -> None:
    """Refuse names the notebook does not declare, values of another type than the default's, and bad values.

    A parameter named ``timezone`` must be a time zone name zoneinfo knows (``"Europe/Stockholm"``)
    and one named ``audience`` an audience, and a number must lie in its range (see
    :mod:`workbench.reportset.bounds`), so a typo fails before the run, not in a cell.
    """
    notebook = Path(notebook)
    declared = notebook_parameters(notebook) if declared is None else declared
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise _unknown(notebook, unknown, declared)
    for name, value in parameters.items():
        type_name = declared_type(declared[name])
        allowed = _TYPES.get(type_name)
        ok = (
            allowed is None
            or value is None
            or (isinstance(value, allowed) and not (type_name != "bool" and isinstance(value, bool)))
        )
        if not ok:
            raise _type_error(notebook, name, type_name, declared[name].get("default"), value)
        allowed_values = out_of_range(name, type_name, value)
        if allowed_values:
            raise ParameterError(
                f"{notebook.name}: parameter {name} must be {allowed_values} "
                f"(default {declared[name].get('default')}), got {value!r}"
            )
        _check_value(notebook, name, value)


def parse_value(text: str, type_name: str = "None"):
    """A command-line value read as the declared type: ``parse_value("30", "int") == 30``.

    Text for a ``str`` parameter stays text (``"01"`` is not 1); other values are read as
    YAML scalars, as papermill's ``-y`` does. Dates and times become ISO strings, which is
    how notebooks receive them from papermill.
    """
    import yaml

    if type_name == "str":
        return text
    try:
        value = yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


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
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .engine import ENGINE_NAME, stopped_at
    from .fingerprint import case_check, record_seen

    notebook, output = Path(notebook), Path(output)
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
                )
            except PapermillExecutionError:
                same_case("end")  # a notebook that failed because its case changed says so
                raise
            record_seen(output, same_case("end"))
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


def _run_job(job: Job) -> str | None:
    """Execute one job here; the error message if it failed."""
    try:
        execute(job.notebook, job.output, job.parameters, job.env, job.cell_timeout)
    except WorkbenchError as exc:
        return str(exc)
    except Exception as exc:  # reported like a failing notebook: the other jobs keep running
        return f"{job.notebook.name}: {type(exc).__name__}: {exc}"
    return None


def _worker() -> None:
    """Entry point of a worker process: ``python -c '...' JOB.json RESULT.json``."""
    import json

    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    job = Job(Path(spec["notebook"]), Path(spec["output"]), spec["parameters"], spec["env"], spec["cell_timeout"])
    Path(sys.argv[2]).write_text(json.dumps({"error": _run_job(job)}), encoding="utf-8")


def _run_in_process(job: Job, scratch: Path) -> str | None:
    """Execute one job in a fresh interpreter (its kernel is a further process); the error if any.

    A plain subprocess, not multiprocessing: that would re-import the caller's main script,
    which fails for scripts without a ``__main__`` guard.
    """
    import json
    import subprocess
    import tempfile

    spec = {
        "notebook": str(job.notebook),
        "output": str(job.output),
        "parameters": job.parameters,
        "env": job.env,
        "cell_timeout": job.cell_timeout,
    }
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        spec_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        code = "from workbench.reportset.execution import _worker; _worker()"
        done = subprocess.run([sys.executable, "-c", code, str(spec_path), str(result_path)])
        if not result_path.is_file():
            return f"{job.notebook.name}: the worker process ended with status {done.returncode} without a result"
        return json.loads(result_path.read_text(encoding="utf-8"))["error"]


def execute_many(jobs: list[Job], workers: int | None = None, on_done=None) -> list[Path]:
    """Execute independent notebooks in parallel processes; every job runs even if one fails.

    ``workers`` defaults to the number of CPUs (at most the number of jobs); each job runs in
    its own Python process and kernel. ``on_done(job, error)`` is called in this thread as
    each finishes. Raises NotebookError listing every failure.
    """
    import tempfile

    for job in jobs:  # fail before starting anything
        check_parameters(job.notebook, job.parameters)
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    errors: dict[Job, str | None] = {}
    if workers == 1:
        for job in jobs:
            errors[job] = _run_job(job)
            if on_done:
                on_done(job, errors[job])
    else:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        ensure_kernel()  # once, before workers race to register it
        with tempfile.TemporaryDirectory(prefix="workbench-jobs-") as scratch, ThreadPoolExecutor(workers) as pool:
            # The threads only wait on worker processes; the work happens there.
            futures = {pool.submit(_run_in_process, job, Path(scratch)): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                errors[job] = future.result()
                if on_done:
                    on_done(job, errors[job])
    failures = [error for job in jobs if (error := errors[job])]
    if failures:
        if len(failures) > 1:
            failures = [f"{len(failures)} of {len(jobs)} notebooks failed:", *(f"- {f}" for f in failures)]
        raise NotebookError("\n".join(failures))
    return [job.output for job in jobs]


def plan_parameters(
    notebooks: list[Path],
    given: Mapping[str, object],
    fixed: Mapping[str, object] | None = None,
    *,
    text: Collection[str] = (),
) -> dict[Path, dict]:
    """The parameters for each notebook: ``fixed`` ones (set by the runner) plus the ``given`` ones it declares.

    One notebook must declare every given name; for several, each name must be declared by
    at least one of them and goes only to those that declare it. The values of the names in
    ``text`` are command-line text, read as each notebook's declared type (see :func:`parse_value`).
    """
    fixed = dict(fixed or {})
    clash = sorted(set(given) & set(fixed))
    if clash:
        raise ParameterError(
            f"parameter(s) {clash} are set by the command itself (--case, --audience, --language, --out); "
            "do not pass them with -p or --params"
        )
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    if len(notebooks) == 1:
        nb = notebooks[0]
        unknown = sorted(set(given) - set(declared[nb]))
        if unknown:
            raise _unknown(nb, unknown, declared[nb])
    else:
        unknown = sorted(n for n in given if not any(n in d for d in declared.values()))
        if unknown:
            listing = "; ".join(f"{nb.name}: {_listing(d)}" for nb, d in declared.items())
            raise ParameterError(f"no notebook declares parameter(s) {unknown}; they declare: {listing}")
    plan = {}
    for nb, params in declared.items():
        mine = {
            k: parse_value(cast(str, v), declared_type(params[k])) if k in text else v
            for k, v in given.items()
            if k in params
        }
        plan[nb] = {**{k: v for k, v in fixed.items() if k in params}, **mine}
        check_parameters(nb, plan[nb], params)
    return plan
