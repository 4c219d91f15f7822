"""Charts of a public breakdown mark every hidden cell visibly and never drop it (docs/disclosure.md)."""

from __future__ import annotations

import json

import polars as pl

from workbench.suppression import HIDDEN, small_marker
from workbench.widgets.charts import hidden_cells
from workbench.widgets.fairness_charts import queue_time_chart, red_flag_timeline_chart


def _datasets(chart) -> list[list[dict]]:
    return list(chart.to_dict()["datasets"].values())


def test_hidden_cells_are_ranges_with_their_label():
    frame = pl.DataFrame({"month": ["2013-01", "2013-02", "2013-03"], "n": ["12", "1–4", HIDDEN]})
    rows = hidden_cells(frame, "n")
    assert rows.select("month", "shown_as", "low", "high").rows() == [
        ("2013-02", "1–4", 1, 4),
        ("2013-03", HIDDEN, 5, 5),
    ]
    assert hidden_cells(pl.DataFrame({"month": ["x"], "n": [3]}), "n").height == 0  # exact counts: nothing hidden


def test_public_red_flag_bars_draw_a_hidden_cell_as_an_outlined_bar_labelled_one_to_four():
    flags = pl.DataFrame(
        {"month": ["2013-01", "2013-02"], "flag": ["off-hours", "off-hours"], "n": ["9", small_marker()]}
    )
    spec = red_flag_timeline_chart(flags).to_dict()
    marks = json.dumps(spec)
    assert '"strokeDash"' in marks and '"fillOpacity": 0' in marks
    labelled = [row for data in _datasets(red_flag_timeline_chart(flags)) for row in data if row.get("shown_as")]
    assert labelled == [{"month": "2013-02", "flag": "off-hours", "shown_as": "1–4", "low": 1, "high": 4}]


def test_public_queue_time_map_outlines_the_cells_whose_median_is_blank():
    frame = pl.DataFrame(
        {
            "district": ["Farsta", "Farsta", "Kista"],
            "year": [2013, 2014, 2013],
            "n": ["30", "1–4", HIDDEN],
            "median_queue_years": [8.5, None, None],
        }
    )
    rows = [row for data in _datasets(queue_time_chart(frame)) for row in data]
    labels = sorted(row["shown_as"] for row in rows if "shown_as" in row)
    assert labels == ["1–4", HIDDEN]  # both hidden cells drawn, neither dropped
    assert all("median_queue_years" not in row for row in rows if "shown_as" in row)
