"""Truth and analysis stay apart: the generator imports no analysis code, and no analysis
code (package modules outside the generator, notebooks) reads truth or the generator."""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"
GENERATOR = sorted((PKG / "scenario").rglob("*.py"))
# Glue that may know about both sides: the command line and the format itself.
NEUTRAL = {
    PKG / "cli.py",
    PKG / "commands.py",
    *(PKG / "evidence").glob("*.py"),
    PKG / "errors.py",
    PKG / "settings.py",
    PKG / "__init__.py",
}
ANALYSIS = sorted(p for p in PKG.rglob("*.py") if p not in NEUTRAL and p not in GENERATOR)


def _workbench_imports(path: Path) -> set[str]:
    """Absolute names of the workbench modules that ``path`` imports."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in found if m == "workbench" or m.startswith("workbench.")}


def _string_literals(source: str) -> list[str]:
    """String constants in code, docstrings excluded (they may explain the rule)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


@pytest.mark.parametrize("path", GENERATOR, ids=lambda p: p.name)
def test_generator_imports_nothing_from_the_analysis_side(path):
    allowed = ("workbench.evidence", "workbench.errors", "workbench.settings", "workbench.scenario")
    bad = {m for m in _workbench_imports(path) if m != "workbench" and not m.startswith(allowed)}
    assert not bad, f"{path.name} imports analysis code: {sorted(bad)}"


def test_there_is_analysis_code_to_check():
    assert ANALYSIS, "no analysis modules found: the separation test would pass vacuously"


@pytest.mark.parametrize("path", ANALYSIS, ids=lambda p: str(p.relative_to(PKG)))
def test_analysis_code_never_touches_truth_or_the_generator(path):
    bad = {m for m in _workbench_imports(path) if m.startswith("workbench.scenario")}
    assert not bad, f"{path} imports the generator: {sorted(bad)}"
    mentions = [s for s in _string_literals(path.read_text()) if "truth" in s.lower()]
    assert not mentions, f"{path} mentions truth in a string: {mentions}"


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_never_touch_truth_or_the_generator(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            assert "truth" not in src.lower() and "scenario" not in src, f"{path.name}: {src[:200]}"
