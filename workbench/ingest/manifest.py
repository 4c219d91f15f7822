"""What an ingest did, file by file: the reconciliation the CLI prints and the manifest it stores."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from ..case import polars_schema
from ..evidence import FORMAT_VERSION

__all__ = [
    "ABSENT_REASON",
    "SAMPLES",
    "FileReport",
    "IngestReport",
    "absent_frame",
    "looked_for",
    "manifest_frame",
    "workbench_version",
]

SAMPLES = 5  # quarantined rows quoted per file in the printed report
ABSENT_REASON = "no file at ingest"
"""Why a table is absent from a case: the only reason ingest knows (``manifest_absent.reason``)."""


def workbench_version() -> str:
    """The installed workbench version, e.g. ``"0.1.0"``."""
    try:
        return importlib.metadata.version("workbench")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@dataclass
class FileReport:
    """Reconciliation of one input file: rows read = rows loaded + rows quarantined."""

    file: str  # e.g. "evidence/logins.csv"
    table: str
    format: str
    sha256: str
    bytes: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    samples: list[str] = field(default_factory=list)  # first quarantined rows, "file:line: column: reason"

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined

    def row(self) -> dict:
        """The reconciliation row: file, table, rows_read, rows_loaded, rows_quarantined."""
        return {
            "file": self.file,
            "table": self.table,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
        }


@dataclass
class IngestReport:
    """Everything ``workbench ingest`` tells its user, and the data behind it."""

    evidence_dir: str
    case_url: str  # password hidden
    files: list[FileReport]
    missing_tables: list[str]  # no file: absent, recorded in manifest_absent (created empty, so queries run)
    ignored: list[str]  # entries of the evidence folder that are not table files
    unchecked_references: list[str]  # orphan checks skipped because the parent had no file
    ingested_at: datetime
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # lock and hidden files, "name (why)"
    leftovers: list[str] = field(default_factory=list)  # killed ingests' temporary files removed

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def rows(self) -> list[dict]:
        """One reconciliation row per input file."""
        return [f.row() for f in self.files]

    def frame(self) -> pl.DataFrame:
        """The reconciliation as a polars frame."""
        schema = {
            "file": pl.String,
            "table": pl.String,
            "rows_read": pl.Int64,
            "rows_loaded": pl.Int64,
            "rows_quarantined": pl.Int64,
        }
        return pl.DataFrame(self.rows(), schema=schema)

    def format(self) -> str:
        """The text the CLI prints: reconciliation table, then what was missing or refused."""
        rows = self.rows()
        width = max([len("total"), *(len(r["file"]) for r in rows)])
        twidth = max([len("table"), *(len(r["table"]) for r in rows)])
        head = f"{'file':<{width}}  {'table':<{twidth}}  {'read':>10}  {'loaded':>10}  {'quarantined':>11}"
        out = [
            f"Ingested {len(self.files)} file{'s' if len(self.files) != 1 else ''} from {self.evidence_dir} "
            f"into {self.case_url} in {self.seconds:.1f} s.",
            "",
            head,
            "-" * len(head),
        ]
        for r in rows:
            out.append(
                f"{r['file']:<{width}}  {r['table']:<{twidth}}  {r['rows_read']:>10,}  {r['rows_loaded']:>10,}  {r['rows_quarantined']:>11,}"
            )
        total = {k: sum(r[k] for r in rows) for k in ("rows_read", "rows_loaded", "rows_quarantined")}
        out.append("-" * len(head))
        out.append(
            f"{'total':<{width}}  {'':<{twidth}}  {total['rows_read']:>10,}  {total['rows_loaded']:>10,}  {total['rows_quarantined']:>11,}"
        )
        if self.missing_tables:
            out += [
                "",
                "Absent, no file for these tables: " + ", ".join(self.missing_tables),
                "  (recorded as absent in the manifest, not as tables with 0 rows: the reports say what they cannot answer)",
            ]
        if self.unchecked_references:
            out += [
                "",
                "Orphan checks skipped (the referenced table had no file): " + "; ".join(self.unchecked_references),
            ]
        if self.ignored:
            out += ["", "Not table files, not ingested: " + ", ".join(self.ignored)]
        if self.skipped:
            out += ["", "Skipped, lock and hidden files (not evidence): " + ", ".join(self.skipped)]
        if self.leftovers:
            out += ["", "Removed temporary files of an interrupted ingest: " + ", ".join(self.leftovers)]
        if self.rows_quarantined:
            n = self.rows_quarantined
            out += ["", f"{n:,} row{'s' if n != 1 else ''} quarantined (see the quarantine table); the first ones:"]
            for f in self.files:
                out += [f"  {s}" for s in f.samples]
        return "\n".join(out)


def manifest_frame(files: list[FileReport], ingested_at: datetime) -> pl.DataFrame:
    """The ``manifest`` rows for ``files``: chain of custody, one row per input file."""
    version = workbench_version()
    rows = [
        {
            "path": f.file,
            "table": f.table,
            "format": f.format,
            "sha256": f.sha256,
            "bytes": f.bytes,
            "rows_read": f.rows_read,
            "rows_loaded": f.rows_loaded,
            "rows_quarantined": f.rows_quarantined,
            "format_version": FORMAT_VERSION,
            "workbench_version": version,
            "ingested_at": ingested_at,
        }
        for f in files
    ]
    return pl.DataFrame(rows, schema=polars_schema("manifest"))


def looked_for(table: str, folder: str = "evidence") -> str:
    """The files ingest takes for ``table`` in the evidence ``folder``, e.g. ``"evidence/fees.csv, evidence/fees.parquet"``."""
    from ..evidence import RAW_FORMS

    names = [f"{folder}/{table}.csv", f"{folder}/{table}.parquet"]
    names += [f"{folder}/{raw}, raw/{raw}" for raw, t in RAW_FORMS.items() if t == table]
    return ", ".join(names)


def absent_frame(tables: list[str], folder: str, ingested_at: datetime) -> pl.DataFrame:
    """The ``manifest_absent`` rows: one per evidence table without a file, with why and what was looked for."""
    rows = [
        {"table": t, "reason": ABSENT_REASON, "looked_for": looked_for(t, folder), "ingested_at": ingested_at}
        for t in tables
    ]
    return pl.DataFrame(rows, schema=polars_schema("manifest_absent"))
