"""Shared names are defined once, in ``workbench.settings``; low modules import nothing above them.

``workbench.settings`` imports nothing from workbench and ``workbench.values`` (bounds and
the formatting of figures) only settings, so the lowest modules can use either.
"""

from __future__ import annotations

import ast
import importlib
from datetime import timedelta
from pathlib import Path

import pytest

import workbench
from workbench import settings, values

PACKAGE = Path(workbench.__file__).resolve().parent
HOME = PACKAGE / "settings.py"
# Each of these is a setting: written out anywhere but its home it is a second definition.
LITERALS = ("Europe/Stockholm", "WORKBENCH_OUT_DIR", "WORKBENCH_RUN")


def _values(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of ``tree`` that are values: not docstrings nor other bare strings."""
    prose = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
    ]


def _literals(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(node.value, node.lineno) for node in _values(tree) if node.value in LITERALS]


def test_each_setting_is_written_out_only_in_settings():
    found = {
        f"{path.relative_to(PACKAGE.parent)}:{line}": value
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != HOME
        for value, line in _literals(path)
    }
    assert found == {}, "define these in workbench/settings.py and import them from there"
    assert sorted(value for value, _ in _literals(HOME)) == sorted(LITERALS)  # each exactly once at home


def test_the_scan_sees_a_second_definition_but_not_prose(tmp_path):
    module = tmp_path / "second.py"
    module.write_text(
        '"""Times are shown in Europe/Stockholm."""\n\n'
        'ZONE = "Europe/Stockholm"\n"""Europe/Stockholm"""\n\n\n'
        'def run():\n    """WORKBENCH_RUN"""\n    return os.environ.get("WORKBENCH_RUN")\n'
    )
    assert _literals(module) == [("Europe/Stockholm", 3), ("WORKBENCH_RUN", 9)]


def _workbench_imports(path: Path) -> set[str]:
    """The workbench modules ``path`` imports, as dotted names relative to the package (``"settings"``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "workbench":
            names.add(node.module.removeprefix("workbench").lstrip("."))
        elif isinstance(node, ast.Import):
            names.update(
                a.name.removeprefix("workbench").lstrip(".") for a in node.names if a.name.split(".")[0] == "workbench"
            )
    return names


def test_settings_imports_nothing_from_workbench():
    assert _workbench_imports(HOME) == set()


def test_values_imports_nothing_above_it():
    # wording and i18n import nothing above values (i18n only errors, a leaf)
    assert _workbench_imports(PACKAGE / "values.py") == {"settings", "wording", "i18n"}


@pytest.mark.parametrize(
    "module, name, home",
    [
        ("workbench.display", "DISPLAY_TZ", settings),
        ("workbench.widgets.charts", "DISPLAY_TZ", settings),
        ("workbench.incident.timeline", "DISPLAY_TZ", settings),
        ("workbench.findings", "OUT_DIR_ENV", settings),
        ("workbench.reportset.execution", "OUT_DIR_ENV", settings),
        ("workbench.reportset.execution", "RUN_ENV", settings),
        ("workbench.findings", "Bounds", values),
        ("workbench.findings", "format_value", values),
        ("workbench.reportset.provenance", "format_value", values),
    ],
)
def test_the_old_names_still_import_and_are_the_ones_at_home(module, name, home):
    assert getattr(importlib.import_module(module), name) is getattr(home, name)


def test_in_report_run_reads_the_run_marker(monkeypatch):
    monkeypatch.delenv(settings.RUN_ENV, raising=False)
    assert not settings.in_report_run()
    monkeypatch.setenv(settings.RUN_ENV, "something else")
    assert not settings.in_report_run()
    monkeypatch.setenv(settings.RUN_ENV, settings.RUN_MARKER)
    assert settings.in_report_run()


@pytest.mark.parametrize(
    "delta, text",
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=5, minutes=30), "PT5H30M"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(days=3), "P3D"),
        (timedelta(seconds=-0.5), "-PT0.5S"),
        (timedelta(minutes=1, seconds=2, microseconds=250), "PT1M2.00025S"),
    ],
)
def test_iso_duration(delta, text):
    assert values.iso_duration(delta) == text
