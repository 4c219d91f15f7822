"""Mail as organisations export it: a folder of ``.eml`` files, a Maildir, or an mbox.

Every message is parsed with the standard library (:func:`workbench.ingest.mbox.message_fields`):
its columns are its headers by lower-case name (``message-id``, ``from``,
``x-bostad-channel`` …), plus ``received_at`` (the topmost Received header's time stamp,
else Date; ISO 8601 in UTC), ``from_address``, ``subject`` (decoded) and ``body`` (the
text part). A message with a broken MIME structure, an undecodable body or no time stamp
is quarantined whole, with its file (an ``.eml`` or a Maildir message is line 1 of its own
file; in an mbox, the line of its ``From`` separator).
"""

from __future__ import annotations

import functools
import json
import mailbox
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl

from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch
from ..ingest.mbox import MessageProblem, message_fields

__all__ = ["MAIL_COLUMNS", "mail_columns", "read_messages"]

MAIL_COLUMNS = ["message-id", "received_at", "date", "from", "from_address", "to", "subject", "body"]
_BATCH = 10_000


@functools.lru_cache(maxsize=256)
def _row(raw: bytes) -> dict[str, str | None]:
    """The columns of one message (cached: :func:`mail_columns` parsed the first ones already; do not change it)."""
    fields = message_fields(raw)
    return {k: v.isoformat() if isinstance(v, datetime) else _text(v) for k, v in fields.items()}


def _text(value: str | None) -> str | None:
    """Header text as read: 8-bit bytes in a header (not allowed, but sent) read as UTF-8, else shown as U+FFFD."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _problem(line: int, problem: MessageProblem, raw: bytes) -> dict:
    text = raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return {
        LINE: line,
        "column": problem.column,
        "value": problem.value,
        "reason": f"unreadable message: {problem.reason}",
        "record": json.dumps({"message": text}, ensure_ascii=False),
    }


def _batch(rows: list[dict], problems: list[dict], columns: list[str]) -> RawBatch:
    schema = {**{c: pl.String() for c in columns}, LINE: pl.Int64()}
    frame = pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)
    return RawBatch(frame, pl.DataFrame(problems, schema=PROBLEMS_SCHEMA))


def _messages(paths: list[Path], kind: str) -> Iterator[tuple[int, int, bytes]]:
    """(index of the file, line, raw message) of every message, in file order."""
    for i, path in enumerate(paths):
        if kind != "mbox":
            yield i, 1, path.read_bytes()
            continue
        with open(path, "rb") as fh:
            starts = [n for n, line in enumerate(fh, 1) if line.startswith(b"From ")]
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            for key, line in zip(box.iterkeys(), starts, strict=True):
                yield i, line, box.get_bytes(key)
        finally:
            box.close()


def mail_columns(paths: list[Path], kind: str, sample: int = 200) -> list[str]:
    """The columns the first ``sample`` messages offer: the usual ones and every header seen."""
    seen = dict.fromkeys(MAIL_COLUMNS)
    for n, (_, _, raw) in enumerate(_messages(paths, kind)):
        if n >= sample:
            break
        try:
            seen.update(dict.fromkeys(_row(raw)))
        except MessageProblem:
            continue
    return list(seen)


def read_messages(paths: list[Path], kind: str, columns: list[str]) -> Iterator[RawBatch]:
    """Yield messages as rows of ``columns``; ``__line`` is ``(file index << 32) | line``."""
    rows: list[dict] = []
    problems: list[dict] = []
    for i, line, raw in _messages(paths, kind):
        at = (i << 32) | line
        try:
            rows.append({**_row(raw), LINE: at})
        except MessageProblem as problem:
            problems.append(_problem(at, problem, raw))
        except Exception as exc:  # the email package raises many types on damaged input
            problems.append(_problem(at, MessageProblem(None, None, f"the email parser failed ({exc})"), raw))
        if len(rows) + len(problems) >= _BATCH:
            yield _batch(rows, problems, columns)
            rows, problems = [], []
    _row.cache_clear()
    yield _batch(rows, problems, columns)
