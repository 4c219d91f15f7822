"""A small report page rendered through the real offline template, without running a kernel.

The notebook is written with its outputs already in it: headings, a long table of the
workbench's own :class:`~workbench.display.Table`, a wide table and a chart. The page tests
(tests/test_report_reading.py) and the browser tests (tests/browser/) read it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import polars as pl

DISTRICTS = ["Bromma", "Farsta", "Kista", "Skärholmen", "Södermalm", "Vällingby"]


def long_frame(rows: int = 30) -> pl.DataFrame:
    """``rows`` rows in no order: an id, a district, a count and a share."""
    return pl.DataFrame(
        {
            "listing_id": [1_000_000 + (i * 7919) % 997 for i in range(rows)],
            "district": [DISTRICTS[(i * 5) % len(DISTRICTS)] for i in range(rows)],
            "n_offers": [(i * 37) % 101 for i in range(rows)],
            "share_in_order": [((i * 13) % 20) / 20 for i in range(rows)],
        }
    )


def wide_frame() -> pl.DataFrame:
    """One row of 14 long text columns: far wider than a printed page."""
    return pl.DataFrame({f"column_with_a_long_name_{i}": ["a long value that takes room " * 2] for i in range(14)})


def chart_output() -> dict:
    """The display output of a small time chart, as the export renderer writes it."""
    import altair as alt

    from workbench.widgets.charts import EXPORT_RENDERER, time_title

    frame = pl.DataFrame({"hour": [f"2013-12-13T{h:02d}:00:00" for h in range(6)], "n": [3, 5, 8, 2, 0, 4]})
    chart = alt.Chart(frame).mark_line().encode(x=alt.X("hour:T", title=time_title()), y="n:Q")
    with alt.renderers.enable(EXPORT_RENDERER):
        bundle = alt.renderers.get()(chart.to_dict())
    return nbformat.v4.new_output("display_data", data={"text/html": bundle["text/html"]})


def write_page(folder: Path, audience: str = "public") -> Path:
    """Render the page into ``folder``; returns the HTML file."""
    from workbench.display import Table
    from workbench.reportset.build import render_html

    html_out = nbformat.v4.new_output
    cells = [
        nbformat.v4.new_markdown_cell("# A test report\n\nIntroduction."),
        nbformat.v4.new_markdown_cell("## Offers by listing"),
        nbformat.v4.new_code_cell(
            "show(...)",
            outputs=[html_out("display_data", data={"text/html": Table(long_frame(), caption="Offers")._repr_html_()})],
        ),
        nbformat.v4.new_markdown_cell("## A wide table\n\n### Its columns"),
        nbformat.v4.new_code_cell(
            "show(...)", outputs=[html_out("display_data", data={"text/html": Table(wide_frame())._repr_html_()})]
        ),
        nbformat.v4.new_markdown_cell("## Hour by hour"),
        nbformat.v4.new_code_cell("chart", outputs=[chart_output()]),
    ]
    notebook = folder / "page.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    provenance = '<section id="provenance" class="wb-provenance"><h2>Provenance</h2><p>hashes</p></section>'
    return render_html(notebook, folder / "page.html", audience=audience, provenance=provenance)
