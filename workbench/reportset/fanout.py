"""One notebook run, many copies: the analysis runs once, what each copy shows runs once per copy.

A report notebook takes ``audience``, ``language`` and ``out_dir`` parameters and applies the
audience layer and the language where it shows or writes something (``show(frame, audience)``,
``Findings(out_dir, audience=audience)``, the words of a table). A copy is one report set of a
run: an audience in a language (``public``, ``public:sv``). For a run of several copies the
notebook runs once, and:

* a cell that reads or writes ``audience``, ``language``, ``out_dir`` or a name such a cell
  assigned (``findings``, ``rates``, …) is **per copy**: it runs once for each copy in turn,
  after :func:`switch` gave the kernel that copy's values of those names and its language
  (:func:`workbench.i18n.set_language`), and each of its outputs is tagged
  ``{"workbench": {"copy": "public-sv"}}`` in its metadata;
* every other cell (opening the case, ``review_fairness(...)``) runs **once**: it cannot see
  the audience or the language, so it computes the same for all of them, as separate runs did.
  Such a cell must not write words in the report's language: the analyses record codes and
  English, and the per-copy cells that show them translate.

The executed notebook holds every copy's outputs and is kept in a private work folder;
:func:`outputs_for` gives the notebook as one copy may read it (untagged outputs and that
copy's own), which is all the renderer ever sees. Findings and CSVs go to each copy's
own ``out_dir`` (and ``WORKBENCH_OUT_DIR``), switched with the copy. Which cells are per
copy is read from the code (:func:`per_audience_cells`), erring towards per copy: a
name it cannot follow (a cell IPython cannot parse) makes the cell per copy.
"""

from __future__ import annotations

import ast
import copy as copy_module
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import LANGUAGES
from ..settings import OUT_DIR_ENV

__all__ = [
    "AUDIENCE_NAMES",
    "TAG",
    "Copy",
    "audience_list",
    "copies",
    "outputs_for",
    "per_audience_cells",
    "switch",
    "switch_code",
    "tag_outputs",
]

TAG = "workbench"
AUDIENCE_NAMES = ("audience", "out_dir", "language")
"""The parameters that differ between the copies of one run."""
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
    """The indices of the cells of ``nb`` that run per copy, and the names those cells bind.

    A cell is per copy when it reads or binds ``audience``, ``out_dir``, ``language`` or a name
    bound by an earlier per-copy cell (so ``set_language(language)`` stands in a cell of its own,
    apart from the analysis). The parameters cells are not: they set the values
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


# The kernel side: the values of the per-copy names, kept per copy between cells.
_state: dict[str, Any] = {"current": None, "stash": {}}


def switch(namespace: dict, copy: str, values: Mapping[str, str], names: Sequence[str]) -> None:
    """In the kernel: give ``namespace`` the values ``names`` have for ``copy``, and its parameters ``values``.

    ``values`` are the copy's ``audience``, ``out_dir`` and ``language``
    (:data:`AUDIENCE_NAMES`). The values the previous copy's cells left are put aside for it;
    names the new copy has not bound yet are removed, so no cell reads another copy's value.
    The process's report language (:func:`workbench.i18n.set_language`: every word a table, a
    chart or a finding writes) and ``WORKBENCH_OUT_DIR`` are switched with them.
    """
    current = _state["current"]
    if current is not None:
        _state["stash"][current] = {n: namespace[n] for n in names if n in namespace}
    for n in names:
        namespace.pop(n, None)
    namespace.update(_state["stash"].get(copy, {}))
    namespace.update({k: v for k, v in values.items() if k in AUDIENCE_NAMES})
    if "out_dir" in values:
        os.environ[OUT_DIR_ENV] = values["out_dir"]
    if "language" in values:
        from ..i18n import set_language

        set_language(values["language"])
    _state["current"] = copy


def switch_code(copy: str, values: Mapping[str, str], names: Sequence[str]) -> str:
    """The code the client sends (silently) before a per-copy cell runs for ``copy``."""
    args = ", ".join(json.dumps(v) for v in (copy, dict(values), list(names)))
    return f"__import__('workbench.reportset.fanout', fromlist=['switch']).switch(get_ipython().user_ns, {args})"


def tag_outputs(outputs: list, copy: str) -> list:
    """``outputs`` of a per-copy run, each tagged with ``copy``.

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
                metadata={TAG: {"copy": copy, "stream": o.name}},
            )
        elif o.output_type in ("display_data", "execute_result"):
            o.setdefault("metadata", {})[TAG] = {**o.get("metadata", {}).get(TAG, {}), "copy": copy}
        tagged.append(o)  # an error stays as it is: its run failed and nothing is rendered
    return tagged


def _copy_of(output: Mapping) -> str | None:
    return output.get("metadata", {}).get(TAG, {}).get("copy")


def outputs_for(nb: Any, copy: str, values: Mapping[str, str] | None = None) -> Any:
    """A copy of the executed ``nb`` with only the outputs ``copy`` may see: untagged ones and its own.

    ``values`` (``{"audience": "public", "out_dir": ..., "language": "sv"}``) replace those the
    injected parameters cell shows, so the copy reads as if run for ``copy`` alone.
    """
    import nbformat

    nb = copy_module.deepcopy(nb)
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
            owner = _copy_of(o)
            if owner is not None and owner != copy:
                continue
            stream = o.get("metadata", {}).get(TAG, {}).get("stream")
            if stream:
                o = nbformat.v4.new_output("stream", name=stream, text=o.data["text/plain"])
            elif owner is not None:
                del o.metadata[TAG]["copy"]
                if not o.metadata[TAG]:
                    del o.metadata[TAG]
            kept.append(o)
        cell.outputs = kept
    return nb


def audience_list(audience: str | Sequence[str]) -> list[str]:
    """The copies asked for, in order, each once: ``"investigator,public,public:sv"`` or a list of them.

    Each entry is an audience, optionally with ``:LANGUAGE`` (``public:sv``). An unknown
    audience or language is an error naming it and the known ones (with a close match, if any).
    """
    from ..audience import Audience
    from ..errors import WorkbenchError
    from ..i18n import check_language

    names = audience.split(",") if isinstance(audience, str) else list(audience)
    parsed = []
    for entry in (n.strip() for n in names):
        if not entry:
            continue
        who, sep, language = (part.strip() for part in entry.partition(":"))
        name = Audience.parse(who).value
        if sep:
            try:
                name += ":" + check_language(language)
            except WorkbenchError:
                raise WorkbenchError(
                    f"--audience {entry!r}: unknown language {language!r}; an audience may carry one of "
                    f"{', '.join(LANGUAGES)} after a colon, e.g. public:sv"
                ) from None
        parsed.append(name)
    if not parsed:
        raise WorkbenchError(
            f"no audience given in {audience!r}; give one or more of investigator, auditor, public "
            "(each optionally with :en or :sv)"
        )
    return list(dict.fromkeys(parsed))


@dataclass(frozen=True)
class Copy:
    """One report set of a run: ``audience`` in ``language``, in the folder (and output tag) ``name``."""

    name: str
    audience: str
    language: str


def copies(entries: Sequence[str], language: str) -> list[Copy]:
    """The copies of :func:`audience_list`'s ``entries``, those without a language in ``language``.

    An entry's folder is its audience (``public``), or with a language of its own the two
    joined by a hyphen (``public:sv``: ``public-sv``). Two entries naming the same audience in
    the same language (``public,public:en`` with ``--language en``) are refused: they would be
    the same set twice.
    """
    from ..errors import WorkbenchError

    out: dict[tuple[str, str], Copy] = {}
    for entry in entries:
        who, _, own = entry.partition(":")
        copy = Copy(entry.replace(":", "-"), who, own or language)
        key = (copy.audience, copy.language)
        if key in out:
            raise WorkbenchError(
                f"--audience names the {who} set in {copy.language} twice ({out[key].name.replace('-', ':')} and "
                f"{entry}, with --language {language}); give it once"
            )
        out[key] = copy
    return list(out.values())
