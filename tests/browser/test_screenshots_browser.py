"""Every public page in both languages, as Chromium draws it (issue 17, point 6).

The tiny case's public sets in English and Swedish (rendered once per session by
tests/reportkit.py) are opened offline; each page (index and reports 00-03) is screenshotted
whole to build/test-artifacts/reports/public-<language>-<page>.png, and must have drawn:
not blank, every chart drawn, no script error, no request off the machine, its title in the DOM.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from reportkit import report_set
from test_reports_browser import ARTIFACTS, Page, browser  # noqa: F401  (browser is a fixture)

from workbench.i18n import t

pytestmark = pytest.mark.browser


def png_pixels(path: Path) -> bytes:
    """The decompressed scanlines of a PNG (each row's filter byte included): enough to tell a blank page."""
    data, chunks = path.read_bytes(), []
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return zlib.decompress(b"".join(chunks))


def blank(path: Path) -> bool:
    """Whether a screenshot shows (next to) nothing: almost every byte white, or hardly any distinct value."""
    pixels = png_pixels(path)
    ink = sum(1 for b in pixels[::7] if b < 200) / max(1, len(pixels[::7]))
    return len(set(pixels)) < 16 or ink < 0.002


def test_the_blank_check_tells_an_empty_page_from_a_drawn_one(browser, tmp_path):  # noqa: F811
    empty, drawn = tmp_path / "empty.html", tmp_path / "drawn.html"
    empty.write_text("<html><body></body></html>")
    drawn.write_text("<html><body><h1>Vad som hände</h1><p>" + "Rapporten. " * 200 + "</p></body></html>")
    shots = {}
    for name, page_file in (("empty", empty), ("drawn", drawn)):
        page = Page(browser, page_file)
        page.close(tmp_path / f"{name}.png")
        shots[name] = blank(tmp_path / f"{name}.png")
    assert shots == {"empty": True, "drawn": False}


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_public_page_draws_in_both_languages(browser, tiny_duckdb, tmp_path_factory, language):  # noqa: F811
    root = report_set(tmp_path_factory, tiny_duckdb, "public", language)
    record = json.loads((root / "report-set.json").read_text(encoding="utf-8"))
    pages = {"index": (root / "index.html", t("index_title", language, audience=t("audience.public", language)))}
    pages |= {r["notebook"]: (root / r["html"], r["title"]) for r in record["reports"]}
    assert len(pages) == 5
    problems = {}
    for name, (html, title) in pages.items():
        page = Page(browser, html)
        drawn = page.charts_drawn()
        dom = page.page.content()
        shot = ARTIFACTS / f"public-{language}-{name}.png"
        page.close(shot)
        found = [
            *(["blank screenshot"] if blank(shot) else []),
            *([] if drawn else ["a chart did not draw"]),
            *([] if title in dom else [f"title {title!r} not in the DOM"]),
            *page.errors,
            *(f"tried to load {url}" for url in page.blocked),
        ]
        if found:
            problems[name] = found
    assert problems == {}
