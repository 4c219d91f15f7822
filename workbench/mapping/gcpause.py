"""Pause Python's cycle collector while a reader makes many small objects at once.

Reading 270,000 rows from SQLite makes 270,000 tuples, and each few hundred new objects
start a collection that walks them all again: a third of the read. The rows, lines and
messages the readers make hold no cycles, so nothing is lost by collecting after the batch.
Never held across a ``yield``: the caller's code runs with the collector as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
