"""Queue fairness: replay of allocations, skips, caseworker statistics and red flags (issue 6)."""

from __future__ import annotations

__all__: list[str] = []
