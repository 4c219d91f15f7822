"""Tables on a report page in Chromium, with no network: a click on a header sorts, the search box filters,
the contents links land on their sections, and printing wraps a wide table instead of cutting it."""

from __future__ import annotations

import pytest
from pagekit import long_frame, write_page
from test_reports_browser import ARTIFACTS, Page, browser  # noqa: F401

pytestmark = pytest.mark.browser

ROWS = "table[data-wb-search] tbody tr"


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    return write_page(tmp_path_factory.mktemp("tables_page"))


def _column(page, index: int, selector: str = ROWS) -> list[str]:
    return page.page.eval_on_selector_all(
        selector, f"rs => rs.filter(r => !r.hidden).map(r => r.cells[{index}].textContent)"
    )


def test_a_click_on_a_header_sorts_the_rows(browser, page_path):  # noqa: F811
    page = Page(browser, page_path)
    frame = long_frame()
    align = "c => getComputedStyle(c).textAlign"
    first = "table[data-wb-search] tbody tr:first-child td"
    assert page.page.eval_on_selector_all(first, f"cs => cs.map({align})") == ["right", "left", "right", "right"]
    assert _column(page, 0) == [str(v) for v in frame["listing_id"]]  # as given: no order
    header = page.page.locator('table[data-wb-search] th[data-col="n_offers"]')
    header.click()
    ascending = [int(v) for v in _column(page, 2)]
    assert ascending == sorted(frame["n_offers"].to_list()) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [int(v) for v in _column(page, 2)] == sorted(frame["n_offers"].to_list(), reverse=True)
    # a share sorts by its value, not by its text ("10.0%" after "5.0%")
    page.page.locator('table[data-wb-search] th[data-col="share_in_order"]').click()
    shares = [float(v.rstrip("%")) for v in _column(page, 3)]
    assert shares == sorted(shares) and shares[0] < shares[-1]
    # text sorts as text, rows kept whole: each id still beside its own district
    page.page.locator('table[data-wb-search] th[data-col="district"]').click()
    districts = _column(page, 1)
    assert districts == sorted(districts)
    pairs = set(zip(_column(page, 0), districts, strict=True))
    assert pairs == {(str(i), d) for i, d in zip(frame["listing_id"], frame["district"], strict=True)}
    page.close(ARTIFACTS / "tables-sorted.png")
    assert page.errors == [] and page.blocked == []


def test_the_search_box_filters_the_rows(browser, page_path):  # noqa: F811
    page = Page(browser, page_path)
    box = page.page.locator("input.wb-search")
    assert box.count() == 1 and box.get_attribute("placeholder") == "Search the rows shown"
    box.fill("kista")
    shown = _column(page, 1)
    assert shown and set(shown) == {"Kista"}
    assert len(shown) == long_frame().filter(district="Kista").height
    box.fill("")
    assert len(_column(page, 1)) == long_frame().height
    page.close(ARTIFACTS / "tables-searched.png")
    assert page.errors == [] and page.blocked == []


def test_contents_links_land_on_their_sections(browser, page_path):  # noqa: F811
    page = Page(browser, page_path)
    links = page.page.locator("nav.wb-toc a")
    assert links.count() == 5
    links.filter(has_text="Hour by hour").click()
    assert page.page.evaluate("() => decodeURIComponent(location.hash)") == "#Hour-by-hour"
    top, scrolled, at_end = page.page.evaluate(
        """() => [document.getElementById('Hour-by-hour').getBoundingClientRect().top, window.scrollY,
                  window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2]"""
    )
    assert scrolled > 0 and (0 <= top < 100 or at_end)  # scrolled to it, or as far as the page goes
    page.close(ARTIFACTS / "tables-contents.png")
    assert page.errors == [] and page.blocked == []


def test_printing_wraps_a_wide_table(browser, page_path):  # noqa: F811
    page = Page(browser, page_path)
    page.page.set_viewport_size({"width": 700, "height": 900})
    wide = "table.wb-table:not([data-wb-search])"
    overflow = f"() => {{ const t = document.querySelector('{wide}'); return t.getBoundingClientRect().right - document.documentElement.clientWidth; }}"
    assert page.page.evaluate(overflow) > 100  # on screen it is wider than the window
    page.page.emulate_media(media="print")
    assert page.page.evaluate(overflow) <= 1  # printed, every column is on the page
    assert page.page.locator("input.wb-search").is_hidden()
    page.close(ARTIFACTS / "tables-print.png")
    assert page.errors == [] and page.blocked == []
