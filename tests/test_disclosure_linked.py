"""The public heat map of queue time and the group view beside it hide and pool alike.

Notebook 03's public page shows the group view (contracts by district, by kind, by year) and
a heat map of the winners' median queue time by district and year, with its counts. Each was
suppressed on its own, so the heat map printed exactly a district's contracts that the table
hid as a complementary cell (found from outside on the tiny case: "Enskede 15" in the chart's
data beside "[undertryckt]" in the table), and split "other districts" back into the districts
the table had pooled. A reader who has both undoes the table's protection.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import polars as pl
import pytest

from workbench.fairness.views import group_disparities, queue_time
from workbench.reportset.disclosure_audit import audit
from workbench.settings import LEDGER_ENV


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    path = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    return path


def _review(cells: dict[tuple[str, int], tuple[int, int]]) -> SimpleNamespace:
    """Allocations from (district, year) -> (in queue order, unexplained)."""
    rows = [
        {"district": d, "kind": "regular", "year": y, "outcome": o, "winner_queue_days": 400 + 37 * i}
        for (d, y), (in_order, out) in cells.items()
        for i, o in enumerate(["in_order"] * in_order + ["unexplained"] * out)
    ]
    return SimpleNamespace(replay=SimpleNamespace(allocations=pl.DataFrame(rows)), groups=None)


def _exact(value) -> bool:
    return isinstance(value, str) and value.isdigit()


def _check_linked(review) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Assert that the heat map prints no count the group view hides and no group it pools."""
    table = group_disparities(review, "public")
    heat = queue_time(review, "public")
    allocations = review.replay.allocations
    for grouping in ("district", "year"):
        rows = table.filter(pl.col("grouping") == grouping)
        if "n_allocations" not in rows.columns or rows["n_allocations"].null_count() == rows.height:
            continue  # withheld in the table
        shown = set(rows["group"].to_list())
        pooled = set(allocations[grouping].cast(pl.String).unique().to_list()) - shown
        labels = set(heat[grouping].cast(pl.String).to_list())
        assert not (pooled & labels), f"the heat map splits pooled {grouping}s {pooled & labels} back out"
        hidden = {g for g, n in rows.select("group", "n_allocations").rows() if not _exact(n)}
        for value, n, median in heat.select(pl.col(grouping).cast(pl.String), "n", "median_queue_years").rows():
            if value in hidden:
                assert not _exact(n) and median is None, f"{grouping} {value}: the table hides it, the map prints {n}"
    return table, heat


def test_a_district_the_table_hides_is_hidden_in_the_heat_map(ledger):
    # Enskede's 15 contracts, all in order, and Solna's 9 are hidden in the group view to
    # protect the small out-of-order counts of Nacka and Solna's neighbours.
    review = _review({
        ("Farsta", 2013): (30, 10), ("Kista", 2013): (40, 12), ("Enskede", 2013): (15, 0),
        ("Solna", 2013): (9, 0), ("Nacka", 2013): (12, 3),
    })  # fmt: skip
    table, heat = _check_linked(review)
    districts = table.filter(pl.col("grouping") == "district")
    assert districts.filter(pl.col("group") == "Enskede")["n_allocations"].item() == "[suppressed]"
    assert heat.filter(pl.col("district") == "Enskede")["n"].item() == "[suppressed]"
    assert heat.filter(pl.col("district") == "Kista")["n"].item() == "52"  # what the table shows stays shown
    result = audit(ledger)
    assert result.passed, result.problems


def test_the_heat_map_pools_the_districts_the_table_pools_and_says_so_alike(ledger):
    review = _review({
        ("Farsta", 2013): (30, 10), ("Kista", 2013): (40, 12), ("Norrmalm", 2013): (1, 0),
        ("Bromma", 2013): (2, 0), ("Nacka", 2013): (6, 1),
    })  # fmt: skip
    table, heat = _check_linked(review)
    note = "withheld: too few to show these 3 districts one by one; pooled"
    assert table.filter(pl.col("group") == "other districts")["note"].item() == note
    assert heat["district"].to_list() == ["Farsta", "Kista", "other districts"]
    assert heat.filter(pl.col("district") == "other districts")["note"].item() == note
    assert heat.filter(pl.col("district") == "other districts")["n"].item() == "10"  # the table's pooled row
    assert audit(ledger).passed


def test_a_year_the_table_hides_is_hidden_in_every_district_of_the_heat_map():
    # The years of the first test's districts, each split between two districts.
    per_year = {2009: (30, 10), 2010: (40, 12), 2011: (15, 0), 2012: (9, 0), 2013: (12, 3)}
    cells = {}
    for year, (in_order, out) in per_year.items():
        cells[("Farsta", year)] = (in_order // 2, out // 2)
        cells[("Kista", year)] = (in_order - in_order // 2, out - out // 2)
    review = _review(cells)
    table, heat = _check_linked(review)
    years = table.filter(pl.col("grouping") == "year")
    hidden = [g for g, n in years.select("group", "n_allocations").rows() if not _exact(n)]
    assert hidden, "the case was built so that the year view hides a year's total"
    for year in hidden:
        assert not heat.filter(pl.col("year").cast(pl.String) == year)["n"].map_elements(_exact, pl.Boolean).any()


@pytest.mark.parametrize("seed", range(40))
def test_drawn_cases_never_print_in_the_heat_map_what_the_table_hides(seed, ledger):
    rng = random.Random(seed)
    districts = [f"D{i}" for i in range(rng.randint(2, 9))]
    years = list(range(2012, 2012 + rng.randint(1, 4)))
    cells = {}
    for d in districts:
        size = rng.choice([1, 3, 8, 20, 60])
        for y in years:
            if rng.random() < 0.8:
                n = rng.randint(0, size)
                out = min(n, rng.choice([0, 0, 1, 2, 5, n // 4]))
                if n:
                    cells[(d, y)] = (n - out, out)
    if not cells:
        cells[("D0", 2012)] = (1, 0)
    _check_linked(_review(cells))
    result = audit(ledger)
    assert result.passed, result.problems
