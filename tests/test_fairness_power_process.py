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
