"""A change hook for the explorer widgets, so other widgets can follow their selection.

    explorer.on_change(lambda e: print(e.range))

The callback runs after the widget has refreshed for the new selection, so what it reads
(``explorer.table``, ``dashboard.allocations``) is already current.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ChangeHooks"]


class ChangeHooks:
    """Mixin: ``on_change(callback)`` registers ``callback(widget)``; ``_changed()`` calls them in order."""

    _hooks: list[Callable[[Any], None]]

    def on_change(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """Call ``callback(self)`` after every refresh a new selection causes; returns ``callback``."""
        if not callable(callback):
            raise TypeError(f"on_change needs a callable, got {callback!r}")
        self.__dict__.setdefault("_hooks", []).append(callback)
        return callback

    def _changed(self) -> None:
        for callback in self.__dict__.get("_hooks", ()):
            callback(self)
