"""The evidence format, version 1: every table declared once, with personal-data tags.

Each table is a SQLAlchemy Core ``Table`` on :data:`metadata` (declared in
:mod:`workbench.evidence.tables`). Every column carries ``info`` with its personal-data
class (:class:`PII`), a one-line meaning and an example value; ``docs/evidence-format.md`` is
rendered from these declarations (:func:`workbench.evidence_docs.render_markdown`) and a test
fails when the two drift apart. The polars schema of a table is derived from the same
declaration (:func:`polars_schema`, in :mod:`workbench.evidence.schema`).

Types are chosen so SQLite, DuckDB and PostgreSQL give identical results: ``BigInteger``
for every integer, ``Double`` for reals (``Float`` is 32-bit on DuckDB), timestamps with
time zone holding UTC, and enumerations as checked strings rather than native enum types.

The modules: :mod:`~workbench.evidence.vocabulary` (personal-data classes, enumerations),
:mod:`~workbench.evidence.pages` (the profile fields each page renders),
:mod:`~workbench.evidence.tables` (the declarations), :mod:`~workbench.evidence.schema`
(reading them), :mod:`~workbench.evidence.forms` (raw forms accepted in place of a table) and
:mod:`~workbench.evidence.truth` (the generator's ground truth, outside the contract).
"""

from __future__ import annotations

from .forms import RAW_FORM_DOCS, RAW_FORMS
from .pages import PAGE_FIELDS, PROFILE_FIELDS, page_fields
from .schema import allowed_values, pii_columns, polars_dtype, polars_schema, table, table_schema
from .tables import TABLES, metadata
from .truth import TRUTH_TABLES
from .vocabulary import ENUMS, PII

FORMAT_VERSION = 1

__all__ = [
    "ENUMS",
    "FORMAT_VERSION",
    "PAGE_FIELDS",
    "PII",
    "PROFILE_FIELDS",
    "RAW_FORMS",
    "RAW_FORM_DOCS",
    "TABLES",
    "TRUTH_TABLES",
    "allowed_values",
    "metadata",
    "page_fields",
    "pii_columns",
    "polars_dtype",
    "polars_schema",
    "table",
    "table_schema",
]
