"""Executing notebooks with papermill and rendering them to offline HTML."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from workbench.errors import WorkbenchError
from workbench.reportset.build import external_references, render_html
from workbench.reportset.execution import NotebookError, execute

DATA = Path(__file__).parent / "data" / "notebooks"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("exec") / "two_charts.ipynb"
    return execute(DATA / "two_charts.ipynb", out, {"limit": 4, "share": 0.25, "audience": "public"})


def test_parameters_reach_the_notebook(executed):
    nb = nbformat.read(executed, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "limit = 4" in injected[0].source


def test_unknown_parameter_lists_the_declared_ones(tmp_path):
    with pytest.raises(
        NotebookError,
        match=r"does not declare parameter\(s\) \['limt'\]; it declares: case_url \(str\), audience \(str\), out_dir \(str\), limit \(int\), share \(float\)",
    ):
        execute(DATA / "two_charts.ipynb", tmp_path / "x.ipynb", {"limt": 4})
    assert not (tmp_path / "x.ipynb").exists()


def test_wrong_type_is_an_error(tmp_path):
    with pytest.raises(NotebookError, match=r"parameter limit must be a whole number \(default 3\), got text 'four'"):
        execute(DATA / "two_charts.ipynb", tmp_path / "x.ipynb", {"limit": "four"})


def test_failure_names_the_cell_and_keeps_the_notebook(tmp_path):
    out = tmp_path / "broken1.ipynb"
    with pytest.raises(
        NotebookError,
        match=r"broken1.ipynb failed in cell 3 with ValueError: broken on purpose, limit=3\. The executed notebook is kept",
    ):
        execute(DATA / "broken1.ipynb", out, {})
    kept = nbformat.read(out, as_version=4)
    assert kept.metadata.papermill.exception is True


@pytest.mark.parametrize("audience, code_shown", [("investigator", True), ("auditor", False), ("public", False)])
def test_rendered_html_is_offline_and_hides_code_except_for_investigators(executed, tmp_path, audience, code_shown):
    html = render_html(executed, tmp_path / "r.html", audience=audience).read_text()
    assert external_references(html) == []
    assert html.count("window.vegaEmbed=") == 1  # the bundle is inlined once, not per chart
    assert html.count('<div id="altair-viz-') == 2
    assert ('class="jp-CodeMirrorEditor' in html) is code_shown
    assert "SECRET-CODE-MARKER" in html  # the output is shown to everyone


def test_unknown_audience_is_refused(executed, tmp_path):
    with pytest.raises(WorkbenchError, match=r"unknown audience 'press'\. Known: auditor, investigator, public\."):
        render_html(executed, tmp_path / "r.html", audience="press")


def test_external_reference_scanner_finds_loads_not_links():
    page = (
        '<link rel="stylesheet" href="https://cdn.example/x.css"><a href="https://example.org">read</a>'
        '<img src="data:image/png;base64,AAAA"><img src="logo.png">'
        "<style>@import url('//cdn.example/y.css'); .a { background: url(https://cdn.example/z.png) }</style>"
        '<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>'
        "<script>const s = '<img src=\"https://not-markup.example\">';</script>"
    )
    assert external_references(page) == [
        "https://cdn.example/x.css",
        "logo.png",
        "//cdn.example/y.css",
        "https://cdn.example/z.png",
        "https://cdn.jsdelivr.net/npm/vega@6",
    ]


def test_one_chart_setup_serves_live_lab_and_report_runs(monkeypatch):
    import altair as alt

    from workbench.widgets.charts import EXPORT_RENDERER, LIVE_RENDERER, active_context, setup

    before = alt.renderers.active
    try:
        monkeypatch.delenv("WORKBENCH_RUN", raising=False)
        monkeypatch.setenv("JPY_SESSION_NAME", "/lab/10_explore.ipynb")  # a kernel JupyterLab started
        assert setup() is None  # a cell ending with setup() shows nothing
        assert active_context() == "live" and alt.renderers.active == LIVE_RENDERER  # offline JupyterChart (anywidget)
        monkeypatch.setenv("WORKBENCH_RUN", "papermill")  # what workbench.reportset.execution sets for the kernel
        setup()
        assert (
            active_context() == "export" and alt.renderers.active == EXPORT_RENDERER
        )  # Altair's "html", safely serialised
        monkeypatch.delenv("WORKBENCH_RUN")
        monkeypatch.delenv("JPY_SESSION_NAME")  # plain papermill or nbconvert: nobody to interact with
        setup()
        assert active_context() == "export"
        with pytest.raises(WorkbenchError, match=r"chart context 'pdf' is not one of: live, export"):
            setup("pdf")
    finally:
        alt.renderers.enable(before)


def test_a_report_over_the_size_limit_is_refused(executed, tmp_path, monkeypatch):
    import workbench.reportset.render

    monkeypatch.setattr(workbench.reportset.render, "MAX_REPORT_BYTES", 1000)
    with pytest.raises(
        WorkbenchError,
        match=r"r.html is \d\.\d MB, over the 0 MB limit for a report; the biggest outputs: cell \d+ \(text/html",
    ):
        render_html(executed, tmp_path / "r.html", audience="public")
