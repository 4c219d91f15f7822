"""Ingest an evidence folder into a case database: check, quarantine, load, record.

Order of work: find and check every file as a whole (nothing is written yet); then, parents
before children, stream each file in batches through the value checks, the key check and
the orphan check, appending what passed to its table and what did not to ``quarantine``;
finally write ``manifest`` (and ``manifest_absent``: the tables without a file, and why) and commit. Any exception aborts the writer, so no half-written
case is left behind.

The batches flow through four steps, each in a thread of its own (:mod:`.stages`): one
reads and value-checks, one runs the key check, one the orphan check, and this thread
writes. So the next batches are read and checked while the current one is written, on a
second core, and the case is the same, row for row and in the same order, as with
``overlap=False``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from tqdm import tqdm

from ..case import case_url as _case_url, default_case_path, polars_schema
from ..caselock import CaseLock
from ..errors import WorkbenchError
from .batch import LINE, PROBLEMS_SCHEMA
from .integrity import KeyTracker, ParentKeys, check_references, load_order
from .load import CaseWriter, open_writer
from .manifest import SAMPLES, FileReport, IngestReport, absent_frame, manifest_frame
from .readers import read_batches
from .sources import EvidenceFile, Sources, check_file, discover, file_sha256
from .stages import Ahead
from .validate import check_values

__all__ = ["ingest"]


def ingest(
    evidence_dir: str | Path,
    case_url: str | Path | sa.URL | None = None,
    progress: bool = True,
    batch_rows: int = 1_000_000,
    overlap: bool = True,
) -> IngestReport:
    """Ingest ``evidence_dir`` (e.g. ``"runs/demo/evidence"``) into a case and report per file.

    Parameters
    ----------
    evidence_dir
        Folder of ``<table>.parquet`` or ``<table>.csv`` files. Raw forms stand in for a
        table: ``access.log`` for page_views and ``support.mbox`` for support_messages,
        in this folder or, for a table without a file here, in the sibling ``raw/``.
    case_url
        Where to write the case: a path (SQLite, or the engine of the case file already
        there), ``sqlite:///…``, ``duckdb:///…`` or ``postgresql+psycopg://…``; a relative
        path is relative to the current folder. Default: ``case.db`` beside ``evidence_dir``.
        An existing case there is replaced, atomically.
    progress
        Show a progress bar per file on long loads (only on a terminal).
    batch_rows
        Rows per batch; bounds memory on large files.
    overlap
        Read and check the next batches in three threads while the current one is written
        (:mod:`.stages`); False does everything in this thread. The case is the same either way.

    Raises
    ------
    EvidenceError
        A file cannot be used as a whole (unknown table, format, encoding, columns; a
        folder, a dangling link or a link out of the folder where a file is expected); the
        message names the file and why. Nothing is written.
    CaseLockedError
        Another ingest or a report holds the case (see :mod:`workbench.caselock`); the
        message names the process. Nothing is written.
    """
    started = time.perf_counter()
    evidence_dir = Path(evidence_dir)
    sources = discover(evidence_dir)
    url = _case_url(case_url if case_url is not None else default_case_path(evidence_dir), write=True)
    # Taken before the (long) whole-file checks, so that a second ingest fails at once.
    with CaseLock(url, purpose="ingest"):
        return _ingest(evidence_dir, sources, url, progress, batch_rows, started, overlap)


def _ingest(
    evidence_dir: Path, sources: Sources, url: sa.URL, progress: bool, batch_rows: int, started: float, overlap: bool
) -> IngestReport:
    for found in sources.files.values():
        check_file(found, hash_now=not overlap)
    ingested_at = datetime.now(UTC)
    parents = ParentKeys(set(sources.files))
    order = [sources.files[t] for t in load_order() if t in sources.files]
    unchecked = [str(r) for source in order for r in parents.skipped(source.table)]
    reports: list[FileReport] = []
    # Files not hashed yet (Parquet, raw forms) are hashed in a thread beside the load.
    hashing = ThreadPoolExecutor(1, thread_name_prefix="ingest-hash")
    digests = {s.label: hashing.submit(file_sha256, s) for s in order if not s.sha256}
    writer = open_writer(url)
    try:
        writer.create_tables()
        with contextlib.closing(_steps(order, parents, batch_rows, overlap)) as steps:
            _write(steps, writer, reports, progress)
        for report in reports:
            if report.file in digests:
                report.sha256 = digests[report.file].result()
        writer.append("manifest", manifest_frame(reports, ingested_at))
        # A table without a file is created empty (so every query runs) and recorded as absent,
        # so the reports can tell "not in the evidence" from "nothing happened".
        writer.append("manifest_absent", absent_frame(sources.missing, evidence_dir.name, ingested_at))
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)
    return IngestReport(
        evidence_dir=str(evidence_dir),
        case_url=url.render_as_string(hide_password=True),
        files=sorted(reports, key=lambda r: r.file),
        missing_tables=sources.missing,
        ignored=sources.ignored,
        unchecked_references=unchecked,
        ingested_at=ingested_at,
        seconds=time.perf_counter() - started,
        skipped=sources.skipped,
        leftovers=writer.leftovers,
    )


@dataclass
class _Typed:
    """A batch as read and value-checked (then key-checked): rows that passed, rows refused."""

    source: EvidenceFile
    malformed: pl.DataFrame | None  # records refused while parsing; None: the file has ended
    good: pl.DataFrame | None = None
    refused: pl.DataFrame | None = None
    duplicates: pl.DataFrame | None = None  # filled in by the key check
    read: int = 0  # rows read: typed and refused, and malformed records


@dataclass
class _Rows:
    """What to write for a batch (``report`` None), or a file's reconciliation once it has ended."""

    source: EvidenceFile
    loaded: pl.DataFrame | None = None
    quarantine: pl.DataFrame | None = None
    read: int = 0
    report: FileReport | None = None


def _steps(
    order: list[EvidenceFile], parents: ParentKeys, batch_rows: int, overlap: bool
) -> Generator[_Rows, None, None]:
    """The rows to write, file by file in ``order``; with ``overlap``, read and checked in threads.

    Three threads (:mod:`.stages`): one reads and value-checks batches, one runs the key
    check, one the reference check; the caller writes. The rows and their order are the
    same either way.
    """
    if not overlap:
        yield from _check_references(_check_keys(_read_typed(order, batch_rows)), parents)
        return
    with Ahead(lambda: _read_typed(order, batch_rows), name="ingest-read") as typed:
        with Ahead(lambda: _check_keys(typed), name="ingest-keys") as keyed:
            with Ahead(lambda: _check_references(keyed, parents), name="ingest-references") as rows:
                yield from rows


def _read_typed(order: list[EvidenceFile], batch_rows: int) -> Iterator[_Typed]:
    """Every file's batches, read and value-checked; after each file, a marker that it ended."""
    for source in order:
        for batch in read_batches(source, batch_rows):
            good, refused = check_values(batch.frame, source.table)
            # Only the count of the raw rows goes on: the raw frame is freed here, not steps later.
            item = _Typed(source, batch.malformed, good, refused, read=batch.frame.height + batch.malformed.height)
            del batch
            yield item
        yield _Typed(source, None)


def _check_keys(typed: Iterable[_Typed]) -> Iterator[_Typed]:
    """Split each batch's first occurrences of a key from later ones (one tracker a file)."""
    keys: KeyTracker | None = None
    for item in typed:
        if item.malformed is None:
            keys = None
            yield item
            continue
        if keys is None:
            keys = KeyTracker(item.source.table, "row" if item.source.format == "parquet" else "line")
        assert item.good is not None
        good, duplicates = keys.check(item.good)
        yield _Typed(item.source, item.malformed, good, item.refused, duplicates, item.read)


def _check_references(typed: Iterable[_Typed], parents: ParentKeys) -> Iterator[_Rows]:
    """Run the reference checks over key-checked batches; reconcile each file at its end."""
    report: FileReport | None = None
    for item in typed:
        source = item.source
        if report is None:
            report = FileReport(source.label, source.table, source.format, source.sha256, source.bytes)
        if item.malformed is None:
            _reconcile(report)
            yield _Rows(source, report=report)
            report = None
            continue
        assert item.good is not None and item.refused is not None and item.duplicates is not None
        duplicates = item.duplicates
        good, orphans = check_references(item.good, source.table, parents)
        quarantined = pl.concat([item.malformed, item.refused, duplicates, orphans]).sort(LINE)
        loaded = good.drop(LINE)
        parents.remember(source.table, loaded)
        room = max(SAMPLES - len(report.samples), 0)
        report.samples += [
            f"{source.label}:{r[LINE]}: {r['column'] or '(record)'}: {r['reason']}"
            for r in quarantined.head(room).iter_rows(named=True)
        ]
        read = item.read
        report.rows_read += read
        report.rows_loaded += loaded.height
        report.rows_quarantined += quarantined.height
        rows = _quarantine_rows(quarantined, source) if quarantined.height else None
        yield _Rows(source, loaded, rows, read)


def _reconcile(report: FileReport) -> None:
    if not report.reconciles:  # a defect in ingest itself; never let it pass silently
        raise WorkbenchError(
            f"{report.file}: rows do not reconcile: read {report.rows_read} != loaded {report.rows_loaded} "
            f"+ quarantined {report.rows_quarantined}; this is a bug in workbench ingest, please report it"
        )


def _write(steps: Iterator[_Rows], writer: CaseWriter, reports: list[FileReport], progress: bool) -> None:
    """Append each batch's rows and quarantine entries, in order; collect the files' reports."""
    bar = None
    try:
        for rows in steps:
            if bar is None:
                # delay: only loads that take more than a second get a bar; disable=None: only on a TTY.
                bar = tqdm(
                    total=rows.source.rows,
                    desc=rows.source.label,
                    unit=" rows",
                    delay=1.0,
                    disable=None if progress else True,
                    leave=False,
                )
            if rows.report is not None:
                reports.append(rows.report)
                bar.close()
                bar = None
                continue
            assert rows.loaded is not None
            writer.append(rows.source.table, rows.loaded)
            if rows.quarantine is not None:
                writer.append("quarantine", rows.quarantine)
            bar.update(rows.read)
    finally:
        if bar is not None:
            bar.close()


def _quarantine_rows(problems: pl.DataFrame, source: EvidenceFile) -> pl.DataFrame:
    return (
        problems.select(
            pl.lit(source.label).alias("file"),
            pl.col(LINE).alias("line"),
            pl.lit(source.table).alias("table"),
            *(pl.col(c) for c in PROBLEMS_SCHEMA if c != LINE),
        )
        .select(list(polars_schema("quarantine")))
        .cast(polars_schema("quarantine"))
    )
