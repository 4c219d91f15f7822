"""What a report page adds to the notebook's HTML: the table script and the table of contents.

- :func:`table_script`: the inline script that makes tables sortable, and searchable where
  long (``templates/offline/tables.js``; no network). ``workbench verify`` accepts it in a
  page only as this exact text (:mod:`workbench.reportset.pagescan`).
- :func:`with_contents`: the page with a table of contents, built from its ``h1``–``h3``
  headings (the report's title excepted) and the provenance section, put where the
  template left the marker :data:`CONTENTS_MARK`.
"""

from __future__ import annotations

import html
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from ..wording import say

__all__ = ["CONTENTS_MARK", "contents", "table_script", "with_contents"]

CONTENTS_MARK = "<!-- workbench: contents -->"
_SCRIPT = Path(__file__).resolve().parents[1] / "templates" / "offline" / "tables.js"


@lru_cache(maxsize=1)
def table_script() -> str:
    """The text of the report page's table script."""
    return _SCRIPT.read_text(encoding="utf-8")


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []  # (level, id, text)
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []
        self._skip = 0  # inside the heading's own "¶" anchor link

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("h1", "h2", "h3") and values.get("id"):
            self._open, self._text = (int(tag[1]), str(values["id"])), []
        elif tag == "section" and values.get("id") == "provenance":
            self.found.append((2, "provenance", say("provenance")))
        elif self._open and tag == "a" and "anchor-link" in (values.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == "a" and self._skip:
            self._skip -= 1
        elif self._open and tag == f"h{self._open[0]}":
            level, anchor = self._open
            text = " ".join("".join(self._text).split())
            if text:
                self.found.append((level, anchor, text))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and not self._skip:
            self._text.append(data)


def contents(page: str) -> list[tuple[int, str, str]]:
    """The headings a table of contents lists: ``(level, id, text)``, the first (the title) left out."""
    parser = _Headings()
    parser.feed(page)
    parser.close()
    found = parser.found
    return found[1:] if found and found[0][1] != "provenance" else found


def with_contents(page: str) -> str:
    """``page`` with its table of contents in place of :data:`CONTENTS_MARK` (no marker: as it is)."""
    if CONTENTS_MARK not in page:
        return page
    entries = contents(page)
    if not entries:
        return page.replace(CONTENTS_MARK, "", 1)
    top = min(level for level, _, _ in entries)
    items = "".join(
        f'<li class="wb-toc-{level - top + 1}"><a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>'
        for level, anchor, text in entries
    )
    nav = f'<nav class="wb-toc" id="contents"><h2>{html.escape(say("contents"))}</h2><ul>{items}</ul></nav>'
    return page.replace(CONTENTS_MARK, nav, 1)
