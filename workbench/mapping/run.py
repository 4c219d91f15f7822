"""Ingest a hand-over through its mapping: the same checks, case and manifest as ``workbench ingest``.

Order of work: load and validate the mapping; find, hash and check every input as a whole,
and check that every source column the mapping reads exists (nothing is written yet);
then, parents before children, stream each table's inputs through the mapping
(:mod:`.transform`), the value checks, the key check (across all inputs of the table) and
the orphan check, appending what passed to its table and what did not to ``quarantine``;
finally write ``manifest`` (one row per input, with its sha256, and one for the mapping
itself) and commit. Any exception aborts the writer: no half-written case.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl
import sqlalchemy as sa

from .. import evidence
from ..case import case_url as _case_url, default_case_path, polars_schema
from ..caselock import CaseLock
from ..errors import WorkbenchError
from ..ingest.batch import LINE, PROBLEMS_SCHEMA, RawBatch
from ..ingest.integrity import KeyTracker, ParentKeys, check_references, load_order
from ..ingest.load import CaseWriter, open_writer
from ..ingest.manifest import ABSENT_REASON, SAMPLES, FileReport, IngestReport, manifest_frame
from ..ingest.validate import check_values
from . import schema as mapping_schema
from .files import SourceFile
from .mail import Apart
from .prefetch import Later, Prefetch
from .prepare import MAIL, mail_apart, prepare
from .read import read_table, split_line, units
from .schema import Mapping, TableSpec
from .transform import text_sources, transform

__all__ = ["Made", "default_workers", "ingest_mapped", "load_table", "make"]

_FIRST = re.compile(r"first loaded from @ (\d+)")
# Mail is read first, whole (Python's email parser holds the GIL; .prefetch), when it is small
# (large mail is parsed in a child process from the start: .prepare).
_EARLY_BYTES = 256 << 20


def ingest_mapped(
    source_dir: str | Path,
    mapping_path: str | Path,
    case_url: str | Path | sa.URL | None = None,
    progress: bool = True,
    batch_rows: int = 1_000_000,
    workers: int | None = None,
) -> IngestReport:
    """Ingest the hand-over in ``source_dir`` through the mapping at ``mapping_path``.

    ``case_url`` as for :func:`workbench.ingest.ingest` (default: ``case.db`` beside
    ``source_dir``). Raises :class:`MappingError` (mapping file, line, key) or
    :class:`~workbench.errors.EvidenceError` (an input that cannot be used); nothing is
    written then. ``workers``: threads that hash, read and map inputs beside the writer
    (:mod:`.prefetch`); 1 does everything in this thread; default: the environment's
    ``WORKBENCH_MAPPING_WORKERS``, else 2 (the case is the same either way).
    """
    started = time.perf_counter()
    source_dir = Path(source_dir)
    workers = default_workers() if workers is None else workers
    mapping = mapping_schema.load(mapping_path)
    url = _case_url(case_url if case_url is not None else default_case_path(source_dir), write=True)
    with CaseLock(url, purpose="ingest"), Later(workers > 1) as later, contextlib.ExitStack() as children:
        mail: dict[str, Apart] = {}  # large mail parsed in a child from the start, beside the scans
        begin = functools.partial(mail_apart, mapping=mapping, stack=children, out=mail) if workers > 1 else None
        inputs, offered = prepare(source_dir, mapping, workers, later if workers > 1 else None, begin)
        ingested_at = datetime.now(UTC)
        parents = ParentKeys(set(inputs))
        reports: list[FileReport] = []
        unchecked: list[str] = []
        order = [t for t in load_order() if t in inputs]
        writer = open_writer(url)
        try:
            with contextlib.ExitStack() as stack:
                ahead = None
                if workers > 1:
                    size = {t: sum(f.bytes for f in inputs[t]) for t in order}
                    early = {t for t in order if mapping.tables[t].source.kind in MAIL and size[t] <= _EARLY_BYTES}
                    parts = [
                        (
                            t,
                            units(
                                inputs[t],
                                offered[t],
                                batch_rows,
                                text_sources(mapping.tables[t]),
                                apart=mail[t] if t in mail and mail[t].columns == offered[t] else False,
                                needed=frozenset(_used(mapping.tables[t])),
                            ),
                            functools.partial(make, table=mapping.tables[t]),
                        )
                        for t in order
                    ]
                    ahead = stack.enter_context(Prefetch(parts, workers, early=early))
                    for child in mail.values():  # an abort stops it first: a reader waiting on it holds up Prefetch
                        stack.callback(child.close)
                writer.create_tables()
                for table in order:
                    unchecked += [str(r) for r in parents.skipped(table)]
                    reports += load_table(
                        mapping.tables[table],
                        inputs[table],
                        offered[table],
                        writer,
                        parents,
                        batch_rows,
                        None if ahead is None else ahead.batches(table),
                    )
            later.fill(reports, inputs)
            mapping_report = _mapping_report(Path(mapping_path))
            writer.append("manifest", manifest_frame([*reports, mapping_report], ingested_at))
            writer.append("manifest_absent", _absent_frame(mapping, Path(mapping_path).name, ingested_at))
            writer.finish()
        except BaseException:
            writer.abort()
            raise
    unused = [
        f"{inputs[t][0].label}: {', '.join(c for c in offered[t] if c not in _used(mapping.tables[t]))}"
        for t in inputs
        if any(c not in _used(mapping.tables[t]) for c in offered[t])
        and mapping.tables[t].source.kind in ("csv", "parquet", "jsonl", "sql")
    ]
    return IngestReport(
        evidence_dir=f"{source_dir} (mapping {Path(mapping_path).name})",
        case_url=url.render_as_string(hide_password=True),
        files=sorted(reports, key=lambda r: r.file),
        missing_tables=[t for t in evidence.TABLES if t not in inputs],
        ignored=[f"source columns not mapped: {u}" for u in unused],
        unchecked_references=unchecked,
        ingested_at=ingested_at,
        seconds=time.perf_counter() - started,
        leftovers=writer.leftovers,
    )


def default_workers() -> int:
    """``WORKBENCH_MAPPING_WORKERS`` if set (a whole number ≥ 1), else 2."""
    value = os.environ.get("WORKBENCH_MAPPING_WORKERS", "").strip()
    if not value:
        return 2
    if not value.isdigit() or int(value) < 1:
        raise WorkbenchError(
            f"environment variable WORKBENCH_MAPPING_WORKERS: {value!r} is not a whole number of threads; "
            "allowed: 1 (no threads), 2, 3 …"
        )
    return int(value)


def _used(table: TableSpec) -> set[str]:
    return {name for spec in table.columns.values() for name in spec.sources()}


def _absent_frame(mapping: Mapping, mapping_name: str, ingested_at: datetime) -> pl.DataFrame:
    """``manifest_absent`` rows for the v1 tables the mapping does not map, as a v1 ingest records a missing file.

    Without them a report would take an unmapped table for an empty one: 0 where the answer is unknown.
    """
    rows = [
        {
            "table": t,
            "reason": ABSENT_REASON,
            "looked_for": f"tables.{t} in the mapping {mapping_name} (not mapped)",
            "ingested_at": ingested_at,
        }
        for t in evidence.TABLES
        if t not in mapping.tables
    ]
    return pl.DataFrame(rows, schema=polars_schema("manifest_absent"))


def _mapping_report(path: Path) -> FileReport:
    import hashlib

    data = path.read_bytes()
    return FileReport(path.name, "(mapping)", "mapping", hashlib.sha256(data).hexdigest(), len(data))


def load_table(
    table: TableSpec,
    files: list[SourceFile],
    offered: list[str],
    writer: CaseWriter,
    parents: ParentKeys,
    batch_rows: int,
    batches: Iterable[Made] | None = None,
) -> list[FileReport]:
    """Stream the inputs of one table through mapping and checks into ``writer``; one report per input.

    ``batches``: the table's batches already read and made (:func:`make`, in :mod:`.prefetch`'s
    threads); by default they are read and made here, one after the other. Either way the
    checks across batches (keys, references) and the writes run here, in order.
    """
    reports = [FileReport(f.label, table.name, f.spec.kind, f.sha256, f.bytes) for f in files]
    labels = [f.label for f in files]
    keys = KeyTracker(table.name, "@")
    if batches is None:
        needed = frozenset(_used(table))
        batches = (make(batch, table) for batch in read_table(files, offered, batch_rows, text_sources(table), needed))
    pending = _Pending(writer, table.name, batch_rows)
    for batch, good, refused_here, refused in batches:
        good, duplicates = keys.check(good)
        good, orphans = check_references(good, table.name, parents)
        quarantined = pl.concat(
            [batch.malformed, refused_here, refused, _decode_first(duplicates, labels), orphans]
        ).sort(LINE)
        loaded = good.drop(LINE)
        pending.add(loaded)
        parents.remember(table.name, loaded)
        _count(reports, batch.frame, batch.malformed, good, quarantined)
        if quarantined.height:
            rows = _quarantine_rows(quarantined, table.name, labels)
            writer.append("quarantine", rows)
            for r in rows.iter_rows(named=True):
                report = reports[labels.index(r["file"])]
                if len(report.samples) < SAMPLES:
                    report.samples.append(f"{r['file']}:{r['line']}: {r['column'] or '(record)'}: {r['reason']}")
    pending.flush()
    for f, report in zip(files, reports, strict=True):
        report.sha256, report.bytes = f.sha256, f.bytes  # a server database is hashed as read
        if not report.reconciles:
            raise WorkbenchError(
                f"{report.file}: rows do not reconcile: read {report.rows_read} != loaded {report.rows_loaded} "
                f"+ quarantined {report.rows_quarantined}; this is a bug in workbench mapping, please report it"
            )
    return reports


class _Pending:
    """A table's loaded rows, appended to the case in runs of at least ``rows`` rows, one chunk a column.

    DuckDB writes one large append straight into compressed row groups; many small ones (a
    CSV's or a log's batches, a few hundred thousand rows) it keeps apart, and its final
    ``CHECKPOINT`` compresses them again: at stockholm ~1.5 CPU-s, where ingesting
    ``evidence/`` (a table a batch) costs 0.1. Holds at most ``rows`` rows more than the
    batch in hand.
    """

    def __init__(self, writer: CaseWriter, table: str, rows: int):
        self.writer, self.table, self.rows = writer, table, rows
        self.frames: list[pl.DataFrame] = []
        self.held = 0

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self.frames.append(frame)
            self.held += frame.height
        if self.held >= self.rows:
            self.flush()

    def flush(self) -> None:
        if self.frames:  # one chunk a column: DuckDB inserts it in half the time of ten
            self.writer.append(self.table, pl.concat(self.frames, rechunk=True))
        self.frames, self.held = [], 0


class Made(NamedTuple):
    """One batch as read, and what the mapping and the value checks made of it (no state across batches)."""

    raw: RawBatch
    good: pl.DataFrame
    refused_here: pl.DataFrame  # refused while mapped (a value map, a time in a DST change …)
    refused: pl.DataFrame  # refused by the value checks, with the source row as record


def make(batch: RawBatch, table: TableSpec) -> Made:
    """Map one batch and check its values: all the work on it that needs no other batch."""
    made, refused_here = transform(batch.frame, table, table.source.decimal_comma)
    good, refused = check_values(made, table.name)
    if batch.records is not None:  # a projected read: the record says every field of the line
        if refused.height or refused_here.height:
            whole = batch.records(pl.concat([refused_here[LINE], refused[LINE]]))
            refused_here, refused = _source_records(refused_here, whole), _source_records(refused, whole)
        batch = RawBatch(batch.frame, batch.malformed)  # let go of the lines read
    elif refused.height:  # quarantine keeps the source row, not the row as made
        refused = _source_records(refused, batch.frame)
    return Made(batch, good, refused_here, refused)


def _count(
    reports: list[FileReport],
    read: pl.DataFrame,
    malformed: pl.DataFrame,
    good: pl.DataFrame,
    quarantined: pl.DataFrame,
) -> None:
    for frame, attrs in (
        (read, ("rows_read",)),
        (malformed, ("rows_read",)),
        (good, ("rows_loaded",)),
        (quarantined, ("rows_quarantined",)),
    ):
        if frame.is_empty():
            continue
        if len(reports) == 1:  # one input (a query, one file): no need to tell inputs apart
            for attr in attrs:
                setattr(reports[0], attr, getattr(reports[0], attr) + frame.height)
            continue
        index, _ = split_line(pl.col(LINE))
        for i, n in frame.group_by(index.alias("i")).len().iter_rows():
            for attr in attrs:
                setattr(reports[i], attr, getattr(reports[i], attr) + n)


def _source_records(refused: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in frame.columns if not c.startswith("__")]
    if not cols:
        return refused
    records = frame.filter(pl.col(LINE).is_in(refused[LINE].implode())).select(
        LINE, pl.struct(pl.col(c).cast(pl.String) for c in cols).struct.json_encode().alias("__src")
    )
    return (
        refused.join(records, on=LINE, how="left")
        .with_columns(pl.coalesce("__src", "record").alias("record"))
        .select(list(PROBLEMS_SCHEMA))
    )


def _decode_first(duplicates: pl.DataFrame, labels: list[str]) -> pl.DataFrame:
    """Duplicate reasons name the input and line a key was first loaded from."""
    if duplicates.is_empty():
        return duplicates
    encoded = duplicates["reason"].str.extract(_FIRST.pattern, 1).cast(pl.Int64)
    index, line = split_line(pl.lit(encoded))
    where = pl.format(
        "first loaded from {}:{}", index.replace_strict(list(range(len(labels))), labels, return_dtype=pl.String), line
    )
    return duplicates.with_columns(
        pl.col("reason").str.replace(_FIRST.pattern, "@@").alias("reason"), where.alias("__w")
    ).select(LINE, "column", "value", pl.col("reason").str.replace("@@", pl.col("__w"), literal=True), "record")


def _quarantine_rows(problems: pl.DataFrame, table: str, labels: list[str]) -> pl.DataFrame:
    index, line = split_line(pl.col(LINE))
    return (
        problems.select(
            index.replace_strict(list(range(len(labels))), labels, return_dtype=pl.String).alias("file"),
            line.alias("line"),
            pl.lit(table).alias("table"),
            *(pl.col(c) for c in PROBLEMS_SCHEMA if c != LINE),
        )
        .select(list(polars_schema("quarantine")))
        .cast(polars_schema("quarantine"))
    )
