"""Ingest an evidence folder into a case database: check, quarantine, load, record.

Order of work: find and check every file as a whole (nothing is written yet); then, parents
before children, stream each file in batches through the value checks, the key check and
the orphan check, appending what passed to its table and what did not to ``quarantine``;
finally write ``manifest`` (and ``manifest_absent``: the tables without a file, and why) and commit. Any exception aborts the writer, so no half-written
case is left behind.
"""

from __future__ import annotations

import time
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
from .sources import EvidenceFile, Sources, check_file, discover
from .validate import check_values

__all__ = ["ingest"]


def ingest(
    evidence_dir: str | Path,
    case_url: str | Path | sa.URL | None = None,
    progress: bool = True,
    batch_rows: int = 1_000_000,
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
        return _ingest(evidence_dir, sources, url, progress, batch_rows, started)


def _ingest(
    evidence_dir: Path, sources: Sources, url: sa.URL, progress: bool, batch_rows: int, started: float
) -> IngestReport:
    for found in sources.files.values():
        check_file(found)
    ingested_at = datetime.now(UTC)
    parents = ParentKeys(set(sources.files))
    reports: list[FileReport] = []
    unchecked: list[str] = []
    writer = open_writer(url)
    try:
        writer.create_tables()
        for table in load_order():
            source = sources.files.get(table)
            if source is None:
                continue
            unchecked += [str(r) for r in parents.skipped(table)]
            reports.append(_load_file(source, writer, parents, progress, batch_rows))
        writer.append("manifest", manifest_frame(reports, ingested_at))
        # A table without a file is created empty (so every query runs) and recorded as absent,
        # so the reports can tell "not in the evidence" from "nothing happened".
        writer.append("manifest_absent", absent_frame(sources.missing, evidence_dir.name, ingested_at))
        writer.finish()
    except BaseException:
        writer.abort()
        raise
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


def _load_file(
    source: EvidenceFile, writer: CaseWriter, parents: ParentKeys, progress: bool, batch_rows: int
) -> FileReport:
    """Stream one file through the checks into ``writer``; return its reconciliation."""
    report = FileReport(source.label, source.table, source.format, source.sha256, source.bytes)
    keys = KeyTracker(source.table, "row" if source.format == "parquet" else "line")
    # delay: only loads that take more than a second get a bar; disable=None: only on a TTY.
    bar = tqdm(
        total=source.rows, desc=source.label, unit=" rows", delay=1.0, disable=None if progress else True, leave=False
    )
    try:
        for batch in read_batches(source, batch_rows):
            good, refused = check_values(batch.frame, source.table)
            good, duplicates = keys.check(good)
            good, orphans = check_references(good, source.table, parents)
            quarantined = pl.concat([batch.malformed, refused, duplicates, orphans]).sort(LINE)
            loaded = good.drop(LINE)
            writer.append(source.table, loaded)
            parents.remember(source.table, loaded)
            if quarantined.height:
                writer.append("quarantine", _quarantine_rows(quarantined, source))
                room = max(SAMPLES - len(report.samples), 0)
                report.samples += [
                    f"{source.label}:{r[LINE]}: {r['column'] or '(record)'}: {r['reason']}"
                    for r in quarantined.head(room).iter_rows(named=True)
                ]
            read = batch.frame.height + batch.malformed.height
            report.rows_read += read
            report.rows_loaded += loaded.height
            report.rows_quarantined += quarantined.height
            bar.update(read)
    finally:
        bar.close()
    if not report.reconciles:  # a defect in ingest itself; never let it pass silently
        raise WorkbenchError(
            f"{source.label}: rows do not reconcile: read {report.rows_read} != loaded {report.rows_loaded} "
            f"+ quarantined {report.rows_quarantined}; this is a bug in workbench ingest, please report it"
        )
    return report


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
