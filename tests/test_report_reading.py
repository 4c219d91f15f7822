"""Reading a report (issue 17, point 5): a table of contents, sortable and searchable tables, print that wraps,
every cut table's full CSV beside it, time axes with their zone, and no "Open in Vega Editor"."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from pagekit import write_page
from reportkit import report_set

from workbench.reportset.pageparts import contents, table_script
from workbench.reportset.pagescan import foreign_markup


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    return write_page(tmp_path_factory.mktemp("page")).read_text(encoding="utf-8")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k == "id" and v)


def _ids(html: str) -> set[str]:
    parser = _Ids()
    parser.feed(html)
    return parser.ids


def _toc_targets(html: str) -> list[str]:
    nav = re.search(r'<nav class="wb-toc" id="contents">(.*?)</nav>', html, re.S)
    assert nav, "no table of contents"
    from html import unescape

    return [unescape(h) for h in re.findall(r'<a href="#([^"]+)">', nav.group(1))]


def test_contents_lists_the_headings_and_the_provenance(page):
    entries = contents(page)
    assert [(level, text) for level, _, text in entries] == [
        (2, "Offers by listing"),
        (2, "A wide table"),
        (3, "Its columns"),
        (2, "Hour by hour"),
        (2, "Provenance"),
    ]
    assert "A test report" not in [text for _, _, text in entries]  # the title is not listed
    targets = _toc_targets(page)
    assert targets[-1] == "provenance" and set(targets) <= _ids(page)


def test_page_carries_the_table_script_and_print_rules(page):
    assert f"<script>{table_script()}</script>" in page
    assert foreign_markup(page) == []  # `workbench verify` accepts the page as the workbench wrote it
    css = page[page.index("@media print {\n    .wb-search") :]
    assert "table-layout: auto !important" in css and "white-space: normal !important" in css
    assert "overflow: visible !important" in css


def test_long_tables_are_marked_sortable_and_searchable(page):
    assert page.count("data-wb-search=") == 1  # the 30-row table; the 1-row one is not
    assert page.count("data-wb-sort=") == 2


def _chart_specs(html: str) -> list[tuple[dict, dict]]:
    """(spec, embed options) of every chart of a page."""
    decoder = json.JSONDecoder()
    found = []
    for script in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S):
        at = script.rfind("})(")
        if at < 0 or "altair-viz-" not in script:
            continue
        spec, end = decoder.raw_decode(script, at + 3)
        embed, _ = decoder.raw_decode(script, end + 2)
        found.append((spec, embed))
    return found


def test_the_chart_menu_offers_no_vega_editor(page):
    import altair as alt

    [(_, embed)] = _chart_specs(page)
    assert embed["actions"] == {"export": True, "source": False, "compiled": False, "editor": False}
    from workbench.widgets.charts import EXPORT_RENDERER

    chart = alt.Chart(pl.DataFrame({"x": [1]})).mark_point().encode(x="x:Q")
    with alt.renderers.enable(EXPORT_RENDERER, embed_options={"actions": True, "theme": "dark"}):
        html = alt.renderers.get()(chart.to_dict(), embed_options={"actions": True, "theme": "dark"})["text/html"]
    [(_, embed)] = _chart_specs(html)
    assert embed["actions"]["editor"] is False and embed["theme"] == "dark"  # other options kept


def _encodings(value, found: list[dict]) -> list[dict]:
    """The x and y field definitions of every view of a spec (not tooltips: they name their own zone)."""
    if isinstance(value, dict):
        for channel in ("x", "y"):
            field = (value.get("encoding") or {}).get(channel) if isinstance(value.get("encoding"), dict) else None
            if isinstance(field, dict):
                found.append(field)
        for v in value.values():
            _encodings(v, found)
    elif isinstance(value, list):
        for v in value:
            _encodings(v, found)
    return found


def _axes_problems(spec: dict) -> list[str]:
    """Time axes shown without a zone in their title, and log scales whose title does not say so.

    A layer without a title of its own (milestone rules over a series) takes the titled
    layer's: it counts only if no time axis of the chart names the zone.
    """
    problems, untitled, zoned = [], [], False
    for field in _encodings(spec, []):
        if (field.get("scale") or {}).get("type") in ("log", "symlog") and "log scale" not in str(field.get("title")):
            problems.append(f"log scale {field.get('field')!r} titled {field.get('title')!r}")
        if field.get("type") != "temporal" or field.get("axis", {}) is None:
            continue
        if (field.get("axis") or {}).get("labels") is False:
            continue
        if "title" not in field:
            untitled.append(field.get("field"))
        elif "(Europe/Stockholm)" in str(field["title"]):
            zoned = True
        else:
            problems.append(f"time axis {field.get('field')!r} titled {field['title']!r}")
    if untitled and not zoned:
        problems.append(f"time axes {untitled} with no title")
    return problems


def test_the_axis_check_finds_a_time_axis_without_its_zone():
    bare = {"encoding": {"x": {"field": "hour", "type": "temporal", "title": None}}}
    assert _axes_problems(bare) == ["time axis 'hour' titled None"]
    log = {"encoding": {"y": {"field": "n", "type": "quantitative", "scale": {"type": "symlog"}, "title": "n"}}}
    assert _axes_problems(log) == ["log scale 'n' titled 'n'"]
    layered = {
        "layer": [
            {"encoding": {"x": {"field": "hour", "type": "temporal", "title": "time (Europe/Stockholm)"}}},
            {"encoding": {"x": {"field": "time", "type": "temporal"}}},
        ]
    }
    assert _axes_problems(layered) == []


@pytest.fixture(scope="module")
def tiny_sets(tiny_duckdb, tmp_path_factory):
    return {a: report_set(tmp_path_factory, tiny_duckdb, a) for a in ("investigator", "public")}


def _reports(root: Path) -> list[Path]:
    record = json.loads((root / "report-set.json").read_text())
    return [root / r["html"] for r in record["reports"]]


@pytest.mark.parametrize("audience", ["investigator", "public"])
def test_rendered_reports_have_contents_zones_and_no_editor(tiny_sets, audience):
    for html_path in _reports(tiny_sets[audience]):
        html = html_path.read_text(encoding="utf-8")
        targets = _toc_targets(html)
        assert len(targets) >= 2 and set(targets) <= _ids(html), html_path.name
        assert "@media print {\n    .wb-search" in html
        assert "Open in Vega Editor" not in html.replace(table_script(), "").split("</head>", 1)[1]
        for spec, embed in _chart_specs(html):
            assert embed["actions"]["editor"] is False
            assert _axes_problems(spec) == [], (html_path.name, _axes_problems(spec))


@pytest.mark.parametrize("audience", ["investigator", "public"])
def test_every_cut_table_links_its_full_csv(tiny_sets, audience):
    cut = 0
    for html_path in _reports(tiny_sets[audience]):
        html = html_path.read_text(encoding="utf-8")
        for total, href, n in re.findall(
            r'Showing [\d\u202f]+ of ([\d\u202f]+) rows\.[^<]*<a class="wb-csv" href="([^"]+)">all ([\d\u202f]+) rows',
            html,
        ):
            cut += 1
            rows = int(total.replace("\u202f", ""))
            assert n == total and pl.read_csv(html_path.parent / href, infer_schema=False).height == rows
        # no table is cut without its link
        assert len(re.findall(r"Showing [\d\u202f]+ of", html)) == html.count('class="wb-csv"'), html_path.name
    if audience == "investigator":
        assert cut >= 1  # the tiny case has one table longer than 40 rows for investigators
