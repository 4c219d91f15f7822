"""The minimum detectable effect per caseworker, checked against a brute-force computation.

The oracle here shares no code with :mod:`workbench.fairness.mde`: permutation p-values by
listing every way to choose the caseworker's allocations in each district and year
(``itertools.combinations``), binomial probabilities with ``math.comb``, and the grid
walked one step at a time.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest

from workbench.fairness import mde as M
from workbench.fairness.caseworkers import _log_factorials, _tail
from workbench.fairness.tails import tails

ALPHA, MIN_EFFECT, PERMUTATIONS = 0.05, 0.02, 20_000


def _allocations(rows: list[tuple[int, str, int, int]]) -> pl.DataFrame:
    """(handler, district, allocations, unexplained) -> one row per allocation, all in 2013."""
    out = []
    for handler, district, n, x in rows:
        out += [(handler, district, 2013, "unexplained" if i < x else "in_order") for i in range(n)]
    return pl.DataFrame(out, schema=["handler_id", "district", "year", "outcome"], orient="row")


def _count_distribution(N: int, D: int, n: int) -> list[float]:
    """P(a random n of the N allocations, D of them unexplained, hold h unexplained), by listing every choice."""
    flags = [i < D for i in range(N)]
    counts = [sum(flags[i] for i in chosen) for chosen in itertools.combinations(range(N), n)]
    return [counts.count(h) / len(counts) for h in range(n + 1)]


def _brute_power(strata: list[tuple[int, int, int, int]], m: int, delta: float) -> float:
    """Power for one caseworker; ``strata``: (their n, their x, peers' allocations, peers' unexplained)."""
    power = 0.0
    for sold in itertools.product(*(range(n - x + 1) for n, x, _, _ in strata)):
        prob = math.prod(
            math.comb(n - x, s) * delta**s * (1 - delta) ** (n - x - s)
            for (n, x, _, _), s in zip(strata, sold, strict=True)
        )
        counts = [x + s for (_, x, _, _), s in zip(strata, sold, strict=True)]
        dist = [1.0]
        for (n, _, peers, P), c in zip(strata, counts, strict=True):
            dist = np.convolve(dist, _count_distribution(n + peers, P + c, n))
        p = max(float(sum(dist[sum(counts) :])), 1 / (PERMUTATIONS + 1))
        w = [n * peers / (n + peers) for n, _, peers, _ in strata]
        effect = sum(wk * (c / n - P / peers) for wk, c, (n, _, peers, P) in zip(w, counts, strata, strict=True)) / sum(
            w
        )
        if m * p < ALPHA and effect >= MIN_EFFECT:
            power += prob
    return power


def _brute_mde(strata, m: int) -> float | None:
    for i in range(1, 201):  # every grid point, in order
        if _brute_power(strata, m, i * 0.005) >= 0.8:
            return i * 0.005
    return None


# caseworker 1 in two districts (3 and 2 allocations, 1 out of order), peers 2 and 3
CASE = _allocations(
    [
        (1, "Farsta", 3, 1),
        (2, "Farsta", 4, 0),
        (3, "Farsta", 3, 1),
        (1, "Solna", 2, 0),
        (2, "Solna", 5, 0),
        (3, "Kista", 6, 3),  # worked alone: no comparison, no part in anyone's MDE
    ]
)


def _mde(allocations: pl.DataFrame, **kw) -> dict[int, float | None]:
    frame = M.minimum_detectable_effects(
        allocations, alpha=ALPHA, min_effect=MIN_EFFECT, permutations=PERMUTATIONS, seed=1, **kw
    )
    return dict(frame.iter_rows())


def test_mde_equals_a_brute_force_binomial_power_computation():
    got = _mde(CASE)
    # caseworker 1: Farsta n=3, x=1 beside 7 peers' allocations with 1 unexplained; Solna n=2 beside 5, none
    one = [(3, 1, 7, 1), (2, 0, 5, 0)]
    assert got[1] == pytest.approx(_brute_mde(one, m=3), abs=1e-9)
    assert got[1] is not None and 0 < got[1] < 1
    # caseworker 2: Farsta n=4 beside 6 with 2 unexplained; Solna n=5 beside 2, none
    assert got[2] == pytest.approx(_brute_mde([(4, 0, 6, 2), (5, 0, 2, 0)], m=3), abs=1e-9)
    # caseworker 3 only in Farsta with peers (Kista they worked alone)
    assert got[3] == _brute_mde([(3, 1, 7, 1)], m=3)


def test_power_at_a_share_is_the_brute_force_power():
    cells = CASE.group_by("handler_id", "district", "year").agg(n=pl.len()).sort("district")
    assert cells.height == 6
    lf = _log_factorials(20)
    design = M._Design(
        n=np.array([3, 2]), x=np.array([1, 0]), P=np.array([1, 0]), N=np.array([10, 7]),
        m=3, alpha=ALPHA, min_effect=MIN_EFFECT, floor=1 / (PERMUTATIONS + 1), lf=lf,
    )  # fmt: skip
    power = M._power_function(design, seed=1, handler=1)
    for delta in (0.1, 0.35, 0.6, 0.9, 1.0):
        assert power(delta) == pytest.approx(_brute_power([(3, 1, 7, 1), (2, 0, 5, 0)], 3, delta), abs=1e-12)


def test_a_caseworker_who_cannot_be_flagged_at_any_share_has_no_mde():
    # two allocations among 8 busy peers who depart from queue order now and then: even two of
    # two out of order is not significant after Holm over 9 caseworkers
    rows = [(h, "Farsta", 100, 4) for h in range(1, 9)] + [(9, "Farsta", 2, 2)]
    got = M.minimum_detectable_effects(_allocations(rows), alpha=0.01, permutations=20_000)
    mde = dict(got.iter_rows())
    assert mde[9] is None
    assert all(mde[h] is not None and mde[h] <= M.MDE_CEILING for h in range(1, 9))


def test_no_peers_means_no_mde():
    got = _mde(_allocations([(1, "Farsta", 30, 0), (2, "Solna", 30, 0)]))
    assert got == {1: None, 2: None}


def test_the_tails_are_the_exact_convolution_of_hypergeometric_counts():
    rng = np.random.default_rng(0)
    lf = _log_factorials(200)
    for _ in range(100):
        k = int(rng.integers(1, 5))
        n = rng.integers(1, 15, k)
        N = n + rng.integers(1, 30, k)
        P = np.array([rng.integers(0, N[i] - n[i] + 1) for i in range(k)])
        X = np.stack([rng.integers(0, n[i] + 1, 5) for i in range(k)], axis=1)
        design = M._Design(n, np.zeros(k, dtype=np.int64), P, N, 5, ALPHA, MIN_EFFECT, 1e-5, lf)
        got = tails(design, X)
        for row, p in zip(X, got, strict=True):
            assert p == pytest.approx(_tail(n, int(row.sum()), N, P + row, lf), abs=1e-12)


def test_simulated_power_agrees_with_the_exact_power_and_is_deterministic(monkeypatch):
    rows = [(1, "Farsta", 12, 0), (2, "Farsta", 20, 1), (1, "Solna", 10, 0), (3, "Solna", 25, 1), (2, "Kista", 9, 0)]
    rows += [(3, "Kista", 15, 1), (1, "Bromma", 8, 0), (2, "Bromma", 30, 0)]
    allocations = _allocations(rows)
    exact = _mde(allocations)
    assert all(v is not None for v in exact.values())
    monkeypatch.setattr(M, "EXACT_LIMIT", 0)
    simulated = _mde(allocations)
    assert simulated == _mde(allocations)  # same seed, same answer
    for handler, value in exact.items():
        assert abs(simulated[handler] - value) <= 0.02, handler


def test_the_search_finds_the_smallest_grid_share_reaching_the_target():
    calls = []

    def reaches(delta: float) -> bool:
        calls.append(delta)
        return delta >= 0.123

    assert M._search(reaches) == pytest.approx(0.125)
    assert len(calls) <= 16  # galloping then halving, not the 200 grid points
    assert M._search(lambda d: 0.79 * d >= 0.8) is None
    assert M._search(lambda d: True) == pytest.approx(M.STEP)


def _simulated_design(seed: int = 5) -> M._Design:
    """A caseworker in four strata beside peers, with far more than EXACT_LIMIT possible outcomes."""
    rng = np.random.default_rng(seed)
    n = rng.integers(15, 40, 4)
    N = n + rng.integers(20, 80, 4)
    P = np.array([rng.integers(0, (N[i] - n[i]) // 8 + 1) for i in range(4)])
    x = np.array([rng.integers(0, 3) for _ in range(4)])
    assert math.prod(int(f) + 1 for f in n - x) > M.EXACT_LIMIT
    return M._Design(n, x, P, N, 12, 0.01, MIN_EFFECT, 1 / (PERMUTATIONS + 1), _log_factorials(int(N.max())))


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_reaching_the_target_is_decided_as_the_full_simulated_power_decides_it(seed):
    design = _simulated_design(seed)
    power = M._power_function(design, seed=1, handler=4)
    powers = {i: power(i * M.STEP) for i in range(1, 201, 3)}
    assert min(powers.values()) < 0.8 <= max(powers.values())  # the shares cross the target
    for target in (0.05, 0.5, 0.8, 0.95):
        reaches = M._reaches_function(design, seed=1, handler=4, target=target)
        for i, p in powers.items():  # a fresh search's order of shares, and a cache filled by others
            assert reaches(i * M.STEP) == (p >= target), (target, i, p)


def test_the_simulated_search_stops_testing_draws_once_the_answer_is_known(monkeypatch):
    design = _simulated_design()
    tested: list[int] = []
    significant = M._Design.significant

    def counting(self, X):
        tested.append(X.shape[0])
        return significant(self, X)

    monkeypatch.setattr(M._Design, "significant", counting)
    power = M._power_function(design, 1, 4)
    full = M._search(lambda delta: power(delta) >= 0.8)
    all_tested = sum(tested)
    tested.clear()
    assert M._search(M._reaches_function(design, 1, 4, 0.8)) == full
    assert full is not None and 0 < sum(tested) < all_tested


def _tails_every_bin(d: M._Design, X: np.ndarray) -> np.ndarray:
    """The tails as first written: every bin multiplied for every stratum (the zeros above the reach too)."""
    rows, total = X.shape[0], X.sum(axis=1)
    top = int(total.max(initial=0))
    acc = np.zeros((top + 1, rows))
    acc[0] = 1.0
    for k in range(X.shape[1]):
        n, N = int(d.n[k]), int(d.N[k])
        D = d.P[k] + np.arange(int(X[:, k].max()) + 1)[:, None]
        h = np.arange(int(min(n, D.max())) + 1)[None, :]
        if h.shape[1] == 1:
            continue
        valid = (h <= D) & (n - h <= N - D)
        hh, dd, lf = np.where(valid, h, 0), np.broadcast_to(D, valid.shape), d.lf
        logp = (
            lf[dd]
            - lf[hh]
            - lf[np.where(valid, dd - hh, 0)]
            + lf[N - dd]
            - lf[np.where(valid, n - hh, 0)]
            - lf[np.where(valid, N - dd - n + hh, 0)]
            - (lf[N] - lf[n] - lf[N - n])
        )
        kernel = np.exp(np.where(valid, logp, -np.inf)).T[:, X[:, k]]
        if kernel.shape[0] > top + 1:
            kernel[top] += kernel[top + 1 :].sum(axis=0)
            kernel = kernel[: top + 1]
        width = kernel.shape[0]
        suffix = np.cumsum(acc[top + 2 - width :][::-1], axis=0)
        new = acc * kernel[0]
        for j in range(1, width):
            new[j:] += acc[: top + 1 - j] * kernel[j]
        new[top] += (kernel[1:] * suffix).sum(axis=0)
        acc = new
    tail = np.cumsum(acc[::-1], axis=0)[::-1]
    return np.minimum(tail[total, np.arange(rows)], 1.0)


def test_the_tails_multiplying_only_the_bins_reached_are_the_same_floats():
    # Many strata and small totals: the last bin (and its overflow) is reached late or not at all.
    rng = np.random.default_rng(5)
    lf = _log_factorials(400)
    for _ in range(60):
        k = int(rng.integers(1, 12))
        n = rng.integers(1, 25, k)
        N = n + rng.integers(1, 40, k)
        P = np.array([rng.integers(0, N[i] - n[i] + 1) for i in range(k)])
        X = np.stack([rng.integers(0, n[i] + 1, 7) // int(rng.integers(1, 4)) for i in range(k)], axis=1)
        design = M._Design(n, np.zeros(k, dtype=np.int64), P, N, 5, ALPHA, MIN_EFFECT, 1e-5, lf)
        assert np.array_equal(tails(design, X), _tails_every_bin(design, X))


def test_a_tail_from_cached_strata_is_the_same_float():
    lf = _log_factorials(300)
    n, N = np.array([5, 12, 3, 12]), np.array([40, 60, 9, 60])
    cache: dict = {}
    for D in (np.array([4, 10, 2, 10]), np.array([4, 11, 2, 10]), np.array([4, 10, 2, 10])):
        for x_total in (3, 6, 9):
            assert _tail(n, x_total, N, D, lf, cache) == _tail(n, x_total, N, D, lf)
    assert sorted(cache) == [(3, 9, 2), (5, 40, 4), (12, 60, 10), (12, 60, 11)]  # each stratum computed once


def test_mde_is_the_same_searched_one_at_a_time_or_side_by_side():
    # enough caseworkers and allocations that some are simulated (more than EXACT_LIMIT outcomes)
    rng = np.random.default_rng(3)
    rows = [
        (h, d, int(rng.integers(5, 40)), int(rng.integers(0, 4)))
        for h in range(1, 13)
        for d in ("Farsta", "Solna", "Kista")
        if rng.random() < 0.8
    ]
    allocations = _allocations(rows)
    alone = _mde(allocations, workers=1)
    assert any(v is not None for v in alone.values())
    assert _mde(allocations, workers=3) == alone
    assert _mde(allocations, workers=None) == alone


def test_the_tails_are_the_same_to_the_last_bit_whatever_the_block_of_columns():
    rng = np.random.default_rng(7)
    lf = _log_factorials(400)
    for rows in (1, 2, 3, 9, 17, 40):
        k = int(rng.integers(1, 6))
        n = rng.integers(1, 40, k)
        N = n + rng.integers(1, 60, k)
        P = np.array([rng.integers(0, N[i] - n[i] + 1) for i in range(k)])
        X = np.stack([rng.integers(0, n[i] + 1, rows) for i in range(k)], axis=1)
        design = M._Design(n, np.zeros(k, dtype=np.int64), P, N, 5, ALPHA, MIN_EFFECT, 1e-5, lf)
        whole = tails(design, X, block=rows)  # every column in one block
        for block in (1, 2, 4, 8, 16):  # 1 is taken as 2
            assert np.array_equal(tails(design, X, block=block), whole), (rows, block)
        for row, p in zip(X, whole, strict=True):
            assert p == pytest.approx(_tail(n, int(row.sum()), N, P + row, lf), abs=1e-12)
