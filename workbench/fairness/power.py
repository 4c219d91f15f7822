"""How large a fraud this case could have detected: power simulated over the fraud rate.

Each simulation takes the replayed allocations as they are, picks one caseworker
(uniformly at random among those not excluded: in notebook 03 those the power statement
covers, see :mod:`workbench.fairness.mde`), and turns each of their allocations that was not
already unexplained into an unexplained one with probability ``fraud_rate``: the
caseworker now sells that share of their allocations out of queue order. The same test
as :func:`workbench.fairness.caseworkers.review_caseworkers` is then applied to every
caseworker (exact permutation p-values, held at the Monte Carlo floor
``1 / (permutations + 1)``, Holm's correction over all of them, the minimum effect) and
the simulation counts as detected when the planted caseworker is flagged. Power is the
share of simulations detected, with a 95 % Wilson interval: an average over the
caseworkers planted into. :mod:`workbench.fairness.mde` asks the same question of each
caseworker alone, which is what the verdict's power statement rests on.

Only the planted caseworker and the peers sharing a stratum with them change, so only
their p-values are recomputed; everyone else keeps theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import SupportsFloat, cast

import numpy as np
import polars as pl

from ..evidence import PII
from .caseworkers import (
    MIN_EFFECT,
    STRATA,
    _log_factorials,
    _tail,
    exact_p_values,
    holm,
    strata_cells,
    wilson_interval,
)
from .processes import shared
from .threads import cores

__all__ = ["COLUMNS", "FRAUD_RATES", "TARGET_POWER", "detectable_rate", "power_curve"]

FRAUD_RATES: tuple[float, ...] = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
"""Shares of a caseworker's allocations sold out of order, simulated by default."""
TARGET_POWER = 0.8
"""Power at which a fraud counts as one this case could have seen."""
COLUMNS: dict[str, PII] = {
    "fraud_rate": PII.NONE,
    "power": PII.NONE,
    "power_low": PII.NONE,
    "power_high": PII.NONE,
    "simulations": PII.NONE,
    "detected": PII.NONE,
}


def _risk_difference(n: np.ndarray, x: np.ndarray, N: np.ndarray, D: np.ndarray) -> float:
    peers = N - n
    ok = peers > 0
    if not ok.any():
        return 0.0
    w = n[ok] * peers[ok] / N[ok]
    return float((w * (x[ok] / n[ok] - (D[ok] - x[ok]) / peers[ok])).sum() / w.sum())


@dataclass
class _Simulations:
    """What testing a simulation needs: the case's cells (arrays), their strata, its exact p-values, the test's settings."""

    arr: dict[str, np.ndarray]
    stratum: np.ndarray
    handlers: np.ndarray
    base_p: dict[int, float]
    floor: float
    alpha: float
    min_effect: float
    # each stratum's distribution, by (n, N, D): most repeat between simulations, so it is kept
    # between calls (the simulations come in pieces); each process has its own, never pickled
    _pmfs: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pmfs": {}}  # sent to a child as it starts, while this process fills its own

    def __call__(self, sims: list[tuple[int, np.ndarray]]) -> list[bool]:
        """Whether each simulation (planted caseworker, allocations sold in each of their cells) flags the planted one."""
        arr, stratum, handlers = self.arr, self.stratum, self.handlers
        lf = _log_factorials(int(arr["N"].max(initial=0)))
        strata_pmfs = self._pmfs
        out = []
        for h, sold in sims:
            mine = arr["handler_id"] == h
            extra = np.zeros_like(arr["x"])
            extra[mine] = sold
            x = arr["x"] + extra
            D = arr["D"] + np.bincount(stratum, weights=extra, minlength=stratum.max() + 1).astype(np.int64)[stratum]
            # Flagged takes both an effect of at least min_effect and a Holm-adjusted p under alpha.
            # The effect is cheap, and Holm never adjusts a p-value down: a planted caseworker whose
            # own p (held at the floor) is not under alpha is not flagged, whatever the others' are.
            # Only then are the peers' p-values computed: the same answer, without their tails.
            if _risk_difference(arr["n"][mine], x[mine], arr["N"][mine], D[mine]) < self.min_effect:
                out.append(False)
                continue
            own = (
                _tail(arr["n"][mine], int(x[mine].sum()), arr["N"][mine], D[mine], lf, strata_pmfs)
                if extra.any()
                else self.base_p[h]  # nothing sold: the case's own p, as every unchanged caseworker keeps theirs
            )
            if max(own, self.floor) >= self.alpha:
                out.append(False)
                continue
            changed = np.isin(stratum, stratum[extra > 0])  # only these strata's caseworkers get a new p
            p = dict(self.base_p)
            p[h] = own
            for k in np.unique(arr["handler_id"][changed]):
                if k != h:
                    sel = arr["handler_id"] == k
                    p[k] = _tail(arr["n"][sel], int(x[sel].sum()), arr["N"][sel], D[sel], lf, strata_pmfs)
            p_arr = np.maximum([p[k] for k in handlers], self.floor)
            out.append(bool(holm(p_arr)[np.searchsorted(handlers, h)] < self.alpha))
        return out


PROCESS_FROM = 100
"""From this many caseworkers tested, the simulations are shared with a second process."""
PIECE = 8
"""Simulations sent to the other process at a time: small, so that both processes end together."""


def _detect(test: _Simulations, sims: list[tuple[int, np.ndarray]], caseworkers: int) -> list[bool]:
    """``test(sims)``; with :data:`PROCESS_FROM` caseworkers or more and two cores, shared with another process.

    Testing a simulation is Python and short numpy calls, which hold Python's lock, so a thread
    would not run beside this one; a process does (national: 400 caseworkers, 1,800 simulations,
    about a minute of CPU). Each simulation is tested with the same arithmetic wherever it runs.
    The simulations are cut in pieces of :data:`PIECE`; this process takes them from the first
    on, the other from the last back, until they meet (:func:`~workbench.fairness.processes.shared`
    with ``from_end``): each side keeps its run of neighbouring rates, whose strata's distributions
    repeat (its cache), and both end together. With a fixed half each, the other process worked
    alone for the last 12 s at national, as this one shares its core with the red flags' thread.
    """
    if caseworkers < PROCESS_FROM or cores() < 2 or len(sims) < 2:
        return test(sims)
    pieces = [sims[i : i + PIECE] for i in range(0, len(sims), PIECE)]
    # shared(): the other process exits if this one is killed, and is terminated at once on Ctrl-C here
    found = shared(test, _test_there, pieces, 1, _settle, (test,), from_end=True)
    return [hit for piece in found for hit in piece]


_TEST: _Simulations | None = None
"""In the other process: the simulations' test, sent once as it starts (:func:`_settle`)."""


def _settle(test: _Simulations) -> None:
    global _TEST  # one per child process, set as it starts
    _TEST = test


def _test_there(sims: list[tuple[int, np.ndarray]]) -> list[bool]:
    """:class:`_Simulations` in the other process, with the test it was started with."""
    if _TEST is None:
        raise RuntimeError("a child process of power_curve starts with _settle")
    return _TEST(sims)


def power_curve(
    allocations: pl.DataFrame,
    *,
    rates: tuple[float, ...] = FRAUD_RATES,
    simulations: int = 200,
    alpha: float = 0.01,
    min_effect: float = MIN_EFFECT,
    permutations: int = 20_000,
    seed: int = 1,
    exclude: tuple[int, ...] = (),
) -> pl.DataFrame:
    """Power to flag one corrupt caseworker, per fraud rate: see the module doc.

    ``exclude`` are handler ids not to plant into (notebook 03: all but those the power
    statement covers). Returns ``fraud_rate``, ``power``, ``power_low``, ``power_high``,
    ``simulations`` and ``detected``; with nobody to plant into, 0 simulations and a null power.
    """
    cells = strata_cells(allocations)
    handlers = np.sort(cells["handler_id"].unique().to_numpy())
    base_p = dict(exact_p_values(cells).iter_rows())
    pool = np.array([h for h in handlers if h not in set(exclude)])
    arr = {c: cells[c].to_numpy().astype(np.int64) for c in ("handler_id", "n", "x", "N", "D")}
    keys = cells.select(STRATA).unique(maintain_order=True).with_row_index("_s")
    stratum = cells.join(keys, on=list(STRATA), how="left", maintain_order="left")["_s"].to_numpy().astype(np.int64)
    # The draws, one simulation after another from the one generator, as they always were; then
    # each simulation is tested on its own, so they may be tested in any order or place.
    rng = np.random.default_rng(seed)
    sims: list[tuple[int, np.ndarray]] = []
    for rate in rates:
        for _ in range(simulations if len(pool) else 0):
            h = rng.choice(pool)
            mine = arr["handler_id"] == h
            sims.append((int(h), rng.binomial(arr["n"][mine] - arr["x"][mine], rate)))
    test = _Simulations(arr, stratum, handlers, base_p, 1 / (permutations + 1), alpha, min_effect)
    hits = iter(_detect(test, sims, len(handlers)))
    rows = []
    for rate in rates:
        done = simulations if len(pool) else 0
        rows.append((rate, sum(next(hits) for _ in range(done)), done))
    out = pl.DataFrame(
        rows, schema={"fraud_rate": pl.Float64, "detected": pl.Int64, "simulations": pl.Int64}, orient="row"
    )
    low, high = wilson_interval(pl.col("detected"), pl.col("simulations"))
    return out.select(
        "fraud_rate",
        power=pl.when(pl.col("simulations") > 0).then(pl.col("detected") / pl.col("simulations")),
        power_low=low,
        power_high=high,
        simulations="simulations",
        detected="detected",
    )


def detectable_rate(power: pl.DataFrame, target: float = TARGET_POWER) -> float | None:
    """The smallest simulated fraud rate detected with at least ``target`` power; None if none was."""
    hit = power.filter(pl.col("power") >= target)
    return float(cast(SupportsFloat, hit["fraud_rate"].min())) if hit.height else None
