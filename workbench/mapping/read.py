"""Read the inputs of one mapped table, whatever their kind, as batches of source rows.

Every reader yields :class:`~workbench.ingest.batch.RawBatch` es: source columns (text, or
the type a Parquet file or a database gives) plus ``__line``, and the records it could not
read at all. Here ``__line`` carries the input too: ``(index of the file << 32) | line``,
so that one table's files share one key check and still report file and line
(:func:`split_line`). CSV and Parquet go through the v1 readers
(:func:`workbench.ingest.readers.read_batches`) in the declared dialect; JSON Lines are
parsed line by line (a line that is no JSON object is quarantined).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator

import polars as pl

from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch
from ..ingest.readers import read_batches
from ..ingest.sources import EvidenceFile
from .files import SourceFile
from .iis import read_iis
from .mail import Apart, mail_columns, read_messages
from .parquet_bytes import binary_as_text
from .sql import query_columns, read_query, sqlite_parts
from .weblogs import format_columns, read_weblog

__all__ = ["FILE_SHIFT", "columns", "read_table", "split_line", "units"]

FILE_SHIFT = 32


def split_line(line: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(index of the file, line within it) of an encoded ``__line``."""
    return (line // (1 << FILE_SHIFT)).cast(pl.Int64), (line % (1 << FILE_SHIFT)).cast(pl.Int64)


def columns(files: list[SourceFile]) -> list[str]:
    """The source columns the inputs of one table offer (after :func:`.files.scan`)."""
    spec = files[0].spec
    if spec.kind in ("eml", "maildir", "mbox"):
        return mail_columns([f.path for f in files if f.path is not None], spec.kind)
    if spec.kind == "weblog":
        names = format_columns(spec.log_format)[1]
        derived = [
            *(["method", "path", "protocol"] if "request" in names else []),
            *(["time"] if "time_local" in names else []),
        ]
        return list(dict.fromkeys([*names, *derived]))
    if spec.kind == "sql":
        return query_columns(files[0])
    seen: dict[str, None] = {}
    for f in files:
        seen.update(dict.fromkeys(f.columns))
    return list(seen)


def _evidence_file(source: SourceFile) -> EvidenceFile:
    assert source.path is not None
    spec = source.spec
    return EvidenceFile(
        source.path,
        source.table,
        spec.kind,
        source.label,
        columns=source.columns,
        delimiter=spec.delimiter,
        quote=spec.quote,
        encoding=source.read_encoding,
        skip_lines=spec.header - 1,
    )


def _encoded(batch: RawBatch, index: int) -> RawBatch:
    shift = pl.col(LINE) + (index << FILE_SHIFT)
    records = None if batch.records is None else functools.partial(_shifted, batch.records, index << FILE_SHIFT)
    return RawBatch(batch.frame.with_columns(shift), batch.malformed.with_columns(shift), records)


def _shifted(records: Callable[[pl.Series], pl.DataFrame], by: int, line: pl.Series) -> pl.DataFrame:
    return records(line - by).with_columns(pl.col(LINE) + by)


def _one(
    source: SourceFile,
    all_columns: list[str],
    batch_rows: int,
    text: frozenset[str],
    needed: frozenset[str] | None = None,
) -> Iterator[RawBatch]:
    kind = source.spec.kind
    if kind == "csv" and source.header_only:
        return  # no rows: pyarrow cannot read a header without a line end ("Empty CSV file or block")
    if kind in ("csv", "parquet"):
        for batch in read_batches(_evidence_file(source), batch_rows):
            missing = [c for c in all_columns if c not in batch.frame.columns]
            batch = RawBatch(
                batch.frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing), batch.malformed
            )
            yield binary_as_text(batch, needed) if kind == "parquet" else batch
    elif kind == "jsonl":
        yield from _jsonl(source, all_columns, batch_rows)
    elif kind == "iis":
        assert source.path is not None
        yield from read_iis(source.path, source.read_encoding, list(all_columns), source.label, needed)
    elif kind == "weblog":
        assert source.path is not None
        yield from read_weblog(source.path, source.spec.log_format, source.read_encoding)
    else:
        yield from read_query(source, batch_rows, text)


def read_table(
    files: list[SourceFile],
    all_columns: list[str],
    batch_rows: int,
    text: frozenset[str] = frozenset(),
    needed: frozenset[str] | None = None,
) -> Iterator[RawBatch]:
    """Every row of every input of one table, in order, with ``__line`` encoded.

    ``text``: source columns the mapping reads only as text (:func:`.transform.text_sources`);
    an SQLite query gives them as text from its first row. ``needed``: the source columns the
    mapping reads; an IIS log is cut into those only (:func:`.iis.read_iis`; default: all).
    """
    for unit in units(files, all_columns, batch_rows, text, needed=needed):
        yield from unit()


def units(
    files: list[SourceFile],
    all_columns: list[str],
    batch_rows: int,
    text: frozenset[str] = frozenset(),
    apart: bool | Apart = False,
    needed: frozenset[str] | None = None,
) -> list[Callable[[], Iterator[RawBatch]]]:
    """:func:`read_table` cut into parts that can be read apart.

    One a file; mail is one part (parsed in a child process when ``apart``: :func:`.mail.read_messages`); a large SQLite table read whole is one part a rowid range
    of ``batch_rows`` rows (:func:`.sql.sqlite_parts`), so that two threads read it at once.

    Their batches one after the other are :func:`read_table`'s; :mod:`.prefetch` reads them in threads.
    """
    kind = files[0].spec.kind
    if kind in ("eml", "maildir", "mbox"):
        paths = [f.path for f in files if f.path is not None]
        return [functools.partial(read_messages, paths, kind, all_columns, apart, needed or frozenset())]
    if kind == "sql" and len(files) == 1 and (parts := sqlite_parts(files[0], all_columns, batch_rows)) is not None:
        # A large SQLite table read as rowid ranges, which two threads can read at once
        return [functools.partial(_sql_part, files[0], part, batch_rows, text) for part in parts]
    return [
        functools.partial(_encoded_one, source, index, all_columns, batch_rows, text, needed)
        for index, source in enumerate(files)
    ]


def _encoded_one(
    source: SourceFile,
    index: int,
    all_columns: list[str],
    batch_rows: int,
    text: frozenset[str],
    needed: frozenset[str] | None = None,
) -> Iterator[RawBatch]:
    for batch in _one(source, all_columns, batch_rows, text, needed):
        yield _encoded(batch, index)


def _sql_part(source: SourceFile, part: tuple[tuple[int, int], int], batch_rows: int, text: frozenset[str]):
    for batch in read_query(source, batch_rows, text, part):
        yield _encoded(batch, 0)


class _KeyTwice(ValueError):
    """A JSON object naming a key twice: which value is the field's cannot be known (``json`` would keep the last)."""


def _object(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _KeyTwice(
                f"the key {key!r} appears twice in one object, so which value is its field's cannot be known"
            )
        out[key] = value
    return out


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800 to \udfff: half of a pair, or alone
_SURROGATE = re.compile("[\ud800-\udfff]")


class _LoneSurrogate(ValueError):
    """A JSON string escape of half a UTF-16 pair without its other half: ``json`` keeps it, UTF-8 cannot hold it."""


def _no_lone_surrogate(value: object) -> None:
    """Raise :class:`_LoneSurrogate` for a lone surrogate in any key or string of ``value``.

    ``json`` joins a pair (``\\ud83d\\ude00``) into its one character; a half left alone
    stays a surrogate, which is no character: text with one cannot be written as UTF-8.
    """
    texts = [value]
    while texts:
        item = texts.pop()
        if isinstance(item, str):
            if found := _SURROGATE.search(item):
                raise _LoneSurrogate(
                    f"a lone surrogate escape \\u{ord(found.group()):04x} is not a character "
                    "(half of a UTF-16 pair without its other half)"
                )
        elif isinstance(item, dict):
            texts += [*item, *item.values()]
        elif isinstance(item, list):
            texts += item


def _jsonl(source: SourceFile, all_columns: list[str], batch_rows: int) -> Iterator[RawBatch]:
    assert source.path is not None
    rows: list[dict] = []
    bad: list[dict] = []
    schema = {**{c: pl.String() for c in all_columns}, LINE: pl.Int64()}

    def flush() -> RawBatch:
        return RawBatch(pl.DataFrame(rows, schema=schema), pl.DataFrame(bad, schema=PROBLEMS_SCHEMA))

    with open(source.path, encoding=source.spec.encoding) as fh:
        for n, line in enumerate(fh, 1):
            try:
                value = json.loads(line, object_pairs_hook=_object)
                if not isinstance(value, dict):
                    raise ValueError(f"a JSON {type(value).__name__}, not an object")
                if "\\u" in line and _SURROGATE_ESCAPE.search(line):
                    _no_lone_surrogate(value)
            except ValueError as exc:
                why = str(exc) if isinstance(exc, _KeyTwice | _LoneSurrogate) else f"not a JSON object ({exc})"
                bad.append(
                    {
                        LINE: n,
                        "column": None,
                        "value": line.rstrip("\r\n"),
                        "reason": f"malformed line: {why if line.strip() else 'an empty line'}; "
                        "allowed: one JSON object per line, each key once",
                        "record": None,
                    }
                )
                continue
            row = {k: v if v is None or isinstance(v, str) else json.dumps(v) for k, v in value.items() if k in schema}
            rows.append({**row, LINE: n})
            if len(rows) + len(bad) >= batch_rows:
                yield flush()
                rows, bad = [], []
    yield flush()
