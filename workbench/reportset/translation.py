"""The notebooks' English Markdown in the report's language, and what of it is not yet translated.

A notebook stays English, as it reads in JupyterLab; at render time each Markdown cell is
replaced by its translation in ``workbench/locales/<language>.yaml`` (section ``notebook_cell``, keyed
by notebook and cell id, with the digest of the English it translates: see
:func:`workbench.i18n.cell_text`). :func:`untranslated` lists the cells with no translation
or a stale one, so a test fails when an English cell changes and its Swedish does not.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, cell_text, english_digest, translations

__all__ = ["translated_cells", "untranslated"]


def translated_cells(nb, language: str, name: str | None = None):
    """``nb`` with its Markdown cells in ``language`` where translated; ``name`` defaults to the notebook's own."""
    if language == DEFAULT_LANGUAGE:
        return nb
    name = name or nb.metadata.get("workbench", {}).get("name")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("id") and name:
            text = cell_text(name, cell.id, cell.source, language)
            if text is not None:
                cell.source = text
    return nb


def untranslated(notebooks: list[Path], languages: tuple[str, ...] = LANGUAGES) -> list[str]:
    """Every Markdown cell of ``notebooks`` with no translation, or a stale one, in each of ``languages``.

    Each entry names the catalogue, the notebook, the cell and the digest a fresh translation records:
    ``"sv.yaml: 01_incident_reconstruction cell cell-04 is stale (English now en: 3f2a…)"``.
    """
    problems = []
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        for path in notebooks:
            nb = nbformat.read(str(path), as_version=4)
            known = translations(language, "notebook_cell").get(path.stem, {})
            for cell in nb.cells:
                if cell.cell_type != "markdown":
                    continue
                digest = english_digest(cell.source)
                if cell.get("id") not in known:
                    problems.append(
                        f"{language}.yaml: {path.stem} cell {cell.get('id')} has no translation (en: {digest})"
                    )
                elif cell_text(path.stem, cell.id, cell.source, language) is None:
                    problems.append(f"{language}.yaml: {path.stem} cell {cell.id} is stale (English now en: {digest})")
    return problems
