"""The coarsen-or-withhold rule (docs/disclosure.md): a breakdown whose totals are themselves small.

Hand-built red flags and allocations: when complementary suppression cannot protect every
hidden cell, months become quarters, then years, then totals for the whole period; small
districts are pooled as "other districts", and a grouping with nothing left to pool is
withheld, each time with a visible note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import polars as pl
import pytest

from workbench.fairness.views import flag_timeline, group_disparities
from workbench.reportset.disclosure_audit import audit, read_ledger
from workbench.settings import LEDGER_ENV
from workbench.suppression import TooFewToShow, suppress
from workbench.widgets.fairness_charts import red_flag_timeline_chart


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    path = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    return path


def _flags(per_month: dict[tuple[int, int], dict[str, int]]) -> SimpleNamespace:
    rows = [
        {"time": datetime(year, month, 10, 12, i % 50, tzinfo=UTC), "handler_id": 7, "flag": flag}
        for (year, month), kinds in per_month.items()
        for flag, n in kinds.items()
        for i in range(n)
    ]
    frame = pl.DataFrame(rows, schema={"time": pl.Datetime("us", "UTC"), "handler_id": pl.Int64, "flag": pl.String})
    return SimpleNamespace(red_flags=frame, caseworkers_of_interest=[7])


def test_suppression_refuses_a_breakdown_whose_every_line_is_small():
    # Every month has 1-4 of each kind and a total under 10: whatever is hidden, a reader
    # who knows the month's total pins its cells (3 + 4 = 7 leaves each 3 or 4).
    frame = pl.DataFrame(
        {"month": ["2013-01", "2013-01", "2013-02", "2013-02"], "flag": ["a", "b"] * 2, "n": [3, 4, 4, 3]}
    )
    with pytest.raises(TooFewToShow, match="by month, flag is too fine to publish: 4 hidden"):
        suppress(frame, ["n"])
    best_effort = suppress(frame, ["n"], strict=False)
    assert best_effort["n"].to_list() == ["1–4"] * 4  # what the tiny set published before the rule


def test_red_flags_by_month_are_shown_when_suppression_can_protect_them(ledger):
    shown = flag_timeline(_flags({(2013, m): {"off-hours": 20, "manual offer": 9} for m in (1, 2, 3)}), "public")
    assert shown.columns == ["month", "flag", "n"]  # no note: nothing withheld
    assert shown["n"].to_list() == ["9", "20"] * 3


def test_red_flags_too_few_by_month_are_shown_by_quarter_with_a_note(ledger):
    review = _flags({(2013, m): {"off-hours": 4, "backdating": 3} for m in range(1, 13)})
    shown = flag_timeline(review, "public")
    assert shown.columns == ["quarter", "flag", "n", "note"]
    assert shown.filter(pl.col("quarter") == "2013-Q1").select("flag", "n").rows() == [
        ("backdating", "9"),
        ("off-hours", "12"),
    ]
    assert set(shown["note"]) == {"withheld: too few to show by month; shown by quarter"}
    spec = red_flag_timeline_chart(shown).to_dict()
    assert spec["title"]["subtitle"] == ["withheld: too few to show by month; shown by quarter"]
    assert spec["encoding"]["x"]["field"] == "quarter"
    assert audit(ledger).passed


def test_red_flags_too_few_by_any_period_are_totals_for_the_whole_period(ledger):
    shown = flag_timeline(
        _flags({(2012, 12): {"off-hours": 1}, (2013, 2): {"off-hours": 2, "manual offer": 1}}), "public"
    )
    assert shown.select("flag", "n").rows() == [("manual offer", 1), ("off-hours", 3)]  # totals: exact
    assert set(shown["note"]) == {"withheld: too few to show by month, quarter or year; shown for the whole period"}
    layers = red_flag_timeline_chart(shown).to_dict()
    assert layers["encoding"]["x"]["field"] == "flag"
    assert read_ledger(ledger) == []  # the whole-period totals are not a breakdown


def _allocations(per_district: dict[str, tuple[int, int]]) -> SimpleNamespace:
    rows = [
        {"district": d, "kind": "regular", "year": 2013, "outcome": outcome, "winner_queue_days": 1000 + i}
        for d, (in_order, out) in per_district.items()
        for i, outcome in enumerate(["in_order"] * in_order + ["unexplained"] * out)
    ]
    return SimpleNamespace(replay=SimpleNamespace(allocations=pl.DataFrame(rows)), groups=None)


def _unpooled(review: SimpleNamespace) -> pl.DataFrame:
    from workbench.audience import fit
    from workbench.fairness.groups import group_view

    view = group_view(review.replay.allocations, by=["district"])
    frame = view.select(
        "grouping",
        "group",
        "n_allocations",
        "n_in_order",
        n_out_of_order=pl.col("n_allocations") - pl.col("n_in_order"),
    )
    counts = ["n_allocations", "n_in_order", "n_out_of_order"]
    return fit(frame, "public", counts=counts, totals=["n_allocations"], columns={"grouping": "none", "group": "none"})


def test_small_districts_are_pooled_as_other_districts_until_no_hidden_cell_is_pinned(ledger):
    # Norrmalm's single contract: whatever is hidden, its row (n = in order + out of order)
    # pins it. Pooled with Bromma the two have 3 contracts, all in order: their 0 out of order
    # could only be covered by hiding that 0 as "[suppressed]" ("5 or more": false). So Nacka
    # is pooled too, and the three are shown as "other districts".
    review = _allocations(
        {"Farsta": (30, 10), "Kista": (40, 12), "Norrmalm": (1, 0), "Bromma": (2, 0), "Nacka": (6, 1)}
    )
    with pytest.raises(TooFewToShow):
        _unpooled(review)
    shown = group_disparities(review, "public")
    districts = shown.filter(pl.col("grouping") == "district")
    assert districts["group"].to_list() == ["Farsta", "Kista", "other districts"]
    assert districts["note"].to_list() == [None, None, "withheld: too few to show these 3 districts one by one; pooled"]
    assert districts.row(2)[2:5] == ("10", "[suppressed]", "1–4")  # 9 in order: the marker is true of it
    assert districts.row(1)[2:5] == ("52", "40", "12")  # a big district: exact
    result = audit(ledger)
    assert result.passed, result.problems
    assert result.breakdowns == 3  # district, kind, year: one suppression each


def test_a_grouping_with_nothing_left_to_pool_is_withheld_with_a_note(ledger):
    review = _allocations({"Farsta": (3, 1), "Kista": (2, 1), "Solna": (4, 0)})
    shown = group_disparities(review, "public")
    districts = shown.filter(pl.col("grouping") == "district")
    assert districts.select("group", "n_allocations", "note").rows() == [
        (None, None, "withheld: too few to show by district")
    ]
    assert shown.filter(pl.col("grouping") == "year").select("group", "note").rows() == [("2013", None)]
    assert audit(ledger).passed
