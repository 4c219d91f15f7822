"""The ``workbench ingest EVIDENCE_DIR [--case URL]`` command, for ``workbench/cli.py`` to mount."""

from __future__ import annotations

import argparse
import sys

from ..errors import WorkbenchError

__all__ = ["add_ingest_command", "run_ingest_command"]

_HELP = """\
Check evidence files and load them into a case database.

EVIDENCE_DIR holds one file per table, <table>.parquet or <table>.csv, and every row is
checked. Bad rows go to the quarantine table with file, line, column, value and reason; for every file rows read = rows loaded + rows quarantined. A file that cannot be
used as a whole (wrong or extra columns, not CSV or Parquet, not UTF-8, empty, truncated)
stops ingest with a message and exit status 1, and leaves no case behind. CSV is RFC 4180,
UTF-8, with timestamps in ISO 8601 with a zone (2013-12-13T17:42:05Z); a time without a
zone is quarantined, never guessed.

Raw forms stand in for two tables: a web-server access log (access.log: combined log
format plus session=COOKIE account=ID) for page_views, and a mailbox (support.mbox) for
support_messages. They are read from EVIDENCE_DIR, or, for a table with no file there,
from the sibling folder raw/ (where `workbench generate` writes them). A malformed log
line or an unreadable message is quarantined with its line number.

Lock files of spreadsheet programs (~$logins.csv, .~lock.logins.csv#) and hidden files
(.DS_Store, Thumbs.db, any name starting with a dot) are skipped and listed. Where a table
file is expected, a folder, a dangling symbolic link, or a link that leaves EVIDENCE_DIR
stops ingest (a link to a file inside EVIDENCE_DIR is followed).

One ingest at a time writes a case, and never while a report reads it: a second one fails
at once with exit status 1 and names the process that holds the case. Temporary files of
an ingest that was killed are removed by the next ingest into the same case.

Engines: SQLite (default, nothing to install, any SQLite tool opens it), DuckDB (much
faster queries; use it from the 'small' scale on), PostgreSQL (a case shared by a team).
"""


def add_ingest_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``ingest`` subcommand to ``subparsers``; it dispatches via ``func``."""
    parser = subparsers.add_parser(
        "ingest",
        help="check evidence files and load them into a case database",
        description=_HELP,
        epilog="example:\n  workbench ingest cases/small/evidence --case cases/small/case.duckdb",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "evidence_dir", metavar="EVIDENCE_DIR", help="folder of evidence files, e.g. runs/demo/evidence"
    )
    parser.add_argument(
        "--case",
        metavar="URL",
        default=None,
        help="case database: a path (a new file is DuckDB if it ends in .duckdb, else SQLite) or sqlite:///PATH, "
        "duckdb:///PATH, postgresql+psycopg://USER@HOST:PORT/DB (default: case.db beside EVIDENCE_DIR)",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    parser.set_defaults(func=run_ingest_command)
    return parser


def run_ingest_command(args: argparse.Namespace) -> int:
    """Run ingest for parsed ``args``; print the reconciliation; return the exit status.

    0 when everything was loaded or only rows were quarantined; 1 with one message on
    stderr when a file (or the case) could not be used.
    """
    from .pipeline import ingest

    try:
        report = ingest(args.evidence_dir, case_url=args.case, progress=args.progress)
    except WorkbenchError as exc:
        print(f"workbench ingest: error: {exc}", file=sys.stderr)
        return 1
    print(report.format())
    return 0
