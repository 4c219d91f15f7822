"""Exposure and changes: tiers with bounds, actors and owners, restore and notification lists (issue 5)."""

from __future__ import annotations

__all__: list[str] = []
