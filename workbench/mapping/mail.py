"""Mail as organisations export it: a folder of ``.eml`` files, a Maildir, or an mbox.

Every message is parsed with the standard library (:func:`workbench.ingest.mbox.message_fields`):
its columns are its headers by lower-case name (``message-id``, ``from``,
``x-bostad-channel`` …), plus ``received_at`` (the topmost Received header's time stamp,
else Date; ISO 8601 in UTC), ``from_address``, ``subject`` (decoded) and ``body`` (the
text part). A message with a broken MIME structure, an undecodable body or no time stamp
is quarantined whole, with its file (an ``.eml`` or a Maildir message is line 1 of its own
file; in an mbox, the line of its ``From`` separator, kept in the record); so is one whose MIME
parts nest too deep to parse, or that repeats with another value a header RFC 5322 allows once
or the mapping reads. An mbox is split at RFC 4155 separators (:mod:`workbench.ingest.mbox_split`).

Parsing is pure Python under the GIL (1.5 CPU-s for the 4,231 messages of a stockholm
hand-over), so a threaded ingest reads the mail ``apart``: in one child process
(:func:`read_messages`), which hands back plain lists, batch by batch in file order, while
this process loads the other tables. The batches are the same either way.
"""

from __future__ import annotations

import functools
import json
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import polars as pl

from ..errors import WorkbenchError
from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch
from ..ingest.mbox import MessageProblem, message_fields
from ..ingest.mbox_split import mbox_messages, separator_note

__all__ = ["MAIL_COLUMNS", "Apart", "mail_columns", "read_messages"]

MAIL_COLUMNS = ["message-id", "received_at", "date", "from", "from_address", "to", "subject", "body"]
_BATCH = 10_000


@functools.lru_cache(maxsize=256)
def _row(raw: bytes, checked: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """The columns of one message (cached: :func:`mail_columns` parsed the first ones already; do not change it).

    ``checked``: headers besides RFC 5322's single ones that must not repeat with another value.
    """
    fields = message_fields(raw, checked)
    return {k: v.isoformat() if isinstance(v, datetime) else _text(v) for k, v in fields.items()}


def _text(value: str | None) -> str | None:
    """Header text as read: 8-bit bytes in a header (not allowed, but sent) read as UTF-8, else shown as U+FFFD."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _problem(line: int, problem: MessageProblem, separator: bytes, raw: bytes) -> dict:
    """A quarantine row keeping the message whole (in an mbox, with its 'From ' separator line)."""
    text = (separator + raw).decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return {
        LINE: line,
        "column": problem.column,
        "value": problem.value,
        "reason": f"unreadable message: {problem.reason}{separator_note(raw) if separator else ''}",
        "record": json.dumps({"message": text}, ensure_ascii=False),
    }


def _messages(paths: list[Path], kind: str) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(index of the file, line, 'From ' separator line or b"", raw message) of every message, in file order.

    An mbox is split where RFC 4155 separators are (:func:`~workbench.ingest.mbox_split.mbox_messages`).
    """
    for i, path in enumerate(paths):
        if kind != "mbox":
            yield i, 1, b"", path.read_bytes()
            continue
        for line, separator, raw in mbox_messages(path):
            yield i, line, separator, raw


def mail_columns(paths: list[Path], kind: str, sample: int = 200) -> list[str]:
    """The columns the first ``sample`` messages offer: the usual ones and every header seen."""
    seen = dict.fromkeys(MAIL_COLUMNS)
    for n, (_, _, _, raw) in enumerate(_messages(paths, kind)):
        if n >= sample:
            break
        try:
            seen.update(dict.fromkeys(_row(raw)))
        except MessageProblem:
            continue
    return list(seen)


def read_messages(
    paths: list[Path], kind: str, columns: list[str], apart: bool | Apart = False, needed: frozenset[str] = frozenset()
) -> Iterator[RawBatch]:
    """Yield messages as rows of ``columns``; ``__line`` is ``(file index << 32) | line``.

    A message is quarantined when a header RFC 5322 allows once (Date, From, To, Message-ID,
    Subject …), or one named in ``needed`` (the source columns the mapping reads), is
    repeated with another value.

    ``apart``: parse them in a child process (the same batches, in the same order), or take
    them from the child an :class:`Apart` already started; a child that dies raises
    :class:`~workbench.errors.WorkbenchError` where its batch was due.
    """
    if isinstance(apart, Apart):
        yield from apart.batches()
        return
    if apart:
        yield from _read_apart(paths, kind, columns, needed)
        return
    for rows, problems in _parsed(paths, kind, columns, needed=needed):
        yield _frames(rows, problems, columns)
    _row.cache_clear()


def _parsed(
    paths: list[Path], kind: str, columns: list[str], size: int = 0, needed: frozenset[str] = frozenset()
) -> Iterator[tuple[dict, list[dict]]]:
    """Batches of messages (``size`` a batch, default ``_BATCH``) as plain data: (column → values, quarantine rows)."""
    size = size or _BATCH
    checked = frozenset(needed)
    rows: list[dict] = []
    problems: list[dict] = []
    for i, line, separator, raw in _messages(paths, kind):
        at = (i << 32) | line
        try:
            rows.append({**_row(raw, checked), LINE: at})
        except MessageProblem as problem:
            problems.append(_problem(at, problem, separator, raw))
        except Exception as exc:  # the email package raises many types on damaged input
            failed = MessageProblem(None, None, f"the email parser failed ({exc})")
            problems.append(_problem(at, failed, separator, raw))
        if len(rows) + len(problems) >= size:
            yield _columns(rows, columns), problems
            rows, problems = [], []
    yield _columns(rows, columns), problems


def _columns(rows: list[dict], columns: list[str]) -> dict[str, list]:
    return {c: [r.get(c) for r in rows] for c in [*columns, LINE]}


def _frames(rows: dict[str, list], problems: list[dict], columns: list[str]) -> RawBatch:
    schema = {**{c: pl.String() for c in columns}, LINE: pl.Int64()}
    return RawBatch(pl.DataFrame(rows, schema=schema), pl.DataFrame(problems, schema=PROBLEMS_SCHEMA))


def _read_apart(paths: list[Path], kind: str, columns: list[str], needed: frozenset[str]) -> Iterator[RawBatch]:
    with Apart(paths, kind, columns, needed) as child:
        yield from child.batches()


class Apart:
    """A child interpreter parsing messages, started at once: it parses while this process does
    other work (a mapped ingest scans its other inputs meanwhile) and hands its batches over when
    :meth:`batches` asks. Use as a context manager: leaving it stops the child.

    Not :mod:`multiprocessing`: its spawn runs the caller's main script again, its fork copies
    the locks of this process's threads. The child reads the request from its stdin and writes
    its batches to its stdout as pickles, in order, then "done".
    """

    def __init__(self, paths: list[Path], kind: str, columns: list[str], needed: frozenset[str] = frozenset()):
        self.paths, self.columns, self.needed = paths, columns, frozenset(needed)
        self._errors = tempfile.TemporaryFile()
        command = [sys.executable, "-c", _CHILD]
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors)
        assert self._child.stdin is not None
        try:
            with self._child.stdin:
                request = (sys.path, [str(p) for p in paths], kind, columns, _BATCH, sorted(self.needed))
                pickle.dump(request, self._child.stdin)
        except BrokenPipeError:  # the child died at once: batches() says so where its first batch is due
            pass
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Apart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batches(self) -> Iterator[RawBatch]:
        """The child's batches, in file order; raises what it raised, or that it died."""
        assert self._child.stdout is not None
        while True:
            try:
                what, value = pickle.load(self._child.stdout)
            except (EOFError, pickle.UnpicklingError) as exc:
                raise _died(self._child, self._errors, self.paths) from exc
            if what == "done":
                return
            if what == "error":
                raise value
            for rows, problems in value:
                yield _frames(rows, problems, self.columns)

    def close(self) -> None:
        """Stop the child (if it has not finished) and wait for it.

        Killed before its pipe is closed: a reader thread blocked reading the pipe holds the
        pipe's lock, so closing it first would wait for the child's next batch.
        """
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        assert self._child.stdout is not None
        self._child.stdout.close()
        self._errors.close()


def _died(child: subprocess.Popen, errors: IO[bytes], paths: list[Path]) -> WorkbenchError:
    code = child.wait()
    errors.seek(0)
    said = errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]
    where = f"{len(paths)} files in {paths[0].parent}" if paths else "no files"
    return WorkbenchError(
        f"the process reading the mail ({where}) stopped before it finished (exit status {code}"
        f"{': ' + ' / '.join(said) if said else ''}); nothing was written to the case. Run the ingest again; "
        "if it stops again, set WORKBENCH_MAPPING_WORKERS=1 to read the mail in this process"
    )


def child_main(request: tuple[list[str], list[str], str, list[str], int, list[str]]) -> None:
    """The child's side of :func:`_read_apart`: (sys.path, paths, kind, columns, batch size, needed) → pickles on stdout."""
    _, paths, kind, columns, size, needed = request
    out = sys.stdout.buffer
    try:
        for batch in _parsed([Path(p) for p in paths], kind, columns, size, frozenset(needed)):
            out.write(pickle.dumps(("batches", [batch]), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # raised in the parent, where reading in this process raises it
        try:
            said = pickle.dumps(("error", exc))
        except Exception:
            said = pickle.dumps(("error", WorkbenchError(f"reading the mail failed: {exc!r}")))
        out.write(said)
    else:
        out.write(pickle.dumps(("done", None)))
    out.flush()


# sys.path is set from the request before the import, so that the child runs this very workbench
_CHILD = (
    "import pickle, sys\n"
    "request = pickle.load(sys.stdin.buffer)\n"
    "sys.path[:] = request[0]\n"
    "from workbench.mapping.mail import child_main\n"
    "child_main(request)\n"
)
