"""Buffers a reader thread reuses from chunk to chunk instead of allocating one each time.

A fresh array a 16 MB chunk is fresh memory the kernel must zero, and numpy advises huge pages
for arrays of 4 MB and more, so each fault zeroes 2 MB at once (and may compact memory first):
at stockholm, the IIS log's comparisons alone made ~60,000 page faults (0.2-0.4 CPU-s).
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["flags"]

_local = threading.local()


def flags(size: int) -> np.ndarray:
    """A bool array of ``size`` for this thread (its contents are whatever was left in it)."""
    buffer = getattr(_local, "flags", None)
    if buffer is None or len(buffer) < size:
        buffer = _local.flags = np.empty(size, dtype=bool)
    return buffer[:size]
