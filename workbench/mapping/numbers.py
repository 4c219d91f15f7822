"""Numbers as organisations write them: a decimal comma, and digits grouped in thousands.

A Swedish export writes an income as ``384 000,00``: a decimal comma, and a space between
each three digits, often a no-break space (U+00A0) or a narrow one (U+202F) when it comes from
a spreadsheet. A source declares its separator with ``thousands:`` (one of :data:`THOUSANDS`; a
space stands for all three spaces). Only a value grouped exactly so (one to three digits, then
groups of three) loses its separators: ``38 4000`` or ``3 84`` is left as written, so its row
is quarantined quoting it, never read as a guess. In a source with a decimal comma but no
``thousands:``, a value grouped by spaces is quarantined with a reason that says what to
declare (:func:`grouped_hint`); a source with neither is read as plain numbers, unscanned.
"""

from __future__ import annotations

import re

import polars as pl

__all__ = [
    "SPACES",
    "THOUSANDS",
    "grouped_hint",
    "grouped_pattern",
    "misgrouped",
    "refused_separator",
    "ungroup",
    "whole_decimals",
]

THOUSANDS = (" ", ".", ",", "'")
"""The digit-group separators a source may declare: a space (also U+00A0 and U+202F), a point, a comma, an apostrophe."""

SPACES = " \u00a0\u202f"
"""The spaces a number's digits are grouped by: a space, a no-break space (U+00A0), a narrow no-break space (U+202F)."""


def _class(mark: str) -> str:
    """The separator as a regular-expression character class: every space for a space."""
    return f"[{SPACES}]" if mark == " " else "[" + re.escape(mark) + "]"


def refused_separator(mark: object, decimal_comma: object) -> str | None:
    """Why ``mark`` cannot be a source's ``thousands:`` (given its ``decimal_comma:``), or None if it can."""
    if mark not in THOUSANDS:
        return f"unknown digit-group separator {mark!r}; allowed: {', '.join(repr(m) for m in THOUSANDS)}"
    decimal = "," if decimal_comma else "."
    if mark == decimal:
        return (
            f"thousands: {mark!r} is also the decimal mark (decimal_comma: {str(bool(decimal_comma)).lower()}), "
            f"so '1{mark}234' would mean two numbers; allowed: a separator other than {decimal!r}"
        )
    return None


def grouped_pattern(mark: str, decimal_comma: bool) -> str:
    """A whole value grouped exactly in threes by ``mark`` (every space for a space), signed, with its decimals.

    ``384 000,00`` for a space and a decimal comma; anchored (``^…$``), for polars and :func:`re.fullmatch`.
    """
    decimal = "," if decimal_comma else r"\."
    return rf"^[+-]?\d{{1,3}}(?:{_class(mark)}\d{{3}})+(?:{decimal}\d+)?$"


def ungroup(text: pl.Expr, mark: str, decimal_comma: bool) -> pl.Expr:
    """``text`` with the separators taken out of every value grouped exactly by ``mark``; other values as they are."""
    return (
        pl.when(text.str.contains(grouped_pattern(mark, decimal_comma)))
        .then(text.str.replace_all(_class(mark), ""))
        .otherwise(text)
    )


def whole_decimals(text: pl.Expr) -> pl.Expr:
    """``200.00`` as ``200``: an integer written with decimals that are all zero (``-7.0``, ``10.``) loses them.

    What replacing ``^(-?\\d+)\\.0*$`` by its digits gives, without the captures that made that
    replacement a third of ``fees``' mapping: the values of that shape are found (a match, no
    capture), and only their trailing zeros and point are stripped.
    """
    return (
        pl.when(text.str.contains(r"^-?\d+\.0*$"))
        .then(text.str.strip_chars_end("0").str.strip_suffix("."))
        .otherwise(text)
    )


def grouped_hint(text: pl.Expr, decimal_comma: bool, where: str) -> tuple[pl.Expr, pl.Expr]:
    """Where a value is grouped by spaces and no ``thousands:`` is declared: the condition and the reason."""
    return (
        text.str.contains(grouped_pattern(" ", decimal_comma)),
        pl.format(
            f"'{{}}' has its digits grouped by spaces ({where}); allowed: a number without grouping, "
            "or thousands: ' ' on the source in the mapping",
            text,
        ),
    )


def misgrouped(text: pl.Expr, mark: str, decimal_comma: bool, where: str) -> tuple[pl.Expr, pl.Expr]:
    """Where a value holds the declared separator but is not grouped in threes by it: the condition and the reason."""
    shown = "a space" if mark == " " else repr(mark)
    example = "384 000,50" if decimal_comma else "384 000.50"
    return (
        text.str.contains(_class(mark)) & ~text.str.contains(grouped_pattern(mark, decimal_comma)),
        pl.format(
            f"'{{}}' is not grouped in threes by {shown}, the source's thousands: ({where}); "
            f"allowed: a number such as {example.replace(' ', mark)} or {example.replace(' ', '')}",
            text,
        ),
    )
