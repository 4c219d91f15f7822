"""The power simulation's second half tested in another process gives the same curve as all in this one."""

from __future__ import annotations

import numpy as np
import polars as pl

import workbench.fairness.power as P
import workbench.fairness.processes as processes


def _allocations(seed: int) -> pl.DataFrame:
    """Random allocations: 7 caseworkers over 3 districts and 2 years, a few unexplained each, one busy cheat."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(900):
        h = int(rng.integers(1, 8))
        bad = rng.random() < (0.25 if h == 3 else 0.04)
        rows.append((h, ["Norr", "Söder", "Väster"][i % 3], 2014 + i % 2, "unexplained" if bad else "in_order"))
    return pl.DataFrame(rows, schema=["handler_id", "district", "year", "outcome"], orient="row")


def test_the_curve_is_the_same_with_half_the_simulations_in_another_process(monkeypatch):
    allocations = _allocations(11)
    kwargs = {"rates": (0.0, 0.05, 0.2), "simulations": 30, "permutations": 20_000, "seed": 4, "exclude": (3,)}
    monkeypatch.setattr(P, "PROCESS_FROM", 10**9)
    here = P.power_curve(allocations, **kwargs)
    calls = []
    real = processes.ProcessPoolExecutor

    def counted(*args, **kw):
        calls.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(P, "PROCESS_FROM", 1)
    monkeypatch.setattr(P, "cores", lambda: 2)
    monkeypatch.setattr(processes, "ProcessPoolExecutor", counted)
    split = P.power_curve(allocations, **kwargs)
    assert len(calls) == 1  # the other process was used, watching this one (exits if it is killed)
    assert calls[0]["initializer"] is processes._start
    assert split.equals(here)
    assert here["simulations"].to_list() == [30, 30, 30]
    assert here["detected"][2] > here["detected"][0]  # planting more gets flagged more: the draws matter


def test_one_core_or_few_caseworkers_stay_in_this_process(monkeypatch):
    def refuse(*args, **kw):
        raise AssertionError("no other process")

    monkeypatch.setattr(processes, "ProcessPoolExecutor", refuse)
    monkeypatch.setattr(P, "cores", lambda: 1)
    monkeypatch.setattr(P, "PROCESS_FROM", 1)
    assert P.power_curve(_allocations(2), rates=(0.1,), simulations=4)["simulations"].to_list() == [4]


def _flagged_from_scratch(cells: pl.DataFrame, h: int, sold: np.ndarray, alpha: float, floor: float) -> str:
    """Every caseworker's p recomputed on the changed cells, Holm over all, the planted one's effect: why (not) flagged."""
    from workbench.fairness.caseworkers import exact_p_values, holm, risk_difference

    mine = (cells["handler_id"] == h).to_numpy()
    extra = np.zeros(cells.height, dtype=np.int64)
    extra[mine] = sold
    changed = cells.with_columns(x=pl.col("x") + extra, _e=extra)
    changed = changed.with_columns(D=pl.col("D") + pl.col("_e").sum().over("district", "year")).drop("_e")
    p = exact_p_values(changed).sort("handler_id")
    held = np.maximum(p["p_exact"].to_numpy(), floor)
    own = dict(zip(p["handler_id"], held, strict=True))[h]
    adjusted = dict(zip(p["handler_id"], holm(held), strict=True))[h]
    effect = dict(risk_difference(changed).select("handler_id", "effect").iter_rows())[h]
    if adjusted < alpha and effect >= P.MIN_EFFECT:
        return "flagged"
    if effect < P.MIN_EFFECT:
        return "effect too small"
    return "own p not under alpha" if own >= alpha else "Holm's p not under alpha"


def test_each_simulation_is_flagged_as_recomputing_every_caseworker_would_flag_it(monkeypatch):
    # The test skips the peers' p-values when the planted caseworker's effect or own p already
    # rules a flag out: each verdict must be the one the whole test, recomputed, gives.
    from workbench.fairness.caseworkers import strata_cells

    seen: list = []
    real = P._detect

    def keep(test, sims, caseworkers):
        seen.append((test, sims))
        return real(test, sims, caseworkers)

    monkeypatch.setattr(P, "_detect", keep)
    allocations = _allocations(5)
    curve = P.power_curve(allocations, rates=(0.0, 0.02, 0.05, 0.1, 0.2), simulations=20, alpha=0.05, seed=3)
    (test, sims) = seen[0]
    cells = strata_cells(allocations)
    why = [_flagged_from_scratch(cells, h, sold, 0.05, test.floor) for h, sold in sims]
    assert test(sims) == [w == "flagged" for w in why]
    # every way to be flagged or not occurs, so each shortcut is exercised beside the whole test
    assert set(why) == {"flagged", "effect too small", "own p not under alpha", "Holm's p not under alpha"}
    assert curve["detected"].sum() == why.count("flagged")
