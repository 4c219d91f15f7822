"""The public index of the tiny case in Chromium: the summary is what a reader sees first, and reads clean.

A screenshot of the first screen is saved to build/test-artifacts/reports/public-index-summary.png.
"""

from __future__ import annotations

import pytest
from reportkit import report_set
from test_reports_browser import ARTIFACTS, Page, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser


def test_the_public_index_opens_with_the_summary(browser, tiny_duckdb, tmp_path_factory):  # noqa: F811
    root = report_set(tmp_path_factory, tiny_duckdb, "public")
    page = Page(browser, root / "index.html")
    summary = page.page.locator("#summary")
    box = summary.bounding_box()
    text = summary.inner_text()
    first_screen = page.page.evaluate("() => window.innerHeight")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "public-index-summary.png"))
    page.close(ARTIFACTS / "public-index.png")
    assert page.errors == [] and page.blocked == []
    assert box is not None and box["y"] < first_screen / 3  # it starts near the top, above the reports
    assert text.startswith("What happened") and "Friday 13 December 2013 at 18:52" in text
    for word in ("None", "nan", "null", "<5", "_"):
        assert word not in text, word
