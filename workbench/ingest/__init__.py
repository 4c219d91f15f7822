"""Ingest: check evidence files, quarantine bad rows, load a case database, record a manifest.

>>> report = ingest("runs/demo/evidence")                       # doctest: +SKIP
>>> print(report.format())                                      # doctest: +SKIP

Modules: ``sources`` (find files, whole-file checks, sha256), ``readers`` (stream CSV and
Parquet with line numbers), ``validate`` (value checks), ``integrity`` (keys and orphans),
``load`` (each engine's bulk path), ``manifest`` (the report), ``pipeline`` (the order of
work), ``command`` (the CLI subcommand).
"""

from __future__ import annotations

import typing as _typing

from ..lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from .command import add_ingest_command, run_ingest_command
    from .integrity import REFERENCES, Reference
    from .manifest import FileReport, IngestReport
    from .pipeline import ingest

_MODULE = {
    "FileReport": "manifest",
    "IngestReport": "manifest",
    "REFERENCES": "integrity",
    "Reference": "integrity",
    "add_ingest_command": "command",
    "ingest": "pipeline",
    "run_ingest_command": "command",
}
"""Each public name -> its module, imported when first used: ``workbench --help`` needs the command, not SQLAlchemy."""

__all__ = [
    "REFERENCES",
    "FileReport",
    "IngestReport",
    "Reference",
    "add_ingest_command",
    "ingest",
    "run_ingest_command",
]

__getattr__, __dir__ = _lazy_names(__name__, _MODULE, __all__)
