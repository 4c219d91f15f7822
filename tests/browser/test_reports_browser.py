"""The rendered reports in a real browser: Debian's Chromium, driven by Python playwright.

Every request that is not to a local file is blocked, so a page that works here works on a
laptop with no network. A screenshot of every page is saved to build/test-artifacts/reports/.
With CI=true these tests fail instead of skipping when Chromium or playwright is missing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from reportkit import report_set

from workbench.reportset.build import AUDIENCES
from workbench.reportset.pdf import CHROMIUM_FLAGS, find_chromium
from workbench.reportset.provenance import format_value

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "reports"
LOCAL = ("file:", "data:", "blob:", "about:")
CHARTS_DRAWN = """() => [...document.querySelectorAll('div[id^="altair-viz-"]')]
    .every(d => [...d.querySelectorAll('svg, canvas')].some(e => e.getBoundingClientRect().width > 0))"""


def _chromium() -> str:
    """Chromium and playwright, or a skip (a failure under CI=true) saying what is missing."""
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "Python playwright is not installed: pip install -e '.[test]' (never `playwright install`)"
    try:
        chromium = find_chromium()
    except Exception as exc:  # WorkbenchError naming the install command
        missing = missing or str(exc)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, and the browser tests cannot run: {missing}")
        pytest.skip(f"browser tests need Chromium and playwright: {missing}")
    return chromium


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # playwright adds its own headless switch
        b = p.chromium.launch(executable_path=chromium, args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield b
        b.close()


class Page:
    """A page opened with every non-local request blocked, and what it logged."""

    def __init__(self, browser, path: Path):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: None if r.url.startswith(LOCAL) else self.blocked.append(r.url))
        self.page.goto(path.as_uri(), wait_until="load")

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def _route(self, route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def charts_drawn(self) -> bool:
        """Wait until every chart container drew an svg or canvas; False if one never does."""
        try:
            self.page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
        except Exception:  # playwright's TimeoutError: the asserts below say what went wrong
            return False
        return True

    def text(self) -> str:
        return self.page.inner_text("body")

    def close(self, screenshot: Path) -> None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(screenshot), full_page=True)
        self.context.close()


@pytest.fixture(scope="module")
def report_sets(small_db, tmp_path_factory):
    return {audience: report_set(tmp_path_factory, small_db, audience) for audience in AUDIENCES}


def _shown(name: str, value) -> str | None:
    """How a numeric finding reads on the page (its name says how: format_value), or None for other forms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_value(value, name)
    if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
        return format_value(value, name)
    return None


@pytest.mark.parametrize("audience", AUDIENCES)
def test_reports_work_offline_in_chromium(browser, report_sets, audience):
    root = report_sets[audience]
    record = json.loads((root / "report-set.json").read_text())
    assert record["reports"], "no reports rendered"
    for report in record["reports"]:
        html = root / report["html"]
        source = html.read_text(encoding="utf-8")
        expected_charts = len(re.findall(r'<div id="altair-viz-', source))
        page = Page(browser, html)
        page.charts_drawn()
        drawn = page.page.eval_on_selector_all(
            'div[id^="altair-viz-"]', "ds => ds.filter(d => d.querySelector('svg, canvas')).length"
        )
        text = page.text()
        page.close(ARTIFACTS / f"{audience}-{report['notebook']}.png")
        assert page.errors == [], f"{html.name}: {page.errors}"
        assert page.blocked == [], f"{html.name} tried to load: {page.blocked}"
        assert drawn == expected_charts, f"{html.name}: {drawn} of {expected_charts} charts drew"
        findings = json.loads((root / report["findings"]).read_text()) if report["findings"] else {}
        for name, entry in findings.items():
            assert entry["description"] in text, f"{html.name} does not show finding {name}"
            # the name, the key into findings.json, for those who get the SQL; the public reads the label
            assert (f"[{name}]" in text) == (audience != "public"), f"{html.name}: finding {name}'s name"
            shown = _shown(name, entry["value"])
            if shown is not None:
                assert shown in text, f"{html.name} shows finding {name} without its value {shown!r}"
        assert "Provenance" in text and report["title"] in text


@pytest.mark.parametrize("audience", AUDIENCES)
def test_index_lists_reports_headlines_and_hashes(browser, report_sets, audience):
    root = report_sets[audience]
    record = json.loads((root / "report-set.json").read_text())
    page = Page(browser, root / "index.html")
    text = page.text()
    links = page.page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    page.close(ARTIFACTS / f"{audience}-index.png")
    assert page.errors == [] and page.blocked == []
    for report in record["reports"]:
        assert report["title"] in text and report["html"] in links
    for path, entry in record["files"].items():
        if path != "index.html":
            assert entry["sha256"] in text, path


def test_a_chart_shows_its_tooltip_offline(browser, report_sets):
    """Interactivity survives export: hovering a mark opens Vega's tooltip, with no network."""
    root = report_sets["public"]
    reports = json.loads((root / "report-set.json").read_text())["reports"]
    report = next(r for r in reports if 'id="altair-viz-' in (root / r["html"]).read_text(encoding="utf-8"))
    page = Page(browser, root / report["html"])
    assert page.charts_drawn(), (page.errors, page.blocked)
    chart = page.page.locator('div[id^="altair-viz-"] canvas, div[id^="altair-viz-"] svg').first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    found = False
    for fy in [i / 24 for i in range(1, 24)]:
        for fx in [i / 40 for i in range(1, 40)]:
            page.page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            if page.page.evaluate("() => !!document.querySelector('#vg-tooltip-element.visible')"):
                found = True
                break
        if found:
            break
    page.close(ARTIFACTS / "public-tooltip.png")
    assert found, f"no tooltip appeared over the first chart of {report['html']}"
    assert page.errors == [] and page.blocked == []


def test_reports_print_to_pdf(report_sets, tmp_path):
    from workbench.reportset.pdf import print_pdf

    _chromium()
    root = report_sets["public"]
    report = json.loads((root / "report-set.json").read_text())["reports"][0]
    pdf = print_pdf(root / report["html"], tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2  # the report and its provenance span pages
