"""Figures as values: bounds, ISO 8601 durations, and the text a reader sees.

:class:`Bounds` and :func:`format_value` are used by findings, exposure, the report set and
the command line. This module imports nothing from workbench but :mod:`workbench.settings`,
:mod:`workbench.i18n` and :mod:`workbench.wording`,
so any module can use them without importing findings, the audience layer or the queries.

Every text is written in a language (``language``, default
:func:`workbench.i18n.current_language`): numbers, dates and units follow its conventions
through Babel. English: "1\u202f204.5", "9.7%", "Friday 13 December 2013 at 18:52";
Swedish: "1\u202f204,5", "9,7\u202f%", "fredag 13 december 2013 kl. 18.52". Both group
thousands with a narrow no-break space (U+202F), the same character in every language,
and write durations "48 h 23 min" and money "312 000 kr".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .i18n import current_language, translate
from .settings import DISPLAY_TZ
from .wording import say

__all__ = [
    "KINDS",
    "Bounds",
    "Unknown",
    "format_clock_offset",
    "format_duration",
    "format_number",
    "format_percent",
    "format_value",
    "format_when",
    "is_unknown",
    "iso_duration",
    "unknown_reason",
    "value_kind",
]

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
        return say("unknown", reason=self.reason)


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


KINDS = ("id", "year", "rate", "points", "percent", "money", "duration")
"""What a name says a number is; see :func:`value_kind`."""

_RATE_WORDS = {"rate", "share", "fraction", "proportion", "precision", "recall", "mde"}
_RATE_NAMES = {"threshold"}
"""Whole names that are fractions although no word says so: a caseworker's flag threshold."""
_POINTS_WORDS = {"effect"}
_MONEY_WORDS = {"income", "rent", "amount", "fee", "salary", "price", "kr", "sek"}
_DURATION_UNITS = {"hours": 3600, "minutes": 60, "seconds": 1}
_ISO_DURATION = re.compile(r"(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def value_kind(name: str | None) -> str | None:
    """What the name of a finding or column says its numbers are, or None for a plain number.

    The rule reads the name's words (split at ``_``), so that a figure is written the same
    way in prose, tables and the index whoever recorded it:

    - ``"id"``: the last word is ``id`` or ``ids`` (``applicant_id``): digits only, no separator;
    - ``"year"``: the first or last word is ``year`` (``year``, ``birth_year``): digits only;
    - ``"percent"``: the last word is ``percent`` or ``pct``: already a percentage, ``5.5`` is "5.5%";
    - ``"rate"``: a word is rate, share, fraction, proportion, precision, recall or mde
      (``swap_rate``, ``share_in_order``, ``mde``: the smallest detectable share), the last
      word is target (``fault_report_target``: the precision and recall asked for), or the
      name is ``threshold`` (a caseworker's flag threshold): a fraction, ``0.0966`` is "9.7%";
    - ``"points"``: a word is effect (``effect``, ``min_effect``): a difference of two
      fractions, ``0.0575`` is "5.8 percentage points" ("5,8 procentenheter");
    - ``"money"``: the last word is income, rent, amount, fee, salary, price, kr or sek
      (``annual_income``): "312 000 kr";
    - ``"duration"``: a word other than the first is hours, minutes or seconds
      (``time_to_detect_hours``), or the name is that word alone (the response times'
      ``hours`` column): "48 h 23 min".

    ``income_changed_by_others`` is a plain count (its last word is not a unit); so is any
    name starting ``n_``, ``count_`` or ``number_`` (``n_hours``).
    """
    if not name:
        return None
    words = [w for w in name.lower().split("_") if w]
    if not words:
        return None
    if words[-1] in ("id", "ids"):
        return "id"
    if "year" in (words[0], words[-1]):
        return "year"
    if words[0] in ("n", "count", "number"):
        return None  # n_hours, count_fees: a count of things
    if words[-1] in ("percent", "pct"):
        return "percent"
    if _RATE_WORDS & set(words) or words[-1] == "target" or name.lower() in _RATE_NAMES:
        return "rate"
    if _POINTS_WORDS & set(words) and words[-1] != "label":
        return "points"
    if words[-1] in _MONEY_WORDS:
        return "money"
    if _DURATION_UNITS.keys() & set(words[1:]) or (len(words) == 1 and words[0] in _DURATION_UNITS):
        return "duration"
    return None


def _seconds_in(name: str) -> int:
    words = name.lower().split("_")
    return next(_DURATION_UNITS[w] for w in words[1:] or words if w in _DURATION_UNITS)


def format_duration(seconds: float, language: str | None = None, *, to_the_second: bool = False) -> str:
    """A duration as people read it: "48 h 23 min", "23 min", "37 s", "1.5 s"; minutes rounded from an hour on.

    ``to_the_second`` keeps whole seconds from a minute on ("6 min 55 s", not "7 min"): a
    figure measured in seconds, written beside an uncertainty of a few seconds, has to read to
    the same precision, or both ends of "-415 s ± 1 s" read "-7 min".
    """
    lang = language or current_language()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if to_the_second:
        seconds = round(seconds)
        if seconds >= 60:
            rest = seconds % 60
            shown = format_duration(seconds - rest, lang)
            return sign + (f"{shown} {say('seconds', lang, s=rest)}" if rest else shown)
    if seconds < 59.5:
        return sign + say("seconds", lang, s=_plain(seconds, lang))
    h, m = divmod(round(seconds / 60), 60)
    if not h:
        return sign + say("minutes", lang, m=m)
    return sign + (say("hours_minutes", lang, h=_plain(h, lang), m=m) if m else say("hours", lang, h=_plain(h, lang)))


def format_clock_offset(seconds: float, language: str | None = None) -> str:
    """How far one clock runs from another, in words: "6 min 55 s behind", "2 min ahead", "in step".

    ``seconds`` is positive when the clock runs ahead. The sign is said, not printed: "the
    clock runs -7 min" is no sentence ("Klockan går 6 min 55 s efter", "2 min före").
    """
    lang = language or current_language()
    if round(seconds) == 0:
        return say("clock_in_step", lang)
    return say(
        "clock_ahead" if seconds > 0 else "clock_behind",
        lang,
        d=format_duration(abs(seconds), lang, to_the_second=True),
    )


def _iso_seconds(text: str) -> float | None:
    """The seconds of an ISO 8601 duration such as ``"PT48H23M"`` (as findings.json holds it), or None."""
    m = _ISO_DURATION.fullmatch(text)
    if not m or text in ("P", "-P", "PT", "-PT"):
        return None
    sign, d, h, mi, s = m.groups()
    total = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    return -total if sign else total


THOUSANDS = "\u202f"
"""The thousands separator of every language: a narrow no-break space."""


def _babel(value: float | int, language: str, pattern: str | None = None) -> str:
    from babel.numbers import format_decimal, get_group_symbol

    locale = say("locale", language)
    text = format_decimal(value, format=pattern, locale=locale, decimal_quantization=pattern is not None)
    return text.replace(get_group_symbol(locale), THOUSANDS)


def _plain(value: int | float, language: str | None = None) -> str:
    """A number with narrow-space thousands and the language's decimal mark; a float with 4 significant digits."""
    lang = language or current_language()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = float(f"{value:.4g}")
        if value.is_integer() and abs(value) >= 1e4:
            value = int(value)
    return _babel(value, lang)


def _percent(points: float, language: str | None = None) -> str:
    lang = language or current_language()
    if points and abs(points) < 0.05:
        return say("percent_tiny", lang)
    return say("percent", lang, p=_babel(round(points, 1), lang, "#,##0.0"))


def format_percent(points: float, language: str | None = None, *, decimals: int = 1) -> str:
    """A percentage as figures are written ("9.7%", "9,7 %"); ``decimals=0`` for a set level ("80%", "80 %").

    A level the workbench sets (the test's 80 % power) is written whole, as the prose that
    names it does, not "80.0%" beside "80%"; a measured share keeps its one decimal.
    """
    if decimals == 1:
        return _percent(points, language)
    lang = language or current_language()
    return say(
        "percent", lang, p=_babel(round(points, decimals), lang, "#,##0" + ("." + "0" * decimals if decimals else ""))
    )


def format_number(value: int | float, kind: str | None = None, language: str | None = None) -> str:
    """A number as the reader sees it, written as ``kind`` (see :func:`value_kind`) says, in ``language``."""
    lang = language or current_language()
    if kind in ("id", "year") and (isinstance(value, int) or float(value).is_integer()):
        return str(int(value))
    if kind == "rate" and isinstance(value, float):
        return _percent(100 * value, lang)
    if kind == "percent":
        return _percent(float(value), lang)
    if kind == "points" and isinstance(value, float):
        return say("percentage_points", lang, p=_babel(round(100 * value, 1), lang, "#,##0.0"))
    if kind == "money":
        amount = round(value) if isinstance(value, float) and abs(value) >= 100 else value
        return say("money", lang, amount=_plain(amount, lang))
    if kind == "duration" and isinstance(value, int | float):
        return format_duration(value, lang)
    return _plain(value, lang)


def format_when(value: Any, zone: str = DISPLAY_TZ, language: str | None = None) -> str:
    """A time as prose says it, in local time with the weekday: "Friday 13 December 2013 at 18:52".

    In Swedish: "fredag 13 december 2013 kl. 18.52" (the catalogue's Babel pattern ``when``).

    ``value`` is a datetime with a zone or an ISO 8601 string with one, as findings.json holds
    it (``"2013-12-13T17:52:00+00:00"``); a time without a zone is refused, as its local time is unknown.
    """
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError(f"a time with a zone is needed to say it in local time, got {value!r}")
    from babel.dates import format_datetime

    lang = language or current_language()
    local = when.astimezone(ZoneInfo(zone))
    return format_datetime(local, say("when", lang), tzinfo=ZoneInfo(zone), locale=say("locale", lang))


def format_value(value: Any, name: str | None = None, language: str | None = None) -> str:
    """A figure as a reader sees it, from its Python value or as ``findings.json`` holds it.

    ``name`` (a finding's or a column's) says what kind of number it is (:func:`value_kind`):
    no separator in ids and years, rates and percentages as "9.7%", durations as
    "48 h 23 min" (``time_to_detect_hours``: 48.39 hours), money as "312 000 kr". Otherwise:
    thin-space thousands, 4 significant digits for fractions, booleans as yes/no, ISO 8601
    durations (``"PT5H30M"``) as durations, times in Europe/Stockholm (an ISO string with a
    zone counts as a time), bounds as "likely (between min and max)" (or the one number when
    all three read alike), lists joined by commas
    ("none" when empty). An unknown figure reads "unknown (reason)". All of it in ``language``
    (default: :func:`workbench.i18n.current_language`).
    """
    lang = language or current_language()
    if is_unknown(value):
        return say("unknown", lang, reason=unknown_reason(value))
    kind = value_kind(name)
    if isinstance(value, Bounds):
        value = {"min": value.min, "likely": value.likely, "max": value.max}
    if isinstance(value, Mapping) and {"min", "likely", "max"} <= set(value):
        low, likely, high = (format_value(value[k], name, lang) for k in ("min", "likely", "max"))
        if low == likely == high:  # exact: "52", never "52 (between 52 and 52)"
            return likely
        return say("bounds", lang, likely=likely, low=low, high=high)
    if isinstance(value, bool):
        return say("yes" if value else "no", lang)
    if value is None:
        return str(value)
    if isinstance(value, int | float):
        if kind == "duration" and name:
            words = name.lower().split("_")
            if "clock" in words and "offset" in words:
                return format_clock_offset(value * _seconds_in(name), lang)
            return format_duration(value * _seconds_in(name), lang, to_the_second=_seconds_in(name) == 1)
        return format_number(value, kind, lang)
    if isinstance(value, timedelta):
        return format_duration(value.total_seconds(), lang)
    if isinstance(value, str) and value.lstrip("-")[:1] == "P":
        seconds = _iso_seconds(value)
        if seconds is not None:
            return format_duration(seconds, lang)
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
        return ", ".join(format_value(v, name, lang) for v in value) if value else say("none", lang)
    if isinstance(value, str):
        return translate(value, lang)  # a verdict the workbench wrote ("does not hold"); any other text as it is
    return str(value)
