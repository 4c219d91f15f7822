"""notebooks/10_explore.ipynb run headless with papermill: every widget cell puts out a live widget."""

from __future__ import annotations

import json

import pytest

from workbench.reportset.execution import NOTEBOOKS_DIR, execute

NB = NOTEBOOKS_DIR / "10_explore.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"
# The cells that end in a widget, by their first line.
WIDGET_CELLS = ("browser = QueryBrowser", "incident = ", "timeline", "exposure = ", "inspector", "review = ",
                "AllocationApplicant")


@pytest.mark.parametrize("audience", ["investigator", "public"])
def test_explore_runs_for_the_audience_and_every_widget_cell_shows_a_widget(tiny_db, tmp_path, audience):
    out = tmp_path / "10.ipynb"
    execute(NB, out, {"case_url": str(tiny_db), "audience": audience, "out_dir": str(tmp_path)})
    cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
    assert not [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    for first in WIDGET_CELLS:
        cell = next(c for c in cells if "".join(c["source"]).startswith(first))
        assert any(WIDGET in o.get("data", {}) for o in cell["outputs"]), f"{first!r} shows no widget"
