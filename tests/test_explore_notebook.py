"""notebooks/10_explore.ipynb run headless with papermill: every widget cell puts out a live widget.

Also the notebooks' defaults: opened after ``make demo`` with no editing, they read its case.
"""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest

from workbench.case import open_case
from workbench.queries import run
from workbench.reportset.execution import NOTEBOOKS_DIR, Job, execute_many, notebook_parameters

NB = NOTEBOOKS_DIR / "10_explore.ipynb"
ROOT = NOTEBOOKS_DIR.parent
WIDGET = "application/vnd.jupyter.widget-view+json"
# The cells that end in a widget, by their first line.
WIDGET_CELLS = (
    "browser = QueryBrowser",
    "incident = ",
    "timeline",
    "exposure = ",
    "inspector",
    "review = ",
    "applicant = ",
)


AUDIENCES = ("investigator", "public")


@pytest.fixture(scope="module")
def explored(tiny_db, tmp_path_factory) -> dict:
    """The notebook run headless for each audience, both at once (``execute_many``: a process and kernel each).

    A kernel spends seconds starting; run one after the other, the second core would idle meanwhile.
    """
    root = tmp_path_factory.mktemp("explore")
    jobs = {
        a: Job(NB, root / a / "10.ipynb", {"case_url": str(tiny_db), "audience": a, "out_dir": str(root / a)})
        for a in AUDIENCES
    }
    execute_many(list(jobs.values()), workers=2)
    return {a: job.output for a, job in jobs.items()}


@pytest.mark.parametrize("audience", AUDIENCES)
def test_explore_runs_for_the_audience_and_every_widget_cell_shows_a_widget(explored, audience):
    out = explored[audience]
    cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    for first in WIDGET_CELLS:
        cell = next(c for c in cells if "".join(c["source"]).startswith(first))
        assert any(WIDGET in o.get("data", {}) for o in cell["outputs"]), f"{first!r} shows no widget"


def _demo_case() -> str:
    """Where ``make demo`` writes its case, relative to the project root, as the Makefile spells it."""
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r"^DEMO\s*\?=\s*(\S+)", makefile, re.MULTILINE)
    assert demo and "ingest $(DEMO)/case/evidence --case duckdb:///$(DEMO)/case/case.duckdb" in makefile
    return f"{demo.group(1)}/case/case.duckdb"


def _default(notebook, name: str):
    return ast.literal_eval(notebook_parameters(notebook)[name]["default"])


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.stem)
def test_the_default_case_url_opens_the_case_make_demo_writes(notebook, tiny_duckdb, tmp_path, monkeypatch):
    made = tmp_path / _demo_case()  # tmp_path stands for the project root make demo ran in
    made.parent.mkdir(parents=True)
    shutil.copy(tiny_duckdb.removeprefix("duckdb:///"), made)
    monkeypatch.chdir(tmp_path)
    default = _default(notebook, "case_url")
    assert default.endswith(_demo_case()), f"{notebook.name}: case_url = {default!r}"
    with open_case(default) as case:  # a plain path would be read as SQLite and fail on the DuckDB file
        counts = dict(run("table_counts", case).iter_rows())
    assert counts["logins"] > 0 and counts["contracts"] > 0


def test_explore_exports_to_the_ignored_build_folder_by_default():
    # None lets the query browser choose build/ in the project (tests/test_query_browser.py);
    # "." was the kernel's folder, notebooks/, which git tracks.
    assert _default(NB, "out_dir") is None
