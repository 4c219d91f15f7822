"""Stream an evidence file as polars batches of raw values, each row tagged with its line.

CSV is read with every column as text (values are typed later, so a bad value can be
quarantined with its text intact). pyarrow's streaming reader is used rather than polars
because polars silently fills a record with too few fields with nulls; pyarrow hands such
records to a handler, and tells an unquoted empty field (null) from a quoted one (``""``).

``__line`` is, for CSV, the physical line where a record starts (the header is line 1;
quoted values may span lines), and for Parquet the 1-based row number. The raw forms have
readers of their own (:mod:`.access_log`, :mod:`.mbox`): there ``__line`` is the line of
the log, or the line of a message's ``From`` separator in the mbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import EvidenceError
from .access_log import read_access_log
from .batch import LINE, PROBLEMS_SCHEMA, RawBatch
from .mbox import read_mbox
from .sources import EvidenceFile

__all__ = ["read_batches"]

_CSV_BLOCK = 32 << 20  # bytes per CSV batch: large enough that per-batch overhead vanishes


def arrow_pool() -> pa.MemoryPool:
    """The Arrow memory pool readers and casts allocate from: jemalloc where pyarrow has it.

    pyarrow's default on Linux, mimalloc, hands freed blocks back to the system at once, so
    every new batch of a large CSV is fresh pages the kernel must zero: reading stockholm's
    93 MB ``sokande.csv`` (cp1252) cost 0.4 CPU-s in the process and 1.2-2.7 CPU-s in the
    kernel; from jemalloc, which keeps freed pages for reuse a while, 0.3 in the kernel.
    """
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.default_memory_pool()


def read_batches(source: EvidenceFile, batch_rows: int = 1_000_000) -> Iterator[RawBatch]:
    """Yield the rows of ``source`` in order, in batches of about ``batch_rows`` rows."""
    try:
        if source.format == "csv":
            yield from _read_csv(source)
        elif source.format == "access_log":
            yield from read_access_log(source.path, source.label)
        elif source.format == "mbox":
            yield from read_mbox(source.path, source.label)
        else:
            yield from _read_parquet(source, batch_rows)
    except (pa.ArrowException, OSError) as exc:
        # Structural damage found mid-file (an unterminated quote, a corrupt page).
        why = " ".join(str(exc).split())  # pyarrow messages span lines
        allowed = {
            "parquet": "a complete, uncorrupted Parquet file (copy it again)",
            "access_log": "a complete access log (copy it again)",
            "mbox": "a complete mbox file (copy it again)",
        }.get(source.format, "RFC 4180 CSV")
        raise EvidenceError(f"{source.label}: cannot be read: {why}; allowed: {allowed}") from None


def _read_parquet(source: EvidenceFile, batch_rows: int) -> Iterator[RawBatch]:
    offset = 0
    empty = pl.DataFrame(schema=PROBLEMS_SCHEMA)
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=batch_rows):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        frame = frame.with_columns(pl.int_range(offset + 1, offset + 1 + frame.height, dtype=pl.Int64).alias(LINE))
        offset += frame.height
        yield RawBatch(frame, empty)


class _Malformed:
    """Collects records pyarrow could not split into the header's number of fields."""

    def __init__(self, label: str, header: list[str]):
        self.label = label
        self.header = header
        self.rows: list[tuple[int, str, int]] = []  # (record number, raw text, fields)

    def __call__(self, row) -> str:
        if row.number is None or row.number < 0:
            # Without a record number the line cannot be reported; refuse the file instead.
            raise EvidenceError(
                f"{self.label}: malformed record with {row.actual_columns} fields where the header has "
                f"{row.expected_columns}, at an unknown line: {row.text[:120]!r}; allowed: RFC 4180 CSV"
            )
        self.rows.append((row.number, row.text, row.actual_columns))
        return "skip"


def _header_only(source: EvidenceFile) -> bool:
    """Whether the file ends in its header, with no line end: no rows, and pyarrow cannot read it.

    pyarrow takes a last line without a line end for a block it cannot cut ("Empty CSV file or
    block"); a header-only file written without a final newline is not rare from spreadsheets.
    """
    size = source.path.stat().st_size
    if size > 1 << 20:  # a header is never a megabyte: a larger file has rows to read
        return False
    data = source.path.read_bytes()
    if data.endswith((b"\n", b"\r")):
        return False
    header_lines = source.skip_lines + 1 + sum(h.count("\n") for h in source.columns)
    return len(data.splitlines()) <= header_lines


def _read_csv(source: EvidenceFile) -> Iterator[RawBatch]:
    header = source.columns
    if _header_only(source):
        return
    malformed = _Malformed(source.label, header)
    reader = pacsv.open_csv(
        source.path,
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=_CSV_BLOCK, skip_rows=source.skip_lines, encoding=source.encoding
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=source.delimiter,
            quote_char=source.quote,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=malformed,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],  # pyarrow's default also turns "NA", "null", "NaN" into null
        ),
        memory_pool=arrow_pool(),
    )
    lines = _LineCounter(source.skip_lines + 1 + 1 + sum(h.count("\n") for h in header), source.delimiter, source.quote)
    for batch in reader:
        multiline = any(_has_newline(column) for column in batch.columns)
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        bad = [r for r in malformed.rows if r[0] >= lines.next_record]
        frame, problems = lines.place(frame, bad, header, multiline=multiline)
        malformed.rows = [r for r in malformed.rows if r[0] >= lines.next_record]
        yield RawBatch(frame, problems)
    if malformed.rows:  # malformed records after the last good one
        frame, problems = lines.place(
            pl.DataFrame(schema={h: pl.String() for h in header}), malformed.rows, header, final=True
        )
        yield RawBatch(frame, problems)


def _has_newline(column: pa.Array) -> bool:
    """Whether a value of this text column may hold a line end: its bytes, one scan, not a count a value.

    True for anything but a plain text array (the caller then counts value by value).
    """
    if not pa.types.is_string(column.type):
        return True
    data = column.buffers()[2]
    return data is not None and bool(np.any(np.frombuffer(data, np.uint8) == 10))


class _LineCounter:
    """Turns record numbers into physical lines, counting newlines inside quoted values."""

    def __init__(self, first_line: int, delimiter: str = ",", quote: str = '"'):
        self.delimiter, self.quote = delimiter, quote
        self.next_record = 2  # pyarrow numbers records from 1, the header being record 1
        self.offset = first_line - 2  # line = record number + newlines inside earlier records

    def place(
        self,
        frame: pl.DataFrame,
        bad: list[tuple[int, str, int]],
        header: list[str],
        final: bool = False,
        multiline: bool = True,
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Give each good row of ``frame`` its line; return it and the malformed records among them.

        ``bad`` are malformed records reported so far (record number, text, fields), possibly
        including some beyond this batch; those stay for the next call. ``multiline=False``:
        no value of ``frame`` holds a line end (so none is counted).
        """
        bad = sorted(bad)
        bad_numbers = np.array([b[0] for b in bad], dtype=np.int64)
        # Good rows take the record numbers that are not malformed, in order.
        candidates = np.arange(self.next_record, self.next_record + frame.height + len(bad), dtype=np.int64)
        good_numbers = candidates[~np.isin(candidates, bad_numbers)][: frame.height]
        if frame.height:
            last = int(good_numbers[-1])
        elif final:
            last = int(bad_numbers[-1]) if len(bad) else self.next_record - 1
        else:  # a batch of only malformed records: they are the consecutive ones that follow
            last, numbers = self.next_record - 1, set(bad_numbers.tolist())
            while last + 1 in numbers:
                last += 1
        taken = [b for b in bad if b[0] <= last]
        if not taken and not multiline:  # every record one line: its line is its number's
            self.next_record = last + 1
            return frame.with_columns(pl.Series(LINE, good_numbers + self.offset)), _malformed_problems([], [], header)
        newlines = pl.sum_horizontal(pl.col(h).str.count_matches("\n", literal=True).fill_null(0) for h in header)
        records = pl.concat(
            [
                frame.select(
                    pl.Series("n", good_numbers), newlines.cast(pl.Int64).alias("nl"), pl.int_range(pl.len()).alias("i")
                ),
                pl.DataFrame(
                    {
                        "n": [b[0] for b in taken],
                        "nl": [b[1].count("\n") for b in taken],
                        "i": [-1 - k for k in range(len(taken))],
                    },
                    schema={"n": pl.Int64, "nl": pl.Int64, "i": pl.Int64},
                ),
            ]
        ).sort("n")
        records = records.with_columns((pl.col("n") + self.offset + pl.col("nl").cum_sum() - pl.col("nl")).alias(LINE))
        self.offset += int(records["nl"].sum())
        self.next_record = last + 1
        frame = frame.with_columns(records.filter(pl.col("i") >= 0).sort("i")[LINE])
        bad_lines = records.filter(pl.col("i") < 0).sort("i", descending=True)[LINE].to_list()
        return frame, _malformed_problems(taken, bad_lines, header, self.delimiter, self.quote)


_SEPARATED = {",": ("comma", "commas"), ";": ("semicolon", "semicolons"), "\t": ("tab", "tabs")}


def _malformed_problems(
    taken: list[tuple[int, str, int]], lines: list[int], header: list[str], delimiter: str = ",", quote: str = '"'
) -> pl.DataFrame:
    """Quarantine entries for records with the wrong number of fields; the raw text is the value.

    A record of several lines with an odd number of quotes is one whose quote was never closed:
    the lines after it ran into it (to the end of the file, or to the next quote), and it says so.
    """
    one, many = _SEPARATED.get(delimiter, (f"'{delimiter}'", f"'{delimiter}'"))
    allowed = f"allowed: {len(header)} {one}-separated fields ({', '.join(header)}), quoting values that contain {many}"

    def why(text: str, n: int) -> str:
        fields = f"{n} field{'s' if n != 1 else ''}, the header has {len(header)}"
        if "\n" in text and text.count(quote) % 2:
            joined = text.count("\n") + 1
            return (
                f"malformed record: a {quote} opened here is never closed, so {joined} lines ran into one record "
                f"({fields}); {allowed}, and closing every quote"
            )
        return f"malformed record: {fields}; {allowed}"

    return pl.DataFrame(
        {
            LINE: lines,
            "column": [None] * len(taken),
            "value": [text for _, text, _ in taken],
            "reason": [why(text, n) for _, text, n in taken],
            "record": [None] * len(taken),
        },
        schema=PROBLEMS_SCHEMA,
    )
