"""One notebook run, many audiences: the analysis runs once, what each audience sees runs once per audience.

A report notebook takes ``audience`` and ``out_dir`` parameters and applies the audience layer
where it shows or writes something (``show(frame, audience)``, ``Findings(out_dir,
audience=audience)``). For a report set of several audiences the notebook runs once, and:

* a cell that reads or writes ``audience``, ``out_dir`` or a name such a cell assigned
  (``findings``, ``rates``, …) is **per audience**: it runs once for each audience in turn,
  after :func:`switch` gave the kernel that audience's values of those names, and each of its
  outputs is tagged ``{"workbench": {"audience": "public"}}`` in its metadata;
* every other cell (opening the case, ``review_fairness(...)``) runs **once**: it cannot see
  the audience, so it computes the same for all of them, as separate runs did.

The executed notebook holds every audience's outputs and is kept in a private work folder;
:func:`outputs_for` gives the notebook as one audience may read it (untagged outputs and that
audience's own), which is all the renderer ever sees. Findings and CSVs go to each audience's
own ``out_dir`` (and ``WORKBENCH_OUT_DIR``), switched with the audience. Which cells are per
audience is read from the code (:func:`per_audience_cells`), erring towards per audience: a
name it cannot follow (a cell IPython cannot parse) makes the cell per audience.
"""

from __future__ import annotations

import ast
import copy
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..settings import OUT_DIR_ENV

__all__ = [
    "AUDIENCE_NAMES",
    "TAG",
    "outputs_for",
    "per_audience_cells",
    "switch",
    "switch_code",
    "tag_outputs",
]

TAG = "workbench"
AUDIENCE_NAMES = ("audience", "out_dir")
"""The parameters that differ between the audiences of one run."""
_SKIP_TAGS = {"parameters", "injected-parameters"}


def _names(source: str) -> tuple[set[str], set[str]] | None:
    """The names a cell reads and the names it binds; None for a cell that is not plain Python.

    A magic (``%time x = f(audience)``) hides what it reads and binds in a string, so a cell
    with one is not plain Python either.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    read: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            read.update(node.names)
    return read, bound


def per_audience_cells(nb: Any) -> tuple[set[int], list[str]]:
    """The indices of the cells of ``nb`` that run per audience, and the names those cells bind.

    A cell is per audience when it reads or binds ``audience``, ``out_dir`` or a name bound by
    an earlier per-audience cell. The parameters cells are not: they set the values
    :func:`switch` replaces. A cell that is not plain Python (a magic, a syntax error) cannot
    be placed, and is refused naming it: run such a notebook for one audience at a time.
    """
    from ..errors import WorkbenchError

    tainted = set(AUDIENCE_NAMES)
    cells: set[int] = set()
    code = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code += 1
        if _SKIP_TAGS & set(cell.metadata.get("tags", [])):
            continue
        names = _names(cell.source)
        if names is None:
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            raise WorkbenchError(
                f"code cell {code} (it begins: {first[:80]!r}) is not plain Python (an IPython magic or a syntax "
                "error), so which audience's values it uses cannot be told; report notebooks are plain calls. "
                "Render this notebook for one audience at a time"
            )
        if (names[0] | names[1]) & tainted:
            cells.add(i)
            tainted |= names[1]
    return cells, sorted(tainted - set(AUDIENCE_NAMES))


# The kernel side: the values of the per-audience names, kept per audience between cells.
_state: dict[str, Any] = {"current": None, "stash": {}}


def switch(namespace: dict, audience: str, out_dir: str, names: Sequence[str]) -> None:
    """In the kernel: give ``namespace`` the values ``names`` have for ``audience``, and its ``out_dir``.

    The values the previous audience's cells left are put aside for it; names the new
    audience has not bound yet are removed, so no cell reads another audience's value.
    """
    current = _state["current"]
    if current is not None:
        _state["stash"][current] = {n: namespace[n] for n in names if n in namespace}
    for n in names:
        namespace.pop(n, None)
    namespace.update(_state["stash"].get(audience, {}))
    namespace["audience"], namespace["out_dir"] = audience, out_dir
    os.environ[OUT_DIR_ENV] = out_dir
    _state["current"] = audience


def switch_code(audience: str, out_dir: str, names: Sequence[str]) -> str:
    """The code the client sends (silently) before a per-audience cell runs for ``audience``."""
    args = ", ".join(json.dumps(v) for v in (audience, out_dir, list(names)))
    return f"__import__('workbench.reportset.fanout', fromlist=['switch']).switch(get_ipython().user_ns, {args})"


def tag_outputs(outputs: list, audience: str) -> list:
    """``outputs`` of a per-audience run, each tagged with ``audience``.

    A stream has no metadata: it becomes a display of its text, tagged with its stream name,
    and :func:`outputs_for` turns it back into the stream it was.
    """
    import nbformat

    tagged = []
    for o in outputs:
        if o.output_type == "stream":
            o = nbformat.v4.new_output(
                "display_data",
                data={"text/plain": o.text},
                metadata={TAG: {"audience": audience, "stream": o.name}},
            )
        elif o.output_type in ("display_data", "execute_result"):
            o.setdefault("metadata", {})[TAG] = {**o.get("metadata", {}).get(TAG, {}), "audience": audience}
        tagged.append(o)  # an error stays as it is: its run failed and nothing is rendered
    return tagged


def _audience_of(output: Mapping) -> str | None:
    return output.get("metadata", {}).get(TAG, {}).get("audience")


def outputs_for(nb: Any, audience: str, values: Mapping[str, str] | None = None) -> Any:
    """A copy of the executed ``nb`` with only the outputs ``audience`` may see: untagged ones and its own.

    ``values`` (``{"audience": "public", "out_dir": ...}``) replace those the injected
    parameters cell shows, so the copy reads as if run for ``audience`` alone.
    """
    import nbformat

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if values and "injected-parameters" in cell.metadata.get("tags", []):
            lines = cell.source.split("\n")
            for i, line in enumerate(lines):
                name = line.split("=", 1)[0].strip()
                if name in values and "=" in line:
                    lines[i] = f"{name} = {json.dumps(values[name], ensure_ascii=False)}"
            cell.source = "\n".join(lines)
        kept = []
        for o in cell.outputs:
            owner = _audience_of(o)
            if owner is not None and owner != audience:
                continue
            stream = o.get("metadata", {}).get(TAG, {}).get("stream")
            if stream:
                o = nbformat.v4.new_output("stream", name=stream, text=o.data["text/plain"])
            elif owner is not None:
                del o.metadata[TAG]["audience"]
                if not o.metadata[TAG]:
                    del o.metadata[TAG]
            kept.append(o)
        cell.outputs = kept
    return nb


def audience_list(audience: str | Sequence[str]) -> list[str]:
    """The audiences asked for, in order, each once: ``"investigator,public"`` or a list of names.

    An unknown name is an error naming it and the known ones (with a close match, if any).
    """
    from ..audience import Audience

    names = audience.split(",") if isinstance(audience, str) else list(audience)
    parsed = [Audience.parse(n.strip()).value for n in names if n.strip()]
    if not parsed:
        from ..errors import WorkbenchError

        raise WorkbenchError(f"no audience given in {audience!r}; give one or more of investigator, auditor, public")
    return list(dict.fromkeys(parsed))
