"""Charts of a public breakdown mark every hidden cell visibly and never drop it (docs/disclosure.md)."""

from __future__ import annotations

import json
import re

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


_PATH = re.compile(
    r'<path aria-label="([^"]*)"[^>]*aria-roledescription="bar" d="M([\d.]+),([\d.]+)h([\d.]+)v(-?[\d.]+)'
)
_LABEL = re.compile(r'<text aria-label="[^"]*flag: ([^;"]*)[^"]*"[^>]*transform="translate\(([\d.]+),([\d.]+)\)[^>]*>')


def test_public_red_flag_labels_sit_above_their_own_outline_and_no_bar_covers_one():
    # Drawn as Chromium's vega would (vl-convert runs the same vega): in 2013 three kinds, two hidden.
    import vl_convert

    flags = pl.DataFrame(
        {
            "year": ["2013"] * 3,
            "flag": ["backdating then lease", "edit before offer", "manual offer"],
            "n": [HIDDEN, "11", "1–4"],
        }
    )
    svg = vl_convert.vegalite_to_svg(red_flag_timeline_chart(flags).to_dict())
    boxes = {}  # flag -> (left, right, top) of its bar or outline
    for label, x, y, w, h in _PATH.findall(svg):
        flag = re.search(r"flag: ([^;]*)", label).group(1)
        top = min(float(y), float(y) + float(h))
        boxes.setdefault(flag, []).append((float(x), float(x) + float(w), top, "hidden" in label))
    outlines = {f: b for f, bs in boxes.items() for b in bs if b[3]}
    bars = [b for bs in boxes.values() for b in bs if not b[3]]
    assert set(outlines) == {"backdating then lease", "manual offer"} and len(bars) == 1
    for left, right, _, _ in outlines.values():  # each hidden cell has a slot of its own, free of the visible bar
        assert all(right <= b[0] or b[1] <= left for b in bars)
    labels = _LABEL.findall(svg)
    assert sorted(f for f, _, _ in labels) == sorted(outlines)
    for flag, x, y in labels:
        left, right, top, _ = outlines[flag]
        assert (
            left <= float(x) <= right and float(y) <= top + 0.01
        )  # over its own outline, written upwards from its top
