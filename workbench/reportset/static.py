"""A notebook as a static report shows it to one audience: widgets as a note, prose without code for others."""

from __future__ import annotations

import re
from collections.abc import Collection

import nbformat

from ..audience import Audience

__all__ = ["plain_markdown", "static_notebook"]

_WIDGET = "application/vnd.jupyter.widget-view+json"
_WIDGET_NOTE = (
    '<p class="wb-note"><em>An interactive widget stands here in JupyterLab '
    "(open the notebook there to use it); a static report cannot run it.</em></p>"
)


_INLINE_CODE = re.compile(r"(?<![\\`])`([^`\n]+)`(?!`)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ*_(\[])")


def _parameter_names(nb) -> set[str]:
    """The names the notebook's parameters cell assigns (``extra_report_phrases``, ``notes_url``, …)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    return {m for c in cells for m in re.findall(r"^(\w+)\s*=", c.source, re.MULTILINE)}


def plain_markdown(text: str, parameters: Collection[str]) -> str:
    """Markdown as a reader outside the investigation reads it: no instructions about parameters, no code.

    A sentence that names one of the notebook's ``parameters`` in backticks tells the
    investigator what to set (``add any wording … with `extra_report_phrases```): it is left
    out. Other inline code (`` `findings.json` ``, `` `confirmed` ``) becomes plain text.
    """
    named = re.compile("|".join(rf"`{re.escape(p)}`" for p in sorted(parameters))) if parameters else None
    lines = []
    for line in text.split("\n"):
        if named is not None and named.search(line):
            line = " ".join(s for s in _SENTENCE.split(line) if not named.search(s))
        lines.append(_INLINE_CODE.sub(r"\1", line))
    return "\n".join(lines)


def _opening_cell(nb, opening: str | None) -> None:
    """Put ``opening`` (Markdown: the report's key figures and how to read it) after the title cell."""
    if not opening:
        return
    titled = (i + 1 for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and re.search(r"^#\s", c.source, re.M))
    nb.cells.insert(next(titled, 0), nbformat.v4.new_markdown_cell(opening))


def static_notebook(nb, audience: str, opening: str | None = None):
    """The notebook as a static report shows it, for ``audience``.

    Widgets need a live kernel: their saved state (which holds the data they showed, e.g.
    every option of a drop-down) and their text fallback are replaced by a note. Warnings
    are about code and may quote values: only investigators see them. Auditors and the public
    read the prose without code or parameter instructions (:func:`plain_markdown`), and
    every audience gets the report's key figures after its title (``opening``).
    """
    from .translation import widget_note

    nb.metadata.pop("widgets", None)
    plain = not Audience.parse(audience).sees_identifiers
    parameters = _parameter_names(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and plain:
            cell.source = plain_markdown(cell.source, parameters)
        if cell.cell_type != "code":
            continue
        outputs = []
        for o in cell.outputs:
            if audience != "investigator" and o.output_type == "stream" and o.name == "stderr":
                continue
            if _WIDGET in o.get("data", {}):
                o = nbformat.v4.new_output("display_data", data={"text/html": widget_note(_WIDGET_NOTE)})
            elif plain and "text/markdown" in o.get("data", {}):
                o.data["text/markdown"] = plain_markdown(o.data["text/markdown"], parameters)
            outputs.append(o)
        cell.outputs = outputs
    _opening_cell(nb, opening)
    return nb
