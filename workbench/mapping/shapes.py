"""What the first values of a source column look like, and whether they fit a v1 type.

A personnummer (``19800101-0000``), a whole or decimal number (a decimal comma allowed, and
digits grouped in threes by spaces: ``384 000,00``), an
ISO 8601 time or date, a time or date in another format (the formats every value parses in:
``25/08/2011`` is ``%d/%m/%Y``, ``03/01/2004`` could be either order), yes/no words, e-mail
and IP addresses, browser user agents, or text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from .numbers import SPACES, grouped_pattern
from .valuemaps import BOOLEAN_WORDS, value_key

__all__ = ["BY_VALUES", "GROUPED", "Shape", "fits", "shape"]

_PNR = re.compile(r"(?:19|20)?\d{6}[-+]\d{4}|(?:19|20)\d{10}")
_DIGITS = rf"-?(?:\d{{1,3}}(?:[{SPACES}]\d{{3}})+|\d+)"  # digits, or grouped in threes by spaces (384 000)
_INT = re.compile(_DIGITS)
_DECIMAL = re.compile(rf"{_DIGITS}(?:[.,]\d+)?")
GROUPED = re.compile(grouped_pattern(" ", decimal_comma=True))
"""A number grouped in threes by spaces, with or without a decimal comma: ``384 000,00``."""
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}")
_AGENT = re.compile(r"(?:Mozilla|Opera|curl|Dalvik|Safari)/.*")
_TIME_FORMATS: tuple[str, ...] = (
    *("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S"),
    *("%d.%m.%Y %H:%M", "%Y%m%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"),
)
_DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d")


@dataclass
class Shape:
    kind: str  # none, pnr, int, decimal, datetime, date, bool, email, ip, agent, text
    formats: tuple[str, ...] = ()  # for a time or date that is not ISO 8601: the formats every value parses in


def _parses(values: list[str], fmt: str) -> bool:
    try:
        for v in values:
            datetime.strptime(v, fmt)
    except ValueError:
        return False
    return True


def shape(values: list[str]) -> Shape:
    """What the first values of a column look like."""
    vs = [v.strip() for v in values[:200] if v.strip()]
    if not vs:
        return Shape("none")

    def every(rx: re.Pattern) -> bool:
        return all(rx.fullmatch(v) for v in vs)

    if every(_PNR):
        return Shape("pnr")
    distinct = {value_key(v) for v in set(vs)}
    if distinct <= _BOOL_KEYS and not distinct <= {"0", "1"} and len(distinct) <= 2:
        return Shape("bool")
    for kind, rx in (("int", _INT), ("decimal", _DECIMAL), ("datetime", _ISO_TIME), ("date", _ISO_DATE)):
        if every(rx):
            return Shape(kind)
    for kind, formats in (("datetime", _TIME_FORMATS), ("date", _DATE_FORMATS)):
        fits = tuple(f for f in formats if _parses(vs, f))
        if fits:
            return Shape(kind, fits)
    for kind, rx in (("email", _EMAIL), ("ip", _IP), ("agent", _AGENT)):
        if every(rx):
            return Shape(kind)
    return Shape("text")


_BOOL_KEYS = {value_key(w) for ws in BOOLEAN_WORDS.values() for w in ws}
BY_VALUES = {"pnr": "personnummer", "email": "email", "ip": "ip", "agent": "user_agent"}


def fits(dtype: pl.DataType, s: Shape, values: list[str]) -> bool:
    if s.kind == "none":
        return True
    if dtype == pl.Int64():
        return s.kind in ("int", "decimal")
    if dtype == pl.Boolean():
        return s.kind == "bool" or (s.kind == "int" and set(values) <= {"0", "1"}) or len(set(values)) <= 3
    if isinstance(dtype, pl.Datetime):
        return s.kind in ("datetime", "date")  # a date alone is read as midnight, with a note to check
    if dtype == pl.Date():
        return s.kind == "date"
    return True  # text takes any value
