"""The caseworker statistics: the stratified permutation test, its exact form, Holm, effect and flag."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from queuekit import outcomes as _allocations

from workbench.errors import WorkbenchError
from workbench.fairness.caseworkers import (
    effect_label,
    exact_p_values,
    holm,
    p_floor,
    permutation_p_values,
    review_caseworkers,
    risk_difference,
    strata_cells,
)

SMALL = _allocations(
    [
        (1, "Farsta", 2013, 4, 2),
        (2, "Farsta", 2013, 3, 0),
        (3, "Farsta", 2013, 2, 1),
        (1, "Solna", 2013, 3, 1),
        (2, "Solna", 2013, 4, 0),
        (1, "Solna", 2014, 2, 1),  # worked alone: carries no comparison
    ]
)


def _brute_force_p(allocations: pl.DataFrame, handler: int) -> float:
    """P(T >= t) over every relabelling of allocations within each stratum, counted one by one."""
    t = int(allocations.filter((pl.col("handler_id") == handler) & (pl.col("outcome") == "unexplained")).height)
    per_stratum = []
    for _, part in allocations.group_by("district", "year"):
        labels = part["handler_id"].to_list()
        flags = (part["outcome"] == "unexplained").to_list()
        counts = [
            sum(f for lab, f in zip(perm, flags, strict=True) if lab == handler)
            for perm in set(itertools.permutations(labels))
        ]
        per_stratum.append(np.bincount(counts) / len(counts))
    dist = np.ones(1)
    for d in per_stratum:
        dist = np.convolve(dist, d)
    return float(dist[t:].sum())


def test_exact_p_is_the_full_permutation_distribution():
    exact = dict(exact_p_values(strata_cells(SMALL)).iter_rows())
    for handler in (1, 2, 3):
        assert exact[handler] == pytest.approx(_brute_force_p(SMALL, handler), abs=1e-12)


def test_monte_carlo_permutations_agree_with_the_exact_p_within_their_error():
    cells = strata_cells(SMALL)
    exact = dict(exact_p_values(cells).iter_rows())
    mc = dict(permutation_p_values(cells, 20_000, seed=3).iter_rows())
    for handler, p in exact.items():
        assert abs(mc[handler] - p) < 4 * np.sqrt(p * (1 - p) / 20_000) + 1e-4
    assert mc[2] == 1.0  # no unexplained deviation: nothing to test


def test_holm_step_down_adjustment():
    got = holm([0.01, 0.04, 0.03, 0.005])
    assert got == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_p_floor_of_a_permutation_test_after_holm():
    raw, corrected = p_floor(1000, 40)
    assert raw == pytest.approx(1 / 1001) and corrected == pytest.approx(40 / 1001)
    assert corrected > 0.01  # 1,000 permutations cannot reach 0.01 for 40 caseworkers


def test_too_few_permutations_to_reach_alpha_after_correction_are_refused():
    many = _allocations([(h, "Farsta", 2013, 10, 1) for h in range(1, 41)])
    with pytest.raises(
        WorkbenchError,
        match=r"permutations=1000 cannot give a Holm-corrected p below alpha=0\.01 for 40 "
        r"caseworkers \(the floor is 0\.04\); use permutations >= 4000",
    ):
        review_caseworkers(many, permutations=1000)


def test_the_default_permutations_reach_alpha_for_any_number_of_caseworkers():
    from workbench.fairness.caseworkers import check_permutations, p_floor, permutations_for

    assert permutations_for(0, 0.01) == permutations_for(40, 0.01) == permutations_for(200, 0.01) == 20_000
    assert permutations_for(201, 0.01) == 30_000 and permutations_for(400, 0.01) == 50_000
    assert permutations_for(400, 0.05) == 20_000
    for m in (1, 7, 40, 199, 200, 201, 400, 999, 4_000):
        for alpha in (0.001, 0.01, 0.05):
            n = permutations_for(m, alpha)
            check_permutations(n, m, alpha)  # never refused
            assert p_floor(n, m)[1] < alpha


def test_notebook_03s_permutations_default_to_none_but_stay_typed_a_whole_number():
    from pathlib import Path

    from workbench.reportset.parameters import ParameterError, check_parameters

    nb = Path(__file__).resolve().parents[1] / "notebooks" / "03_queue_fairness.ipynb"
    check_parameters(nb, {"permutations": 40_000})
    with pytest.raises(ParameterError, match="parameter permutations must be a whole number"):
        check_parameters(nb, {"permutations": "many"})


def test_risk_difference_is_weighted_within_strata_and_ignores_strata_worked_alone():
    effect = dict(risk_difference(strata_cells(SMALL)).select("handler_id", "effect").iter_rows())
    # Farsta 2013: 2/4 vs 1/5, weight 4*5/9; Solna 2013: 1/3 vs 0/4, weight 3*4/7
    w1, w2 = 20 / 9, 12 / 7
    assert effect[1] == pytest.approx((w1 * (0.5 - 0.2) + w2 * (1 / 3)) / (w1 + w2))


@pytest.mark.parametrize(
    ("effect", "label"),
    [
        (-0.05, "negligible"),
        (0.005, "negligible"),
        (0.01, "small"),
        (0.03, "moderate"),
        (0.05, "large"),
        (0.2, "very large"),
    ],
)
def test_effect_labels_in_plain_language(effect, label):
    assert effect_label(effect) == label


def test_flagged_needs_both_significance_and_the_minimum_effect():
    # caseworker 1: 30 of 300 out of order against peers' 0 of 300 per stratum -> flagged;
    # caseworker 2: a large workload, 1.5 % excess: significant but under the minimum effect
    rows = []
    for d in ("Farsta", "Solna", "Bromma"):
        rows += [(1, d, 2013, 100, 10), (3, d, 2013, 100, 0), (2, d, 2014, 2000, 40), (4, d, 2014, 2000, 10)]
    review = review_caseworkers(_allocations(rows), alpha=0.01, min_effect=0.02, permutations=5000, seed=1)
    by = {r["handler_id"]: r for r in review.iter_rows(named=True)}
    assert by[1]["flagged"] and by[1]["effect_label"] == "very large"
    assert by[2]["p_holm"] < 0.01 and by[2]["effect"] == pytest.approx(0.015) and not by[2]["flagged"]
    assert not by[3]["flagged"] and not by[4]["flagged"]
    assert by[1]["threshold"] == pytest.approx(by[1]["peer_rate"] + 0.02)
    assert by[1]["rate"] == pytest.approx(0.1)
    assert 0 < by[1]["rate_low"] < by[1]["rate"] < by[1]["rate_high"]
