"""No evidence value runs or injects markup in a report, hides or reorders text, or stops a report set.

Fast tests first: the inline-JSON serialiser, the chart renderer, tables, prose and the page
scan of ``workbench verify``, on hand-written hostile values. Then the whole chain: the tiny
case with a payload in every free text column (tests/hostile.py) and 1 MB values, a report
set for every audience, and every page opened in headless Chromium with dialogs, console
errors and requests recorded. With CI=true the browser test fails instead of skipping when
Chromium or playwright is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import altair as alt
import polars as pl
import pytest
from hostile import (
    BIG_CHARS,
    FORMULA_START,
    FORMULAS,
    INVISIBLE,
    PAYLOADS,
    big_value,
    lead_with_formulas,
    poison,
    text_columns,
)
from reportkit import CELL_TIMEOUT, pseudonym_key

from workbench.display import Table, show, table as show_table
from workbench.findings import Findings
from workbench.markup import MAX_TEXT_CHARS, inline_json, markdown_text, visible
from workbench.reportset.pagescan import foreign_markup
from workbench.settings import OUT_DIR_ENV
from workbench.widgets.charts import _export_renderer, shown_spec

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "hostile"
LOCAL = ("file:", "data:", "blob:", "about:")


# --- the serialiser and the chart renderer ---------------------------------------------------


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_inline_json_keeps_the_value_and_cannot_end_a_script(name):
    value = {"district": PAYLOADS[name], PAYLOADS[name]: [PAYLOADS[name], "\u2028\u2029", "<!--", 1.5, None]}
    text = inline_json(value)
    assert json.loads(text) == value
    assert not set(text) & set("<>&\u2028\u2029"), text


def test_inline_json_escapes_only_inside_strings():
    assert inline_json({"a": "</script>", "b": [1, 2]}) == '{"a": "\\u003c/script\\u003e", "b": [1, 2]}'


def _chart_html(values: list[str]) -> str:
    chart = alt.Chart(pl.DataFrame({"district": values, "n": list(range(len(values)))})).mark_bar()
    chart = chart.encode(x="district:N", y="n:Q", tooltip=["district:N"])
    return _export_renderer(chart.to_dict())["text/html"]


def test_chart_data_cannot_break_out_of_its_script():
    """Finding 1 of issue 14: a district ending the inline chart script ran in every audience's copy."""
    html = _chart_html([f"Bromma{p}" for p in PAYLOADS.values()])
    assert foreign_markup(html) == []
    assert "</script>" not in html.split('<script type="text/javascript">', 1)[1].rsplit("</script>", 1)[0]
    for payload in PAYLOADS.values():
        assert f"Bromma{payload}" not in html or not set(payload) & set("<>&"), payload
    # Altair's own renderer, for contrast: the same data ends the script early.
    chart = alt.Chart(pl.DataFrame({"district": ["Bromma</script><script>alert(1)</script>"]})).mark_bar()
    before = alt.renderers.active
    alt.renderers.enable("html")
    try:
        plain = alt.renderers.get()(chart.encode(x="district:N").to_dict())["text/html"]
    finally:
        alt.renderers.enable(before)
    assert len(foreign_markup(plain)) == 2  # the chart script cut short, and the injected one


def test_live_charts_are_offline_widgets_of_the_shown_spec():
    from workbench.widgets.charts import _live_renderer

    chart = alt.Chart(pl.DataFrame({"district": ["Bromma\u202e</script>"]})).mark_bar().encode(x="district:N")
    data, _ = _live_renderer(chart.to_dict())  # as Altair's "jupyter" renderer: (data, metadata)
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "text/html" not in data  # nothing inlined into a page: the spec travels to the widget as data


def test_chart_labels_show_invisible_characters_and_cut_long_values():
    long = "x" * (MAX_TEXT_CHARS + 50)
    spec = shown_spec(
        {"datasets": {"d": [{"district\u202e": "Bromma\u202egnp.exe", "note": long}]}, "title": "T\u200bx"}
    )
    row = spec["datasets"]["d"][0]
    assert row == {"district⟦U+202E⟧": "Bromma⟦U+202E⟧gnp.exe", "note": row["note"]}
    assert row["note"].startswith("x" * MAX_TEXT_CHARS + "… [cut:") and len(row["note"]) < MAX_TEXT_CHARS + 50
    assert spec["title"] == "T⟦U+200B⟧x"  # names and expressions get the same markers as the data they match


# --- tables and prose ----------------------------------------------------------------------------


def test_visible_marks_every_bidirectional_and_zero_width_character():
    text = "a" + "b".join(sorted(INVISIBLE)) + "c"
    shown = visible(text)
    assert not set(shown) & INVISIBLE
    assert shown.count("⟦U+") == len(INVISIBLE) and "⟦U+202E⟧" in shown and "⟦U+FEFF⟧" in shown


# Found from outside: five districts a browser drew as the same "Södermalm" (soft hyphen, tag
# characters spelling HIDDEN, U+180E, U+2064), and the Hangul filler drawn as a blank.
HIDERS = "\u00ad\u034f\u115f\u180e\u2061\u2062\u2063\u2064\u3164\ufe0f\uffa0\U000e0048\U000e0100\U0001d173\ufff9"


def test_visible_marks_every_character_a_renderer_draws_as_nothing():
    import unicodedata

    from workbench.markup import INVISIBLE as MARKED

    for char in HIDERS:
        assert visible(f"Söder{char}malm") == f"Söder⟦U+{ord(char):04X}⟧malm"
    # every format character the running Python knows, whatever Unicode version it has
    unmarked = [f"U+{c:04X}" for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and chr(c) not in MARKED]
    assert not unmarked
    plain = "Södermalm Åsa Öberg \u00a0384\u202f000 ❤ 👍🏽 日本"
    assert visible(plain) == plain  # letters, no-break spaces, emoji and skin tones stay as written


def test_a_value_written_decomposed_does_not_look_like_its_composed_twin():
    # Found from outside: 'So\u0308dermalm' (NFD) and 'Södermalm' were two groups drawn alike.
    assert visible("So\u0308dermalm") == "So⟦U+0308⟧dermalm" and visible("Södermalm") == "Södermalm"
    for composed in ("Tiếng Việt", "क्षि", "Åsa Öberg", "ñandú"):  # marks that compose no further stay
        assert visible(composed) == composed


def test_table_escapes_markup_and_shows_invisible_characters():
    frame = pl.DataFrame({"name\u202e<b>": list(PAYLOADS.values())})
    html = Table(frame, caption="<i>caption\u2066</i>")._repr_html_()
    for payload in PAYLOADS.values():
        if "<" in payload:
            assert payload not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "⟦U+202E⟧gnp.exe⟦U+202C⟧" in html and "name⟦U+202E⟧&lt;b&gt;" in html and "&lt;i&gt;caption⟦U+2066⟧" in html
    assert not set(html) & INVISIBLE
    assert foreign_markup(html) == []


def test_long_text_is_cut_and_written_whole_to_a_csv(tmp_path, monkeypatch):
    """Finding 7 of issue 14: 1 MB messages made a report too big to render; now they are cut, and kept in a CSV."""
    monkeypatch.setenv(OUT_DIR_ENV, str(tmp_path))
    body = "Hej, jag såg någon annans sida. " + big_value()
    frame = pl.DataFrame({"message_id": ["<a@b>", "<c@d>"], "body": [body, "kort"]})
    assert Table(frame, caption="Messages").csv is None  # a widget's table: not in the report, no CSV
    table = show_table(frame, caption="Messages")
    html = table._repr_html_()
    assert len(html) < 5 * MAX_TEXT_CHARS + 2_000
    assert f"… [cut: {len(body):,} characters in all]".replace(",", "\u202f") in html
    assert "1 text over 1\u202f000 characters cut here." in html and ">all 2 rows, full text (CSV)</a>" in html
    assert table.csv and f'<a class="wb-csv" href="{table.csv}">' in html
    assert pl.read_csv(tmp_path / table.csv)["body"].to_list() == [body, "kort"]


def test_public_tables_cut_long_text_without_a_csv(tmp_path, monkeypatch):
    monkeypatch.setenv(OUT_DIR_ENV, str(tmp_path))
    frame = pl.DataFrame({"description": ["x" * (MAX_TEXT_CHARS + 1)]})
    html = show(frame, "public", columns={"description": "none"})._repr_html_()
    assert "1 text over 1\u202f000 characters cut here." in html
    assert not (tmp_path / "tables").exists()


def test_prose_shows_recorded_text_as_text(tmp_path):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    findings = Findings(tmp_path)
    findings.record("who", "".join(PAYLOADS.values()), "Who wrote")
    body = findings.text("Written by **{who}**.", markdown=True)
    rendered = markdown2html_mistune(body)
    assert rendered.startswith("<p>Written by <strong>") and "</strong>.</p>" in rendered
    assert foreign_markup(rendered) == []
    for tag in ("<img", "<base", "<style", "<iframe", "<meta", "<svg", "<a ", "<script"):
        assert tag not in rendered, tag
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered and "[x](javascript:alert(1))" in rendered
    assert findings.text("{who}") == "".join(PAYLOADS.values())  # plain text is left as recorded


def test_markdown_text_flattens_lines():
    assert markdown_text("# Rubrik\n- punkt *x*") == "# Rubrik - punkt \\*x\\*"


# --- the page scan of workbench verify -------------------------------------------------------------


def test_page_scan_accepts_what_the_workbench_writes_and_names_the_rest():
    chart = _chart_html(["Bromma", "Farsta"])
    page = (
        '<html><head><meta charset="utf-8"><script>window.VEGA_DEBUG = {"vega_version": "6"};</script>'
        f"<script>/* the Vega bundle */</script></head><body>{chart}<p>text</p></body></html>"
    )
    assert foreign_markup(page) == []
    bad = {
        '<base href="http://attacker.invalid/">': "a <base> element",
        "<script>alert(1)</script>": "a <script> the workbench did not write",
        '<iframe src="x"></iframe>': "a <iframe> element",
        '<object data="x"></object>': "a <object> element",
        '<embed src="x">': "a <embed> element",
        '<meta http-equiv="refresh" content="0;url=http://attacker.invalid/">': "a <meta http-equiv> element",
        "<img src=x onerror=alert(1)>": "an event attribute onerror on <img>",
        '<a href=" JavaScript:alert(1)">x</a>': "a javascript: URL in href of <a>",
    }
    for markup, what in bad.items():
        found = foreign_markup(page.replace("<p>text</p>", markup))
        assert len(found) == 1 and what in found[0], (markup, found)
    # a chart script cut short by a value that ends it, and the script that follows
    broken = page.replace('"Bromma"', '"Bromma</script><script>alert(1)</script>"')
    assert len(foreign_markup(broken)) == 2


def test_page_scan_accepts_the_table_script_only_as_written():
    from workbench.reportset.pageparts import table_script

    head = '<html><head><script>window.VEGA_DEBUG = {"vega_version": "6"};</script><script>/* Vega */</script>'
    page = head + f"<script>{table_script()}</script></head><body><p>text</p></body></html>"
    assert foreign_markup(page) == []
    altered = page.replace("r.hidden = ", "fetch('http://attacker.invalid/'); r.hidden = ")
    [found] = foreign_markup(altered)
    assert "a <script> the workbench did not write" in found
    fourth = page.replace("</head>", "<script>/* more */</script></head>")
    assert len(foreign_markup(fourth)) == 1


def test_verify_names_foreign_markup(tmp_path):
    from workbench.reportset.verification import Verification, _check_markup

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "a.html").write_text('<html><head></head><body><base href="http://x.invalid/"></body></html>')
    (tmp_path / "index.html").write_text("<html><body><p>ok</p></body></html>")
    result = Verification()
    _check_markup(tmp_path, ["a/a.html", "index.html"], result)
    assert result.differences == ["markup the workbench does not write in a/a.html, line 1: a <base> element"]


# --- the whole chain, in a browser -----------------------------------------------------------------


def test_payloads_reach_every_free_text_column(tmp_path, tiny_case):
    """The helper itself: every free text column of the format gets payloads, and the evidence still loads whole."""
    from workbench.ingest import ingest

    evidence = tmp_path / "evidence"
    shutil.copytree(tiny_case.evidence_dir, evidence)
    changed = poison(evidence, big_rows=0)
    columns = text_columns()
    assert {f"{t}.{c}" for t, cols in columns.items() for c, _ in cols} == set(changed)
    assert ("district", 60) in columns["listings"] and ("body", None) in columns["support_messages"]
    assert "status" not in {c for c, _ in columns["applicants"]}  # enumerations: any other value is refused
    districts = pl.read_parquet(evidence / "listings.parquet")["district"].to_list()
    assert {next(p for p in PAYLOADS.values() if d.endswith(p)) for d in districts} >= {
        PAYLOADS["script"],
        PAYLOADS["img"],
        PAYLOADS["base"],
    }
    report = ingest(evidence, f"sqlite:///{tmp_path / 'case.db'}", progress=False)
    assert sum(f.rows_quarantined for f in report.files) == 0


def _browser_or_skip() -> str:
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "Python playwright is not installed: pip install -e '.[test]' (never `playwright install`)"
    try:
        from workbench.reportset.pdf import find_chromium

        chromium = find_chromium()
    except Exception as exc:  # WorkbenchError naming the install command
        missing = missing or str(exc)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, and the hostile-evidence browser test cannot run: {missing}")
        pytest.skip(f"the hostile-evidence browser test needs Chromium and playwright: {missing}")
    return chromium


LEAD_COLUMNS = (
    "applicants.name",
    "applicants.email",
    "applicants.employer",
    "listings.district",
    "support_messages.subject",
)


@pytest.fixture(scope="module")
def hostile_sets(tiny_case, tmp_path_factory):
    """The tiny case with a payload in every free text column and 1 MB values, rendered for every audience."""
    from workbench.ingest import ingest
    from workbench.reportset.build import AUDIENCES, build_report

    _browser_or_skip()  # nothing to look at without a browser: do not spend the minute rendering
    root = tmp_path_factory.mktemp("hostile")
    evidence = root / "evidence"
    shutil.copytree(tiny_case.evidence_dir, evidence)
    by_others = pl.read_parquet(tiny_case.root / "truth" / "unauthorized_changes.parquet")["change_id"].head(2)
    # 1 MB in one value of every unbounded column; the changes made by others are shown to investigators.
    poison(evidence, big={"profile_changes.new_value": pl.col("change_id").is_in(by_others.to_list())})
    # Formulas lead the values that reach readers' CSVs: names and e-mails (person lists), employers,
    # districts and message subjects (long tables).
    lead_with_formulas(evidence, LEAD_COLUMNS)
    url = f"sqlite:///{root / 'case.db'}"
    ingest(evidence, url, progress=False)
    with pseudonym_key():  # one run of each notebook renders every audience's set: root/<audience>/
        build_report(url, AUDIENCES, root / "sets", workers=2, cell_timeout=CELL_TIMEOUT)
    return url, {audience: root / "sets" / audience for audience in AUDIENCES}


_INJECTED = """() => ({
    base: document.querySelectorAll('base').length,
    frames: document.querySelectorAll('iframe, frame, object, embed, meta[http-equiv]').length,
    handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    jsLinks: [...document.querySelectorAll('[href], [src]')].filter(
        e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length,
    scripts: document.scripts.length,
    bodyShown: getComputedStyle(document.body).display !== 'none' && document.body.getBoundingClientRect().height > 100,
    text: document.body.innerText,
    charts: document.querySelectorAll('div[id^="altair-viz-"]').length,
    drawn: [...document.querySelectorAll('div[id^="altair-viz-"]')].filter(d => d.querySelector('svg, canvas')).length,
})"""
_CHARTS_DRAWN = """() => [...document.querySelectorAll('div[id^="altair-viz-"]')]
    .every(d => [...d.querySelectorAll('svg, canvas')].some(e => e.getBoundingClientRect().width > 0))"""


def _open(browser, path: Path, name: str) -> tuple[list[str], list[str], list[str], dict]:
    """Open ``path`` with every non-local request blocked; its dialogs, console errors, requests and :data:`_INJECTED`."""
    dialogs: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    try:  # every chart draws: the markers and cuts in its data leave the spec valid
        page.wait_for_function(_CHARTS_DRAWN, timeout=20_000)
    except Exception:  # playwright's TimeoutError: the caller's assert says which page
        pass
    seen = page.evaluate(_INJECTED)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    context.close()
    return dialogs, errors, requests, seen


@pytest.mark.browser
def test_no_payload_runs_or_injects_in_any_page_for_any_audience(hostile_sets):
    from playwright.sync_api import sync_playwright

    from workbench.reportset.build import MAX_REPORT_BYTES
    from workbench.reportset.pdf import CHROMIUM_FLAGS
    from workbench.reportset.verification import verify

    chromium = _browser_or_skip()
    url, sets = hostile_sets
    cut_shown = charts = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        for audience, root in sets.items():
            record = json.loads((root / "report-set.json").read_text())
            pages = [r["html"] for r in record["reports"]] + ["index.html"]
            assert len(pages) == 5
            for page_path in pages:
                source = (root / page_path).read_text(encoding="utf-8")
                assert len(source.encode()) < MAX_REPORT_BYTES / 4, f"{audience} {page_path} is {len(source):,} bytes"
                assert foreign_markup(source) == [], f"{audience} {page_path}"
                cut_shown += source.count('class="wb-cut"')
                dialogs, errors, requests, seen = _open(browser, root / page_path, f"{audience}-{Path(page_path).stem}")
                where = f"{audience} {page_path}"
                assert dialogs == [], f"{where}: dialogs {dialogs}"
                assert errors == [], f"{where}: console errors {errors}"
                assert requests == [], f"{where}: requests {requests}"
                assert seen["base"] == seen["frames"] == seen["handlers"] == seen["jsLinks"] == 0, (
                    where,
                    {k: v for k, v in seen.items() if k != "text"},
                )
                assert seen["bodyShown"], f"{where}: the page body is hidden"
                assert seen["drawn"] == seen["charts"] == source.count('<div id="altair-viz-'), where
                charts += seen["charts"]
                assert not set(seen["text"]) & INVISIBLE, (
                    f"{where} shows an unmarked bidirectional or zero-width character"
                )
            assert verify(root, url).ok, audience  # the page scan of verify passes what the workbench wrote
        browser.close()
    assert cut_shown >= 2, "no 1 MB value reached a table: the size part of this test would prove nothing"
    assert charts >= 20  # the district of finding 1 is charted in 03, for every audience


@pytest.mark.browser
def test_long_values_are_cut_in_the_page_and_whole_in_a_csv(hostile_sets):
    _, sets = hostile_sets
    root = sets["investigator"]
    page = (root / "02_exposure_and_changes" / "02_exposure_and_changes.html").read_text(encoding="utf-8")
    assert "over 1\u202f000 characters cut here" in page
    csvs = list((root / "02_exposure_and_changes" / "tables").glob("*.csv"))
    longest = max(
        (
            pl.read_csv(f, infer_schema=False).select(pl.all().str.len_chars().max()).max_horizontal().item()
            for f in csvs
        ),
        default=0,
    )
    assert longest > BIG_CHARS


@pytest.mark.browser
def test_verify_flags_a_base_element_added_to_a_page(hostile_sets, tmp_path):
    from workbench.reportset.verification import verify

    url, sets = hostile_sets
    copy = tmp_path / "set"
    shutil.copytree(sets["auditor"], copy)
    page = copy / "03_queue_fairness" / "03_queue_fairness.html"
    banner = '<div class="workbench-audience">'
    page.write_text(page.read_text().replace(banner, f'<base href="http://attacker.invalid/">{banner}', 1))
    result = verify(copy, url)
    assert any("03_queue_fairness.html, line" in d and "a <base> element" in d for d in result.differences)


@pytest.mark.browser
def test_no_csv_cell_of_any_set_starts_a_formula(hostile_sets):
    """Every CSV a reader gets, in every audience's set, read as a spreadsheet reads it."""
    import csv
    import sys

    csv.field_size_limit(sys.maxsize)  # the 1 MB values are written whole to the CSVs
    _, sets = hostile_sets
    neutralised = files = 0
    for audience, root in sets.items():
        for path in sorted(root.rglob("*.csv")):
            files += 1
            with path.open(encoding="utf-8", newline="") as handle:
                for line, row in enumerate(csv.reader(handle), start=1):
                    for cell in row:
                        where = f"{audience} {path.relative_to(root)} line {line}: {cell[:40]!r}"
                        if cell.startswith(FORMULA_START):
                            float(cell)  # only a real number may start with + or -: else ValueError names it
                            assert not cell.startswith(("=", "@", "\t", "\r")), where
                        neutralised += any(cell.startswith("'" + f.strip()) for f in FORMULAS)
    assert files >= 3, "too few CSVs to prove anything"
    assert neutralised >= 10, "no formula reached a CSV: this test would prove nothing"
