"""Render one executed notebook to a self-contained, offline HTML page for an audience.

The output has no external script, stylesheet, image or font: the lab template's
require.js, MathJax and mermaid blocks are emptied, and the Vega libraries are inlined once
in ``<head>`` with ``window.VEGA_DEBUG`` preset, so Altair's default renderer finds them and
fetches nothing (see STACK_NOTES). Code cells are hidden for every audience but investigators.
A page over :data:`MAX_REPORT_BYTES` is refused. :func:`workbench.reportset.build.build_report`
renders each page of a set with :func:`render_html`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import nbformat

from ..audience import Audience
from ..errors import WorkbenchError
from ..i18n import DEFAULT_LANGUAGE, check_language, t, using
from ..wording import say
from .contents import TEMPLATES
from .offline import external_references
from .pageparts import table_script, with_contents
from .static import static_notebook

__all__ = ["MAX_REPORT_BYTES", "RenderError", "inlined_libraries", "notebook_title", "render_html"]


class RenderError(WorkbenchError):
    """A notebook that ran but whose report could not be rendered or printed: the set is left incomplete."""


# A report far below what mail and laptops handle; a bigger one means a chart embeds raw rows.
MAX_REPORT_BYTES = 20_000_000


@lru_cache(maxsize=1)
def _vega_resources() -> dict:
    import altair as alt
    import vl_convert as vlc

    debug = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    # "</script" inside the bundle would end the inline script early.
    # The stub makes `snippet` required; vl_convert itself defaults it (and documents it as optional).
    bundle = vlc.javascript_bundle().replace("</script", "<\\/script")  # type: ignore[call-arg]
    return {"vega_debug": json.dumps(debug), "vega_bundle": bundle}


def inlined_libraries() -> list[str]:
    """The library code every report inlines verbatim (the Vega bundle, the table script): code, not case data."""
    return [_vega_resources()["vega_bundle"], table_script()]


def notebook_title(nb) -> str | None:
    """The first Markdown heading of a notebook (node or path), e.g. ``"Case overview"``."""
    if not hasattr(nb, "cells"):
        nb = nbformat.read(str(nb), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+?)\s*$", cell.source, re.MULTILINE)
            if m:
                return m.group(1)
    return None


def render_html(
    notebook: str | Path,
    html_path: str | Path,
    *,
    audience: str,
    provenance: str | None = None,
    opening: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Path:
    """Render an executed notebook to a self-contained HTML file for ``audience``.

    Parameters
    ----------
    notebook : the executed ``.ipynb``, e.g. ``"build/demo/00_case_overview.ipynb"``.
    html_path : where to write, e.g. ``"build/demo/reports/00_case_overview.html"``.
    audience : ``"investigator"`` (code and warnings shown), ``"auditor"`` or ``"public"``
        (code and stderr hidden).
    provenance : an HTML section appended to the report (see :mod:`workbench.reportset.provenance`).
    opening : Markdown put after the report's title: its key figures and how to read it
        (see :func:`workbench.reportset.story.opening_markdown`).
    language : what the page's own words are written in (banner, contents, table notes),
        and what its Markdown cells are translated into (:func:`translated_cells`).
    """
    with using(check_language(language)):
        return _render_html(notebook, html_path, audience, provenance, opening, language)


@lru_cache(maxsize=8)
def _exporter(exclude_input: bool, language: str):
    """One HTML exporter per kind of page, reused: a new one compiles its Jinja templates again (~1 CPU-s a page)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",
        exclude_input=exclude_input,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=language,
    )


def _render_html(notebook, html_path, audience, provenance, opening, language) -> Path:
    from .translation import translated_cells

    Audience.parse(audience)
    nb = translated_cells(nbformat.read(str(notebook), as_version=4), language, _report_name(notebook))
    nb = static_notebook(nb, audience, opening)
    exporter = _exporter(audience != "investigator", language)
    resources = {
        "metadata": {"name": notebook_title(nb) or Path(notebook).stem},
        "workbench": {
            **_vega_resources(),
            "table_script": table_script(),
            "banner": t(f"banner.{audience}", language),
            "provenance": provenance,
            "provenance_title": say("provenance"),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = with_contents(body)
    leaks = external_references(body)
    if leaks:
        raise WorkbenchError(f"{notebook}: the rendered HTML would load external resources: {leaks[:5]}")
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    size = html_path.stat().st_size
    if size > MAX_REPORT_BYTES:
        raise WorkbenchError(
            f"{html_path} is {size / 1e6:.1f} MB, over the {MAX_REPORT_BYTES / 1e6:.0f} MB limit for a report; "
            f"the biggest outputs: {_biggest_outputs(nb)}. Aggregate before charting, or show fewer rows "
            "(the file is kept for inspection)"
        )
    return html_path


def _report_name(notebook: str | Path) -> str:
    """The report notebook a file is, as the catalogue names it: ``00_case_overview`` for ``…/00_case_overview.ipynb``.

    A copy's own notebook of a multi-copy run, ``00_case_overview.public.ipynb`` or
    ``00_case_overview.public-sv.ipynb``, is the same notebook: without dropping the suffix its Markdown found no translation and the
    auditor and public pages of a ``--language sv`` run kept their English prose.
    """
    return Path(notebook).name.split(".", 1)[0]  # ".public.ipynb", ".public-sv.ipynb": the copy's own


def _biggest_outputs(nb, n: int = 3) -> str:
    """The ``n`` biggest outputs of a notebook, e.g. ``"cell 12 (text/html, 25.3 MB)"``: what made a report too big."""
    sizes = []
    for i, cell in enumerate(nb.cells, start=1):
        for o in cell.get("outputs", []):
            for mime, data in {**o.get("data", {}), **({"stream": o.text} if "text" in o else {})}.items():
                sizes.append((len(data if isinstance(data, str) else json.dumps(data)), i, mime))
    return ", ".join(f"cell {i} ({mime}, {size / 1e6:.1f} MB)" for size, i, mime in sorted(sizes, reverse=True)[:n])
