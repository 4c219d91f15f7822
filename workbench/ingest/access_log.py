"""Stream a web server's access log into ``page_views`` rows; malformed lines go to quarantine.

The format is Apache's combined log format with the session cookie and the rendered
account appended, as ``workbench generate`` writes ``raw/access.log``::

    83.250.14.7 - - [13/Dec/2013:18:52:07 +0100] "GET /mina-sidor/profil HTTP/1.1" 200 5123 "https://bostad.example/mina-sidor" "Mozilla/5.0 ..." session=9f2c4e1a7b3d5f60 account=1048213

Mapping to ``page_views``: client address → ``ip`` (``-`` is null); time, local with its
offset → ``time`` in UTC (a fraction of a second, as Apache's ``%{usec_frac}t`` writes it,
is kept); request path → ``path`` (``\\"`` and ``\\\\`` unescaped); status → ``status``;
``session=`` → ``session_id``; ``account=`` → ``account_id`` (``-`` is null: the page
rendered no account). Identity, user, method, protocol, size, referer and user agent must
have their shape but are not stored: ``page_views`` has no column for them.

The file is never held whole in memory. It is read 16 MiB at a time; the whole lines of
a read become Arrow string arrays over the bytes as read, without a copy (only a line
split between two reads is copied), and are parsed with one regular expression in
polars. A block is cut into one piece per core, parsed in threads (polars releases the
GIL), and the next block is parsed while the caller loads the previous one: at most
three blocks are in memory (read, parsed, loaded). A line that does not match is
quarantined with its line number, the raw line as value, and a reason naming the first
field missing or wrong.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from ..errors import EvidenceError
from .batch import LINE, PROBLEMS_SCHEMA, RawBatch

__all__ = ["LINE_FORMAT", "parse_lines", "read_access_log"]

LINE_FORMAT = (
    'the combined log format with " session=COOKIE account=ACCOUNT" appended, e.g. 83.250.14.7 - - '
    '[13/Dec/2013:18:52:07 +0100] "GET /mina-sidor HTTP/1.1" 200 5123 "-" "Mozilla/5.0" session=9f2c4e1a account=1048213'
)
_BLOCK = 16 << 20  # bytes read at a time: per-block overhead vanishes, and it measured fastest
_MAX_LINE = 1 << 20  # a line longer than this means the file is not a text log
_SHOWN = 40  # characters of the text at a problem repeated inside a reason

_QUOTED = r'(?:[^"\\]|\\.)*'  # a quoted value, with \" and \\ escaped as Apache writes them
_TOKEN = r"[!-~]+"  # printable ASCII without space
_TEXT = r"[ !#-\[\]-~]*"  # printable ASCII without " and \
_DATE = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})? [+-][0-9]{4}"
# (field, what it must look like, its pattern in any well-formed line, in a plain line).
# Apache writes plain lines: ASCII only (it escapes other bytes as \xhh), no escapes, no
# space in the path. Their pattern is one-pass, which the regex engine resolves with
# captures faster than the general one; the general pattern catches the rest.
_PARTS = (
    ("client address", "no spaces", r"(?P<ip>\S+)", rf"(?P<ip>{_TOKEN})"),
    ("identity and user", "'- -'", r" \S+ \S+", rf" {_TOKEN} {_TOKEN}"),
    ("time", "[dd/Mon/yyyy:HH:MM:SS ±hhmm]", rf" \[(?P<time>{_DATE})\]", None),
    (
        "request line",
        '"METHOD PATH HTTP/x.y"',
        rf' "\S+ (?P<path>{_QUOTED}) HTTP/[0-9]\.[0-9]"',
        rf' "{_TOKEN} (?P<path>[!#-\[\]-~]*) HTTP/[0-9]\.[0-9]"',
    ),
    ("status", "3 digits", r" (?P<status>[0-9]{3})", None),
    ("response size", "digits or -", r" (?:[0-9]+|-)", None),
    ("referer", "in double quotes", rf' "{_QUOTED}"', rf' "{_TEXT}"'),
    ("user agent", "in double quotes", rf' "{_QUOTED}"', rf' "{_TEXT}"'),
    ("session cookie", "session=COOKIE", r" session=(?P<session>\S+)", rf" session=(?P<session>{_TOKEN})"),
    ("rendered account", "account=DIGITS or account=-", r" account=(?P<account>[0-9]+|-)", None),
    ("end of the line", "nothing after the account", r"\r?\n$", None),
)
_GENERAL = "^" + "".join(p for _, _, p, _ in _PARTS)
_PLAIN = "^" + "".join(plain or p for _, _, p, plain in _PARTS)
_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S%.f %z"


def read_access_log(
    path: Path, label: str, workers: int | None = None, block_bytes: int = _BLOCK
) -> Iterator[RawBatch]:
    """Yield the lines of the access log at ``path`` as typed ``page_views`` rows, block by block.

    ``label`` names the file in messages (e.g. ``"raw/access.log"``); ``workers`` is the
    number of threads (default: one per core); ``block_bytes`` bounds what is read at once.
    """
    workers = workers or _cores()
    lines_before = 0
    with ThreadPoolExecutor(workers) as pool, open(path, "rb") as fh:
        pending: list[Future] = []
        for pieces in _blocks(fh, label, block_bytes, workers):
            # Submit this block before handing over the previous one: parsing overlaps loading.
            submitted = [pool.submit(parse_lines, piece) for piece in pieces]
            if pending:
                batch, lines_before = _gather(pending, lines_before)
                yield batch
            pending = submitted
        if pending:
            batch, lines_before = _gather(pending, lines_before)
            yield batch


def _cores() -> int:
    """Cores this process may run on (a container's CPU set, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _blocks(fh, label: str, block_bytes: int, k: int) -> Iterator[list[memoryview]]:
    """Whole lines of ``fh``, about ``block_bytes`` at a time, in pieces that end with a newline.

    Each read is parsed where it lies (the lines parsed from it keep pointing into it); only
    the line split between two reads is copied, and becomes a piece of its own.
    """
    rest, offset = b"", 0  # offset: where ``rest`` starts in the file
    while True:
        data = fh.read(block_bytes)
        if not data:
            if rest:
                yield [memoryview(rest + b"\n")]  # the last line has no newline
            return
        first = data.find(b"\n") + 1
        if not first:
            rest += data
            if len(rest) > _MAX_LINE:
                raise EvidenceError(
                    f"{label}: no line end in the {len(rest):,} bytes from byte {offset:,}: not a text log; "
                    f"allowed: one request per line, {LINE_FORMAT}"
                )
            continue
        cut = data.rfind(b"\n") + 1
        pieces = [memoryview(rest + data[:first]), *_pieces(data, first, cut, k)] if rest else _pieces(data, 0, cut, k)
        offset += len(rest) + cut
        rest = data[cut:]
        yield pieces


def _pieces(data: bytes, start: int, end: int, k: int) -> list[memoryview]:
    """``data[start:end]`` (whole lines) cut at line ends into up to ``k`` pieces of about equal size."""
    cuts = [start]
    for i in range(1, k):
        at = data.find(b"\n", max(cuts[-1], start + (end - start) * i // k), end) + 1
        if at and at < end:
            cuts.append(at)
    cuts.append(end)
    view = memoryview(data)
    return [view[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def _gather(futures: list[Future], lines_before: int) -> tuple[RawBatch, int]:
    """Join the parsed pieces of one block, numbering lines from ``lines_before + 1``."""
    frames, problems = [], []
    for future in futures:
        frame, bad, lines = future.result()
        frames.append(frame.with_columns(pl.col(LINE) + lines_before))
        problems.append(bad.with_columns(pl.col(LINE) + lines_before))
        lines_before += lines
    return RawBatch(pl.concat(frames), pl.concat(problems)), lines_before


def _arrow_lines(piece: memoryview) -> tuple[pa.StringArray, list[tuple[int, str, str]]]:
    """The lines of ``piece`` (each with its newline) and those that are not UTF-8.

    Returns the lines and, for each line that is not UTF-8, (0-based index, the line with
    bad bytes shown as \\xNN, reason); such a line is replaced by an empty one.
    """
    ends = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 0x0A) + 1
    offsets = np.concatenate([np.zeros(1, dtype=np.int32), ends.astype(np.int32)])
    lines = pa.StringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(piece))
    try:
        lines.validate(full=True)  # UTF-8 check of the whole piece, without decoding it
        return lines, []
    except pa.ArrowInvalid:
        pass
    texts, bad = [], []
    for i, raw in enumerate(bytes(piece).split(b"\n")[:-1]):
        try:
            texts.append(raw.decode("utf-8") + "\n")
        except UnicodeDecodeError as exc:
            texts.append("\n")
            shown = raw.decode("utf-8", "backslashreplace")
            why = (
                f"not UTF-8: byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} of the line "
                f"(Latin-1 or Windows-1252?); allowed: UTF-8 text; convert with `iconv -f latin1 -t utf-8`"
            )
            bad.append((i, shown, why))
    return pa.array(texts, pa.string()), bad


def parse_lines(piece: memoryview | bytes) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Parse whole lines of an access log (each ending with a newline).

    Returns the typed ``page_views`` rows with ``__line`` (1-based within ``piece``), the
    quarantine entries of the lines refused (``PROBLEMS_SCHEMA``), and the number of lines.
    """
    arrow, not_utf8 = _arrow_lines(memoryview(piece))
    lines = pl.from_arrow(arrow)
    assert isinstance(lines, pl.Series)
    lines = lines.alias("line")
    fields = (
        pl.DataFrame([lines])
        .select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE),
            pl.col("line").str.extract_groups(_PLAIN).alias("f"),
        )
        .unnest("f")
    )
    rest = pl.DataFrame(schema={LINE: pl.Int64, "line": pl.String})
    if fields["ip"].null_count():  # escaped quotes, a space in the path, or malformed
        fields, rest = _general(fields, lines)
    typed, refused = _typed(fields, lines)
    problems = [refused, _malformed(rest)]
    if not_utf8:
        index = [i + 1 for i, _, _ in not_utf8]
        problems = [p.filter(~pl.col(LINE).is_in(index)) for p in problems]
        problems.append(
            pl.DataFrame(
                {
                    LINE: index,
                    "column": None,
                    "value": [v for _, v, _ in not_utf8],
                    "reason": [w for _, _, w in not_utf8],
                    "record": None,
                },
                schema=PROBLEMS_SCHEMA,
            )
        )
    return typed, pl.concat(problems).sort(LINE), len(lines)


def _general(fields: pl.DataFrame, lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the lines the plain pattern missed with the general one; return parsed and unmatched."""
    missed = fields.filter(pl.col("ip").is_null())[LINE]
    rest = pl.DataFrame([missed, lines.gather(missed - 1)])
    general = rest.with_columns(pl.col("line").str.extract_groups(_GENERAL).alias("f")).unnest("f")
    matched = general.filter(pl.col("ip").is_not_null()).drop("line")
    unescaped = matched.with_columns(pl.col("path").str.replace_all(r"\\(.)", "$1"))
    parsed = pl.concat([fields.filter(pl.col("ip").is_not_null()), unescaped]).sort(LINE)
    return parsed, general.filter(pl.col("ip").is_null()).select(LINE, "line")


def _raw(line: pl.Expr) -> pl.Expr:
    """The line as quarantined: without its newline; NUL shown as \\x00 (PostgreSQL cannot store it)."""
    return line.str.strip_suffix("\n").str.replace_all("\x00", "\\x00", literal=True)


def _typed(fields: pl.DataFrame, lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type the captured fields as ``page_views``; refuse lines whose fields do not convert."""
    # 10/Oct/2000:13:55:60: a 60th second (places 18-19) is refused, not read as the next minute's first.
    time = pl.when(pl.col("time").str.slice(18, 2) != "60").then(
        pl.col("time").str.to_datetime(_TIME_FORMAT, time_unit="us", time_zone="UTC", strict=False)
    )
    account = pl.when(pl.col("account") != "-").then(pl.col("account").str.to_integer(base=10, strict=False))
    typed = fields.select(
        time.alias("time"),
        pl.col("session").alias("session_id"),
        pl.when(pl.col("ip") != "-").then(pl.col("ip")).alias("ip"),
        "path",
        pl.col("status").str.to_integer(base=10).alias("status"),
        account.alias("account_id"),
        LINE,
    )
    bad = (
        typed["time"].is_null()
        | (typed["account_id"].is_null() & (fields["account"] != "-"))
        | (fields["session"] == "-")
    )
    if not bad.any():
        return typed, pl.DataFrame(schema=PROBLEMS_SCHEMA)
    # Few lines: say for each which field failed.
    which = fields.filter(bad).with_columns(typed.filter(bad).select(__time="time", __account="account_id"))
    reason = (
        pl.when(pl.col("__time").is_null())
        .then(
            pl.struct(
                column=pl.lit("time"),
                reason=pl.format(
                    "time '{}' is not a valid date and time; allowed: dd/Mon/yyyy:HH:MM:SS ±hhmm, e.g. 13/Dec/2013:18:52:07 +0100",
                    "time",
                ),
            )
        )
        .when(pl.col("session") == "-")
        .then(
            pl.struct(
                column=pl.lit("session_id"),
                reason=pl.lit(
                    "session=-: the request carried no session cookie; allowed: session=COOKIE (page_views.session_id requires one)"
                ),
            )
        )
        .otherwise(
            pl.struct(
                column=pl.lit("account_id"),
                reason=pl.format(
                    "account={} is out of range; allowed: a customer number of at most 18 digits, or account=-",
                    pl.col("account").str.slice(0, _SHOWN),
                ),
            )
        )
    )
    refused = which.select(
        LINE,
        reason.struct.field("column"),
        _raw(pl.lit(lines.gather(which[LINE] - 1))).alias("value"),
        reason.struct.field("reason"),
        pl.lit(None, pl.String).alias("record"),
    )
    return typed.filter(~bad), refused.cast(PROBLEMS_SCHEMA)


def _malformed(rest: pl.DataFrame) -> pl.DataFrame:
    """Quarantine entries for lines that match no pattern, naming the first field that fails."""
    if rest.is_empty():
        return pl.DataFrame(schema=PROBLEMS_SCHEMA)
    line = pl.col("line")
    # Cumulative prefixes: a line matches the first k of them; field k is the one that fails.
    prefixes = ["^" + "".join(p for _, _, p, _ in _PARTS[: k + 1]) for k in range(len(_PARTS))]
    matched = pl.sum_horizontal(line.str.contains(p).cast(pl.Int32) for p in prefixes).alias("k")
    # Where the failing field starts: the length of the longest prefix matched.
    starts = [pl.lit(0)] + [line.str.extract(f"({p})", 1).str.len_chars() for p in prefixes[:-1]]
    at = pl.lit(0)
    for k, start in enumerate(starts):
        at = pl.when(pl.col("k") == k).then(start).otherwise(at)
    found = line.str.slice(pl.col("at"), _SHOWN).str.strip_suffix("\n").str.strip_suffix("\r")
    expected = pl.col("k").replace_strict(
        {k: f"the {name} ({shape})" for k, (name, shape, _, _) in enumerate(_PARTS)}, return_dtype=pl.String
    )
    reason = (
        pl.when(line.str.contains(r"^\r?\n$"))
        .then(pl.lit(f"empty line; allowed: {LINE_FORMAT}"))
        .when(found == "")
        .then(
            pl.format(
                "malformed line: the line ends at character {} where {} should follow; allowed: " + LINE_FORMAT,
                pl.col("at") + 1,
                expected,
            )
        )
        .otherwise(
            pl.format(
                "malformed line: at character {} expected {}, found '{}'; allowed: " + LINE_FORMAT,
                pl.col("at") + 1,
                expected,
                found,
            )
        )
    )
    return (
        rest.with_columns(matched)
        .with_columns(at.alias("at"))
        .select(
            LINE,
            pl.lit(None, pl.String).alias("column"),
            _raw(line).alias("value"),
            reason.alias("reason"),
            pl.lit(None, pl.String).alias("record"),
        )
        .cast(PROBLEMS_SCHEMA)
    )
