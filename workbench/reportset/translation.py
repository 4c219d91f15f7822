"""The notebooks' English Markdown in the report's language, and what of it is not yet translated.

A notebook stays English, as it reads in JupyterLab; at render time each Markdown cell is
replaced by its translation in ``workbench/locales/<language>.yaml`` (section ``notebook_cell``, keyed
by notebook and cell id, with the digest of the English it translates: see
:func:`workbench.i18n.cell_text`). :func:`untranslated` lists the cells with no translation
or a stale one, so a test fails when an English cell changes and its Swedish does not.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import nbformat

from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, cell_text, english_digest, translate, translations

__all__ = ["notebook_prose", "prose", "translated_cells", "untranslated", "untranslated_prose", "widget_note"]


def translated_cells(nb, language: str, name: str | None = None):
    """A copy of ``nb`` with its Markdown cells in ``language`` where translated; ``name`` defaults to the notebook's own.

    ``nb`` itself is left as it is: one executed notebook serves every copy of a run, and a
    Swedish copy translating it in place turned the English copies rendered after it Swedish
    (``--audience public:sv,public``).
    """
    import copy

    if language == DEFAULT_LANGUAGE:
        return nb
    nb = copy.deepcopy(nb)
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


PROSE_CALLS = {"say": (0,), "text": (0,), "translate": (0,)}
"""Calls whose literal English is looked up in the catalogue: ``findings.say(template, unknown=…)`` and the like."""
PROSE_KEYWORDS = {"unknown", "caption"}
"""Keyword arguments whose literal English is looked up (a say's ``unknown``, a table's ``caption``)."""


def prose(
    source: str, names: dict[str, object] | None = None, calls: Collection[str] = tuple(PROSE_CALLS)
) -> list[str]:
    """Every literal English text ``source`` (Python) hands to the catalogue at run time.

    The first argument of ``calls`` (default: ``say``, ``text`` and ``translate``; in the
    package's own code ``say`` is a message key, so it passes ``("translate",)``), and any
    ``unknown=`` or ``caption=`` keyword of those calls, where it is a string literal (both branches of ``a if c else b``); an
    argument that is a bare name found in ``names`` (``findings.say(ART33_TEMPLATE)``) counts
    with that name's value.
    """
    import ast

    found: list[str] = []

    def take(node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.IfExp):
            take(node.body)
            take(node.orelse)
        elif isinstance(node, ast.Name) and names and isinstance(names.get(node.id), str):
            found.append(str(names[node.id]))

    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called not in calls:
            if called in PROSE_CALLS:
                continue
            for kw in node.keywords:  # a table's caption, wherever it is passed
                if kw.arg == "caption":
                    take(kw.value)
            continue
        for i in PROSE_CALLS[str(called)]:
            if len(node.args) > i:
                take(node.args[i])
        for kw in node.keywords:
            if kw.arg in PROSE_KEYWORDS:
                take(kw.value)
    return found


def notebook_prose(path: Path) -> list[str]:
    """The literal English of ``path``'s code cells (:func:`prose`), names imported from workbench resolved."""
    import importlib
    import re

    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(line for line in code.split("\n") if not line.lstrip().startswith(("%", "!")))
    names: dict[str, object] = {}
    for module, imported in re.findall(r"^from (workbench[\w.]*) import \(?([^)]*?)\)?$", code, re.M | re.S):
        for name in re.findall(r"\w+", imported):
            names[name] = getattr(importlib.import_module(module), name, None)
    return prose(code, names)


def untranslated_prose(texts: list[str], language: str = "sv") -> list[str]:
    """Each of ``texts`` with no entry in ``language``'s ``notebook_text``, or one filling other placeholders."""
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    known = translations(language, "notebook_text")
    problems = []
    for text in dict.fromkeys(texts):
        if text not in known:
            problems.append(f"{language}.yaml notebook_text has no entry for {text!r}")
        elif fields(text) != fields(str(known[text])):
            problems.append(
                f"{language}.yaml notebook_text fills {sorted(fields(str(known[text])))} for {text!r}, "
                f"which fills {sorted(fields(text))}"
            )
    return problems


def widget_note(english_html: str) -> str:
    """The note that stands for a widget in a static report (HTML around one English sentence), in the current language."""
    import html
    import re

    m = re.search(r"<em>(.*)</em>", english_html, re.S)
    if not m:
        return english_html
    sentence = html.unescape(m.group(1))
    return english_html.replace(m.group(1), html.escape(translate(sentence)))
