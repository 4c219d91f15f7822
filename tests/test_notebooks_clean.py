"""Notebooks are committed without outputs and hold no logic (no def or class)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_no_outputs(path):
    for cell in _code_cells(path):
        assert cell.get("outputs") == [], f"{path.name}: a cell has outputs; strip them (nbstripout)"
        assert cell.get("execution_count") is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_defines_no_function_or_class(path):
    for cell in _code_cells(path):
        src = "".join(cell["source"])
        bad = [line for line in src.splitlines() if line.lstrip().startswith(("def ", "class ", "async def "))]
        assert not bad, f"{path.name}: move {bad} into workbench/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell(path):
    tagged = [c for c in _code_cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    src = "".join(tagged[0]["source"])
    for name in ("case_url", "audience", "out_dir"):
        assert f"{name} =" in src, f"{path.name}: parameter {name} is missing"
