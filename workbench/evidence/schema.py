"""Reading the declarations: a table by name, its polars schema, its enumerations and personal-data columns."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from .tables import TABLES, metadata
from .vocabulary import ENUMS, PII

__all__ = ["allowed_values", "pii_columns", "polars_dtype", "polars_schema", "table", "table_schema"]


def table(name: str) -> sa.Table:
    """The declared table ``name`` (e.g. ``"page_views"``); a clear error for unknown names."""
    try:
        return metadata.tables[name]
    except KeyError:
        from ..errors import UnknownNameError

        raise UnknownNameError("table", name, TABLES) from None


def polars_dtype(type_: sa.types.TypeEngine) -> pl.DataType | None:
    """The polars dtype a declared SQL type maps to; None when the type is not one we use.

    Also used for query results, where sums of reals come back as ``Numeric``.
    """
    if isinstance(type_, sa.Enum):
        return pl.String()
    if isinstance(type_, sa.Boolean):
        return pl.Boolean()
    if isinstance(type_, sa.Integer):
        return pl.Int64()
    if isinstance(type_, (sa.Float, sa.Numeric)):  # Double is a Float
        return pl.Float64()
    if isinstance(type_, sa.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(type_, sa.Date):
        return pl.Date()
    if isinstance(type_, (sa.String, sa.Text)):
        return pl.String()
    return None


def table_schema(t: sa.Table) -> pl.Schema:
    """The polars schema of any declared table (evidence or case bookkeeping)."""
    schema = {}
    for c in t.columns:
        dtype = polars_dtype(c.type)
        if dtype is None:
            raise TypeError(f"no polars dtype for {t.name}.{c.name}: {c.type!r}")
        schema[str(c.name)] = dtype
    return pl.Schema(schema)


def polars_schema(name: str) -> pl.Schema:
    """The polars schema of a table, derived from its declaration."""
    return table_schema(table(name))


def allowed_values(name: str, column: str) -> tuple[str, ...] | None:
    """The enumeration a column is restricted to, or None when it is free."""
    enum_name = table(name).columns[column].info.get("enum")
    return ENUMS[enum_name] if enum_name else None


def pii_columns(name: str, pii: PII) -> list[str]:
    """Columns of table ``name`` tagged with personal-data class ``pii``."""
    return [c.name for c in table(name).columns if c.info["pii"] is pii]
