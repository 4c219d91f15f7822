"""The smallest fraud the caseworker test could have seen, caseworker by caseworker.

**Model.** The same as the power curve's (:mod:`workbench.fairness.power`), for one
caseworker *h* at a time: *h* sells a share ``δ`` of their allocations that were not
already unexplained departures, so in stratum *k* (district × year) their count becomes
``x_k + Binomial(n_k - x_k, δ)``. Their peers stay as the case has them. It answers the
verdict's question for *h* as recorded: had they also sold ``δ`` of their allocations,
would the test have flagged them?

**The test** is the one :func:`~workbench.fairness.caseworkers.review_caseworkers` applies:
the exact permutation p of ``T = Σ x_k`` given each stratum's total, held at the Monte Carlo
floor ``1 / (permutations + 1)``; Holm over the ``m`` caseworkers tested, taken at its first
step (``m · p < alpha``: a lone corrupt caseworker is the most significant one, and for any
other rank Holm's threshold is no stricter); and the effect (risk difference against
peers) at least ``min_effect``. Strata *h* worked alone carry no comparison and are left out.

**Minimum detectable effect (MDE).** The smallest ``δ`` on a grid of :data:`STEP` at which
*h* is flagged with probability at least :data:`~workbench.fairness.power.TARGET_POWER`
(80 %). Being flagged only gets likelier as ``δ`` grows, so the grid is searched, not
walked. ``None`` when even selling every allocation would not get *h* flagged.

**Computed** exactly when *h* has at most :data:`EXACT_LIMIT` possible outcomes
(``Π (n_k + 1)``): each outcome is tested once and the power at ``δ`` is the binomial
probability of the flagged ones. Otherwise from :data:`DRAWS` outcomes drawn by inverse
binomial CDFs from uniforms seeded with ``(seed, h)`` and reused at every ``δ``, so the
estimate is deterministic and also grows with ``δ`` (standard error under one percentage
point of power near 80 %). The search only asks whether a share reaches the target, so the
draws are tested until the count of flagged ones settles that (:class:`_Draws`).

**Judged.** A caseworker with peers, not flagged, whose MDE is above the ceiling
(:data:`MDE_CEILING`, notebook 03's ``mde_ceiling``) or ``None`` is reported as
"too few allocations to judge (n = …)", n counting their allocations that had peers. The
power statement covers the others with peers who were not flagged: for each of them, a
fraud of the largest of their MDEs is flagged with at least 80 % power.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import SupportsInt, cast

import numpy as np
import polars as pl

from ..evidence import PII
from ..i18n import translate
from ..values import format_percent
from .caseworkers import STRATA, _log_factorials, strata_cells
from .power import TARGET_POWER
from .processes import shared
from .tails import BLOCK, tails
from .threads import cores, in_threads

__all__ = [
    "COLUMNS",
    "DRAWS",
    "EXACT_LIMIT",
    "MDE_CEILING",
    "PROCESS_FROM",
    "STEP",
    "TOO_FEW",
    "judge",
    "minimum_detectable_effects",
    "power_statement",
    "too_few_label",
]

MDE_CEILING = 0.2
"""Default ceiling: a caseworker whose MDE is above it is too small to judge."""
STEP = 0.005
"""Resolution of the MDE: half a percentage point of a caseworker's allocations."""
EXACT_LIMIT = 4096
"""Up to this many possible outcomes the power is computed exactly, otherwise simulated."""
DRAWS = 2000
"""Simulated outcomes per caseworker when there are more than :data:`EXACT_LIMIT`."""
TOO_FEW = "too few allocations to judge"
"""Start of the effect label of a caseworker whose MDE is above the ceiling."""
COLUMNS: dict[str, PII] = {"mde": PII.NONE, "covered": PII.NONE, "too_few": PII.NONE}
"""Personal-data tags of the columns :func:`judge` adds."""
PROCESS_FROM = 30
"""From this many caseworkers with peers, their searches are shared with child processes (fewer: threads)."""


def too_few_label(n: int) -> str:
    """The effect label of a caseworker too small to judge, e.g. "too few allocations to judge (n = 2)"."""
    return f"{TOO_FEW} (n = {n})"


@dataclass(frozen=True)
class _Design:
    """One caseworker's strata with peers: their allocations ``n`` and unexplained ``x``, the peers' ``P``, the total ``N``."""

    n: np.ndarray
    x: np.ndarray
    P: np.ndarray
    N: np.ndarray
    m: int
    alpha: float
    min_effect: float
    floor: float
    lf: np.ndarray

    def flagged(self, X: np.ndarray) -> np.ndarray:
        """Whether each outcome (a row of unexplained counts per stratum) gets the caseworker flagged."""
        out = self.large(X)
        if out.any():
            out[out] = self.significant(X[out])
        return out

    def large(self, X: np.ndarray) -> np.ndarray:
        """Whether each outcome's effect (risk difference against peers) is at least ``min_effect``: a row's own arithmetic."""
        peers = self.N - self.n
        w = self.n * peers / self.N
        effect = (w * (X / self.n - self.P / peers)).sum(axis=1) / w.sum()
        return effect >= self.min_effect

    def significant(self, X: np.ndarray) -> np.ndarray:
        """Whether each outcome's p, held at the floor, passes Holm's first step (``m · p < alpha``)."""
        return self.m * np.maximum(tails(self, X), self.floor) < self.alpha


def _binomial(n: int, prob: float, lf: np.ndarray) -> np.ndarray:
    """Binomial(n, prob) probabilities of 0..n."""
    x = np.arange(n + 1)
    if prob >= 1.0:
        return (x == n).astype(np.float64)
    if prob <= 0.0:
        return (x == 0).astype(np.float64)
    return np.exp(lf[n] - lf[x] - lf[n - x] + x * math.log(prob) + (n - x) * math.log1p(-prob))


def _power_function(d: _Design, seed: int, handler: int) -> Callable[[float], float]:
    """Power at a fraud share δ: exact over every outcome, or over :data:`DRAWS` reused draws."""
    free = d.n - d.x  # allocations that could still be sold
    if math.prod(int(f) + 1 for f in free) <= EXACT_LIMIT:
        return _exact(d)
    draws = _Draws(d, seed, handler)
    return lambda delta: draws.flagged(delta) / DRAWS


def _reaches_function(d: _Design, seed: int, handler: int, target: float) -> Callable[[float], bool]:
    """Whether the power at a fraud share δ is at least ``target``: :func:`_power_function`'s answer, sooner.

    Simulated, the count of flagged draws settles the question before every draw is tested:
    once enough are flagged, or too few are left to be. The answer is the same as comparing
    the full power with ``target``.
    """
    free = d.n - d.x
    if math.prod(int(f) + 1 for f in free) <= EXACT_LIMIT:
        exact = _exact(d)
        return lambda delta: exact(delta) >= target
    draws = _Draws(d, seed, handler)
    need = _needed(target)
    return lambda delta: draws.flagged(delta, need) >= need


def _needed(target: float) -> int:
    """The fewest flagged draws of :data:`DRAWS` whose share is at least ``target``, as the share is computed."""
    need = max(0, math.ceil(target * DRAWS) - 1)
    while need <= DRAWS and need / DRAWS < target:
        need += 1
    return need


def _exact(d: _Design) -> Callable[[float], float]:
    """The power at a share, exactly: every possible outcome tested once, weighted by its binomial probability."""
    free = d.n - d.x
    sold = np.array(list(itertools.product(*(range(int(f) + 1) for f in free))), dtype=np.int64)
    hits = sold[d.flagged(d.x + sold)].reshape(-1, len(free))

    def exact(delta: float) -> float:
        prob = np.ones(hits.shape[0])
        for k, f in enumerate(free):
            prob *= _binomial(int(f), delta, d.lf)[hits[:, k]]
        return float(prob.sum())

    return exact


class _Draws:
    """:data:`DRAWS` outcomes per share from uniforms seeded with ``(seed, handler)``, the same at every share.

    An outcome's verdict is kept once tested (nearby shares draw mostly the same outcomes).
    Only outcomes whose effect is large enough are tested for significance, those most draws
    share first, :data:`BLOCK` at a time.
    """

    def __init__(self, d: _Design, seed: int, handler: int) -> None:
        self.d = d
        self.free = d.n - d.x
        self.uniforms = np.random.default_rng([seed, handler]).random((DRAWS, len(self.free)))
        self.seen: dict[bytes, bool] = {}  # an outcome with a large enough effect -> significant

    def outcomes(self, delta: float) -> np.ndarray:
        """The draws' outcomes at share ``delta``: unexplained counts per stratum, a row per draw."""
        d, X = self.d, np.empty(self.uniforms.shape, dtype=np.int64)
        for k, f in enumerate(self.free):
            cdf = np.cumsum(_binomial(int(f), delta, d.lf))
            X[:, k] = d.x[k] + np.minimum(np.searchsorted(cdf, self.uniforms[:, k], side="right"), f)
        return X

    def flagged(self, delta: float, need: int | None = None) -> int:
        """How many draws at ``delta`` are flagged; with ``need``, counted only until it is known whether at least ``need`` are."""
        X = self.outcomes(delta)
        X = X[self.d.large(X)]
        counts: dict[bytes, int] = {}
        first: dict[bytes, int] = {}
        for i, row in enumerate(X):
            key = row.tobytes()
            if key in counts:
                counts[key] += 1
            else:
                counts[key], first[key] = 1, i
        known = sum(c for key, c in counts.items() if self.seen.get(key))
        todo = sorted((key for key in counts if key not in self.seen), key=counts.__getitem__, reverse=True)
        left = sum(counts[key] for key in todo)
        for start in range(0, len(todo), BLOCK):
            if need is not None and (known >= need or known + left < need):
                break
            chunk = todo[start : start + BLOCK]
            for key, hit in zip(chunk, self.d.significant(X[[first[key] for key in chunk]]).tolist(), strict=True):
                self.seen[key] = hit
                left -= counts[key]
                known += counts[key] if hit else 0
        return known


def _search(reaches: Callable[[float], bool]) -> float | None:
    """Smallest grid share whose power reaches the target (power grows with the share), None if not even 1."""
    top = round(1 / STEP)
    if not reaches(1.0):
        return None
    low, high = (
        0,
        top,
    )  # δ = low * STEP does not reach the target (δ = 0 is the test's size, below any target), high * STEP does
    probe = 1
    while probe < top:  # gallop up from the smallest share: cheap outcomes first
        if reaches(probe * STEP):
            high = probe
            break
        low, probe = probe, probe * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if reaches(mid * STEP) else (mid, high)
    return round(high * STEP, 6)


def minimum_detectable_effects(
    allocations: pl.DataFrame,
    *,
    alpha: float = 0.01,
    min_effect: float = 0.02,
    permutations: int = 20_000,
    seed: int = 1,
    target: float = TARGET_POWER,
    workers: int | None = None,
) -> pl.DataFrame:
    """Per caseworker (``handler_id``): ``mde``, the smallest share sold that is flagged with ``target`` power.

    ``allocations`` is :attr:`workbench.fairness.Replay.allocations`; the parameters are
    those of the test (:func:`~workbench.fairness.caseworkers.review_caseworkers`). ``mde``
    is null for a caseworker without peers or who could not be flagged at any share. ``workers``
    caseworkers are searched at a time (None: one per core, :func:`workbench.fairness.threads.cores`):
    from :data:`PROCESS_FROM` caseworkers with peers, in this process and ``workers - 1`` spawned
    ones, otherwise on threads; the result does not depend on it.
    """
    cells = strata_cells(allocations)
    m = cells["handler_id"].n_unique()
    lf = _log_factorials(int(cast(SupportsInt, cells["N"].max() or 0)))
    test = _Test(m, alpha, min_effect, 1 / (permutations + 1), lf, seed, target)
    designs: list[_Item] = []
    for (handler,), part in cells.filter(pl.col("n") < pl.col("N")).group_by("handler_id", maintain_order=True):
        part = part.sort(*STRATA)
        n, x, N, D = (part[c].to_numpy().astype(np.int64) for c in ("n", "x", "N", "D"))
        designs.append((int(handler), n, x, D - x, N))
    workers = cores() if workers is None else workers
    # Each caseworker's search reads only their own design and seed, so they run side by side, each
    # with the same arithmetic as alone. The convolutions loop over a kernel's bins in Python, so
    # threads take turns on Python's lock (national: 1.4 of 2 cores busy): from PROCESS_FROM
    # caseworkers, the searches are shared with workers - 1 spawned processes, sent only their
    # designs (a few small arrays each), the costliest first (strata × allocations).
    if workers > 1 and len(designs) >= PROCESS_FROM:
        order = sorted(range(len(designs)), key=lambda i: -len(designs[i][1]) * int(designs[i][1].sum()))
        found = shared(test.mde, _mde_there, [designs[i] for i in order], workers - 1, _settle, (test,))
        mdes: list[float | None] = [None] * len(designs)
        for i, value in zip(order, found, strict=True):
            mdes[i] = value
    else:
        mdes = list(in_threads(test.mde, designs, workers))
    out = pl.DataFrame(
        [(item[0], value) for item, value in zip(designs, mdes, strict=True)],
        schema={"handler_id": pl.Int64, "mde": pl.Float64},
        orient="row",
    )
    return cells.select("handler_id").unique().join(out, on="handler_id", how="left").sort("handler_id")


_Item = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""One caseworker's search: handler id, and per stratum with peers their ``n``, ``x``, the peers' ``P``, the total ``N``."""


@dataclass(frozen=True)
class _Test:
    """What every caseworker's search shares: the test's settings, the log factorials, the seed and target power."""

    m: int
    alpha: float
    min_effect: float
    floor: float
    lf: np.ndarray
    seed: int
    target: float

    def mde(self, item: _Item) -> float | None:
        """The caseworker's MDE: the same arithmetic in this process or a child."""
        handler, n, x, P, N = item
        design = _Design(n, x, P, N, self.m, self.alpha, self.min_effect, self.floor, self.lf)
        return _search(_reaches_function(design, self.seed, handler, self.target))


_TEST: _Test | None = None
"""In a child process: the searches' shared settings, sent once when it starts (:func:`_settle`)."""


def _settle(test: _Test) -> None:
    global _TEST  # one per child process, set as it starts
    _TEST = test


def _mde_there(item: _Item) -> float | None:
    """:meth:`_Test.mde` in a child process, with the settings it was started with."""
    if _TEST is None:
        raise RuntimeError("a child process of minimum_detectable_effects starts with _settle")
    return _TEST.mde(item)


def judge(caseworkers: pl.DataFrame, mde: pl.DataFrame, ceiling: float = MDE_CEILING) -> pl.DataFrame:
    """``caseworkers`` (of :func:`review_caseworkers`) with ``mde``, ``covered`` and ``too_few``, in its order.

    ``too_few``: has peers, not flagged, and an MDE above ``ceiling`` (or none); the effect
    label then reads "too few allocations to judge (n = …)", in English (the views translate it). ``covered``: has peers, not
    flagged, and an MDE at most ``ceiling``: the caseworkers the power statement is about.
    """
    has_peers = pl.col("n_with_peers") > 0
    judged = caseworkers.join(mde, on="handler_id", how="left", maintain_order="left")
    covered = has_peers & ~pl.col("flagged") & (pl.col("mde") <= ceiling).fill_null(False)
    too_few = has_peers & ~pl.col("flagged") & ~(pl.col("mde") <= ceiling).fill_null(False)
    # English, whatever the report's language: the analysis runs once for every copy of a run;
    # the views translate (workbench.fairness.views.caseworker_rates)
    label = pl.format(f"{TOO_FEW} (n = {{}})", "n_with_peers")
    return judged.with_columns(covered=covered, too_few=too_few).with_columns(
        effect_label=pl.when("too_few").then(label).otherwise("effect_label")
    )


def power_statement(*, named: bool, covered: bool, too_few: bool) -> str:
    """The verdict's sentences on power (a ``Findings.say`` template): whom the claim covers, who is too small.

    ``named``: the audience sees who (``caseworkers_power_covers`` is a list); ``covered`` and
    ``too_few``: whether anyone is. Refers to the figures of ``FairnessReview.power_findings``.
    """
    # each piece in the report's language (translate() looks its English up in sv.yaml); "{power}" is
    # the target power, a level set, written whole as every other text names it ("80 %", not "80,0 %"),
    # filled in here, not by Findings.say
    if covered:
        text = translate("How large a fraud could the test have seen? ") + (
            translate(
                "For each of caseworkers {caseworkers_power_covers} (those not flagged with enough allocations to judge), "
            )
            if named
            else translate(
                "For each of the {caseworkers_power_covers} caseworker(s) not flagged with enough allocations to judge, "
            )
        )
        text += translate(
            "selling {detectable_fraud_percent} of their allocations out of queue order would have got them "
            "flagged with at least {power} power. "
        )
    else:
        text = translate(
            "The test cannot say how large a fraud it could have seen: no caseworker who was not flagged had both "
            "peers to compare with and enough allocations for a fraud of {mde_ceiling_percent} of them to be "
            "flagged with {power} power. "
        )
    if too_few:
        text += translate(
            "No power claim covers the {caseworkers_too_few_to_judge} caseworker(s) with too few allocations "
            "to judge ({caseworkers_too_few_named}): even selling {mde_ceiling_percent} of their allocations would "
            "not have got them flagged with {power} power. Their red flags, if any, are on the timeline below."
            if named
            else "No power claim covers the {caseworkers_too_few_to_judge} caseworker(s) with too few allocations "
            "to judge: even selling {mde_ceiling_percent} of their allocations would not have got them flagged with "
            "{power} power. Their red flags, if any, are on the timeline below."
        )
    text = text.replace("{power}", format_percent(100 * TARGET_POWER, decimals=0))  # as the text types it: "80 %"
    return text.rstrip()
