"""Evidence text made safe to show: it runs no markup, hides or reorders nothing, and is bounded.

Evidence comes from the organisation under investigation, and its free text from anyone who
ever wrote to it, so every value a report shows is treated as hostile:

- :func:`inline_json` serialises data for a ``<script>`` block of a page: ``<``, ``>``, ``&``,
  U+2028 and U+2029 become ``\\uXXXX`` escapes, so no value can end the script
  (``</script>``) or open a comment, and the JSON means exactly what it meant;
- :func:`visible` shows every bidirectional control and zero-width character
  (:data:`INVISIBLE`) as a marker such as ``⟦U+202E⟧``, so a value cannot reorder the text
  around it or hide part of itself;
- :func:`cut` bounds a value at :data:`MAX_TEXT_CHARS` characters for display; the full text
  goes to the audience-fit CSV beside the report (:mod:`workbench.display`);
- :func:`markdown_text` escapes a value for Markdown prose, so it reads as the text it is.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any

__all__ = [
    "INVISIBLE",
    "MAX_TEXT_CHARS",
    "InlineJSONEncoder",
    "cut",
    "inline_json",
    "markdown_text",
    "shown",
    "visible",
]

MAX_TEXT_CHARS = 1000
"""Longest text shown in a table cell or chart label; a longer value is cut, with a note saying so."""

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): code points a renderer
# draws as nothing, whatever they are: soft hyphen, joiners, fillers, variation selectors (which
# can smuggle bytes after an emoji), tag characters (which can spell hidden words).
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
# The format characters (category Cf) beyond those: number signs, interlinear annotations
# (U+FFF9-FFFB, which can hide text too), Egyptian format controls. Unicode 15's; newer ones are
# added by a test that reads the running Python's tables (tests/test_hostile_markup.py).
_FORMAT = (
    (0x0600, 0x0605), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
)  # fmt: skip
INVISIBLE: frozenset[str] = frozenset(chr(c) for lo, hi in _DEFAULT_IGNORABLE + _FORMAT for c in range(lo, hi + 1))
"""Characters that reorder text or take no room: shown as markers by :func:`visible`.

The bidirectional embeddings, overrides, isolates and marks, and every default-ignorable or
format character (Unicode), so a value can neither reorder the text around it nor hide part of
itself: ``Söder\u180emalm`` is shown as ``Söder⟦U+180E⟧malm``, not as a second "Södermalm".
"""


def _ranges(chars: frozenset[str]) -> str:
    """``chars`` as the ranges of a regular-expression class (thousands of tag characters: a few ranges)."""
    points = sorted(map(ord, chars))
    out, start = [], points[0]
    for prev, cur in zip(points, [*points[1:], -1], strict=True):
        if cur != prev + 1:
            out.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev != start else ""))
            start = cur
    return "".join(out)


_INVISIBLE = re.compile("[" + _ranges(INVISIBLE) + "]")
_INLINE_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_INLINE = re.compile("[<>&\u2028\u2029]")
# Emphasis, code, the brackets of every link and image, and the colon of a bare URL (autolinked).
_MARKDOWN = re.compile(r"([\\`*_\[\]:])")


def visible(text: str) -> str:
    """``text`` with each character of :data:`INVISIBLE` shown as a marker: ``"a\\u202eb"`` → ``"a⟦U+202E⟧b"``.

    In text not in Unicode's composed form (NFC), the combining marks are shown as markers
    too: ``"So\\u0308dermalm"`` is drawn as "Södermalm" but is another value than it (two groups
    of one table), so it is shown as ``"So⟦U+0308⟧dermalm"``. Composed text is left as it is.
    """
    marked = _INVISIBLE.sub(_marker, text)
    if marked.isascii() or unicodedata.is_normalized("NFC", marked):
        return marked
    return "".join(_marker_of(c) if unicodedata.combining(c) else c for c in marked)


def _marker_of(char: str) -> str:
    return f"⟦U+{ord(char):04X}⟧"


def _marker(match: re.Match) -> str:
    return _marker_of(match.group())


def cut(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with a note of its length, and whether it was cut.

    ``cut("x" * 5000, 3)`` gives ``("xxx… [cut: 5 000 characters in all]", True)`` (a thin space
    groups the thousands).
    """
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]}… [cut: {len(text):,} characters in all]".replace(",", "\u202f"), True


def shown(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` as a report shows it: :func:`cut` to ``limit``, then :func:`visible` (not yet HTML-escaped)."""
    return visible(cut(text, limit)[0])


def markdown_text(text: str) -> str:
    """``text`` inline in Markdown prose, read as the characters it is: no tag, link, image or emphasis.

    HTML is escaped, the punctuation of emphasis, code, links, images and URLs is backslashed, line
    breaks become spaces (no value starts a heading or list) and controls are :func:`visible`:
    ``markdown_text("<b>[x](javascript:alert(1))</b>")`` shows those very characters.
    """
    flat = " ".join(visible(text).splitlines())
    return _MARKDOWN.sub(r"\\\1", html.escape(flat, quote=False))


class InlineJSONEncoder(json.JSONEncoder):
    """A JSON encoder whose output is safe inside an HTML ``<script>`` block (see :func:`inline_json`).

    Pass it wherever a library takes an encoder class, e.g. ``json.dumps(spec, cls=InlineJSONEncoder)``.
    """

    def encode(self, o: Any) -> str:
        return _INLINE.sub(lambda m: _INLINE_ESCAPES[m.group()], super().encode(o))

    def iterencode(self, o: Any, _one_shot: bool = False):
        for chunk in super().iterencode(o, _one_shot):
            yield _INLINE.sub(lambda m: _INLINE_ESCAPES[m.group()], chunk)


def inline_json(value: Any, **kwargs: Any) -> str:
    """``value`` as JSON that can stand inside ``<script>``: ``<``, ``>``, ``&``, U+2028, U+2029 as ``\\uXXXX``.

    Those characters occur in JSON only inside strings, where the escape means the same
    character, so ``json.loads(inline_json(v)) == v``; yet no value can contain ``</script>``
    or ``<!--`` in the page's source.
    """
    return json.dumps(value, cls=InlineJSONEncoder, **kwargs)
