"""Web-server logs as organisations keep them: IIS W3C extended, and nginx or Apache by format string.

IIS (W3C extended log file format): ``#Fields:`` directives name the space-separated
fields of the lines after them, and a server writes a new directive whenever logging is
reconfigured or restarted, so the fields can change mid-file; each line is read with the
directive in force. Columns are the W3C field names (``date``, ``time``, ``c-ip``,
``cs-uri-stem``, ``sc-status``, ``cs(Cookie)`` …), ``-`` is null, plus ``datetime``:
``date`` and ``time`` as ISO 8601 in UTC, which is what IIS writes by default. A field a
mapping reads that the directive in force does not log is reported per line (quarantined
with the directive's line). A line before any directive, or with another number of fields
than its directive, is quarantined with the raw line.

nginx and Apache: ``log_format`` is the format string of the server's configuration:
nginx variables (``$remote_addr [$time_local] "$request" $status ... "$http_cookie"``) or
Apache directives (``%h %l %u %t \\"%r\\" %>s %b \\"%{Cookie}i\\"``); the default is the
combined format. Columns are named as nginx names them (Apache's ``%h`` is
``remote_addr``, ``%{Cookie}i`` is ``http_cookie``, ``%{session}C`` is ``cookie_session``),
plus ``method``, ``path`` and ``protocol`` from ``request`` (``GET /x`` without a protocol, as
HTTP/0.9 and some clients send it, has none), and ``time`` from ``time_local`` (with its offset,
as ISO 8601). A line that does not match is quarantined; so is one whose ``time_local`` is no
such time, or whose ``request`` is no request line (the bytes of a TLS handshake sent to the
HTTP port): a page view needs its time and path. The reason quotes what was logged. In a
field, ``\\"`` and ``\\\\`` are read as the quote and backslash they escape; a byte logged as
``\\xHH`` (nginx's escape) is kept as written, as the log holds it.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from ..errors import EvidenceError
from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch

__all__ = [
    "ABSENT",
    "COMBINED",
    "FIELDS_LINE",
    "check_fields",
    "format_columns",
    "problem_rows",
    "read_lines",
    "read_weblog",
    "utf8_blocks",
    "utf8_chunks",
    "utf8_split",
]

ABSENT = "__absent"  # "|field|field|": fields a line's #Fields: directive does not log
FIELDS_LINE = "__fields_line"
COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
)
# Bytes read at a time. Not more: glibc's malloc serves a block above 32 MB from fresh pages
# each time (a page fault each 4 KB: 64 MB chunks cost IIS logs ~0.1 CPU-s of system time a
# log at stockholm), and one of 16 MB from memory freed before.
_CHUNK = 16 << 20
_APACHE = {
    "h": "remote_addr",
    "a": "remote_addr",
    "l": "remote_logname",
    "u": "remote_user",
    "t": "time_local",
    "r": "request",
    ">s": "status",
    "s": "status",
    "b": "body_bytes_sent",
    "B": "body_bytes_sent",
    "D": "request_time_us",
    "T": "request_time",
    "m": "method",
    "U": "uri",
    "q": "query_string",
    "H": "protocol",
    "v": "server_name",
}
_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)|%(?:\{([^}]*)\}([ieCon])|(>s|[a-zA-Z]))")


def check_fields(label: str, line: int, names: list[str]) -> None:
    """Refuse an IIS ``#Fields:`` directive that names a field twice: which value is the field's?"""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise EvidenceError(
            f"{label}: line {line}: the #Fields: directive names {', '.join(repr(n) for n in twice)} more than "
            "once; allowed: each field once (a mapping reads fields by name)"
        )


def problem_rows(lines: list[int], values: list[str], reasons: list[str]) -> pl.DataFrame:
    n = len(lines)
    return pl.DataFrame(
        {LINE: lines, "column": [None] * n, "value": values, "reason": reasons, "record": [None] * n},
        schema=PROBLEMS_SCHEMA,
    )


def read_lines(path: Path, encoding: str) -> Iterator[pl.Series]:
    """The lines of a text file, a chunk of whole lines at a time, without their line ends.

    Decoded in ``encoding`` and split in polars, not into a Python string a line. A line
    ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as Python's universal newlines read it.
    UTF-8 (what IIS and nginx write) is cut at ``\\n`` as bytes and decoded by polars, and
    each line loses one trailing ``\\r``; a chunk with a ``\\r`` left inside a line, and any
    other encoding, is decoded and its line ends made ``\\n`` in Python first.
    """
    if codecs.lookup(encoding).name == "utf-8":
        yield from _utf8_lines(path)
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    carry = ""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(_CHUNK)
            text = carry + decoder.decode(data, final=not data)
            carry = ""
            if data and text.endswith("\r"):  # perhaps the \r of a \r\n cut in two
                text, carry = text[:-1], "\r"
            if not data:
                if text:
                    yield _split(_newlines(text).removesuffix("\n"))
                return
            text = _newlines(text)
            cut = text.rfind("\n")
            carry = text[cut + 1 :] + carry
            if cut >= 0:
                yield _split(text[:cut])


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _split(text: str) -> pl.Series:
    return pl.select(pl.lit(pl.Series("l", [text])).str.split("\n").explode()).to_series()


def _utf8_lines(path: Path) -> Iterator[pl.Series]:
    """:func:`read_lines` for UTF-8."""
    for data in utf8_chunks(path):
        yield utf8_split(data)


def utf8_chunks(path: Path) -> Iterator[bytes]:
    """Chunks of whole lines, cut before their last ``\\n`` byte, which is never inside a character.

    A UTF-8 byte order mark at the start (IIS writes one when its logs are UTF-8) is no part
    of the first line, which is then still a directive.
    """
    for data, end in utf8_blocks(path):
        yield data if end == len(data) else data[:end]


def utf8_blocks(path: Path) -> Iterator[tuple[bytes, int]]:
    """:func:`utf8_chunks` as ``(data, end)``, the chunk being ``data[:end]``: not cut, so not copied.

    A log read in one chunk ends in its last line's ``\\n``: cutting it off would copy the
    whole chunk (64 MB; a fresh copy's pages cost more CPU than reading them). The unfinished
    line after a chunk's last ``\\n`` is read again at the start of the next chunk (a seek back,
    and a read that much longer), rather than joined to it: the same chunks, without a
    copy of each (16 MB of fresh pages a chunk; a log of 60 MB, ~15,000 page faults less).
    """
    carry = 0  # bytes of an unfinished line read again at the start of this chunk
    with open(path, "rb") as fh:
        if fh.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            fh.seek(0)
        while True:
            want = _CHUNK + carry
            data = fh.read(want)
            if not data:
                return
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < want:  # the last line, without a line end
                yield data, len(data)
                return
            carry = len(data) - (cut + 1)
            if cut >= 0:
                yield data, cut
            if carry:
                fh.seek(-carry, io.SEEK_CUR)


def utf8_split(data: bytes) -> pl.Series:
    # The file was decoded in full when it was hashed (files.scan): the cast cannot fail here.
    text = pl.Series("l", [data], dtype=pl.Binary()).cast(pl.String())
    lines = pl.select(pl.lit(text).str.split("\n").explode()).to_series().str.strip_suffix("\r")
    if lines.str.contains("\r", literal=True).any():  # a lone \r ends a line too (its \n was cut off)
        return _split(_newlines(data.decode("utf-8") + "\n").removesuffix("\n"))
    return lines


def format_columns(log_format: str | None) -> tuple[str, list[str]]:
    """The regular expression of ``log_format`` (named groups g0, g1 …) and the column of each group."""
    fmt = (log_format or COMBINED).replace('\\"', '"')
    pattern, at = "^", 0
    names: list[str] = []
    for m in _TOKEN.finditer(fmt):
        literal = fmt[at : m.start()]
        pattern += re.escape(literal)
        variable, arg, kind, directive = m.groups()
        if variable:
            name = variable
        elif kind:
            slug = re.sub(r"[^a-z0-9]+", "_", arg.lower())
            name = {
                "i": f"http_{slug}",
                "C": f"cookie_{arg}",
                "e": f"env_{slug}",
                "o": f"sent_http_{slug}",
                "n": f"note_{slug}",
            }[kind]
        else:
            name = _APACHE.get(directive, f"apache_{directive}")
        quoted = literal.endswith('"') or (pattern.endswith('\\"'))
        group = f"g{len(names)}"
        if name == "time_local" and directive == "t":
            pattern += rf"\[(?P<{group}>[^\]]*)\]"
        elif name in ("time_local", "time_iso8601") or literal.endswith("["):
            pattern += rf"(?P<{group}>[^\]]*)"
        elif quoted:
            pattern += rf'(?P<{group}>(?:[^"\\]|\\.)*)'
        else:
            pattern += rf"(?P<{group}>\S*)"
        names.append(name)
        at = m.end()
    pattern += re.escape(fmt[at:]) + "$"
    return pattern, names


_REQUEST = r"^(?P<method>[A-Za-z]+) (?P<path>\S+)(?: (?P<protocol>\S+))?$"


def read_weblog(path: Path, log_format: str | None, encoding: str = "utf-8") -> Iterator[RawBatch]:
    """Yield the lines of an nginx or Apache access log as text columns, in ``log_format``.

    The file was decoded in ``encoding`` when it was hashed (:func:`.files.scan`): a byte
    not in it stopped ingest there, naming the line, so here nothing is replaced.
    """
    pattern, names = format_columns(log_format)
    derived, checks = [], []
    if "request" in names:
        parts = pl.col("request").str.extract_groups(_REQUEST)
        made = [k for k in ("method", "path", "protocol") if k not in names]
        derived += [parts.struct.field(k).alias(k) for k in made]
        if made:
            unread = pl.col("request").is_not_null() & parts.struct.field("method").is_null()
            allowed = "a request line, METHOD PATH [PROTOCOL], e.g. GET /mina-sidor HTTP/1.1"
            checks.append((unread, "request", allowed))
    if "time_local" in names and "time" not in names:
        # A 60th second (places 18-19) is refused: polars would read it as the next minute's first.
        time = pl.when(pl.col("time_local").str.slice(18, 2) != "60").then(
            pl.col("time_local").str.to_datetime("%d/%b/%Y:%H:%M:%S%.f %z", time_zone="UTC", strict=False)
        )
        derived.append(time.alias("time"))
        unread = pl.col("time_local").is_not_null() & time.is_null()
        checks.append((unread, "time_local", "a time as nginx and Apache log it, e.g. 13/Dec/2013:18:50:01 +0100"))
    before = 0
    for chunk in read_lines(path, encoding):
        yield _weblog_batch(chunk, before, pattern, names, derived, log_format, checks)
        before += chunk.len()


def _weblog_batch(
    chunk: pl.Series,
    before: int,
    pattern: str,
    names: list[str],
    derived: list[pl.Expr],
    log_format: str | None,
    checks: Sequence[tuple[pl.Expr, str, str]] = (),
) -> RawBatch:
    lines = chunk.to_frame("l").select(
        pl.int_range(before + 1, before + 1 + chunk.len(), dtype=pl.Int64).alias(LINE), "l"
    )
    parsed = lines.with_columns(pl.col("l").str.extract_groups(pattern).alias("f")).unnest("f")
    matched = pl.col("g0").is_not_null() if names else pl.lit(True)
    good = parsed.filter(matched)
    frame = good.select(
        *(
            pl.when(pl.col(f"g{i}") != "-").then(pl.col(f"g{i}").str.replace_all(r'\\(["\\])', "$1")).alias(name)
            for i, name in enumerate(names)
        ),
        LINE,
    ).with_columns(derived)
    bad = parsed.filter(~matched)
    shown = log_format or COMBINED
    problems = [
        problem_rows(
            bad[LINE].to_list(),
            bad["l"].to_list(),
            [f"malformed line: it does not match the log_format; allowed: lines as {shown}"] * bad.height,
        )
    ]
    for unread, field, allowed in checks:  # a field logged, but not as the column made from it needs
        found = frame.select(unread.alias("u"), LINE, pl.col(field).alias("v"))
        if not found["u"].any():
            continue
        hit = found.filter("u")
        raw = good.filter(pl.col(LINE).is_in(hit[LINE].implode()))["l"].to_list()
        reasons = [f"malformed line: its {field} {v!r} cannot be read; allowed: {allowed}" for v in hit["v"].to_list()]
        problems.append(problem_rows(hit[LINE].to_list(), raw, reasons))
        frame = frame.filter(~pl.col(LINE).is_in(hit[LINE].implode()))
    return RawBatch(frame, pl.concat(problems).sort(LINE) if len(problems) > 1 else problems[0])
