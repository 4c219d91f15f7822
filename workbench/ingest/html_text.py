"""The text of an HTML mail body: tags dropped, ``<br>`` a line break, a paragraph a blank line.

An approximation of what its reader saw (text/plain, when a message has it, is exact).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["html_text"]


class _HTMLText(HTMLParser):
    """Text of an HTML body: tags dropped, <br> a line break, a paragraph a blank line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.out.append("\n")
        elif tag in ("style", "script", "head"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self.skip = max(self.skip - 1, 0)
        elif tag in ("p", "div"):
            self.out.append("\n\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data.strip("\n"))


def html_text(html: str) -> str:
    """The text of ``html``, as :class:`_HTMLText` reads it."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return "".join(parser.out).strip()
