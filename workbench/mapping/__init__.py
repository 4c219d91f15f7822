"""Evidence as organisations hand it over, read through a mapping file into a v1 case.

>>> report = ingest_mapped("handover", "handover/mapping.yaml")   # doctest: +SKIP

Modules: ``schema`` (the mapping file, its JSON Schema and loader), ``files`` (find, hash
and check the inputs), ``read`` (one reader per kind: ``weblogs`` for IIS and nginx/Apache
logs, ``mail`` for .eml, Maildir and mbox, ``sql`` for a query on any database (``sqlite_read``: SQLite, columnar through ADBC), CSV and
Parquet through :mod:`workbench.ingest.readers`), ``transform`` (v1 columns from source
columns: renames, concatenations, constants, value maps, local times), ``prepare`` (find and scan the
inputs, check the mapping against them), ``run`` (the order of
work, reusing the checks, writers and manifest of :mod:`workbench.ingest`), ``draft`` and
``check`` (``workbench map init`` and ``map check``; the draft's inputs from ``survey``, its
proposals from ``propose``, ``names``, ``shapes`` and ``valuemaps``), ``command`` (the CLI).
"""

from __future__ import annotations

import typing as _typing

from ..lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from .run import ingest_mapped
    from .schema import Mapping, MappingError, json_schema, load

_MODULE = {
    "Mapping": "schema",
    "MappingError": "schema",
    "ingest_mapped": "run",
    "json_schema": "schema",
    "load": "schema",
}
"""Each public name -> its module, imported when first used: the command's parser needs none of the readers."""

__all__ = ["Mapping", "MappingError", "ingest_mapped", "json_schema", "load"]

__getattr__, __dir__ = _lazy_names(__name__, _MODULE, __all__)
