"""``CaseworkerDashboard``: placeholder until issue 6 builds it."""

from __future__ import annotations

__all__ = ["CaseworkerDashboard"]


class CaseworkerDashboard:
    """Not built yet (issue 6)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("CaseworkerDashboard is not built yet: see issue 6")
