"""Find markup in a rendered page that the workbench did not produce: the sign of an injection.

A report page holds exactly these active elements, all written by the workbench:

- in ``<head>``, up to three scripts: ``window.VEGA_DEBUG = {…};``, the inlined Vega libraries,
  and the table script (sorting and search, :func:`workbench.reportset.pageparts.table_script`),
  accepted only as its exact text;
- in ``<body>``, one script per chart: Altair's "universal" template with the chart's spec
  and embed options as its two JSON arguments (see :mod:`workbench.widgets.charts`).

:func:`foreign_markup` names everything else that could run, load or redirect: a ``<base>``
element, any other ``<script>`` (a chart script whose text differs from the template, e.g.
cut short by a ``</script>`` inside its data, is one), ``<iframe>``, ``<object>``, ``<embed>``,
``<meta http-equiv>``, an ``on…`` event attribute, and a ``javascript:`` URL in an attribute.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from html.parser import HTMLParser

from .pageparts import table_script

__all__ = ["chart_script_shape", "foreign_markup"]

_ALWAYS_FOREIGN = {"base", "iframe", "object", "embed", "frame", "frameset", "applet"}
_VEGA_DEBUG = re.compile(r"window\.VEGA_DEBUG = \{[^<>{}]*\};")
_DIV = re.compile(r"altair-viz-[0-9a-f]+")
_URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}


def _shape(body: str) -> str | None:
    """A chart script's text with its output div and its two JSON arguments taken out; None if it has none."""
    at = body.rfind("})(")
    if at < 0:
        return None
    decoder = json.JSONDecoder()
    try:
        _, end = decoder.raw_decode(body, at + 3)
        if body[end : end + 2] != ", ":
            return None
        _, end = decoder.raw_decode(body, end + 2)
    except json.JSONDecodeError:
        return None
    return _DIV.sub("altair-viz-ID", body[: at + 3]) + "SPEC, EMBED" + body[end:]


@lru_cache(maxsize=1)
def chart_script_shape() -> str:
    """The text of every chart script the workbench writes, arguments taken out (from the Altair installed)."""
    import altair as alt
    from altair.utils.html import spec_to_html

    html = spec_to_html(
        {},
        mode="vega-lite",
        vega_version=alt.VEGA_VERSION,
        vegaembed_version=alt.VEGAEMBED_VERSION,
        vegalite_version=alt.VEGALITE_VERSION,
        template="universal",
        output_div="altair-viz-0",
        fullhtml=False,
    )
    body = html.split('<script type="text/javascript">', 1)[1].rsplit("</script>", 1)[0]
    shape = _shape(body)
    assert shape is not None, "Altair's universal template no longer ends in (spec, embedOpt)"
    return shape


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_head = False
        self._head_scripts = 0
        self._script: list[str] | None = None
        self._script_line = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag in ("head", "body"):
            self._in_head = tag == "head"
        if tag in _ALWAYS_FOREIGN:
            self.found.append(f"line {line}: a <{tag}> element")
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            self.found.append(f"line {line}: a <meta http-equiv> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"line {line}: an event attribute {name} on <{tag}>")
            elif name in _URL_ATTRS and value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"line {line}: a javascript: URL in {name} of <{tag}>")
        if tag == "script":
            if any(name == "src" for name, _ in attrs):
                self.found.append(f"line {line}: a <script src> element")
            self._script, self._script_line = [], line

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        if tag != "script" or self._script is None:
            return
        text, line = "".join(self._script), self._script_line
        self._script = None
        if self._in_head:
            self._head_scripts += 1
            ours = (
                (self._head_scripts == 1 and _VEGA_DEBUG.fullmatch(text))
                or self._head_scripts == 2
                or (self._head_scripts == 3 and text == table_script())
            )
        else:
            ours = _shape(text) == chart_script_shape()
        if not ours:
            self.found.append(f"line {line}: a <script> the workbench did not write: {text.strip()[:60]!r}")


def foreign_markup(html: str) -> list[str]:
    """Every element or attribute of ``html`` that could run, load or redirect and that the workbench did not write.

    Each entry names the line and what was found, e.g. ``"line 812: a <base> element"``.
    """
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found
