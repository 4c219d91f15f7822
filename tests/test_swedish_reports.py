"""The public set in Swedish (issue 17, point 3), rendered once on the tiny case.

Swedish dates ("kl."), decimal commas and "9,7 %" must show; the page words the workbench
writes itself (banner, summary, key figures, how to read, contents, table notes, headers)
must not be English; every finding carries a Swedish label; the set records its language.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from reportkit import report_set
from test_reader_check import page_text

from workbench.i18n import messages, translations
from workbench.widgets.charts import D3_LOCALES

# What the English pages say in words the workbench writes itself: none may show in Swedish.
ENGLISH_MARKERS = [
    "Public copy",
    "Reports for",
    "What happened",
    "Key figures",
    "How to read this",
    "Contents",
    "Provenance",
    "most likely about",
    "Showing ",
    "rows (CSV)",
    "Click a column header",
    "rows are not shown in the public report",
    "2013 at",
]


# English function words no Swedish sentence has: any of them in a Swedish page is English left over.
ENGLISH_WORDS = re.compile(
    r"\b(?:the|and|of|which|were|was|with|this|that|these|their|from|been|have|has|would|could|should|"
    r"into|only|when|where|who|whose|each|every|not|are|is|by|for|on|at|or|to|an|it|its)\b",
    re.IGNORECASE,
)
QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”')
PATH = re.compile(r"\S*/\S*")  # a path or a URL (the case's location in the investigator's index) is no prose
# Columns whose cells are evidence or records, English by nature: the fault-report rules (their
# names, example messages and the history of their revisions, shipped with the package) and the
# evidence's own values. A label the workbench writes in a cell is not among them.
EVIDENCE_COLUMNS = {"rule", "example", "rules", "matched_text", "subject", "body", "explanation", "part", "corpus"}


class _ProseText(HTMLParser):
    """A page's text as a reader sees it, without scripts, styles, code, and cells of :data:`EVIDENCE_COLUMNS`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._columns: list[str | None] = []
        self._index = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "thead":
            self._columns = []
        elif tag == "th":
            self._columns.append(a.get("data-col"))
        elif tag == "tr":
            self._index = 0
        if tag in ("script", "style", "pre", "code") or "wb-param" in (a.get("class") or ""):
            self._skip += 1
        elif tag == "td":
            column = self._columns[self._index] if self._index < len(self._columns) else None
            self._skip += column in EVIDENCE_COLUMNS
            self._in_evidence = column in EVIDENCE_COLUMNS
        if tag in ("p", "li", "td", "th", "h1", "h2", "h3", "br", "div", "tr", "caption"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre", "code") and self._skip:
            self._skip -= 1
        elif tag == "td":
            self._index += 1
            if getattr(self, "_in_evidence", False):
                self._skip -= 1
                self._in_evidence = False

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def prose_text(html: str) -> str:
    parser = _ProseText()
    parser.feed(html)
    return "".join(parser.parts)


def english_left(text: str) -> list[str]:
    """Each line of ``text`` with an English function word in it, outside quotation marks (a quotation is someone's words)."""
    return [line.strip() for line in text.split("\n") if ENGLISH_WORDS.search(PATH.sub("", QUOTED.sub("", line)))]


# Chart fields whose values are evidence (a district, a profile field's name, a pseudonym, a period), left as they are.
EVIDENCE_CHART_FIELDS = {"district", "field", "caseworker", "year", "month", "quarter", "detail", "shown_as", "starts"}
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def charts(html: str) -> list[tuple[dict, dict]]:
    """The Vega-Lite spec and the vega-embed options of each chart embedded in a page."""
    decoder = json.JSONDecoder()
    found = []
    for m in re.finditer(r"\}\)\(\{", html):
        spec, end = decoder.raw_decode(html, m.start() + 3)
        if "vega-lite" not in str(spec.get("$schema", "")):
            continue
        options, _ = decoder.raw_decode(html, html.index("{", end))
        found.append((spec, options))
    return found


def chart_words(spec: dict) -> list[str]:
    """Every text a chart shows: titles and subtitles (of the chart, its axes, legends and tooltips), and the
    values it draws as legend entries, text labels or category axes (other than :data:`EVIDENCE_CHART_FIELDS`)."""
    words: list[str] = []
    drawn: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "subtitle", "text") and isinstance(value, str | list):
                    words.extend([value] if isinstance(value, str) else [v for v in value if isinstance(v, str)])
                elif key == "encoding":
                    for channel, enc in value.items():
                        nominal = isinstance(enc, dict) and enc.get("type") in ("nominal", "ordinal")
                        if nominal and channel in ("color", "text", "x", "y") and "field" in enc:
                            drawn.add(enc["field"])
                    walk(value)
                elif key != "datasets":
                    walk(value)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    for rows in spec.get("datasets", {}).values():
        words += [str(r[f]) for r in rows for f in drawn - EVIDENCE_CHART_FIELDS if r.get(f) is not None]
    return sorted(set(words))


def english_in_charts(html: str) -> list[str]:
    """What a Swedish page's charts still say in English: a function word, an English chart message, a snake_case name;
    and any chart whose axes would write dates and numbers the English way."""
    en, sv = messages("en"), messages("sv")
    english = {v for k, v in en.items() if k.startswith("chart.") and v != sv.get(k)}
    found = []
    for spec, options in charts(html):
        title = spec.get("title") or spec.get("vconcat", [{}])[0].get("title")
        for text in chart_words(spec):
            if english_left(QUOTED.sub("", text)) or text in english or SNAKE.search(text):
                found.append(f"{title!r}: {text!r}")
        if options.get("timeFormatLocale") != D3_LOCALES["sv"]["timeFormatLocale"]:
            found.append(f"{title!r}: dates on its axes in English")
        if options.get("formatLocale") != D3_LOCALES["sv"]["formatLocale"]:
            found.append(f"{title!r}: numbers on its axes in English")
    return found


@pytest.fixture(scope="module")
def swedish_public(tmp_path_factory, tiny_duckdb) -> Path:
    return report_set(tmp_path_factory, tiny_duckdb, "public", "sv")


def _pages(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.html"))}


def test_the_set_records_its_language_and_the_pages_say_it(swedish_public):
    assert json.loads((swedish_public / "report-set.json").read_text())["language"] == "sv"
    for name, page in _pages(swedish_public).items():
        assert re.search(r'<html lang="sv"', page), name


def test_swedish_pages_write_dates_numbers_and_percentages_the_swedish_way(swedish_public):
    text = "\n".join(page_text(p) for p in _pages(swedish_public).values())
    assert re.search(r"(måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag) \d+ december 2013 kl\. \d\d\.\d\d", text)
    assert re.search(r"\d,\d", text)  # a decimal comma
    assert re.search(r"\d,\d\u202f%", text)  # "9,7 %"
    assert not re.search(r"\d\.\d\s?%", text)  # never "9.7%"
    index = page_text((swedish_public / "index.html").read_text(encoding="utf-8"))
    assert messages("sv")["banner.public"].split(".")[0] in index and "Vad som hände" in index


def test_no_english_the_workbench_writes_itself_is_left(swedish_public):
    for name, page in _pages(swedish_public).items():
        text = page_text(page)
        found = [m for m in ENGLISH_MARKERS if m in text]
        assert not found, (name, found)


def test_table_headers_are_labelled_and_every_finding_has_a_swedish_label(swedish_public):
    labels = translations("sv", "finding_label")
    for folder in sorted(p.parent for p in swedish_public.glob("*/findings.json")):
        recorded = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        assert set(recorded) <= set(labels), sorted(set(recorded) - set(labels))
        assert all(entry["description"] == labels[name] for name, entry in recorded.items())
    for name, page in _pages(swedish_public).items():
        heads = re.findall(r'<th[^>]*data-col="([^"]+)"[^>]*>([^<]*)</th>', page)
        raw = [col for col, shown in heads if shown == col and "_" in col]
        assert not raw, (name, raw)  # a query column name is a header only where no label exists


def test_no_english_sentence_is_left_anywhere_in_the_swedish_public_set(swedish_public):
    for name, page in _pages(swedish_public).items():
        assert english_left(prose_text(page)) == [], name


@pytest.fixture(scope="module")
def swedish_sets(tmp_path_factory, tiny_duckdb, swedish_public) -> dict[str, Path]:
    """The investigator's and the auditor's Swedish sets: rendered in the same run as the public one (no extra cost)."""
    return {a: report_set(tmp_path_factory, tiny_duckdb, a, "sv") for a in ("investigator", "auditor")}


def test_no_english_sentence_is_left_in_the_swedish_investigator_and_auditor_sets(swedish_sets):
    # Person data (names, messages, values of the evidence) is the evidence's, never translated: the
    # checker skips EVIDENCE_COLUMNS and quotations; everything else the workbench wrote must be Swedish.
    found = {
        f"{audience}/{name}": left
        for audience, root in swedish_sets.items()
        for name, page in _pages(root).items()
        if (left := english_left(prose_text(page)))
    }
    assert found == {}


def test_every_header_of_every_swedish_set_has_a_label(swedish_sets, swedish_public):
    for root in (*swedish_sets.values(), swedish_public):
        for name, page in _pages(root).items():
            heads = re.findall(r'<th[^>]*data-col="([^"]+)"[^>]*>([^<]*)</th>', page)
            raw = sorted({col for col, shown in heads if shown == col and ("_" in col or col in ("at", "key", "tags"))})
            assert not raw, (root.name, name, raw)


def test_the_workbenchs_categories_and_charts_are_swedish_in_every_swedish_set(swedish_sets):
    from workbench.display import VALUE_GROUPS

    en, sv = messages("en"), messages("sv")
    english = {
        (column, value)
        for column, group in VALUE_GROUPS.items()
        for key, value in en.items()
        if key.startswith(f"chart.{group}.") and sv.get(key) != value
    } | {
        (column, key.rsplit(".", 1)[1])
        for column, group in VALUE_GROUPS.items()
        for key in en
        if key.startswith(f"chart.{group}.")
    }
    for audience, root in swedish_sets.items():
        for name, page in _pages(root).items():
            cells = _column_cells(page)
            left = sorted({(c, v) for c, v in cells if (c, v) in english})
            assert not left, (audience, name, left)
            assert english_in_charts(page) == [], (audience, name)


def _column_cells(page: str) -> list[tuple[str, str]]:
    """(column, cell text) of every table cell of ``page``."""
    from workbench.reportset.rate_audit import _Tables

    tables = _Tables()
    tables.feed(page)
    return [(c, v) for row in tables.rows for c, v in row.items()]


def test_the_english_left_check_finds_english_and_passes_swedish_and_evidence():
    page = (
        "<h2>Klockor</h2><p>Bevisen kommer från system med egna klockor.</p>"
        "<p>The mail server's clock runs 7 min against the web servers'.</p>"
        '<table><thead><tr><th data-col="rule">Regel</th><th data-col="label">Beskrivning</th></tr></thead>'
        "<tbody><tr><td>en: details of another</td><td>login disabled when it was</td></tr></tbody></table>"
        '<p>Motexempel ("I did not see anyone else\'s data").</p>'
        "<p>Skapad från ärendet duckdb:////tmp/pytest-of-root/case.duckdb (15 bevisfiler).</p>"
        "<script>var the = 1;</script><pre>SELECT * FROM the_table</pre>"
    )
    assert english_left(prose_text(page)) == [
        "The mail server's clock runs 7 min against the web servers'.",
        "login disabled when it was",
    ]


def test_no_chart_title_axis_legend_or_label_is_left_in_english(swedish_public):
    pages = _pages(swedish_public)
    assert sum(len(charts(page)) for page in pages.values()) >= 8  # the check reads the charts, not nothing
    found = {name: english_in_charts(page) for name, page in pages.items()}
    assert {name: f for name, f in found.items() if f} == {}


def test_a_swedish_percent_axis_reads_with_a_space_as_the_tables_do():
    # Drawn by vega (vl-convert runs the same vega the page loads) with the options the page gives vega-embed.
    import vl_convert

    from workbench.values import format_number

    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
        "data": {"values": [{"x": 0.1}, {"x": 0.25}]},
        "mark": "point",
        "encoding": {"x": {"field": "x", "type": "quantitative", "axis": {"format": "%"}}},
    }
    ticks = re.findall(
        r">([^<>]*%)</text>", vl_convert.vegalite_to_svg(spec, format_locale=D3_LOCALES["sv"]["formatLocale"])
    )
    assert "10\u202f%" in ticks and not any(re.search(r"\d%", tick) for tick in ticks), ticks
    assert format_number(0.1, "rate", "sv").endswith("\u202f%")  # the same sign the tables write


def test_the_chart_check_finds_english_in_a_chart():
    def page(spec: dict, options: dict) -> str:
        return f"<script>(function(spec, embedOpt){{}})({json.dumps(spec)}, {json.dumps(options)});</script>"

    schema = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
    swedish = {**D3_LOCALES["sv"], "actions": {}}
    spec = {
        "$schema": schema,
        "title": "Where in the queue the tenant stood",  # an English chart message
        "mark": "bar",
        "encoding": {
            "x": {"field": "n", "type": "quantitative", "title": "antal kontrakt"},
            "y": {"field": "district", "type": "nominal", "title": None},  # evidence: left as it is
            "color": {"field": "outcome", "type": "nominal", "title": "utfall"},
            "tooltip": [{"field": "n", "type": "quantitative", "title": "contracts of the year"}],
        },
        "datasets": {"d": [{"outcome": "in_order", "district": "Centrum", "n": 3}]},
    }
    found = english_in_charts(page(spec, swedish))
    assert found == [
        "'Where in the queue the tenant stood': 'Where in the queue the tenant stood'",
        "'Where in the queue the tenant stood': 'contracts of the year'",
        "'Where in the queue the tenant stood': 'in_order'",
    ]
    assert [f.split(": ")[-1] for f in english_in_charts(page(spec, {"actions": {}}))[-2:]] == [
        "dates on its axes in English",
        "numbers on its axes in English",
    ]
    spec.update(title="Var i kön hyresgästen stod", datasets={"d": [{"outcome": "i kötur", "district": "Centrum"}]})
    spec["encoding"]["tooltip"] = [{"field": "n", "type": "quantitative", "title": "kontrakt"}]
    assert english_in_charts(page(spec, swedish)) == []
