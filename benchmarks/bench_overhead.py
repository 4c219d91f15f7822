"""The fixed cost of one headless notebook run, and what each report notebook's first cell imports.

A trivial parameterised notebook (two cells that do nothing) runs ``runs`` times through the
path ``workbench report`` takes with several notebooks (:func:`workbench.reportset.execution._run_in_process`:
a worker process, papermill, the ``workbench`` kernel with its cell time limit). Each run's
wall and CPU time (the worker's and its kernel's) is its fixed cost. The trivial cell reports
when its kernel process started (from /proc: Linux only) and when the cell ran, which splits the wall into the worker
until the kernel starts, the kernel until its first cell, and the rest (cells, shutdown, writing).

Then, for each report notebook, the imports of its first cell (its ``import`` statements
only, as written) run in a fresh ``workbench`` kernel the same way, timed there; the heavy
third-party packages they pulled in are listed.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ("00_case_overview", "01_incident_reconstruction", "02_exposure_and_changes", "03_queue_fairness")
HEAVY = ("sklearn", "scipy", "pandas", "altair", "jsonschema", "nbconvert", "duckdb", "sqlalchemy", "polars", "pyarrow")

_CLOCK = "import time as _t\n_w0, _c0 = _t.perf_counter(), _t.process_time()"
_REPORT = """import json as _j, os as _o, sys as _s, time as _t
_start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]) / _o.sysconf("SC_CLK_TCK")
_age = _t.clock_gettime(_t.CLOCK_BOOTTIME) - _start  # this kernel's age, to 10 ms
print(_j.dumps({{
    "kernel_created": _t.time() - _age, "cell_at": _t.time(), "kernel_cpu_s": sum(_o.times()[:2]),
    "wall_s": _t.perf_counter() - _w0, "cpu_s": _t.process_time() - _c0,
    "heavy": sorted(m for m in {heavy!r} if m in _s.modules),
}}))"""


def first_cell_imports(notebook: Path) -> str:
    """The ``import`` statements of ``notebook``'s first code cell, in order, as written."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    source = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    nodes = [n for n in ast.parse(source).body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.get_source_segment(source, n) or "" for n in nodes)


def _notebook(path: Path, body: str) -> Path:
    """A notebook: a ``parameters`` cell, a clock, ``body``, and a cell printing the measurement as JSON."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "workbench", "display_name": "Python (workbench)", "language": "python"}
    param = nbformat.v4.new_code_cell("n = 1")
    param.metadata["tags"] = ["parameters"]
    cells = [param, nbformat.v4.new_code_cell(_CLOCK), nbformat.v4.new_code_cell(body)]
    nb.cells = [*cells, nbformat.v4.new_code_cell(_REPORT.format(heavy=HEAVY))]
    nbformat.write(nb, str(path))
    return path


def _run(notebook: Path, output: Path, scratch: Path) -> dict:
    """One run through a worker process: wall, CPU of the worker and its kernel, and what the last cell printed."""
    from workbench.reportset.execution import Job, _run_in_process

    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    error = _run_in_process(Job(notebook, output, {"n": 2}), scratch)
    t1, after = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if error:
        raise SystemExit(f"notebook_overhead: {error}")
    cells = json.loads(output.read_text(encoding="utf-8"))["cells"]
    seen = json.loads("".join(cells[-1]["outputs"][0]["text"]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": t1 - t0,
        "cpu_s": cpu,
        "worker_until_kernel_s": seen["kernel_created"] - t0,
        "kernel_until_first_cell_s": seen["cell_at"] - seen["kernel_created"],
        "after_last_cell_s": t1 - seen["cell_at"],
        "kernel_cpu_s": seen["kernel_cpu_s"],
        "cell_wall_s": seen["wall_s"],
        "cell_cpu_s": seen["cpu_s"],
        "heavy": seen["heavy"],
    }


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def bench_notebook_overhead(runs: int = 5, import_runs: int = 3, notebooks: tuple[str, ...] = REPORTS) -> dict:
    """Median fixed cost of ``runs`` trivial notebook runs, and median first-cell import time of each of ``notebooks``."""
    load = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="workbench-overhead-") as tmp:
        folder = Path(tmp)
        trivial = _notebook(folder / "trivial.ipynb", "m = n + 1")
        timed = [_run(trivial, folder / f"trivial-{i}.ipynb", folder) for i in range(runs)]
        result: dict = {
            "runs": runs,
            **{k: _median(timed, k) for k in ("wall_s", "cpu_s", "worker_until_kernel_s")},
            **{k: _median(timed, k) for k in ("kernel_until_first_cell_s", "after_last_cell_s", "kernel_cpu_s")},
            "walls_s": [round(r["wall_s"], 2) for r in timed],
            "trivial_heavy": timed[0]["heavy"],
            "first_cell_imports": {},
        }
        for name in notebooks:
            nb = _notebook(folder / f"{name}.ipynb", first_cell_imports(ROOT / "notebooks" / f"{name}.ipynb"))
            seen = [_run(nb, folder / f"{name}-{i}.out.ipynb", folder) for i in range(import_runs)]
            result["first_cell_imports"][name] = {
                "wall_s": _median(seen, "cell_wall_s"),
                "cpu_s": _median(seen, "cell_cpu_s"),
                "run_wall_s": _median(seen, "wall_s"),
                "heavy": seen[0]["heavy"],
            }
    result["load_average_before"] = load
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    return result


def verdict(r: dict) -> list[str]:
    """The step's lines: the median fixed cost and its parts, then each report notebook's first-cell imports."""
    lines = [
        f"fixed cost of a trivial notebook run, median of {r['runs']}: {r['wall_s']} s wall, {r['cpu_s']} s CPU "
        f"(worker and kernel); runs {r['walls_s']}",
        f"of the wall: worker until its kernel starts {r['worker_until_kernel_s']} s, kernel start until the first "
        f"cell {r['kernel_until_first_cell_s']} s ({r['kernel_cpu_s']} s CPU), cells, shutdown and writing "
        f"{r['after_last_cell_s']} s; heavy packages in the trivial kernel: {', '.join(r['trivial_heavy']) or 'none'}",
    ]
    for name, i in r["first_cell_imports"].items():
        heavy = ", ".join(i["heavy"]) or "none"
        lines.append(
            f"{name} first-cell imports {i['wall_s']} s wall, {i['cpu_s']} s CPU in the kernel; heavy: {heavy}"
        )
    lines.append(
        f"load average {r['load_average_before'][0]} before, {r['load_average_after'][0]} after, on {r['cpus']} cores "
        "(walls stretch with the load; CPU seconds much less)"
    )
    return lines
