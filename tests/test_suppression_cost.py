"""Suppression of many-cell breakdowns: same cells hidden as the exhaustive search, at a bounded cost.

At stockholm scale the public red-flag timeline (months × kinds, hundreds of cells) spent
minutes in complementary suppression before giving up on months. These tests pin, on
hand-written tables of many cells, that the fast paths change nothing: the work-list
propagation reaches the bounds of plain sweeps, the cheap "pinned whatever is hidden" test
refuses only what the search would refuse, and the search hides what the unbounded search
hides; and they bound the cost by counting propagations, not by a clock.
"""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import polars as pl
import pytest

import workbench.fairness.public as public
import workbench.suppression as suppression
from workbench import intervals, pinning
from workbench.audience import fit
from workbench.fairness.views import group_disparities
from workbench.reportset.disclosure_audit import audit
from workbench.settings import LEDGER_ENV
from workbench.suppression import HIDDEN, TooFewToShow, suppress, too_fine

FLAGS = ("backdating", "manual offer", "off-hours", "repeated pair")


def _sweeps(bounds, relations):
    """Interval propagation as the disclosure audit first did it: sweep every relation until nothing changes."""
    lo = {c: float(b[0]) for c, b in bounds.items()}
    hi = {c: float(b[1]) for c, b in bounds.items()}
    for _ in range(200):
        changed = False
        for terms, known in relations:
            for cell, a in terms.items():
                rest_lo = rest_hi = 0.0
                for other, b in terms.items():
                    if other != cell:
                        rest_lo += b * lo[other] if b > 0 else b * hi[other]
                        rest_hi += b * hi[other] if b > 0 else b * lo[other]
                low, high = (known - rest_hi) / a, (known - rest_lo) / a
                if a < 0:
                    low, high = high, low
                new_lo = max(lo[cell], math.ceil(low - 1e-9) if math.isfinite(low) else low)
                new_hi = min(hi[cell], math.floor(high + 1e-9) if math.isfinite(high) else high)
                if new_lo > lo[cell] or new_hi < hi[cell]:
                    lo[cell], hi[cell], changed = new_lo, new_hi, True
        if not changed:
            break
    return {c: (lo[c], hi[c]) for c in bounds}


def _timeline(months: int, small_every: int = 1) -> pl.DataFrame:
    """Red flags per month and kind: every ``small_every``-th month a kind has 1–4, the rest 9 or more."""
    rows = []
    for m in range(months):
        month = f"{2010 + m // 12}-{m % 12 + 1:02d}"
        for k, flag in enumerate(FLAGS):
            small = m % small_every == 0 and k == m % len(FLAGS)
            rows.append((month, flag, 1 + (m + k) % 4 if small else 9 + (3 * m + 5 * k) % 23))
    return pl.DataFrame(rows, schema={"month": pl.String, "flag": pl.String, "n": pl.Int64}, orient="row")


def _lone_hidden(shown: pl.DataFrame) -> list[str]:
    hidden = shown.with_columns(h=pl.col("n").is_in(["1–4", HIDDEN]))
    lines = [hidden.group_by("month").agg(pl.col("h").sum()), hidden.group_by("flag").agg(pl.col("h").sum())]
    return [str(row) for line in lines for row in line.filter(pl.col("h") == 1).rows()]


def test_work_list_propagation_reaches_the_bounds_of_plain_sweeps():
    rng = random.Random(7)
    for _ in range(300):
        true = {i: rng.choice([0, 1, 2, 3, 4, 5, 7, 12, 40]) for i in range(rng.randint(1, 15))}
        bounds = {
            i: (1.0, 4.0) if 0 < v < 5 else (0.0 if v == 0 or rng.random() < 0.2 else 5.0, math.inf)
            for i, v in true.items()
        }
        relations = []
        for _ in range(rng.randint(1, 8)):
            cells = rng.sample(sorted(true), rng.randint(1, len(true)))
            terms = {c: float(rng.choice([1, 1, 2, -1])) for c in cells}
            relations.append((terms, float(sum(a * true[c] for c, a in terms.items()))))
        found = intervals.propagate(bounds, relations)
        assert found == _sweeps(bounds, relations)
        assert all(lo <= true[c] <= hi for c, (lo, hi) in found.items())  # never excludes the truth


def test_a_breakdown_of_many_small_months_is_refused_by_one_propagation():
    # 120 months × 4 kinds, every month 3 flags (1 + 2, in turn on two kinds): whatever is
    # hidden, a reader who knows the month's total pins both cells to 1–2.
    frame = pl.DataFrame(
        [
            (f"{2010 + m // 12}-{m % 12 + 1:02d}", flag, n)
            for m in range(120)
            for flag, n in zip(FLAGS, (1, 2, 0, 0) if m % 2 else (0, 0, 2, 1), strict=True)
        ],
        schema={"month": pl.String, "flag": pl.String, "n": pl.Int64},
        orient="row",
    )
    before = intervals.calls
    with pytest.raises(TooFewToShow, match="by month, flag is too fine to publish: 240 hidden"):
        suppress(frame, ["n"])
    assert intervals.calls - before == 1
    assert too_fine(frame, ["n"]) == 240
    # The search would have failed too: on a year of it, its best effort leaves cells pinned.
    year = frame.head(48)
    best = suppress(year, ["n"], strict=False)
    assert pinning.exposed(
        [year["n"].to_list()],
        {(r, 0): label for r, label in enumerate(best["n"]) if label in ("1–4", HIDDEN)},
        pinning.known_lines(year, ["n"], ["month", "flag"]),
        5,
    )


@pytest.mark.parametrize("months", [12, 36])
def test_many_cells_hide_what_the_exhaustive_search_hides(months, monkeypatch):
    frame = _timeline(months)
    shown = suppress(frame, ["n"])
    small = frame["n"] < 5
    assert shown.filter(small)["n"].to_list() == ["1–4"] * int(small.sum())
    assert shown.filter(~small)["n"].is_in(["1–4"]).sum() == 0
    assert _lone_hidden(shown) == []
    # The same cells as the search that tries every candidate, with the plain sweeps.
    monkeypatch.setattr(suppression, "SEARCH_WIDTH", 10**9)
    monkeypatch.setattr(pinning, "propagate", _sweeps)
    assert suppress(frame, ["n"]).equals(shown)


def test_many_cells_pass_the_disclosure_audit(tmp_path, monkeypatch):
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    shown = fit(_timeline(48, small_every=2), "public", counts=["n"], columns={"month": "none", "flag": "none"})
    assert shown["n"].is_in(["1–4"]).sum() == 24
    result = audit(ledger)
    assert result.passed, result.problems
    assert result.hidden_cells == shown["n"].is_in(["1–4", HIDDEN]).sum()


@pytest.mark.parametrize("months", [12, 24, 48])
def test_propagations_are_bounded_by_the_cells_hidden(months):
    # Each complementary cell costs one propagation to find what is pinned and at most
    # SEARCH_WIDTH to choose it; plus the cheap test and the final check. Polynomial in the
    # cells, whatever the lines' lengths (the old search tried every cell of the longest line).
    frame = _timeline(months)
    before = intervals.calls
    shown = suppress(frame, ["n"])
    calls = intervals.calls - before
    added = int((shown["n"] == HIDDEN).sum())
    assert added > 0
    assert calls <= 2 + added * (1 + suppression.SEARCH_WIDTH)
    assert calls <= 2 + added * (1 + frame.height)


def test_the_cheap_test_never_refuses_what_suppression_publishes():
    rng = random.Random(3)
    for _ in range(60):
        n = rng.randint(2, 9)
        frame = pl.DataFrame(
            {
                "district": [f"d{i}" for i in range(n) for _ in range(2)],
                "kind": ["regular", "student"] * n,
                "n": [rng.choice([0, 1, 2, 3, 4, 6, 9, 30]) for _ in range(2 * n)],
            }
        )
        pinned = too_fine(frame, ["n"])
        try:
            suppress(frame, ["n"])
        except TooFewToShow:
            continue
        assert pinned == 0, frame


def _allocations(sizes: dict[str, tuple[int, int]]) -> SimpleNamespace:
    rows = [
        {"district": d, "kind": "regular", "year": 2013, "outcome": outcome, "winner_queue_days": 400 + 7 * i}
        for d, (in_order, out) in sizes.items()
        for i, outcome in enumerate(["in_order"] * in_order + ["unexplained"] * out)
    ]
    return SimpleNamespace(replay=SimpleNamespace(allocations=pl.DataFrame(rows)), groups=None)


def test_pooling_skips_the_view_where_the_counts_alone_are_too_fine(monkeypatch):
    # 16 districts of 1-2 contracts and four big ones: small ones are pooled, many at a time.
    sizes = {f"small {i:02d}": (1 + i % 2, 0) for i in range(16)}
    sizes |= {"Farsta": (30, 10), "Kista": (40, 12), "Solna": (25, 6), "Nacka": (33, 3)}
    review = _allocations(sizes)
    built = []
    real_view = public.groups.group_view
    monkeypatch.setattr(public.groups, "group_view", lambda *a, **k: built.append(1) or real_view(*a, **k))
    fast = group_disparities(review, "public")
    fast_views = len(built)
    built.clear()
    monkeypatch.setattr(public, "pinned_whatever_pooled", lambda *a: 0)  # build and suppress every k, as before
    slow = group_disparities(review, "public")
    assert fast.equals(slow)
    districts = fast.filter(pl.col("grouping") == "district")
    assert districts["group"].to_list()[-1] == "other districts"
    assert fast_views < len(built)
