"""Run a report notebook's cells in this Python process: no kernel, no papermill, seconds saved.

A kernel costs seconds to start and to import the stack again; a test that runs many
notebooks on many small cases (tests/test_missing_tables.py) cannot afford that per run.
The cells run in order in one namespace, with the parameters cell replaced as papermill
replaces it, and each cell's last expression rendered as the notebook's front end would
(``_repr_html_``, ``_repr_mimebundle_``, ``_repr_markdown_``), so a table or chart that cannot
render fails here too. What the cells print (outside IPython ``Findings.say`` prints its
prose) and what they show are returned apart, for checks of the prose.

It is not a substitute for the real run (``workbench.reportset.execution.execute``): widgets
have no front end here and IPython's display machinery is not involved. The report-set
tests run the real thing.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.reportset.execution import NOTEBOOKS_DIR, check_parameters
from workbench.settings import OUT_DIR_ENV, RUN_ENV, RUN_MARKER

__all__ = ["CellError", "NotebookRun", "notebook_path", "run_in_process"]


@dataclass
class NotebookRun:
    """What an in-process run printed (the prose of ``Findings.say``) and what its cells showed (HTML, charts)."""

    printed: str
    shown: str
    values: list = field(default_factory=list)
    """What each cell's last expression gave (the widgets shown, say), in order; cells without one are left out."""


class CellError(AssertionError):
    """A cell raised: names the notebook, the cell and its first line."""


def notebook_path(prefix: str) -> Path:
    """The report notebook whose name starts with ``prefix``, e.g. ``"01"``."""
    (path,) = NOTEBOOKS_DIR.glob(f"{prefix}_*.ipynb")
    return path


def _render(value) -> str:
    if value is None:
        return ""
    for method in ("_repr_markdown_", "_repr_html_"):
        if hasattr(value, method):
            return str(getattr(value, method)() or "")
    if hasattr(value, "_repr_mimebundle_"):
        bundle = value._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        return str(data.get("text/html") or data.get("text/plain") or "")
    return repr(value)


def run_in_process(notebook: Path, parameters: dict) -> NotebookRun:
    """Run ``notebook``'s code cells here with ``parameters``; what they printed and what they showed."""
    check_parameters(notebook, parameters)
    cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    namespace: dict = {"__name__": "__notebook__"}
    printed, shown = io.StringIO(), io.StringIO()
    values: list = []
    env = {RUN_ENV: RUN_MARKER, OUT_DIR_ENV: str(parameters.get("out_dir", "."))}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for number, cell in enumerate(cells, 1):
            source = "".join(cell["source"])
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
            tree = ast.parse(source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(tree, f"{notebook.name}[{number}]", "exec"), namespace)
                    if last is not None:
                        expression = ast.Expression(last.value)
                        result = eval(compile(expression, f"{notebook.name}[{number}]", "eval"), namespace)
                        shown.write(_render(result) + "\n")
                        values.append(result)
            except Exception as exc:
                first = next((line for line in source.splitlines() if line.strip()), "")
                raise CellError(
                    f"{notebook.name} cell {number} ({first[:80]!r}) raised {type(exc).__name__}: {exc}"
                ) from exc
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return NotebookRun(printed.getvalue(), shown.getvalue(), values)
