"""How narrowly a reader can pin hidden numbers, from the linear relations they know.

Each hidden cell has the bounds its label gives (``"1–4"``: 1 to 4; ``"[suppressed]"``:
the threshold or more); each relation says that a weighted sum of hidden cells equals a
known number (a total minus its visible parts, a share times a visible count). Interval
propagation tightens every cell's bounds from every relation until nothing changes, as a
reader differencing totals would. It imports nothing from workbench and needs no solver.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

__all__ = ["Relation", "narrowed", "propagate", "width"]

K = TypeVar("K", bound=Hashable)
Relation = tuple[Mapping[K, float], float]
"""``({cell: coefficient}, known)``: the sum of coefficient × cell equals ``known``."""

_ROUNDS = 200


def propagate(
    bounds: Mapping[K, tuple[float, float]], relations: Sequence[Relation[K]]
) -> dict[K, tuple[float, float]]:
    """The tightest bounds interval propagation reaches; integer cells, so bounds are rounded inwards."""
    lo = {c: float(b[0]) for c, b in bounds.items()}
    hi = {c: float(b[1]) for c, b in bounds.items()}
    for _ in range(_ROUNDS):
        changed = False
        for terms, known in relations:
            terms = {c: a for c, a in terms.items() if a}
            for cell, a in terms.items():
                # a·x = known - Σ others; the others' range gives x's range.
                rest_lo = rest_hi = 0.0
                for other, b in terms.items():
                    if other == cell:
                        continue
                    lo_b, hi_b = (b * lo[other], b * hi[other]) if b > 0 else (b * hi[other], b * lo[other])
                    rest_lo += lo_b
                    rest_hi += hi_b
                low, high = (known - rest_hi) / a, (known - rest_lo) / a
                if a < 0:
                    low, high = high, low
                new_lo = max(lo[cell], math.ceil(low - 1e-9) if math.isfinite(low) else low)
                new_hi = min(hi[cell], math.floor(high + 1e-9) if math.isfinite(high) else high)
                if new_lo > lo[cell] or new_hi < hi[cell]:
                    lo[cell], hi[cell] = new_lo, new_hi
                    changed = True
        if not changed:
            break
    return {c: (lo[c], hi[c]) for c in bounds}


def width(interval: tuple[float, float]) -> float:
    """How many whole numbers ``interval`` holds (infinite when unbounded)."""
    low, high = interval
    return math.inf if math.isinf(high) or math.isinf(low) else max(0.0, high - low + 1)


def narrowed(found: Mapping[K, tuple[float, float]], least: int) -> list[K]:
    """The cells a reader can pin to fewer than ``least`` possible values."""
    return [c for c, interval in found.items() if width(interval) < least]
