"""Per-caseworker rates of unexplained deviations, tested against peers within district × year.

**The test.** For caseworker *h* the statistic is their number of unexplained allocations,
``T = Σ_k x_k`` over the strata *k* (district × year) they worked in. Under the null
hypothesis the caseworker label carries no information within a stratum: any allocation
of the stratum could have been any of its caseworkers'. Relabelling allocations at random
within strata is the permutation test; for this statistic each stratum's count is then
hypergeometric, ``x_k ~ Hypergeometric(N_k, D_k, n_k)`` (N_k allocations, D_k of them
unexplained, n_k handled by *h*), independently across strata. So each permutation is
drawn as one hypergeometric number per stratum instead of shuffling rows, and the p-value
is ``(1 + #{T* >= T}) / (1 + permutations)``, one-sided (more deviations than peers).

**p floor.** A permutation p-value cannot go below ``1 / (permutations + 1)``; after Holm's
correction over *m* caseworkers the smallest attainable is ``m / (permutations + 1)``. For
example 1,000 permutations cannot give a corrected p below 0.01 for 40 caseworkers (the
floor is 0.04); 20,000 can (0.002). :func:`review_caseworkers` refuses a number of
permutations whose floor does not reach ``alpha``. :func:`exact_p_values` computes the same
permutation distribution exactly (a convolution of hypergeometric distributions, as R's
``mantelhaen.test(exact=TRUE)``); the power simulation uses it.

**Effect size.** The stratified (Mantel–Haenszel weighted) risk difference: how many more
unexplained allocations per allocation *h* had than their peers in the same districts and
years. Labels: under 0.01 "negligible", then "small", from 0.02 "moderate", from 0.05
"large", from 0.10 "very large". A caseworker is **flagged** when the Holm-corrected p is
below ``alpha`` *and* the effect is at least ``min_effect`` (default 0.02: two more out-of-
order allocations per hundred than peers), so a trivially small excess on a large
workload is not flagged.

**Limits.** A caseworker who alone handled every allocation of their districts and years
has no peers to be compared with (``n_with_peers`` = 0, labelled "no peers to compare"):
the test cannot judge them, and their red flags must. Nor can it judge one with too few
allocations to be flagged even for selling a large share of them: their minimum detectable
effect (:mod:`workbench.fairness.mde`) is above the ceiling. Several corrupt caseworkers in one
small team weaken each other's test the same way, since each is compared with the others.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, SupportsInt, cast

import numpy as np
import polars as pl

from ..errors import WorkbenchError
from ..evidence import PII

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

__all__ = [
    "COLUMNS",
    "DEFAULT_PERMUTATIONS",
    "EFFECT_LABELS",
    "MIN_EFFECT",
    "NO_PEERS",
    "RATE_BANDS",
    "STRATA",
    "effect_label",
    "exact_p_values",
    "holm",
    "p_floor",
    "permutation_p_values",
    "permutations_for",
    "rate_band",
    "review_caseworkers",
    "risk_difference",
    "strata_cells",
    "wilson_interval",
]

STRATA: tuple[str, ...] = ("district", "year")
MIN_EFFECT = 0.02
EFFECT_LABELS: tuple[tuple[float, str], ...] = (
    (0.10, "very large"),
    (0.05, "large"),
    (0.02, "moderate"),
    (0.01, "small"),
    (-math.inf, "negligible"),
)
"""(lower bound of the risk difference, label), checked from the top."""
NO_PEERS = "no peers to compare"
"""Effect label of a caseworker who alone handled every allocation of their districts and years."""
COLUMNS: dict[str, PII] = {
    "n_allocations": PII.NONE,
    "n_with_peers": PII.NONE,
    "n_unexplained": PII.NONE,
    "rate": PII.NONE,
    "rate_low": PII.NONE,
    "rate_high": PII.NONE,
    "peer_rate": PII.NONE,
    "threshold": PII.NONE,
    "effect": PII.NONE,
    "effect_label": PII.NONE,
    "p_value": PII.NONE,
    "p_holm": PII.NONE,
    "flagged": PII.NONE,
}
"""Personal-data tags of the derived columns of :func:`review_caseworkers`."""


def strata_cells(allocations: pl.DataFrame, unexplained: pl.Expr | None = None) -> pl.DataFrame:
    """One row per caseworker and stratum: ``n``, ``x`` (theirs), ``N``, ``D`` (the stratum's).

    ``allocations`` has ``handler_id``, the :data:`STRATA` columns and ``outcome`` (or pass
    ``unexplained``, a boolean expression).
    """
    flag = (pl.col("outcome") == "unexplained") if unexplained is None else unexplained
    cells = allocations.group_by("handler_id", *STRATA).agg(n=pl.len().cast(pl.Int64), x=flag.sum().cast(pl.Int64))
    return cells.with_columns(N=pl.col("n").sum().over(STRATA), D=pl.col("x").sum().over(STRATA)).sort(
        "handler_id", *STRATA
    )


def _arrays(cells: pl.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(cells[c].to_numpy().astype(np.int64) for c in ("n", "x", "N", "D"))


def permutation_p_values(cells: pl.DataFrame, permutations: int, seed: int) -> pl.DataFrame:
    """Monte Carlo permutation p-value per caseworker: ``handler_id``, ``p_value``.

    Each of the ``permutations`` relabellings draws every informative stratum's count from
    its hypergeometric distribution (the exact law of the count under relabelling).
    """
    rng = np.random.default_rng(seed)
    out = []
    for (handler,), part in cells.group_by("handler_id", maintain_order=True):
        n, x, N, D = _arrays(part)
        t = int(x.sum())
        informative = (n < N) & (D > 0) & (n > 0)
        fixed = int(D[(n == N)].sum())  # a stratum h worked alone: its deviations are theirs under any labelling
        if t == 0 or t <= fixed:
            out.append((handler, 1.0))
            continue
        draws = (
            rng.hypergeometric(
                D[informative],
                N[informative] - D[informative],
                n[informative],
                size=(permutations, int(informative.sum())),
            ).sum(axis=1)
            + fixed
        )
        out.append((handler, (1 + int((draws >= t).sum())) / (permutations + 1)))
    return pl.DataFrame(out, schema={"handler_id": pl.Int64, "p_value": pl.Float64}, orient="row")


def _log_factorials(top: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1, dtype=np.float64)))])


def _pmf(nk: int, Nk: int, Dk: int, lf: np.ndarray) -> tuple[int, np.ndarray | None]:
    """Hypergeometric(Nk, Dk, nk) as (its least value, its probabilities from there; None when it has one value)."""
    lo, hi = max(0, nk - (Nk - Dk)), min(nk, Dk)
    if lo == hi:
        return lo, None
    k = np.arange(lo, hi + 1)
    logp = (
        lf[Dk] - lf[k] - lf[Dk - k] + lf[Nk - Dk] - lf[nk - k] - lf[Nk - Dk - nk + k] - (lf[Nk] - lf[nk] - lf[Nk - nk])
    )
    return lo, np.exp(logp)


def _tail(
    n: np.ndarray,
    x_total: int,
    N: np.ndarray,
    D: np.ndarray,
    lf: np.ndarray,
    cache: dict[tuple[int, int, int], tuple[int, np.ndarray | None]] | None = None,
) -> float:
    """P(Σ X_k >= x_total) for independent X_k ~ Hypergeometric(N_k, D_k, n_k).

    ``cache`` keeps each stratum's distribution by (n_k, N_k, D_k) between calls: the power
    simulation asks for thousands of tails whose strata mostly repeat.
    """
    shift = 0
    pmf = np.ones(1)
    for nk, Nk, Dk in zip(n.tolist(), N.tolist(), D.tolist(), strict=True):
        if cache is None:
            lo, part = _pmf(nk, Nk, Dk, lf)
        else:
            key = (nk, Nk, Dk)
            if key not in cache:
                cache[key] = _pmf(nk, Nk, Dk, lf)
            lo, part = cache[key]
        shift += lo
        if part is not None:
            pmf = np.convolve(pmf, part)
    need = x_total - shift
    if need <= 0:
        return 1.0
    return float(min(1.0, pmf[need:].sum())) if need < len(pmf) else 0.0


def exact_p_values(cells: pl.DataFrame) -> pl.DataFrame:
    """The permutation p-value computed exactly, per caseworker: ``handler_id``, ``p_exact``."""
    lf = _log_factorials(int(cast(SupportsInt, cells["N"].max() or 0)))
    out = []
    for (handler,), part in cells.group_by("handler_id", maintain_order=True):
        n, x, N, D = _arrays(part)
        out.append((handler, _tail(n, int(x.sum()), N, D, lf)))
    return pl.DataFrame(out, schema={"handler_id": pl.Int64, "p_exact": pl.Float64}, orient="row")


def holm(p: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order (family-wise error control)."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def risk_difference(cells: pl.DataFrame) -> pl.DataFrame:
    """Per caseworker: ``effect`` (MH-weighted risk difference vs peers) and ``peer_rate``.

    ``peer_rate`` is the peers' rate in the caseworker's strata, weighted by the caseworker's
    own allocations there: the rate they would have had doing as their peers did. Strata
    where a caseworker worked alone carry no comparison and weigh nothing.
    """
    peers_n, peers_x = pl.col("N") - pl.col("n"), pl.col("D") - pl.col("x")
    informative = cells.filter(peers_n > 0)
    w = pl.col("n") * peers_n / pl.col("N")
    effect = (w * (pl.col("x") / pl.col("n") - peers_x / peers_n)).sum() / w.sum()
    peer_rate = (pl.col("n") * peers_x / peers_n).sum() / pl.col("n").sum()
    out = informative.group_by("handler_id").agg(effect=effect, peer_rate=peer_rate)
    return (
        cells.select("handler_id")
        .unique()
        .join(out, on="handler_id", how="left")
        .with_columns(pl.col("effect", "peer_rate").fill_null(0.0))
    )


def effect_label(effect: float) -> str:
    """Plain-language strength of a risk difference, e.g. 0.03 -> "moderate"."""
    for low, label in EFFECT_LABELS:
        if effect >= low:
            return label
    return EFFECT_LABELS[-1][1]


def _label_expr(effect: pl.Expr) -> pl.Expr:
    """:func:`effect_label` as an expression."""
    (_, first), *rest = EFFECT_LABELS
    chain: Then | ChainedThen = pl.when(effect >= EFFECT_LABELS[0][0]).then(pl.lit(first))
    for low, label in rest:
        chain = chain.when(effect >= low).then(pl.lit(label))
    return chain.otherwise(pl.lit(EFFECT_LABELS[-1][1]))


RATE_BANDS: tuple[float, ...] = (0.0, 0.05, 0.10, 0.20, 0.50, 1.0)
"""Edges of the bands the public sees a caseworker's rate in (docs/disclosure.md, "Rates per caseworker"):
0–5 %, 5–10 %, 10–20 %, 20–50 % and 50–100 %; a rate on an edge is in the band above it (100 % in the last)."""


def rate_band(rate: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The band of :data:`RATE_BANDS` ``rate`` lies in: its label ("10–20%", "10–20 %" in Swedish), from, to."""
    from ..wording import say

    low: pl.Expr = pl.lit(RATE_BANDS[0])
    high: pl.Expr = pl.lit(RATE_BANDS[1])
    for edge, top in itertools.pairwise(RATE_BANDS):
        above = rate >= edge
        low, high = pl.when(above).then(pl.lit(edge)).otherwise(low), pl.when(above).then(pl.lit(top)).otherwise(high)
    labels = {
        (a, b): say("rate_band", low=round(100 * a), high=round(100 * b)) for a, b in itertools.pairwise(RATE_BANDS)
    }
    label = pl.lit(None, pl.String)
    for (a, _), text in labels.items():
        label = pl.when(low == a).then(pl.lit(text)).otherwise(label)
    return label, low, high


def p_floor(permutations: int, caseworkers: int) -> tuple[float, float]:
    """Smallest attainable p-value, raw and after Holm over ``caseworkers`` tests."""
    raw = 1 / (permutations + 1)
    return raw, min(1.0, caseworkers * raw)


def wilson_interval(x: pl.Expr, n: pl.Expr, z: float = 1.96) -> tuple[pl.Expr, pl.Expr]:
    """95 % Wilson score interval of a proportion x / n (good near 0, unlike the normal one)."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).sqrt()) / (1 + z * z / n)
    low = pl.when(x == 0).then(0.0).otherwise((centre - half).clip(lower_bound=0.0))
    high = pl.when(x == n).then(1.0).otherwise((centre + half).clip(upper_bound=1.0))
    return low, high


DEFAULT_PERMUTATIONS = 20_000


def permutations_for(caseworkers: int, alpha: float) -> int:
    """Permutations per caseworker test when none are given: 20,000, or more where ``caseworkers`` need them.

    The Holm-corrected floor ``caseworkers / (permutations + 1)`` must fall below ``alpha``
    (:func:`check_permutations`); for more caseworkers than 20,000 serve (over 200 at alpha 0.01, a
    national case has about 400) it is the fewest that do, with a quarter more, in tens of
    thousands: 50,000 for 400 caseworkers.
    """
    need = math.ceil(caseworkers / alpha)
    return DEFAULT_PERMUTATIONS if need <= DEFAULT_PERMUTATIONS else math.ceil(need * 1.25 / 10_000) * 10_000


def check_permutations(permutations: int, caseworkers: int, alpha: float) -> None:
    """Refuse ``permutations`` whose Holm-corrected floor (:func:`p_floor`) for ``caseworkers`` does not reach ``alpha``."""
    _, floor = p_floor(permutations, caseworkers)
    if caseworkers and floor >= alpha:
        need = math.ceil(caseworkers / alpha)
        raise WorkbenchError(
            f"permutations={permutations} cannot give a Holm-corrected p below alpha={alpha} for {caseworkers} "
            f"caseworkers (the floor is {floor:.3g}); use permutations >= {need}"
        )


def review_caseworkers(
    allocations: pl.DataFrame,
    *,
    alpha: float = 0.01,
    min_effect: float = MIN_EFFECT,
    permutations: int = 20_000,
    seed: int = 1,
) -> pl.DataFrame:
    """Rates, test, Holm correction, effect size and flag for every caseworker with allocations.

    ``allocations`` is :attr:`workbench.fairness.Replay.allocations`. Returns one row per
    caseworker, sorted by corrected p then effect, with :data:`COLUMNS` besides
    ``handler_id``; ``threshold`` is ``peer_rate + min_effect``, the rate at which the
    effect reaches the minimum.
    """
    cells = strata_cells(allocations)
    check_permutations(permutations, cells["handler_id"].n_unique(), alpha)
    per = cells.group_by("handler_id").agg(
        n_allocations=pl.col("n").sum(),
        n_unexplained=pl.col("x").sum(),
        n_with_peers=pl.col("n").filter(pl.col("n") < pl.col("N")).sum(),
    )
    low, high = wilson_interval(pl.col("n_unexplained"), pl.col("n_allocations"))
    out = (
        per.join(risk_difference(cells), on="handler_id")
        .join(permutation_p_values(cells, permutations, seed), on="handler_id")
        .sort("handler_id")
    )
    out = out.with_columns(p_holm=pl.Series(holm(out["p_value"].to_numpy())))
    return out.select(
        "handler_id",
        "n_allocations",
        "n_unexplained",
        "n_with_peers",
        rate=pl.col("n_unexplained") / pl.col("n_allocations"),
        rate_low=low,
        rate_high=high,
        peer_rate="peer_rate",
        threshold=pl.col("peer_rate") + min_effect,
        effect="effect",
        effect_label=pl.when(pl.col("n_with_peers") == 0)
        .then(pl.lit(NO_PEERS))
        .otherwise(_label_expr(pl.col("effect"))),
        p_value="p_value",
        p_holm="p_holm",
        flagged=(pl.col("p_holm") < alpha) & (pl.col("effect") >= min_effect),
    ).sort("p_holm", pl.col("effect"), "handler_id", descending=[False, True, False])
