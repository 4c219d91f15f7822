"""IIS W3C extended logs: each line read under the ``#Fields:`` directive in force.

The format and its columns are described in :mod:`.weblogs`. The file is read in chunks of
whole lines (:func:`.weblogs.read_lines`); within a chunk, each line's directive is found by
where it stands among the chunk's ``#Fields:`` lines, and each stretch under one directive
is cut into fields at once.

In UTF-8 (what IIS writes) a chunk takes the fast road first: the line ends and comment
lines are found with numpy on the bytes; the lines of a stretch that have the directive's
number of fields are parsed together by ``pl.read_csv`` (separator ``' '``, no quoting,
every field text, ``-`` null; multithreaded Rust), and only the other lines (too few or too
many fields, before any directive) are decoded in Python, to be quarantined with their line and raw text. Every line of a stretch has the directive's
number of fields when its spaces total its lines times that number less one and the CSV
reader finds no line with more (it raises); else the spaces are counted line by line. A line is what :func:`.weblogs.read_lines` makes
of it: it ends at ``\\n`` and loses one ``\\r`` before it. A chunk the fast road cannot read
exactly so (a lone ``\\r``, which ends a line too; a byte-order mark at a line's start,
which the CSV reader would drop; a stretch the CSV reader gives another number of rows) is
read the general way: decoded, and split by polars expressions, as is any other encoding.

A read may cut only the fields the mapping reads (``needed``; :mod:`.iis_rows`): the CSV
reader then cuts no other field into a string. It raises on no line with too many fields
then, so it reads the last field too, as written: a line with too few has it empty, and with
the spaces' total right no line then has too many. A row refused later gets its record from
its line's text again, every field, as an unprojected read would have made it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from ..ingest.batch import LINE, RawBatch
from . import scratch
from .iis_rows import Records, Where, by_position, made, wrong_reason
from .weblogs import check_fields, problem_rows, read_lines, utf8_blocks, utf8_split

__all__ = ["Lines", "read_iis", "scan"]

_BEFORE_FIELDS = (
    "a log line before any #Fields: directive; allowed: W3C extended log lines after '#Fields: date time …'"
)

_BOM = b"\xef\xbb\xbf"


class Lines(NamedTuple):
    """Where the lines of a chunk are: line ``i`` is ``data[starts[i]:stops[i]]`` (without ``\\n``).

    ``data`` may go on after the chunk's last line (its line end: :func:`.weblogs.utf8_blocks`).
    """

    data: bytes
    starts: np.ndarray
    stops: np.ndarray
    comment: np.ndarray  # the line starts with '#'

    def text(self, i: int) -> str:
        """Line ``i`` as text, without the ``\\r`` of its ``\\r\\n``."""
        return self.data[self.starts[i] : self.stops[i]].decode("utf-8").removesuffix("\r")

    def spaces(self, index: np.ndarray) -> np.ndarray:
        """The spaces in lines ``index``: a line under a directive of n fields has n - 1."""
        at = np.flatnonzero(np.frombuffer(self.data, np.uint8, int(self.stops[-1])) == 32)
        return np.diff(np.searchsorted(at, self.stops), prepend=0)[index]


class Stretch(NamedTuple):
    """The lines of one stretch: the good ones as columns ``f0``, ``f1`` … and ``__line``, and the others."""

    frame: pl.DataFrame
    bad: list[int]  # indices (in the chunk) of lines without the directive's number of fields


def scan(data: bytes, end: int | None = None) -> Lines | None:
    """The lines of ``data[:end]`` (whole lines, the last without its line end), or None for the slow road."""
    end = len(data) if end is None else end
    arr = np.frombuffer(data, np.uint8, end)
    flags = scratch.flags(end)  # numpy: bytes.count(b"\r") walks a log's bytes 7 times slower
    after_cr = np.flatnonzero(np.equal(arr, 13, out=flags)) + 1
    after_cr = after_cr[after_cr < end]  # a \r at the chunk's end: the chunk was cut before its \n
    if np.count_nonzero(arr[after_cr] != 10):  # a lone \r
        return None
    ends = np.flatnonzero(np.equal(arr, 10, out=flags))
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [end]))
    first = np.zeros(len(starts), np.uint8)
    inside = starts < end
    first[inside] = arr[starts[inside]]
    if any(data.startswith(_BOM, int(s)) for s in starts[first == _BOM[0]]):
        return None
    return Lines(data, starts, stops, first == ord("#"))


def stretch(lines: Lines, lo: int, hi: int, n: int, before: int, keep: list[int] | None = None) -> Stretch | None:
    """Lines ``lo`` to ``hi - 1`` of the chunk (no directive among them) under a directive of ``n`` fields.

    ``before``: lines in the file before the chunk. ``keep``: the positions of the fields to
    read (default: all). None when the CSV reader does not give one row a good line (the
    caller then reads the chunk line by line).
    """
    index = np.arange(lo, hi)
    data_lines = index[~lines.comment[lo:hi]]
    if len(data_lines) and (whole := _all_fit(lines, data_lines, n, before, keep)) is not None:
        return whole
    fits = lines.spaces(data_lines) == n - 1
    good, bad = data_lines[fits], data_lines[~fits]
    if not len(good):
        names = [f"f{i}" for i in (range(n) if keep is None else keep)]
        return Stretch(pl.DataFrame(schema={**dict.fromkeys(names, pl.String()), LINE: pl.Int64()}), bad.tolist())
    breaks = np.flatnonzero(np.diff(good) != 1)  # runs of consecutive good lines are one slice each
    firsts, lasts = good[np.concatenate(([0], breaks + 1))], good[np.concatenate((breaks, [len(good) - 1]))]
    data, starts, stops = lines.data, lines.starts, lines.stops
    if len(firsts) == 1:
        buffer = data[starts[firsts[0]] : stops[lasts[0]]]
    else:
        buffer = b"\n".join(data[starts[a] : stops[b]] for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True))
    if not buffer:
        return None
    frame = _read_fields(buffer, n) if keep is None else _read_fields(buffer, n, keep=keep)
    if frame.height != len(good) or frame.width != (n if keep is None else len(keep)):
        return None
    return Stretch(frame.with_columns(pl.Series(LINE, good + before + 1, dtype=pl.Int64)), bad.tolist())


def _read_fields(
    buffer: bytes, n: int, skip: int = 0, rows: int | None = None, keep: list[int] | None = None, last: bool = False
) -> pl.DataFrame:
    """Space-separated lines of ``n`` fields as text columns f0..f{n-1}, ``-`` read as null.

    ``skip``, ``rows``: only the ``rows`` lines after the first ``skip`` (no slice of the buffer, a copy).
    ``keep``: only the columns at these positions (the CSV reader then cuts no other field
    into a string; nor does it raise on a line with too many fields). ``last``: the last
    field too, as written (``-`` not null): a line with too few fields has it ``""``.
    """
    names: list[str] = []
    if last and keep is not None:
        names = [f"f{i}" for i in keep if i != n - 1]
        keep = sorted({*keep, n - 1})
    return pl.read_csv(
        buffer,
        skip_lines=skip,
        n_rows=rows,
        separator=" ",
        has_header=False,
        quote_char=None,
        new_columns=[f"f{i}" for i in range(n)],
        columns=keep,
        infer_schema=False,
        null_values=dict.fromkeys(names, "-") if last and names else None if last else "-",
        empty_string_is_null=False,
    )


def _all_fit(
    lines: Lines, data_lines: np.ndarray, n: int, before: int, keep: list[int] | None = None
) -> Stretch | None:
    """The stretch read at once when each of its lines has ``n`` fields, else None (then counted line by line).

    Its lines must follow one another (no comment among them). Every line has n - 1 spaces
    exactly when the CSV reader finds none with more fields than ``n`` (it raises) and the
    stretch has (n - 1) × its lines spaces in all: a total, cheaper than a count a line.
    Reading only the fields ``keep``, the CSV reader raises on no line: it reads the last
    field too, as written, which a line with too few fields has empty; with the total, no
    line then has too many either (one that has an empty last field is counted line by line).
    """
    first, last = int(data_lines[0]), int(data_lines[-1])
    if last - first + 1 != len(data_lines):
        return None
    begin, end = int(lines.starts[first]), int(lines.stops[last])
    total = np.count_nonzero(
        np.equal(np.frombuffer(lines.data, np.uint8, end - begin, begin), 32, out=scratch.flags(end - begin))
    )
    if total != (n - 1) * len(data_lines) or end == begin:
        return None
    try:
        rows = len(data_lines)
        if keep is None:
            frame = _read_fields(lines.data, n, first, rows)
        else:
            frame = _read_fields(lines.data, n, first, rows, keep, last=True)
    except pl.exceptions.PolarsError:  # a line with too many fields (or a first line with too few)
        return None
    if frame.height != len(data_lines) or frame.width != (n if keep is None else len({*keep, n - 1})):
        return None
    if keep is not None:  # no line with too few fields, so none with too many: the last field as read
        end_field = pl.col(f"f{n - 1}")
        if frame.select((end_field.is_null() | (end_field == "")).any()).item():
            return None
        frame = (
            frame.with_columns(pl.when(end_field != "-").then(end_field).alias(f"f{n - 1}"))
            if n - 1 in keep
            else frame.drop(f"f{n - 1}")
        )
    return Stretch(frame.with_columns(pl.Series(LINE, data_lines + before + 1, dtype=pl.Int64)), [])


def read_iis(
    path: Path, encoding: str, all_fields: list[str], label: str | None = None, needed: frozenset[str] | None = None
) -> Iterator[RawBatch]:
    """Yield the lines of an IIS log as text columns (``all_fields``: every field of any directive).

    ``needed``: the fields the mapping reads (``datetime``: ``date`` and ``time``); only they
    are cut into columns (default: all). A batch so read gives the rows of some of its lines
    with every field, for the quarantine's record, by its ``records``. ``__absent`` names the
    fields of ``all_fields`` a line's directive lacks either way.

    A directive that names a field twice stops ingest (:func:`check_fields`), naming
    ``label`` (default: the file's name) and the line.

    Read in chunks of whole lines; within a chunk, each line's directive is found by where
    it stands among the chunk's ``#Fields:`` lines, and each stretch under one directive is
    split into fields at once: in UTF-8 by polars' CSV reader, else, or
    where that cannot read a chunk exactly, in polars expressions on the decoded lines.
    """
    state: _Directive = (None, 0)
    where = Where(label or path.name, all_fields, needed)
    before = 0
    if codecs.lookup(encoding).name == "utf-8":
        for data, end in utf8_blocks(path):
            lines = scan(data, end)
            fast = None if lines is None else _fast_chunk(lines, before, state, where)
            if fast is None:
                text = utf8_split(data[:end])
                batches, state = _line_chunk(text, before, state, where)
                before += text.len()
            else:
                batches, state = fast
                before += len(lines.starts)  # type: ignore[union-attr]
            yield from batches
        return
    for text in read_lines(path, encoding):
        batches, state = _line_chunk(text, before, state, where)
        before += text.len()
        yield from batches


_Directive = tuple[list[str] | None, int]  # the fields of the directive in force, and its line


def _fields_of(directive: str, line: int, label: str) -> list[str]:
    fields = directive[len("#Fields:") :].split()
    check_fields(label, line, fields)
    return fields


def _line_chunk(text: pl.Series, before: int, state: _Directive, where: Where) -> tuple[list[RawBatch], _Directive]:
    """A chunk of decoded lines, each stretch split into fields by polars expressions."""
    fields, fields_at = state
    out = []
    lines = text.to_frame("l").select(
        pl.int_range(before + 1, before + 1 + text.len(), dtype=pl.Int64).alias(LINE), "l"
    )
    comment = lines["l"].str.starts_with("#")
    if comment.any():
        directives = lines.filter(pl.col("l").str.starts_with("#Fields:"))
        data = lines.filter(~comment)
    else:
        directives, data = lines.clear(), lines
    starts = directives[LINE]
    # Stretch j of the chunk is under its j-th directive (stretch 0 under the one in force):
    # the data lines from the j-th directive to the next, a slice, as lines are in order.
    bounds = [0, *data[LINE].search_sorted(starts).to_list(), data.height]
    for j in range(len(starts) + 1):
        if j:
            fields_at = int(starts[j - 1])
            fields = _fields_of(directives["l"][j - 1], fields_at, where.label)
        part = data.slice(bounds[j], bounds[j + 1] - bounds[j])
        if part.is_empty():
            continue
        if fields is None:
            out.append(_segment(part.clear(), [], fields_at, where, part))
        else:
            out.append(_segment(part, fields, fields_at, where, None))
    return out, (fields, fields_at)


def _fast_chunk(lines: Lines, before: int, state: _Directive, where: Where) -> tuple[list[RawBatch], _Directive] | None:
    """:func:`_line_chunk` on the bytes (the fast road); None where that cannot read the chunk exactly."""
    fields, fields_at = state
    out = []
    directives = [int(i) for i in np.flatnonzero(lines.comment) if lines.data.startswith(b"#Fields:", lines.starts[i])]
    bounds = [-1, *directives, len(lines.starts)]
    for j in range(len(directives) + 1):
        if j:
            fields_at = before + directives[j - 1] + 1
            fields = _fields_of(lines.text(directives[j - 1]), fields_at, where.label)
        lo, hi = bounds[j] + 1, bounds[j + 1]
        if lines.comment[lo:hi].all():
            continue
        if fields is None:
            index = [i for i in range(lo, hi) if not lines.comment[i]]
            out.append(_segment(_EMPTY_LINES, [], fields_at, where, _lines(lines, index, before)))
            continue
        part = stretch(lines, lo, hi, len(fields), before, keep := where.keep(fields))
        if part is None:
            return None
        frame = made(part.frame, fields, fields_at, where, *by_position(fields))
        wrong = _lines(lines, part.bad, before)
        problems = problem_rows(
            wrong[LINE].to_list(), wrong["l"].to_list(), [wrong_reason(t, fields_at, len(fields)) for t in wrong["l"]]
        )
        records = None
        if keep is not None:
            records = Records(where, fields, fields_at, lambda ns: [lines.text(n - before - 1) for n in ns])
        out.append(RawBatch(frame, problems, records))
    return out, (fields, fields_at)


_EMPTY_LINES = pl.DataFrame(schema={LINE: pl.Int64(), "l": pl.String()})


def _lines(lines: Lines, index: list[int], before: int) -> pl.DataFrame:
    return pl.DataFrame(
        {LINE: [before + i + 1 for i in index], "l": [lines.text(i) for i in index]}, schema=_EMPTY_LINES.schema
    )


def _segment(
    lines: pl.DataFrame, fields: list[str], fields_at: int, where: Where, before_fields: pl.DataFrame | None
) -> RawBatch:
    """The lines under one directive as columns; ``before_fields``: lines before any directive."""
    # One more part than fields: a line with too many has it, a line with too few lacks the last.
    n = len(fields)
    split = lines.with_columns(pl.col("l").str.splitn(" ", n + 1).alias("v"))
    fits = pl.col("v").struct.field(f"field_{n - 1}").is_not_null() & pl.col("v").struct.field(f"field_{n}").is_null()
    if not n:  # no directive: every line is quarantined before this is read
        fits = pl.lit(False)
    fit = split.with_columns(fits.fill_null(False).alias("__fit"))["__fit"]
    wrong = split.filter(~fit)
    good = split if wrong.is_empty() else split.filter(fit)

    def raw(f: str) -> pl.Expr:
        return pl.col("v").struct.field(f"field_{fields.index(f)}")

    frame = made(good, fields, fields_at, where, lambda f: pl.when(raw(f) != "-").then(raw(f)), raw)
    reasons = [wrong_reason(t, fields_at, n) for t in wrong["l"].to_list()]
    before = before_fields if before_fields is not None else lines.clear()
    problems = problem_rows(
        before[LINE].to_list() + wrong[LINE].to_list(),
        before["l"].to_list() + wrong["l"].to_list(),
        [_BEFORE_FIELDS] * before.height + reasons,
    )
    records = None
    if where.needed is not None and frame.height:
        text = good.select(LINE, "l")
        records = Records(
            where, fields, fields_at, lambda ns: pl.DataFrame({LINE: ns}).join(text, on=LINE, how="left")["l"].to_list()
        )
    return RawBatch(frame, problems.sort(LINE), records)
