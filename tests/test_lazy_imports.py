"""A report notebook pays at start only for what it uses: the heavy packages are imported where they are needed.

Each check runs in a fresh interpreter, as a kernel does: the kernel's extension first, then
the import lines of a notebook's first cell, then a look at ``sys.modules``. Notebook 01 trains
the fault-report model, so it alone may load scikit-learn; the others must not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ("sklearn", "scipy", "pandas")  # the triage model's: pandas comes with scikit-learn
RENDERING = ("nbformat", "nbconvert", "papermill")  # the client's, never the kernel's
NOTEBOOKS = ("00_case_overview", "02_exposure_and_changes", "03_queue_fairness")


def _first_cell_imports(name: str) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_overhead import first_cell_imports

    return first_cell_imports(ROOT / "notebooks" / f"{name}.ipynb")


def _loaded(*codes: str) -> list[set[str]]:
    """The top-level packages in ``sys.modules`` after each code, each run in its own interpreter (side by side)."""
    tail = "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    procs = [
        subprocess.Popen([sys.executable, "-c", code + tail], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for code in codes
    ]
    out = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), out
    return [set(json.loads(o.strip().splitlines()[-1])) for o in out]


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    extension = "import workbench.reportset.kernel\n"
    cases = {
        "extension": extension,
        **{n: extension + _first_cell_imports(n) for n in NOTEBOOKS},
        "triage review": extension + "from workbench.widgets import TriageReview",  # the check can see a load
    }
    return dict(zip(cases, _loaded(*cases.values()), strict=True))


def test_the_kernel_extension_loads_no_data_or_rendering_package(loaded):
    heavy = {"sqlalchemy", "polars", "altair", "jsonschema", *TRAINING, *RENDERING}
    assert loaded["extension"] & heavy == set()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_that_does_not_train_the_model_does_not_load_it(loaded, name):
    assert loaded[name] & {*TRAINING, *RENDERING} == set()
    assert {"workbench", "altair", "polars", "sqlalchemy"} <= loaded[name]  # what it does use is there


def test_the_triage_review_still_loads_what_it_needs(loaded):
    assert {"sklearn", "scipy"} <= loaded["triage review"]
