"""``AccountInspector``: placeholder until issue 5 builds it."""

from __future__ import annotations

__all__ = ["AccountInspector"]


class AccountInspector:
    """Not built yet (issue 5)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("AccountInspector is not built yet: see issue 5")
