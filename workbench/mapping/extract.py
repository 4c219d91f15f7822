"""``extract`` patterns of the usual shape cut out without a regular expression a value.

A mapping's ``extract`` is a regular expression whose first group is kept, e.g. the session
in an IIS cookie, ``ASP\\.NET_SessionId=([^;]+)``. Run by polars' regex engine over 2.2
million cookies (stockholm) that was most of ``page_views``' mapping. A pattern that is a
literal text followed by ``([^c]+)`` (one character ``c``) is cut by splitting instead: the
text after the literal's first occurrence, up to the first ``c``. That is the regular
expression's answer whenever it is not empty (the first occurrence is then the leftmost
match, and ``[^c]+`` takes everything up to ``c``); where it is empty in any row of a batch
(the literal followed by ``c`` or by nothing, where the regex would look further on), the
whole batch goes through the regular expression.
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["Cut", "cut", "literal_then_up_to"]

_SHAPE = re.compile(r"^((?:[^.^$|?*+()\[\]{}\\]|\\[.^$|?*+()\[\]{}\\/-])+)\(\[\^([^\\\]\[^-])\]\+\)$")

Cut = tuple[str, str]  # the literal, the character that ends the group


def literal_then_up_to(pattern: str) -> Cut | None:
    """``(literal, c)`` for a pattern ``<literal>([^c]+)`` (the literal's metacharacters escaped), else None."""
    m = _SHAPE.match(pattern)
    if m is None:
        return None
    literal = re.sub(r"\\(.)", r"\1", m.group(1))
    if not literal or any(ch.isspace() and ch != " " for ch in literal):
        return None
    return literal, m.group(2)


def cut(raw: pl.Series, pattern: str, shape: Cut) -> pl.Series:
    """``raw.str.extract(pattern, 1)``, by splitting where that gives the same."""
    literal, stop = shape
    after = raw.str.splitn(literal, 2).struct.field("field_1")
    value = after.str.splitn(stop, 2).struct.field("field_0")
    if (value == "").any():  # the literal followed by c or by nothing: the regex may match further on
        return raw.str.extract(pattern, 1)
    return value
