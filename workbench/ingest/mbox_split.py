"""Split an mbox into its messages where RFC 4155 draws the line: at a 'From ' line shaped as a separator.

:class:`mailbox.mbox` takes every line beginning 'From ' for the start of a message. A body
line such as 'From now on I cannot log in.' that the writer did not escape as '>From ' then
cuts its message in two: the first half loads truncated, and the second (no headers, so
quarantined) has lost that line, which mailbox keeps apart as the separator, and the empty
line before it, which mailbox drops as the gap between messages; the halves cannot be joined
again as written, and mailbox has no way to ask for another rule.

So the messages are split here, by one rule: a line starts a message when it has the shape of
a separator, 'From ', the envelope sender and the time in asctime form
(``From a@example.com Sat Dec 14 09:15:02 2013``; a zone before or after the year is
allowed); the first line of the file always does. Any other 'From ' line stays in its
message. Otherwise a message is the bytes mailbox gives: those after its separator line up to
the next separator, less the one empty line before it. Parsing a message stays with
:mod:`email`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SEPARATOR", "mbox_messages", "separator_note"]

_DAY = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# 'From ' sender weekday month day hh:mm[:ss] [zone] year, then anything (a zone, 'remote from …').
SEPARATOR = re.compile(
    rb"From \S+ +" + _DAY + rb",? +" + _MONTH + rb" +\d{1,2} +\d{1,2}:\d\d(?::\d\d)?(?: +\S+)? +\d{4}(?:\s|$)"
)
_HEADER = re.compile(rb"[!-9;-~]+[ \t]*:")  # a header line: a name of printable characters but ':', then ':'


def mbox_messages(path: Path) -> Iterator[tuple[int, bytes, bytes]]:
    """(line of its separator, 1-based; the separator line; the message after it) of each message, in file order.

    Lines before the first 'From ' line are no message (mailbox skips them too); the
    readers refuse a file that does not start with one.
    """
    with open(path, "rb") as fh:
        start, separator, lines = 0, b"", list[bytes]()
        for n, line in enumerate(fh, 1):
            if line.startswith(b"From ") and (not start or SEPARATOR.match(line)):
                if start:
                    yield start, separator, _joined(lines)
                start, separator, lines = n, line, []
            elif start:
                lines.append(line)
        if start:
            yield start, separator, _joined(lines)


def _joined(lines: list[bytes]) -> bytes:
    """The message's bytes: its lines less the empty line that ends it (the gap before the next 'From ')."""
    if lines and lines[-1] == b"\n":
        lines.pop()
    return b"".join(lines)


def separator_note(raw: bytes) -> str:
    """For a quarantine reason: why an mbox message without a first header line may be a body cut off.

    Empty when the message starts with a header line.
    """
    first = raw.split(b"\n", 1)[0]
    if _HEADER.match(first):
        return ""
    return (
        "; the message does not begin with a header line, so its 'From ' separator may be a line of the "
        "previous message's body that the mbox writer did not escape as '>From ' (that message then ends before it)"
    )
