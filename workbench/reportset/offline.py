"""What a rendered page would fetch: a report must load nothing from outside its own file."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["external_references"]

_LOADING_ATTRS = {"src", "href", "data", "poster", "srcset", "background"}
_CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)


def _is_external(url: str) -> bool:
    return not url.startswith(("data:", "#", "about:", "blob:", "javascript:"))


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and name in _LOADING_ATTRS and not (tag == "a" and name == "href") and _is_external(value):
                self.found.append(value)
            if value and name == "style":
                self._css(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text):
        for m in _CSS_URL.finditer(text):
            url = m.group(1) or m.group(2)
            if _is_external(url):
                self.found.append(url)


def external_references(html: str) -> list[str]:
    """Every resource an HTML page would fetch: loading attributes of tags, CSS imports and urls.

    Script bodies are not markup, so strings inside inlined JavaScript are not counted;
    links a reader may click (``<a href>``) are not loads either.
    """
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found
