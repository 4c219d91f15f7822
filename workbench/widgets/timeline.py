"""``TimelineExplorer``: placeholder until issue 4 builds it."""

from __future__ import annotations

__all__ = ["TimelineExplorer"]


class TimelineExplorer:
    """Not built yet (issue 4)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("TimelineExplorer is not built yet: see issue 4")
