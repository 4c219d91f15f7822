"""How narrowly a reader can pin hidden numbers, from the linear relations they know.

Each hidden cell has the bounds its label gives (``"1–4"``: 1 to 4; ``"[suppressed]"``:
the threshold or more); each relation says that a weighted sum of hidden cells equals a
known number (a total minus its visible parts, a share times a visible count). Interval
propagation tightens every cell's bounds from every relation until nothing changes, as a
reader differencing totals would. It imports nothing from workbench and needs no solver.

The cost is linear in a relation's length per visit (the range of "the others" is the
relation's whole range less the cell's own share), and a relation is visited again only
when one of its cells was narrowed (a work list), so a table of many cells with one long
line (a count column's total) costs about as many steps as it has cells, not their square.
The narrowing is monotone, so the bounds it ends at do not depend on the visiting order.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

__all__ = ["Relation", "narrowed", "propagate", "width"]

K = TypeVar("K", bound=Hashable)
Relation = tuple[Mapping[K, float], float]
"""``({cell: coefficient}, known)``: the sum of coefficient × cell equals ``known``."""

_ROUNDS = 200
"""At most this many visits per relation (as many as full sweeps over every relation)."""

calls = 0
"""How many times :func:`propagate` ran in this process: a cost a test can bound without a clock."""


def _sums(terms: list[tuple[K, float]], lo: dict[K, float], hi: dict[K, float]) -> list[float]:
    """The range of Σ a·x over ``terms``: [finite low, -inf parts, finite high, +inf parts]."""
    low = high = 0.0
    neg = pos = 0
    for c, a in terms:
        x, y = (a * lo[c], a * hi[c]) if a > 0 else (a * hi[c], a * lo[c])
        if x == -math.inf:
            neg += 1
        else:
            low += x
        if y == math.inf:
            pos += 1
        else:
            high += y
    return [low, neg, high, pos]


def propagate(
    bounds: Mapping[K, tuple[float, float]], relations: Sequence[Relation[K]]
) -> dict[K, tuple[float, float]]:
    """The tightest bounds interval propagation reaches; integer cells, so bounds are rounded inwards.

    A lower bound is finite or -inf and an upper bound finite or +inf (a reader's bounds).
    """
    global calls
    calls += 1
    inf = math.inf
    lo = {c: float(b[0]) for c, b in bounds.items()}
    hi = {c: float(b[1]) for c, b in bounds.items()}
    rels: list[tuple[list[tuple[K, float]], float]] = []
    touching: dict[K, list[int]] = {}
    for given, total in relations:
        kept = [(c, float(a)) for c, a in given.items() if a]
        if kept:
            for c, _ in kept:
                touching.setdefault(c, []).append(len(rels))
            rels.append((kept, float(total)))
    queue = deque(range(len(rels)))
    queued = [True] * len(rels)
    budget = _ROUNDS * len(rels)
    while queue and budget:
        budget -= 1
        i = queue.popleft()
        queued[i] = False
        terms, known = rels[i]
        low_sum, neg, high_sum, pos = _sums(terms, lo, hi)
        narrowed_here = []
        for cell, a in terms:
            # a·x = known - Σ others; the others' range (the whole sum less x's part) gives x's range.
            own_lo, own_hi = (a * lo[cell], a * hi[cell]) if a > 0 else (a * hi[cell], a * lo[cell])
            if own_lo == -inf:
                rest_lo = -inf if neg > 1 else low_sum
            else:
                rest_lo = -inf if neg else low_sum - own_lo
            if own_hi == inf:
                rest_hi = inf if pos > 1 else high_sum
            else:
                rest_hi = inf if pos else high_sum - own_hi
            low, high = (known - rest_hi) / a, (known - rest_lo) / a
            if a < 0:
                low, high = high, low
            new_lo = max(lo[cell], math.ceil(low - 1e-9) if low != -inf else low)
            new_hi = min(hi[cell], math.floor(high + 1e-9) if high != inf else high)
            if new_lo > lo[cell] or new_hi < hi[cell]:
                lo[cell], hi[cell] = new_lo, new_hi
                low_sum, neg, high_sum, pos = _moved([low_sum, neg, high_sum, pos], a, own_lo, own_hi, new_lo, new_hi)
                narrowed_here.append(cell)
        for cell in narrowed_here:
            for j in touching[cell]:
                if not queued[j]:
                    queued[j] = True
                    queue.append(j)
    return {c: (lo[c], hi[c]) for c in bounds}


def _moved(sums: list, a: float, own_lo: float, own_hi: float, new_lo: float, new_hi: float) -> list:
    """``sums`` (of :func:`_sums`) after one cell's part moved from [own_lo, own_hi] to a·[new_lo, new_hi]."""
    low_sum, neg, high_sum, pos = sums
    part_lo, part_hi = (a * new_lo, a * new_hi) if a > 0 else (a * new_hi, a * new_lo)
    if own_lo == -math.inf:
        neg -= 1
    else:
        low_sum -= own_lo
    if part_lo == -math.inf:
        neg += 1
    else:
        low_sum += part_lo
    if own_hi == math.inf:
        pos -= 1
    else:
        high_sum -= own_hi
    if part_hi == math.inf:
        pos += 1
    else:
        high_sum += part_hi
    return [low_sum, neg, high_sum, pos]


def width(interval: tuple[float, float]) -> float:
    """How many whole numbers ``interval`` holds (infinite when unbounded)."""
    low, high = interval
    return math.inf if math.isinf(high) or math.isinf(low) else max(0.0, high - low + 1)


def narrowed(found: Mapping[K, tuple[float, float]], least: int) -> list[K]:
    """The cells a reader can pin to fewer than ``least`` possible values."""
    return [c for c, interval in found.items() if width(interval) < least]
