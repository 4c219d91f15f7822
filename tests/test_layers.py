"""The rooms of the package and the directions they may import each other in, checked from the AST.

Every top-level module or subpackage of ``workbench`` is a room. A room may import only the
rooms written beside it below, lazily (inside a function) or not: an upward import, or a new
room not placed in the table, fails here. The analyses (incident, exposure, fairness) know
nothing of display, widgets, findings or report sets, and never import a renderer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

FOUNDATION = {"errors", "settings", "values", "wording", "i18n", "lazy", "children"}
FORMAT = FOUNDATION | {"evidence"}
DATA = FORMAT | {"case", "queries"}
ANALYSIS = DATA | {"audience", "suppression", "figures"}

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "settings": set(),
    "lazy": set(),  # a package's public names imported when first used
    "children": set(),  # child processes that end with their parent
    # the message catalogues (workbench/locales/) and the language a text is written in
    "i18n": {"errors"},
    "wording": {"i18n"},
    "quarantine_reasons": {
        "i18n"
    },  # a quarantine reason's kind, in the report's language  # the words around numbers and tables, by key, in the report's language
    "values": {"settings", "wording", "i18n"},
    "figures": {"errors", "values", "i18n"},  # i18n: why a figure is unknown, in the report's language
    "evidence": {"errors"},
    "evidence_docs": {"evidence"},
    "markup": set(),  # text made safe to show: for every room that renders
    "needs": {"evidence", "i18n", "wording"},  # what each recorded figure needs from the evidence; why, in words
    "intervals": set(),  # how narrowly relations pin hidden numbers: no workbench import
    "pinning": {"intervals"},  # what a reader of a breakdown can pin: its lines, the cells they narrow
    "suppression": FOUNDATION | {"intervals", "pinning"},
    "readonly": {"errors"},
    "caselocation": {"errors", "settings"},  # where a case file is, and which engine wrote it
    "case": FORMAT | {"readonly", "caselocation"},
    "caselock": FOUNDATION | {"case"},
    "queries": FORMAT | {"case", "notes"},  # the runner journals each run where the case has a notes database
    "ingest": FORMAT | {"case", "caselock"},
    # evidence as handed over, read through a mapping file; loads with ingest's checks and writers
    "mapping": FORMAT | {"case", "caselock", "ingest", "readonly"},
    "scenario": FORMAT,
    # annotations and the journal, in a notes database beside the case; exports go through csvout
    "notes": FORMAT | {"case", "csvout", "audience"},  # audience: annotation lists fit for each reader
    "audience": DATA | {"suppression"},
    # the three questions: each its own room, none importing another or anything that renders
    # notes: what investigators confirmed or dismissed by hand, read from the notes database
    "incident": ANALYSIS | {"notes"},
    "exposure": ANALYSIS | {"notes"},
    "fairness": ANALYSIS | {"notes"},
    # display and records of what a report shows
    "findings": ANALYSIS | {"markup", "needs"},
    "csvout": set(),  # the one writer of CSVs for readers
    "display": ANALYSIS | {"csvout", "markup", "quarantine_reasons"},
    "person_lists": ANALYSIS | {"csvout"},
    # notes: the investigator's tag field and note box (widgets/annotate_box.py)
    "widgets": ANALYSIS
    | {"csvout", "display", "findings", "person_lists", "incident", "exposure", "fairness", "markup", "notes"},
    "reportset": ANALYSIS | {"findings", "display", "caselock", "markup", "intervals", "notes", "__init__"},
    "cli": ANALYSIS
    | {"commands", "findings", "reportset", "ingest", "mapping", "scenario", "evidence_docs", "notes", "__init__"},
    "commands": ANALYSIS | {"findings", "reportset", "scenario", "evidence_docs", "notes", "values"},
    "__init__": {"case", "errors"},
}
RENDERERS = ("IPython", "ipywidgets", "altair", "nbconvert", "papermill")
HEADLESS = (
    "errors",
    "i18n",
    "settings",
    "values",
    "wording",
    "quarantine_reasons",
    "figures",
    "evidence",
    "case",
    "caselocation",
    "caselock",
    "readonly",
    "queries",
    "ingest",
    "mapping",
    "scenario",
    "audience",
    "suppression",
    "pinning",
    "intervals",
    "incident",
    "exposure",
    "fairness",
    "csvout",
    "needs",
    "notes",
)


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _room(module: list[str]) -> str:
    return module[1] if len(module) > 1 else "__init__"


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path`` (or ``source`` as if it were there), relative ones resolved."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module[:-1]
    found = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    found.append((node.lineno, ".".join([*base, node.module])))
                else:  # from . import a, b: each name may be a module
                    found += [(node.lineno, ".".join([*base, alias.name])) for alias in node.names]
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def _target_room(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "workbench":
        return None
    if len(parts) == 1 or parts[1] == "__version__":
        return "__init__"
    return parts[1]


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_room_is_placed_in_the_table():
    rooms = {_room(_module(p)) for p in FILES}
    assert rooms - set(ALLOWED) == set(), "a new room: add it to ALLOWED with the rooms it may import"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_in_allowed_directions(path):
    room = _room(_module(path))
    wrong = []
    for line, name in imports(path):
        target = _target_room(name)
        if target is not None and target != room and target not in ALLOWED[room]:
            wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {name} ({room} -> {target})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "path", [p for p in FILES if _room(_module(p)) in HEADLESS], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_analyses_and_data_layers_render_nothing(path):
    rendering = [f"{line}: {name}" for line, name in imports(path) if name.split(".")[0] in RENDERERS]
    assert not rendering, f"{path.relative_to(PACKAGE)} imports a renderer: {rendering}"


def test_the_checker_sees_an_upward_import():
    """The rule can fail: a lazy relative import from an analysis up into widgets is resolved and refused."""
    source = "def f():\n    from ..widgets import TimelineExplorer\nfrom . import clocks\nfrom .. import display\n"
    found = imports(PACKAGE / "incident" / "timeline.py", source)
    assert sorted(name for _, name in found) == ["workbench.display", "workbench.incident.clocks", "workbench.widgets"]
    assert {_target_room(name) for _, name in found} - ALLOWED["incident"] == {"display", "widgets", "incident"}


def _module_graph() -> dict[str, set[str]]:
    names = {".".join(_module(p)) for p in FILES}
    graph: dict[str, set[str]] = {}
    for path in FILES:
        here = ".".join(_module(path))
        targets = set()
        for _, name in imports(path):
            while name and name not in names:  # "workbench.ingest.readers.LINE" -> the module
                name = name.rpartition(".")[0]
            if name and name != here and not here.startswith(name + "."):  # a package's own __init__ is no cycle
                targets.add(name)
        graph[here] = targets
    return graph


def test_no_module_imports_itself_back_even_lazily():
    """A lazy import inside a function hides a cycle from Python, not from this test."""
    graph = _module_graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)
