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

INVISIBLE: frozenset[str] = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO: embeddings and overrides
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI: isolates
    + ["\u200e", "\u200f", "\u061c"]  # LRM RLM ALM: marks
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # zero-width space, non-joiner, joiner, word joiner, BOM
)
"""Characters that reorder text or take no room: shown as markers by :func:`visible`."""

_INVISIBLE = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")
_INLINE_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_INLINE = re.compile("[<>&\u2028\u2029]")
# Emphasis, code, the brackets of every link and image, and the colon of a bare URL (autolinked).
_MARKDOWN = re.compile(r"([\\`*_\[\]:])")


def visible(text: str) -> str:
    """``text`` with each character of :data:`INVISIBLE` shown as a marker: ``"a\\u202eb"`` → ``"a⟦U+202E⟧b"``."""
    return _INVISIBLE.sub(lambda m: f"⟦U+{ord(m.group()):04X}⟧", text)


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
