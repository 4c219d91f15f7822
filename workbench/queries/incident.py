"""Incident reconstruction: sessions, mismatches, milestones, hourly series (issue 4)."""

from __future__ import annotations

__all__: list[str] = []
