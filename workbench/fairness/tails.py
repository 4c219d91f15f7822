"""The tail of a sum of independent hypergeometric counts, for many outcomes at once: the MDE's p-values.

For one caseworker (a design of :mod:`workbench.fairness.mde`: their allocations ``n``, the
peers' unexplained ``P`` and the totals ``N`` per stratum, the log factorials ``lf``) and a
row per outcome of their unexplained counts ``X``, :func:`tails` gives ``P(Σ H_k >= Σ X_k)``
with ``H_k ~ Hypergeometric(N_k, P_k + X_k, n_k)`` independent: the exact permutation p of
:func:`workbench.fairness.caseworkers.review_caseworkers` for that outcome. The arithmetic is
the same whatever the block of outcomes convolved at a time (``tests/test_fairness_mde.py``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["BLOCK", "Design", "tails"]


class Design(Protocol):
    """What the tails read of a caseworker's design (:class:`workbench.fairness.mde._Design`)."""

    @property
    def n(self) -> np.ndarray: ...  # the caseworker's allocations per stratum
    @property
    def P(self) -> np.ndarray: ...  # the peers' unexplained departures per stratum
    @property
    def N(self) -> np.ndarray: ...  # all allocations per stratum
    @property
    def lf(self) -> np.ndarray: ...  # log factorials up to the largest N


def tails(d: Design, X: np.ndarray, block: int | None = None) -> np.ndarray:
    """P(Σ H_k >= Σ X_k) per row, H_k ~ Hypergeometric(N_k, P_k + X_k, n_k) independent.

    The distribution of Σ H_k is built by convolution, for all rows at once (one column
    each), up to the largest row total; the mass above it is kept in the last bin, where it
    counts towards every row's tail. The rows are convolved ``block`` columns at a time
    (None: :data:`BLOCK`; at least 2); each column's sums are the same whatever the block.
    """
    rows = X.shape[0]
    total = X.sum(axis=1)
    top = int(total.max(initial=0))
    if top == 0:
        return np.ones(rows)
    kernels = [kernel for k in range(X.shape[1]) if (kernel := _kernel(d, X, k, top)) is not None]
    size = max(2, BLOCK if block is None else block)  # never one column a block: see below
    # Columns are convolved a block at a time so that a block's buffers stay in the core's cache
    # through all the strata (all rows at once, at national: 3 × 300 × 2,000 floats, out of it).
    # A lone last column joins the block before it: numpy sums a single column in another order.
    starts = list(range(0, rows, size))
    if len(starts) > 1 and rows - starts[-1] == 1:
        starts.pop()
    ends = [*starts[1:], rows]
    out = np.empty(rows)
    for a, b in zip(starts, ends, strict=True):
        acc = _convolve([np.ascontiguousarray(kernel[:, a:b]) for kernel in kernels], top, b - a)
        tail = np.cumsum(acc[::-1], axis=0)[::-1]
        out[a:b] = np.minimum(tail[total[a:b], np.arange(b - a)], 1.0)
    return out


BLOCK = 256
"""Columns (outcomes) :func:`tails` convolves at a time."""


def _kernel(d: Design, X: np.ndarray, k: int, top: int) -> np.ndarray | None:
    """Stratum k's distribution of H_k for each row of X, (values, rows), cut at ``top``; None: H_k is 0."""
    lf = d.lf
    n, N = int(d.n[k]), int(d.N[k])
    D = d.P[k] + np.arange(int(X[:, k].max()) + 1)[:, None]  # the stratum's total for each count of h's
    h = np.arange(int(min(n, D.max())) + 1)[None, :]
    if h.shape[1] == 1:  # nobody in the stratum departed from queue order: H_k = 0
        return None
    valid = (h <= D) & (n - h <= N - D)
    hh, dd = np.where(valid, h, 0), np.broadcast_to(D, valid.shape)
    logp = (
        lf[dd]
        - lf[hh]
        - lf[np.where(valid, dd - hh, 0)]
        + lf[N - dd]
        - lf[np.where(valid, n - hh, 0)]
        - lf[np.where(valid, N - dd - n + hh, 0)]
        - (lf[N] - lf[n] - lf[N - n])
    )
    kernel = np.exp(np.where(valid, logp, -np.inf)).T[:, X[:, k]]  # (h, rows)
    if kernel.shape[0] > top + 1:
        kernel[top] += kernel[top + 1 :].sum(axis=0)
        kernel = kernel[: top + 1]
    return kernel


def _convolve(kernels: list[np.ndarray], top: int, rows: int) -> np.ndarray:
    """The distribution of Σ H_k per column, (top + 1, rows): the kernels convolved in turn, mass past ``top`` in the last bin."""
    acc = np.zeros((top + 1, rows))
    acc[0] = 1.0
    # Two more buffers of acc's shape, reused for every stratum: a fresh (top + 1) × rows array
    # per stratum and per product (up to 2,430 × 2,000 floats at stockholm) cost more than the sums.
    spare, product = np.empty_like(acc), np.empty_like(acc)
    reach = 0  # the highest bin of acc that may hold mass
    for kernel in kernels:
        width = kernel.shape[0]
        # Bins above ``reach`` hold exact zeros, and adding 0.0 changes nothing: only the bins
        # reached so far are multiplied (the same sums, far fewer of them in the first strata).
        new = spare
        np.multiply(acc[: reach + 1], kernel[0], out=new[: reach + 1])
        new[reach + 1 :] = 0.0
        for j in range(1, width):
            m = min(reach + 1, top + 1 - j)
            # new[j : j + m] += acc[:m] * kernel[j], through a kept buffer: the same products and sums
            np.multiply(acc[:m], kernel[j], out=product[:m])
            np.add(new[j : j + m], product[:m], out=new[j : j + m])
        if reach >= top + 2 - width:
            # mass pushed past the last bin stays in it: Σ_j kernel[j] · (acc at top + 1 - j or more)
            suffix = np.cumsum(acc[top + 2 - width :][::-1], axis=0)
            new[top] += (kernel[1:] * suffix).sum(axis=0)
        spare, acc, reach = acc, new, min(top, reach + width - 1)
    return acc
