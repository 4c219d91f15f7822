"""Ingest: check evidence files, quarantine bad rows, load a case database, record a manifest.

>>> report = ingest("runs/demo/evidence")                       # doctest: +SKIP
>>> print(report.format())                                      # doctest: +SKIP

Modules: ``sources`` (find files, whole-file checks, sha256), ``readers`` (stream CSV and
Parquet with line numbers), ``validate`` (value checks), ``integrity`` (keys and orphans),
``load`` (each engine's bulk path), ``manifest`` (the report), ``pipeline`` (the order of
work), ``command`` (the CLI subcommand).
"""

from .command import add_ingest_command, run_ingest_command
from .integrity import REFERENCES, Reference
from .manifest import FileReport, IngestReport
from .pipeline import ingest

__all__ = [
    "REFERENCES",
    "FileReport",
    "IngestReport",
    "Reference",
    "add_ingest_command",
    "ingest",
    "run_ingest_command",
]
