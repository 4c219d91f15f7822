"""Figures as values: bounds, ISO 8601 durations, and the text a reader sees.

:class:`Bounds` and :func:`format_value` are used by findings, exposure, the report set and
the command line. This module imports nothing from workbench but :mod:`workbench.settings`,
so any module can use them without importing findings, the audience layer or the queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .settings import DISPLAY_TZ

__all__ = ["Bounds", "format_value", "iso_duration"]

_DISPLAY_ZONE = ZoneInfo(DISPLAY_TZ)


@dataclass(frozen=True)
class Bounds:
    """A figure known only within bounds, e.g. ``Bounds(min=640, likely=674, max=702)``."""

    min: Any
    likely: Any
    max: Any


def iso_duration(delta: timedelta) -> str:
    """``delta`` as an ISO 8601 duration, e.g. ``"PT5H30M"``, ``"P1DT2H"``, ``"-PT0.5S"``; ``"PT0S"`` when zero."""
    sign = "-" if delta < timedelta(0) else ""
    delta = abs(delta)
    days, rest = delta.days, delta.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".") if delta.microseconds else str(seconds)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{secs}S" if seconds or delta.microseconds else "")
    )
    return text + (f"T{clock}" if clock else ("" if days else "T0S"))


def format_value(value: Any) -> str:
    """A figure as a reader sees it, from its Python value or as ``findings.json`` holds it.

    Thin-space thousands, 4 significant digits for fractions, times in Europe/Stockholm
    (an ISO string with a zone counts as a time), bounds as "likely (between min and max)",
    lists joined by commas ("none" when empty).
    """
    if isinstance(value, Bounds):
        value = {"min": value.min, "likely": value.likely, "max": value.max}
    if isinstance(value, Mapping) and {"min", "likely", "max"} <= set(value):
        low, likely, high = (format_value(value[k]) for k in ("min", "likely", "max"))
        return f"{likely} (between {low} and {high})"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float):
        return f"{value:,.4g}".replace(",", "\u202f")
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
        if value.tzinfo is None:
            return value.isoformat()
    if isinstance(value, datetime):
        return value.astimezone(_DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M:%S %Z")
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value) if value else "none"
    return str(value)
