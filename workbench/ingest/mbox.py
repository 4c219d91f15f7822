"""Read a support mailbox (mbox) into ``support_messages`` rows; unreadable messages go to quarantine.

Each message is parsed with :mod:`mailbox` and :data:`email.policy.default`, which decodes
encoded words in headers and the transfer encoding (quoted-printable, base64) of parts.
Mapping, as ``workbench generate`` writes ``raw/support.mbox``:

- ``message_id`` ← ``Message-ID``;
- ``received_at`` ← the time stamp of the topmost ``Received`` header (the receiving mail
  server's clock), or ``Date`` when there is no ``Received`` header;
- ``channel`` ← ``X-Bostad-Channel`` (``email`` or ``web_form``);
- ``sender_applicant_id`` ← ``X-Bostad-Customer-Number``, when support knew the sender;
- ``sender_address`` ← the address in ``From``;
- ``subject`` ← ``Subject``;
- ``body`` ← the text/plain part, in its charset; a message with only text/html gets the
  text of the HTML (tags dropped, ``<br>`` and paragraphs as line breaks): that is an
  approximation, where text/plain is exact.

A message is quarantined, with the line of its ``From`` separator as its position, when
it has no Message-ID or no time stamp with a zone, when its From header holds no address, or
when its body cannot be found or decoded (broken MIME structure, parts nested too deep, unknown
charset, bytes not in the charset, damaged base64), or when it repeats a header read here with
another value. The quarantine keeps the whole raw message. Messages are split at RFC 4155
separators (:mod:`.mbox_split`).
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import functools
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.headerregistry import HeaderRegistry
from pathlib import Path

import polars as pl

from ..errors import WorkbenchError
from .batch import LINE, PROBLEMS_SCHEMA, RawBatch
from .html_text import html_text
from .mbox_split import mbox_messages, separator_note

__all__ = ["CHANNEL_HEADER", "CUSTOMER_HEADER", "MessageProblem", "message_fields", "parse_message", "read_mbox"]

CHANNEL_HEADER = "X-Bostad-Channel"
CUSTOMER_HEADER = "X-Bostad-Customer-Number"
# Headers RFC 5322 (section 3.6) allows once in a message.
_SINGLE = frozenset(
    ("date", "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to", "references", "subject")
)
# The headers parse_message reads, and the support_messages column each feeds.
_COLUMN_OF = {
    "message-id": "message_id",
    "date": "received_at",
    "from": "sender_address",
    "subject": "subject",
    CHANNEL_HEADER.lower(): "channel",
    CUSTOMER_HEADER.lower(): "sender_applicant_id",
}
_READ = frozenset(_COLUMN_OF)
_BATCH = 10_000  # messages per batch
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")  # a folded header line continues after a line break
_SHOWN = 60
# Defects after which the text of a message cannot be trusted to be whole.
_FATAL = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64LengthDefect,
)


class _RememberedHeaders:
    """The header factory of ``email.policy.default``, remembering the headers it has parsed.

    The default policy parses a header again on every access, and the parser itself asks
    for Content-Type several times per part; headers are immutable, so one parse of each
    distinct (name, value) serves them all. This makes reading an mbox several times faster.
    """

    def __init__(self):
        self._parse = functools.lru_cache(maxsize=8192)(HeaderRegistry())

    def __call__(self, name: str, value: str):
        return self._parse(name, value)


# email.policy.default, with parsed headers remembered (see _RememberedHeaders).
_POLICY = email.policy.default.clone(header_factory=_RememberedHeaders())


class MessageProblem(WorkbenchError):
    """Why one message cannot become a row: the column concerned, the bad value, the reason."""

    def __init__(self, column: str | None, value: str | None, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def read_mbox(path: Path, label: str) -> Iterator[RawBatch]:
    """Yield the messages of the mbox at ``path`` as ``support_messages`` rows, in file order.

    ``label`` names the file in messages (e.g. ``"raw/support.mbox"``).
    """
    rows: list[dict] = []
    problems: list[dict] = []
    read = 0
    for line, separator, raw in mbox_messages(path):
        read += 1
        try:
            rows.append({**parse_message(raw), LINE: line})
        except MessageProblem as problem:
            problems.append(_problem(line, problem, separator, raw))
        if len(rows) + len(problems) >= _BATCH:
            yield _batch(rows, problems)
            rows, problems = [], []
    if rows or problems or not read:
        yield _batch(rows, problems)


@functools.cache
def _schema() -> dict[str, pl.DataType]:
    """Rows as read; sender_applicant_id stays text: the value checks type it and quarantine what is no number.

    Built on first use: :mod:`workbench.mapping.mail`'s child process parses messages here
    and should not import the evidence schema (SQLAlchemy, 0.3 CPU-s) for it.
    """
    from .. import evidence

    return {**evidence.polars_schema("support_messages"), "sender_applicant_id": pl.String(), LINE: pl.Int64()}


def _batch(rows: list[dict], problems: list[dict]) -> RawBatch:
    return RawBatch(pl.DataFrame(rows, schema=_schema()), pl.DataFrame(problems, schema=PROBLEMS_SCHEMA))


def _problem(line: int, problem: MessageProblem, separator: bytes, raw: bytes) -> dict:
    """A quarantine row keeping the message whole, with its 'From ' separator line."""
    text = (separator + raw).decode("utf-8", "backslashreplace").replace("\x00", "\\x00")  # PostgreSQL cannot store NUL
    return {
        LINE: line,
        "column": problem.column,
        "value": problem.value,
        "reason": problem.reason + separator_note(raw),
        "record": json.dumps({"message": text}, ensure_ascii=False),
    }


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "…"


def parse_message(raw: bytes) -> dict:
    """The ``support_messages`` fields of one message (bytes after its From line).

    Raises :class:`MessageProblem` naming the column, the bad value and what is allowed.
    """
    with _nesting():
        msg = email.message_from_bytes(raw, policy=_POLICY)
        # Headers needing no decoding are read as written (unfolded): parsing them is most of the cost.
        headers = _headers(msg, _READ, _COLUMN_OF)
        return _support_fields(msg, headers)


def _support_fields(msg: email.message.EmailMessage, headers: dict[str, str]) -> dict:
    message_id = headers.get("message-id")
    if not message_id:
        raise MessageProblem(
            "message_id",
            message_id,
            "no Message-ID header; allowed: a message with a Message-ID, e.g. <20131214091502.4411@mail.bostad.example>",
        )
    subject = msg.get("Subject")
    return {
        "message_id": message_id,
        "received_at": _received_at(headers),
        "channel": headers.get(CHANNEL_HEADER.lower()),
        "sender_applicant_id": headers.get(CUSTOMER_HEADER.lower()),
        "sender_address": _sender(headers.get("from")),
        "subject": None if subject is None else str(subject),  # encoded words decoded
        "body": _body(msg),
    }


def message_fields(raw: bytes, checked: frozenset[str] = frozenset()) -> dict[str, str | datetime | None]:
    """Every header of one message (by lower-case name, unfolded, first occurrence) and what it says.

    Besides the headers: ``received_at`` (as for ``support_messages``, in UTC),
    ``from_address``, ``subject`` (encoded words decoded) and ``body`` (the text part).
    For mapped ingest (:mod:`workbench.mapping`), where any header may become a column.
    Raises :class:`MessageProblem` where :func:`parse_message` would for the time or the body,
    and for a header RFC 5322 allows once (Date, From, To, Message-ID, Subject …) or one in
    ``checked`` (lower-case names) that is repeated with another value.
    """
    with _nesting():
        msg = email.message_from_bytes(raw, policy=_POLICY)
        return _all_fields(msg, _headers(msg, _SINGLE | checked))


def _all_fields(msg: email.message.EmailMessage, headers: dict[str, str]) -> dict[str, str | datetime | None]:
    try:
        sender = _sender(headers.get("from"))
    except MessageProblem:
        sender = None
    received_at, body = _received_at(headers), _body(msg)
    charset = _declared_charset(msg)
    decoded = {name: _header_text(name, value, charset) for name, value in headers.items()}
    return {
        **decoded,
        "received_at": received_at,
        "from_address": sender,
        "subject": decoded.get("subject"),
        "body": body,
    }


@contextlib.contextmanager
def _nesting() -> Iterator[None]:
    """Turn the parser's RecursionError on MIME parts nested a thousand deep into a :class:`MessageProblem`.

    :mod:`email` parses and walks nested parts by recursion; a message nesting them deeper
    than Python's recursion limit allows cannot be read, and only that message is lost.
    """
    try:
        yield
    except RecursionError:
        raise MessageProblem(
            "body",
            None,
            "the MIME parts are nested too deeply for the email parser to follow (it reached Python's recursion "
            f"limit of {sys.getrecursionlimit()} calls); allowed: MIME parts nested a few levels deep, as mail is",
        ) from None


def _headers(
    msg: email.message.EmailMessage, checked: frozenset[str], columns: dict[str, str] | None = None
) -> dict[str, str]:
    """Every header by lower-case name, unfolded, as written (the first, for a repeated header).

    A header in ``checked`` repeated with another value raises :class:`MessageProblem` (for
    the column ``columns`` names, else the header): taking the first would choose silently.
    Copies of the same value are one header.
    """
    headers: dict[str, str] = {}
    repeated: list[tuple[str, str, str]] = []  # (name, first value, another value)
    for name, value in msg.raw_items():
        key, text = name.lower(), _UNFOLD.sub("", value).strip()
        first = headers.setdefault(key, text)
        if first != text and key in checked:
            repeated.append((name, first, text))
    if repeated:
        said = "; ".join(
            f"the {n} header is repeated with different values: '{_shown(a)}' and '{_shown(b)}'" for n, a, b in repeated
        )
        name, _, value = repeated[0]
        raise MessageProblem(
            (columns or {}).get(name.lower(), name.lower()),
            value,
            f"{said}; allowed: each of them once (or copies of the same value)",
        )
    return headers


def _declared_charset(msg: email.message.EmailMessage) -> str | None:
    """The charset the message's text is declared in: its own, else its first text part's."""
    for part in msg.walk():
        charset = part.get_content_charset()
        if charset:
            return charset
    return None


def _header_text(name: str, value: str, charset: str | None) -> str:
    """A header's text as its sender meant it: encoded words decoded, 8-bit bytes read, never guessed.

    8-bit bytes in a header break RFC 5322 but are sent (an old client writing ISO-8859-1):
    they are read as UTF-8, else in the charset the message declares for its text; bytes in
    neither quarantine the message rather than stand as U+FFFD.
    """
    if not value.isascii():  # the parser keeps 8-bit bytes as surrogates
        data = value.encode("utf-8", "surrogateescape")
        for candidate in dict.fromkeys(c for c in ("utf-8", charset) if c):
            try:
                value = data.decode(candidate)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        else:
            shown = data.decode("utf-8", "backslashreplace")
            raise MessageProblem(
                name,
                shown,
                f"the {name} header has 8-bit bytes that are neither UTF-8 nor the message's charset "
                f"({charset or 'none declared'}): '{_shown(shown)}'; allowed: encoded words (RFC 2047) or UTF-8",
            )
    if "=?" in value:
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except (email.errors.HeaderParseError, LookupError, UnicodeDecodeError):
            pass  # not decodable as encoded words: kept as written, for a value map to refuse
    return value


def _received_at(headers: dict[str, str]) -> datetime:
    """The receiving server's time stamp: the topmost Received header, else Date; in UTC."""
    if "received" in headers:
        header, source = headers["received"], "Received"
        stamp = header.rpartition(";")[2].strip()
    elif "date" in headers:
        header = stamp = headers["date"]
        source = "Date"
    else:
        raise MessageProblem(
            "received_at",
            None,
            "no Received and no Date header; allowed: a Received header ending '; Sat, 14 Dec 2013 09:15:02 +0100', or a Date header",
        )
    allowed = "allowed: an RFC 5322 date with a zone, e.g. Sat, 14 Dec 2013 09:15:02 +0100"
    try:
        when = email.utils.parsedate_to_datetime(stamp)
    except (TypeError, ValueError, IndexError):
        raise MessageProblem(
            "received_at", header, f"{source} time stamp '{_shown(stamp)}' is not a date; {allowed}"
        ) from None
    if when.tzinfo is None:
        raise MessageProblem(
            "received_at", header, f"{source} time stamp '{_shown(stamp)}' has no time zone (-0000); {allowed}"
        )
    return when.astimezone(UTC)


def _sender(header: str | None) -> str | None:
    """The address in a From header; the display name (perhaps encoded words) is not needed."""
    if header is None:
        return None
    addresses = email.utils.getaddresses([header])
    address = addresses[0][1] if addresses else ""
    if "@" not in address:
        raise MessageProblem(
            "sender_address",
            header,
            f"From header '{_shown(header)}' holds no e-mail address; allowed: e.g. Anna Lindqvist <anna@example.com>",
        )
    return address


def _body(msg: email.message.EmailMessage) -> str:
    """The text of the message: its text/plain part, else the text of its text/html part."""
    fatal = [d for part in msg.walk() for d in part.defects if isinstance(d, _FATAL)]
    if fatal:
        raise MessageProblem(
            "body",
            None,
            f"the MIME structure is broken ({_defect(fatal[0])}); allowed: well-formed MIME (RFC 2045–2049)",
        )
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        found = ", ".join(sorted({p.get_content_type() for p in msg.walk() if not p.is_multipart()})) or "none"
        raise MessageProblem(
            "body", None, f"no text/plain or text/html part (parts: {found}); allowed: a message with a text part"
        )
    payload = part.get_payload(decode=True) or b""
    assert isinstance(payload, bytes)  # decode=True on a text part gives bytes
    fatal = [d for d in part.defects if isinstance(d, _FATAL)]
    if fatal:  # decoding base64 records its damage on the part
        raise MessageProblem(
            "body",
            None,
            f"the body cannot be decoded ({_defect(fatal[0])}); allowed: intact base64 or quoted-printable",
        )
    # Without a charset the RFC default is US-ASCII, of which UTF-8 is a superset.
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset)
    except LookupError:
        raise MessageProblem(
            "body",
            charset,
            f"unknown charset '{_shown(charset)}'; allowed: a charset Python knows, e.g. utf-8 or iso-8859-1",
        ) from None
    except UnicodeDecodeError as exc:
        raise MessageProblem(
            "body",
            charset,
            f"the body is not {charset}: byte 0x{payload[exc.start]:02X} at byte {exc.start + 1}; allowed: text in the declared charset",
        ) from None
    return html_text(text) if part.get_content_subtype() == "html" else text


def _defect(defect: email.errors.MessageDefect) -> str:
    """A defect as 'Name: what it means', e.g. 'StartBoundaryNotFoundDefect: the claimed start boundary was never found'."""
    what = str(defect) or (type(defect).__doc__ or "").strip().rstrip(".")
    return f"{type(defect).__name__}: {what[:1].lower() + what[1:]}"
