"""Render executed notebooks to self-contained, offline HTML for one audience.

The output has no external script, stylesheet, image or font: the lab template's
require.js, MathJax and mermaid blocks are emptied, and the Vega libraries are inlined once
in ``<head>`` with ``window.VEGA_DEBUG`` preset, so Altair's default renderer finds them and
fetches nothing (see STACK_NOTES). Code cells are hidden for every audience but investigators.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from .errors import WorkbenchError

__all__ = ["AUDIENCES", "render_html", "external_references", "notebook_paths", "build_report"]

AUDIENCES = ("investigator", "auditor", "public")
TEMPLATES = Path(__file__).parent / "templates"
BANNERS = {
    "investigator": "Investigator copy: contains personal data. Do not distribute.",
    "auditor": "Auditor copy: direct identifiers are pseudonymised, free text withheld.",
    "public": "Public copy: aggregates only; counts under 5 are suppressed.",
}


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
    bundle = vlc.javascript_bundle().replace("</script", "<\\/script")
    return {"vega_debug": json.dumps(debug), "vega_bundle": bundle}


def render_html(notebook: str | Path, html_path: str | Path, *, audience: str) -> Path:
    """Render an executed notebook to a self-contained HTML file for ``audience``.

    Parameters
    ----------
    notebook : the executed ``.ipynb``, e.g. ``"build/demo/00_case_overview.ipynb"``.
    html_path : where to write, e.g. ``"build/demo/reports/00_case_overview.html"``.
    audience : ``"investigator"`` (code shown), ``"auditor"`` or ``"public"`` (code hidden).
    """
    from nbconvert import HTMLExporter

    if audience not in AUDIENCES:
        raise WorkbenchError(f"audience {audience!r} is not one of: {', '.join(AUDIENCES)}")
    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",
        exclude_input=audience != "investigator",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    resources = {"workbench": {**_vega_resources(), "banner": BANNERS[audience]}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    leaks = external_references(body)
    if leaks:
        raise WorkbenchError(f"{notebook}: the rendered HTML would load external resources: {leaks[:5]}")
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


_LOADING_ATTRS = {"src", "href", "data", "poster", "srcset", "background"}
_CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)


def _is_external(url: str) -> bool:
    return not url.startswith(("data:", "#", "about:", "blob:", "javascript:"))


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and name in _LOADING_ATTRS and not (tag == "a" and name == "href") and _is_external(value):
                self.found.append(value)
            if value and name == "style":
                self._css(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text):
        for m in _CSS_URL.finditer(text):
            url = m.group(1) or m.group(2)
            if _is_external(url):
                self.found.append(url)


def external_references(html: str) -> list[str]:
    """Every resource an HTML page would fetch: loading attributes of tags, CSS imports and urls.

    Script bodies are not markup, so strings inside inlined JavaScript are not counted;
    links a reader may click (``<a href>``) are not loads either.
    """
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The project's notebooks in order, or those named (by file name or stem)."""
    from .errors import UnknownNameError
    from .execute import NOTEBOOKS_DIR

    available = {p.stem: p for p in sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))}
    if not names or names == ["all"]:
        return list(available.values())
    out = []
    for name in names:
        stem = Path(name).stem
        if Path(name).exists():
            out.append(Path(name))
        elif stem in available:
            out.append(available[stem])
        else:
            raise UnknownNameError("notebook", name, available)
    return out


def build_report(case_url: str, audience: str, out_dir: str | Path, notebooks: list[str] | None = None,
                 parameters: dict | None = None) -> list[Path]:
    """Run each notebook for ``audience`` and render it; returns the HTML files.

    Each notebook gets its own folder ``out_dir/<name>/`` with the executed notebook, its
    ``findings.json`` and the rendered ``<name>.html``.
    """
    from .execute import execute

    if audience not in AUDIENCES:
        raise WorkbenchError(f"audience {audience!r} is not one of: {', '.join(AUDIENCES)}")
    pages = []
    for nb in notebook_paths(notebooks):
        folder = Path(out_dir) / nb.stem
        params = {"case_url": _portable_url(case_url), "audience": audience, "out_dir": str(folder.resolve()), **(parameters or {})}
        executed = execute(nb, folder / nb.name, params)
        pages.append(render_html(executed, folder / f"{nb.stem}.html", audience=audience))
    return pages


def _portable_url(case: str | Path) -> str:
    """The case as an absolute URL, so a notebook running in another folder finds it."""
    from .case import case_url

    return case_url(case).render_as_string(hide_password=False)
