"""Checked as a reader would (issue 17, point 6, the English half): the text of every public page.

Each page of the tiny case's public set is read as text (HTML without scripts and styles,
the way a browser shows it; no Chromium needed) and must hold no ``None``/``nan``/``null``,
no finding's snake_case name, no "<5", no local path, no ``[name]`` placeholder, no
instruction about a notebook parameter and no code tags. A check that never fails proves
nothing, so each rule is also tried on a page made to break it.

Checked elsewhere: that a number in prose equals the table it describes (point 6's third
rule: tests/test_prose_numbers.py), and the Swedish pages (tests/test_swedish_reports.py).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from reportkit import report_set

from workbench import evidence
from workbench.reportset.build import notebook_paths

# The marker docs/disclosure.md defines for a hidden cell of 5 or more: a word on purpose, not a placeholder.
DISCLOSURE_MARKS = {"[suppressed]"}
BLOCKS = {"p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "br", "pre", "section", "table", "summary"}
LOCAL_PATH = re.compile(r"(?<![\w.])(?:/(?:tmp|home|work|Users|root|var|private|mnt)/|[A-Za-z]:\\)")
MISSING = re.compile(r"\bNone\b(?!\s+[a-z])|\b(?:nan|NaN|null)\b")
PLACEHOLDER = re.compile(r"\[[A-Za-z_ ]+\]|\b(?:TODO|TBD|XXX)\b|data protection officer")
# An output shown as Python prints it (a cell's last value as text/plain: 'export', PosixPath('/tmp/…'),
# <Chart object at 0x…>), or printed to stdout/stderr: a report shows tables, charts and sentences only.
PLAIN_OUTPUT = re.compile(
    r'<div class="[^"]*jp-OutputArea-output[^"]*" data-mime-type="(?:text/plain|application/vnd\.jupyter\.std\w+)"'
    r"[^>]*>\s*<pre>(.*?)</pre>",
    re.S,
)


class _Text(HTMLParser):
    """The text a reader sees: scripts and styles left out, a parameter's name cell (how it ran) set aside.

    ``headers=False`` leaves out table headers too: data tables still head their columns with
    the query's column names (``rows_read``), which the labelling of point 3 is to replace.
    """

    def __init__(self, headers: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []
        self._left_out = {"script", "style"} | (set() if headers else {"th"})

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in self._left_out or "wb-param" in classes:
            self._skip.append(tag)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str, headers: bool = True) -> str:
    parser = _Text(headers)
    parser.feed(html)
    return re.sub(r"[ \t]*\n\s*", "\n", "".join(parser.parts))


def _parameters() -> set[str]:
    names = set()
    for path in notebook_paths():
        for cell in nbformat.read(str(path), as_version=4).cells:
            if "parameters" in cell.metadata.get("tags", []):
                names.update(re.findall(r"^(\w+)\s*=", cell.source, re.MULTILINE))
    return names


def problems(html: str, finding_names: set[str], parameters: set[str]) -> list[str]:
    """What a reader of the public copy should not meet on this page, each with its context."""
    text = page_text(html)
    found = []

    def say(what: str, m: re.Match) -> None:
        found.append(f"{what}: …{text[max(0, m.start() - 50) : m.end() + 30]!r}")

    for m in MISSING.finditer(text):
        say("a missing value", m)
    for m in re.finditer(r"<\s*5\b", text):
        say("'<5'", m)
    for m in LOCAL_PATH.finditer(text):
        say("a local path", m)
    for m in PLACEHOLDER.finditer(text):
        if m.group(0) not in DISCLOSURE_MARKS:
            say("a placeholder", m)
    # evidence tables are named as the files the organisation handed over (page_views.parquet)
    snake = sorted(n for n in finding_names if "_" in n and n not in evidence.TABLES)
    prose = page_text(html, headers=False)
    for name in snake:
        for m in re.finditer(rf"(?<![\w`]){re.escape(name)}(?![\w])(?!\.(?:csv|json|parquet)\b)", prose):
            found.append(f"the finding name {name}: …{prose[max(0, m.start() - 50) : m.end() + 30]!r}")
    for name in sorted(p for p in parameters if "_" in p):
        for m in re.finditer(rf"\b{re.escape(name)}\b", text):
            say(f"the parameter {name} (an instruction for investigators)", m)
    found += bare_reprs(html)
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    for m in re.finditer(r"<code(?![^>]*wb-case-fingerprint)[^>]*>", body):
        found.append(f"a code tag: {body[m.start() : m.end() + 40]!r}")
    return found


def bare_reprs(html: str) -> list[str]:
    """Each output a cell shows as plain Python text (a value's repr, something printed), as the reader sees it."""
    return [f"a cell's Python value: {page_text(m.group(1)).strip()!r}" for m in PLAIN_OUTPUT.finditer(html)]


def test_the_check_finds_what_it_looks_for():
    bad = (
        "<p>Members: None. Rate: nan, NaN. Owner: null.</p><p>Fault reports: &lt;5</p>"
        "<p>Case: duckdb:////tmp/x/case.duckdb, C:\\cases</p><p>Contact [name] or The organisation's data "
        "protection officer.</p><p>Accounts exposed [accounts_exposed]; add phrases with extra_report_phrases.</p>"
        "<p><code>x</code></p>"
        # what a cell ending with setup() showed after the "how to read" note (nbconvert's markup)
        '<div class="jp-RenderedText jp-OutputArea-output jp-OutputArea-executeResult" data-mime-type="text/plain" '
        "tabindex=\"0\">\n<pre>'export'</pre>\n</div>"
        '<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stdout">'
        "<pre>&lt;altair.vegalite.v5.api.Chart object at 0x7f3a&gt;</pre></div>"
    )
    found = "\n".join(problems(bad, {"accounts_exposed"}, {"extra_report_phrases"}))
    for what in ("missing value", "'<5'", "local path", "placeholder", "finding name", "parameter", "code tag"):
        assert what in found, what
    assert "a cell's Python value: \"'export'\"" in found
    assert "a cell's Python value: '<altair.vegalite.v5.api.Chart object at 0x7f3a>'" in found
    assert found.count("a missing value") == 4 and found.count("a local path") == 2
    good = (
        "<p>None of this was entered by me. 1–4 members; [suppressed]; window_sessions.csv beside it.</p>"
        '<table><tr><td class="wb-param">idle_timeout_minutes</td><td>20</td></tr></table>'
        '<p>Fingerprint <code class="wb-case-fingerprint">sha256:ab</code></p><script>var a = null;</script>'
    )
    assert problems(good, {"window_sessions"}, {"idle_timeout_minutes"}) == []


@pytest.fixture(scope="module")
def public_set(tiny_duckdb, tmp_path_factory) -> Path:
    return report_set(tmp_path_factory, tiny_duckdb, "public")


def test_every_public_page_reads_clean(public_set):
    record = json.loads((public_set / "report-set.json").read_text(encoding="utf-8"))
    pages = ["index.html", *(r["html"] for r in record["reports"])]
    assert len(pages) == 5
    names = {
        n for r in record["reports"] if r["findings"] for n in json.loads((public_set / r["findings"]).read_text())
    }
    assert "accounts_exposed" in names and "time_to_contain_hours" in names
    parameters = _parameters()
    assert {"extra_report_phrases", "notes_url"} <= parameters
    found = {page: problems((public_set / page).read_text(encoding="utf-8"), names, parameters) for page in pages}
    assert {page: p for page, p in found.items() if p} == {}
    assert str(public_set) not in "".join((public_set / page).read_text(encoding="utf-8") for page in pages)


def test_no_page_of_any_audience_shows_a_cells_python_value(public_set):
    """A cell ending in a call (``setup()``, ``export_csv(...)``) must not print its value under the report."""
    pages = sorted(p for audience in public_set.parent.iterdir() if audience.is_dir() for p in audience.rglob("*.html"))
    assert len(pages) == 20  # four sets (investigator, auditor, public, public-sv) of five pages
    found = {p.relative_to(public_set.parent).as_posix(): bare_reprs(p.read_text(encoding="utf-8")) for p in pages}
    assert {page: f for page, f in found.items() if f} == {}
