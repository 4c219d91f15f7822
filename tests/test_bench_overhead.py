"""benchmarks/bench_overhead.py: the ``notebook_overhead`` step's parts, on a hand-written notebook and one real run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_overhead

    return bench_overhead


def _nb(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# title"}]
    cells += [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_first_cell_imports_keeps_only_the_import_statements_in_order(bench, tmp_path):
    first = "import os\nfrom workbench.fairness import (\n    power_table,\n    queue_time,\n)\n\nsetup()  # not an import\nx = 1\n"
    nb = _nb(tmp_path / "n.ipynb", first, "import sklearn\n")
    assert (
        bench.first_cell_imports(nb)
        == "import os\nfrom workbench.fairness import (\n    power_table,\n    queue_time,\n)"
    )


@pytest.mark.parametrize("name", ["00_case_overview", "03_queue_fairness"])
def test_first_cell_imports_of_a_report_notebook_are_its_own_lines(bench, name):
    imports = bench.first_cell_imports(ROOT / "notebooks" / f"{name}.ipynb")
    cell = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
    source = "".join(next(c for c in cell if c["cell_type"] == "code")["source"])
    compile(imports, name, "exec")
    assert imports.startswith("from workbench.") and "setup()" not in imports
    assert all(line in source.splitlines() for line in imports.splitlines())


def test_the_step_is_registered_needs_no_case_and_its_verdict_names_every_part(bench):
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert "notebook_overhead" in run.STEPS and "notebook_overhead" in run.NO_CASE
    result = {
        "runs": 5, "wall_s": 6.5, "cpu_s": 2.9, "walls_s": [6.6, 6.5], "worker_until_kernel_s": 2.1,
        "kernel_until_first_cell_s": 3.0, "kernel_cpu_s": 1.2, "after_last_cell_s": 1.1, "trivial_heavy": [],
        "first_cell_imports": {"00_case_overview": {"wall_s": 5.2, "cpu_s": 2.2, "heavy": ["altair", "sklearn"]}},
        "load_average_before": [6.5, 6.0, 5.0], "load_average_after": [6.4, 6.0, 5.0], "cpus": 2,
    }  # fmt: skip
    lines = run._verdict("notebook_overhead", "tiny", result)
    assert "6.5 s wall, 2.9 s CPU" in lines[0] and "median of 5" in lines[0]
    assert "2.1 s" in lines[1] and "3.0 s (1.2 s CPU)" in lines[1] and "none" in lines[1]
    assert "00_case_overview" in lines[2] and "altair, sklearn" in lines[2]
    assert "load average 6.5" in lines[-1]


def test_one_trivial_run_through_the_worker_path_splits_its_wall(bench):
    r = bench.bench_notebook_overhead(runs=1, import_runs=1, notebooks=())
    parts = [r["worker_until_kernel_s"], r["kernel_until_first_cell_s"], r["after_last_cell_s"]]
    assert all(p > 0 for p in parts), parts  # the kernel starts after its worker, and its cell runs after that
    assert 0 < r["kernel_cpu_s"] < r["cpu_s"]  # the CPU counted covers the worker as well as its kernel
    assert r["trivial_heavy"] == [] and r["first_cell_imports"] == {}
