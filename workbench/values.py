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

__all__ = ["Bounds", "Unknown", "format_value", "is_unknown", "iso_duration", "unknown_reason"]

_DISPLAY_ZONE = ZoneInfo(DISPLAY_TZ)


@dataclass(frozen=True)
class Bounds:
    """A figure known only within bounds, e.g. ``Bounds(min=640, likely=674, max=702)``."""

    min: Any
    likely: Any
    max: Any


@dataclass(frozen=True)
class Unknown:
    """A figure the evidence cannot answer, and why: ``Unknown("the case has no support_messages (no file at ingest)")``.

    Recorded in ``findings.json`` as ``{"unknown": reason}``, never as 0 or null, and read
    as "unknown (reason)".
    """

    reason: str
    missing: tuple[str, ...] = ()  # the evidence tables whose absence is the reason, when that is it

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError(f"an unknown figure needs the reason it is unknown, got {self.reason!r}")

    def __str__(self) -> str:
        return f"unknown ({self.reason})"


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is an unknown figure: an :class:`Unknown`, or ``{"unknown": reason}`` as findings.json holds it."""
    return isinstance(value, Unknown) or (isinstance(value, Mapping) and set(value) == {"unknown"})


def unknown_reason(value: Any) -> str:
    """The reason of an unknown figure (see :func:`is_unknown`)."""
    return value.reason if isinstance(value, Unknown) else str(value["unknown"])


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
    lists joined by commas ("none" when empty), an unknown figure as "unknown (reason)".
    """
    if is_unknown(value):
        return f"unknown ({unknown_reason(value)})"
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
