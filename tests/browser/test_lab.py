"""The explore notebook and notebook 01 in real JupyterLab, in headless Chromium, on the tiny case.

Each test asserts what a person sees on the page, and where the page drives the kernel, that
the kernel-side state agrees (read back by running code in the notebook's kernel outside any
cell). No request may leave the machine. Screenshots go to build/test-artifacts/lab/; the ones last
checked by eye (labels, readouts and drop-downs showing their full text) are kept, cropped, in
tests/browser/screenshots/.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from labkit import LabPage, browser, lab, parameterized_copy  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
BROWSER_CELL = "browser = QueryBrowser(case, audience, out_dir=out_dir, timezone=timezone, notes=notes)\nbrowser"
# What Lab, ipywidgets and Altair write into the page when a widget or chart cannot render.
ERROR_TEXT = re.compile("Error displaying widget|JavaScript Error|Error loading script")
SUMMARY = re.compile(r"([\d\u202f]+) event\(s\) from (.+?) to (.+?);")
# Labels, slider readouts and the chosen entry of drop-downs whose text does not fit its box.
CUT_TEXT = """root => {
    const cut = [], ctx = document.createElement('canvas').getContext('2d');
    for (const e of root.querySelectorAll('.widget-label, .widget-readout')) {
        if (e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1) cut.push(e.textContent);
    }
    for (const s of root.querySelectorAll('select:not([multiple])')) {
        if (s.offsetParent === null || s.selectedIndex < 0) continue;
        const st = getComputedStyle(s), text = s.options[s.selectedIndex].text;
        ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
        if (ctx.measureText(text).width > s.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight))
            cut.push(text);
    }
    return cut;
}"""


def _expect():
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def explore(browser, lab, tiny_db):  # noqa: F811
    """notebooks/10_explore.ipynb on the tiny case, open in Lab with every cell run."""
    name = parameterized_copy(
        NOTEBOOKS / "10_explore.ipynb", lab.root, {"case_url": tiny_db, "out_dir": str(lab.root / "explore-out")}
    )
    page = LabPage(browser, lab, name, workspace="explore")
    page.run_all()
    yield page
    page.close()


def _label(t: datetime) -> str:
    return t.astimezone(STOCKHOLM).strftime("%a %d %b %H:%M")


def _timeline_state(page: LabPage) -> dict:
    return page.kernel_json(
        '{"start": timeline.range[0].isoformat(), "end": timeline.range[1].isoformat(), '
        '"n": timeline.table.height, "sessions": timeline.table["session_id"].head(50).to_list(), '
        '"kinds": timeline.table["kind"].head(50).to_list()}'
    )


def _shown_timeline(page: LabPage) -> tuple[int, str, str, list[list[str]]]:
    """(events, from label, to label, table rows) as the timeline shows them."""
    cell = page.cell("timeline")
    text = cell.get_by_text(SUMMARY).inner_text()
    n, start, end = SUMMARY.search(text).groups()
    rows = cell.locator(".wb-table tbody tr").all_inner_texts()
    return int(n.replace("\u202f", "")), start, end, [r.split("\t") for r in rows]


def _assert_timeline_matches_kernel(page: LabPage) -> dict:
    state = _timeline_state(page)
    n, start, end, rows = _shown_timeline(page)
    assert (n, start, end) == (
        state["n"],
        _label(datetime.fromisoformat(state["start"])),
        _label(datetime.fromisoformat(state["end"])),
    )
    shown = [(r[1], r[3] if r[3] != "–" else None) for r in rows]
    assert shown == list(zip(state["kinds"], state["sessions"], strict=True))
    return state


def _wait_for_summary_change(page: LabPage, before: str) -> None:
    _expect()(page.cell("timeline").get_by_text(SUMMARY)).not_to_have_text(before, timeout=20_000)
    page.wait_idle()


def test_explore_runs_and_shows_every_widget_and_chart(explore, tiny_db):
    assert explore.kernel_json("[case_url, audience]") == [tiny_db, "investigator"]  # the parameters arrived
    assert explore.error_outputs() == []
    expect = _expect()
    # What a person looks for, cell by cell.
    expect(explore.cell(BROWSER_CELL).locator(".wb-query-browser")).to_be_visible()
    from workbench.queries import names

    expect(explore.cell(BROWSER_CELL).get_by_text(f"{len(names())} of {len(names())} queries")).to_be_visible()
    brush = explore.cell_starting("incident = ").locator(".wb-brush")
    expect(brush.locator("svg.marks")).to_be_visible()
    timeline = explore.cell("timeline")
    expect(timeline.locator(".widget-slider")).to_be_visible()
    expect(timeline.get_by_text(SUMMARY)).to_be_visible()
    expect(timeline.locator(".vega-embed svg.marks")).to_be_visible()
    expect(explore.cell_starting("exposure = ").locator(".wb-link-account select")).to_be_visible()
    expect(explore.cell("inspector").get_by_text("Choose an account.")).to_be_visible()
    dashboard = explore.cell_starting("review = ")
    expect(dashboard.get_by_text(re.compile(r"Caseworker .+: \d+ allocations"))).to_be_visible()
    expect(dashboard.locator(".vega-embed svg.marks")).to_be_visible()
    expect(explore.cell_starting("applicant = ").locator(".wb-link-allocation select")).to_be_visible()
    charts = explore.charts(at_least=3)
    assert len(charts) >= 3 and all(c["drawn"] for c in charts), charts
    assert explore.page.get_by_text(ERROR_TEXT).count() == 0
    assert explore.errors == [] and explore.blocked == []
    explore.screenshot("explore-run-all", explore.cell_starting("incident = "))


def test_query_browser_shows_the_rows_of_a_query_run_with_a_parameter(explore, tiny_db):
    from workbench.queries import list_queries, run

    expect = _expect()
    qb = explore.cell(BROWSER_CELL).locator(".wb-query-browser")
    catalogue = list_queries()
    matching = catalogue.filter(catalogue["description"].str.contains("rebuilt"))["name"].to_list()
    assert "sessions" in matching
    qb.locator(".wb-qb-search input").fill("rebuilt")  # a word of the description
    expect(qb.locator(".wb-qb-list option")).to_have_text(matching)
    qb.locator(".wb-qb-list select").select_option("sessions")
    expect(qb.locator(".wb-param-start input")).to_be_visible()
    qb.locator(".wb-param-start input").fill("2013-12-13 18:00")  # Stockholm time, as the tables show
    qb.locator(".wb-param-end input").fill("2013-12-14 12:00")
    expect(qb.locator(".wb-qb-sql")).to_contain_text("start=2013-12-13T17:00:00+00:00, end=2013-12-14T11:00:00+00:00")
    qb.locator("button.wb-qb-run").click()
    expected = run("sessions", tiny_db, start="2013-12-13T17:00:00+00:00", end="2013-12-14T11:00:00+00:00")
    assert expected.height > 25, "the tiny case should give more than a page of sessions here"
    expect(qb.locator(".wb-qb-page")).to_contain_text(f"Rows 1–25 of {expected.height}")
    first = [r.split("\t")[0] for r in qb.locator(".wb-qb-table tbody tr").all_inner_texts()]
    assert first == expected["session_id"].head(25).to_list()
    explore.screenshot("query-browser", qb)
    qb.locator("button.wb-qb-next").click()
    expect(qb.locator(".wb-qb-page")).to_contain_text(f"Rows 26–{min(50, expected.height)} of {expected.height}")
    second = [r.split("\t")[0] for r in qb.locator(".wb-qb-table tbody tr").all_inner_texts()]
    assert second == expected["session_id"].slice(25, 25).to_list()
    qb.get_by_role("button", name="Parquet").click()
    qb.locator("button.wb-qb-export").click()
    expect(qb.locator(".wb-qb-exported")).to_contain_text(f"Exported {expected.height} row(s)")
    state = explore.kernel_json(
        '{"selected": browser.selected, "params": browser.params, "path": str(browser.exported)}'
    )
    assert state["selected"] == "sessions"
    assert state["params"] == {
        "idle_timeout_minutes": 20,
        "start": "2013-12-13 17:00:00+00:00",
        "end": "2013-12-14 11:00:00+00:00",
    }
    assert pl.read_parquet(state["path"]).equals(expected)


def test_changing_the_timeline_range_updates_its_table_and_the_kernel(explore):
    _assert_timeline_matches_kernel(explore)
    before = explore.cell("timeline").get_by_text(SUMMARY).inner_text()
    slider = explore.cell("timeline").locator(".widget-slider")
    lower, upper = slider.locator(".noUi-handle-lower"), slider.locator(".noUi-handle-upper")
    lower.press("PageUp")  # a person moving the handles with the keyboard: five hours a press
    explore.wait_idle()
    for _ in range(12):
        upper.press("PageDown")
    _wait_for_summary_change(explore, before)
    state = _assert_timeline_matches_kernel(explore)
    first = explore.kernel_json('events["time"].min().replace(minute=0, second=0, microsecond=0).isoformat()')
    assert datetime.fromisoformat(state["start"]) == datetime.fromisoformat(first) + timedelta(hours=5)
    assert 0 < state["n"] < explore.kernel_json("events.height")
    explore.screenshot("timeline-range", explore.cell("timeline"))


def test_brushing_the_hourly_chart_sets_the_timeline_range(explore):
    before = explore.cell("timeline").get_by_text(SUMMARY).inner_text()
    brush = explore.cell_starting("incident = ").locator(".wb-brush")
    frame = brush.locator("svg.marks g.role-frame.root > g > path.background").bounding_box()  # the plot area
    y = frame["y"] + frame["height"] / 2
    x0, x1 = frame["x"] + 0.30 * frame["width"], frame["x"] + 0.55 * frame["width"]
    explore.page.mouse.move(x0, y)
    explore.page.mouse.down()
    explore.page.mouse.move(x1, y, steps=8)
    explore.page.mouse.up()
    _wait_for_summary_change(explore, before)
    state = _assert_timeline_matches_kernel(explore)
    # The chart spans the hours of the activity series; the brushed fraction maps onto them.
    first, last = explore.kernel_json('[t.isoformat() for t in run("activity_per_hour", case)["hour"].sort()[[0, -1]]]')
    first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    span = last - first
    start, end = datetime.fromisoformat(state["start"]), datetime.fromisoformat(state["end"])
    assert abs(start - (first + 0.30 * span)) <= timedelta(hours=1)
    assert abs(end - (first + 0.55 * span)) <= timedelta(hours=1)
    explore.screenshot("brush-sets-range", explore.cell_starting("incident = "))


def test_opening_an_account_from_the_timeline_shows_its_sessions_and_changes(explore, tiny_db):
    from workbench.case import open_case
    from workbench.exposure import review_exposure
    from workbench.queries import run
    from workbench.widgets import AccountInspector

    expect = _expect()
    slider = explore.cell("timeline").locator(".widget-slider")
    slider.locator(".noUi-handle-lower").press("Home")  # the whole incident again
    explore.wait_idle()
    slider.locator(".noUi-handle-upper").press("End")
    explore.wait_idle()
    changed = run("mismatched_changes", tiny_db)["account_id"].cast(pl.String).to_list()
    picker = explore.cell_starting("exposure = ").locator(".wb-link-account select")
    offered = [v for v in picker.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    candidates = [o.split(" · ")[0] for o in offered if o.split(" · ")[0] in changed]
    assert candidates, f"no account changed by another person among those offered: {offered}"
    account = candidates[0]
    picker.select_option(next(o for o in offered if o.startswith(account + " ")))
    inspector = explore.cell("inspector")
    expect(inspector.get_by_text(re.compile(rf"{account}: \d+ session\(s\) bound to it"))).to_be_visible()
    with open_case(tiny_db) as case:
        expected = AccountInspector(review_exposure(case).exposure)
    expected.select(account)
    assert expected.changes.height > 0
    summary = inspector.get_by_text(re.compile(rf"{account}: ")).inner_text()
    assert f"{expected.sessions.height} session(s) bound to it, {expected.changes.height} change(s)" in summary
    tables = {t.locator("caption").inner_text(): t for t in inspector.locator("table.wb-table").all()}
    sessions = [r.split("\t")[0] for r in tables["Sessions that rendered it"].locator("tbody tr").all_inner_texts()]
    assert sessions == expected.sessions["session_id"].to_list()
    changes = tables["Changes, before and after"].locator("tbody tr")
    assert changes.count() == expected.changes.height
    assert explore.kernel_json("inspector.value") == account
    explore.screenshot("account-from-timeline", inspector)


def test_the_timeline_opens_on_the_incident_events_and_shows_logins_on_one_click(explore):
    expect = _expect()
    timeline = explore.cell("timeline")
    state = explore.kernel_json(
        '{"kinds": list(timeline.kinds), "all": list(timeline._w_kinds.options), '
        '"start": timeline.range[0].isoformat(), "end": timeline.range[1].isoformat()}'
    )
    assert state["kinds"] == [k for k in state["all"] if k != "login"] and "login" in state["all"]
    checked = timeline.locator("select[multiple] option:checked").evaluate_all("os => os.map(o => o.value)")
    assert checked == state["kinds"]  # values: the shown text has non-breaking spaces
    first, last = (_label(datetime.fromisoformat(state[k])) for k in ("start", "end"))
    expect(timeline.locator(".wb-timeline-range")).to_have_text(
        f"{first} – {last}"
    )  # in full, not "Thu 12 Dec 23:00-Mon"
    assert timeline.evaluate(CUT_TEXT) == []
    shown = _assert_timeline_matches_kernel(explore)
    assert "login" not in shown["kinds"] and "mismatched session" in shown["kinds"]
    expect(timeline.get_by_text("Not shown: login")).to_be_visible()
    explore.screenshot("explore-timeline-opens-on-the-incident", timeline, clip=True)
    before = timeline.get_by_text(SUMMARY).inner_text()
    timeline.locator("button.wb-timeline-all").click()
    _wait_for_summary_change(explore, before)
    assert explore.kernel_json("list(timeline.kinds)") == state["all"]
    everything = explore.kernel_json(
        'int(((events["time"] >= timeline.range[0]) & (events["time"] < timeline.range[1])).sum())'
    )
    assert _assert_timeline_matches_kernel(explore)["n"] == everything > shown["n"]
    expect(timeline.locator("button.wb-timeline-all")).to_be_disabled()


def test_query_browser_sorts_the_result_by_a_column(explore):
    expect = _expect()
    qb = explore.cell(BROWSER_CELL).locator(".wb-query-browser")
    qb.locator(".wb-qb-search input").fill("rebuilt")
    qb.locator(".wb-qb-list select").select_option("sessions")
    explore.wait_idle()
    qb.locator("button.wb-qb-run").click()
    expect(qb.locator(".wb-qb-page")).to_contain_text("Rows 1–25 of")
    qb.locator(".wb-qb-sort select").select_option("n_requests")
    explore.wait_idle()
    qb.get_by_role("button", name="Descending").click()
    explore.wait_idle()
    state = explore.kernel_json(
        '{"by": browser.sort_by, "descending": browser.descending, '
        '"ids": browser.page_rows["session_id"].to_list(), '
        '"n": browser.result["n_requests"].to_list()}'
    )
    assert state["by"] == "n_requests" and state["descending"]
    assert state["n"] == sorted(state["n"], reverse=True) and state["n"][0] > state["n"][-1]
    expect(qb.locator(".wb-qb-table tbody tr").first).to_contain_text(state["ids"][0])
    assert [r.split("\t")[0] for r in qb.locator(".wb-qb-table tbody tr").all_inner_texts()] == state["ids"]
    assert qb.evaluate(CUT_TEXT) == []
    explore.screenshot("query-browser-sorted", qb.locator(".wb-qb-sort"), clip=False)


def test_allocations_list_unexplained_first_and_the_search_box_narrows_them(explore):
    expect = _expect()
    # The caseworker with the most unexplained departures, chosen as a person would, in the dashboard.
    handler = explore.kernel_json(
        '(lambda a: int(a.filter(a["outcome"] == "unexplained")["handler_id"].mode().sort()[0]))'
        "(review.replay.allocations)"
    )
    explore.cell_starting("review = ").locator(".widget-dropdown select").first.select_option(str(handler))
    explore.wait_idle()
    assert explore.kernel_json("dashboard.value") == handler
    cell = explore.cell_starting("applicant = ")
    state = explore.kernel_json(
        '{"ids": [str(i) for i in dashboard.allocations["listing_id"]], '
        '"outcomes": dashboard.allocations["outcome"].to_list(), '
        '"district": dashboard.allocations["district"].mode().sort()[0]}'
    )
    rank = {"unexplained": 0, "explained": 1, "in_order": 2}
    assert [rank[o] for o in state["outcomes"]] == sorted(rank[o] for o in state["outcomes"])
    assert state["outcomes"][0] == "unexplained" and state["outcomes"][-1] != "unexplained"

    def options() -> list[str]:
        return [
            v for v in cell.locator(".wb-link-allocation select option").evaluate_all("os => os.map(o => o.value)") if v
        ]

    def listed() -> list[str]:
        return [re.match(r"listing (\d+) · ", o).group(1) for o in options()]

    assert listed() == state["ids"] == [str(i) for i in explore.kernel_json("applicant.options")]
    typed = state["district"][:4].lower()
    cell.locator(".wb-link-allocation-find input").fill(typed)
    expect(cell.locator(".wb-link-allocation-count")).to_contain_text(f"match “{typed}”")
    explore.wait_idle()
    found = [str(i) for i in explore.kernel_json("applicant.options")]
    districts = explore.kernel_json(
        'dict(zip(dashboard.allocations["listing_id"].cast(str), dashboard.allocations["district"]))'
    )
    assert found == [i for i in state["ids"] if typed in districts[i].lower()] and 0 < len(found) < len(state["ids"])
    assert listed() == found
    cell.locator(".wb-link-allocation select").select_option(max(options(), key=len))  # the longest shows whole
    expect(cell.locator(".wb-link-applicant")).to_contain_text("went to applicant")
    assert cell.evaluate(CUT_TEXT) == []
    explore.screenshot("allocation-search", cell)


def test_no_label_or_readout_is_cut(explore):
    for cell in (
        explore.cell(BROWSER_CELL),
        explore.cell("timeline"),
        explore.cell_starting("exposure = "),
        explore.cell("inspector"),
        explore.cell_starting("review = "),
        explore.cell_starting("applicant = "),
    ):
        assert cell.evaluate(CUT_TEXT) == [], cell.inner_text()[:200]
    expect = _expect()
    expect(explore.cell("inspector").locator(".widget-label", has_text="Customer no.")).to_be_visible()


NB01 = NOTEBOOKS / "01_incident_reconstruction.ipynb"


def test_notebook_01_renders_its_charts_in_lab_offline(browser, lab, tiny_db):  # noqa: F811
    name = parameterized_copy(NB01, lab.root, {"case_url": tiny_db, "out_dir": str(lab.root / "nb01-out")})
    page = LabPage(browser, lab, name, workspace="incident")
    try:
        page.run_all()
        charts = page.charts(at_least=3)
        page.screenshot("notebook-01", page.cell_at(charts[0]["cell"]) if charts else None)
        assert page.error_outputs() == []
        assert len(charts) >= 3, f"notebook 01 shows {len(charts)} charts: {charts}"
        assert [c for c in charts if not c["drawn"]] == [], "charts that did not draw"
        assert page.page.get_by_text(ERROR_TEXT).count() == 0
        assert page.blocked == [], f"requests tried to leave the machine: {page.blocked}"
        assert page.errors == []
    finally:
        page.close()
