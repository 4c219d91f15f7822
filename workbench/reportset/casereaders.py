"""Where the leak scan's keys are read from: a case's tables or evidence files, column by column.

:func:`workbench.reportset.casekeys.identifiers` and ``case_identifiers`` read the direct
identifier columns through a reader made here; the non-personal ids (listing numbers and the
like) that a customer number may also be are held as :class:`Public`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ..evidence import PII, metadata

if TYPE_CHECKING:
    from ..case import Case

__all__ = ["Public", "Reader", "case_reader", "file_reader", "public_ids"]

# read(table, column) -> the column's distinct non-null values as text, or None when the table is absent.
Reader = Callable[[str, str], "pl.Series | None"]


def file_reader(evidence_dir: Path) -> Reader:
    def read(table: str, column: str) -> pl.Series | None:
        for path in (evidence_dir / f"{table}.parquet", evidence_dir / f"{table}.csv"):
            if path.is_file():
                if path.suffix == ".parquet":
                    frame = pl.read_parquet(path, columns=[column])
                else:
                    frame = pl.read_csv(path, columns=[column], infer_schema=False)
                return frame[column].drop_nulls().cast(pl.String).unique()
        return None

    return read


def case_reader(case: Case) -> Reader:
    import sqlalchemy as sa

    def read(table: str, column: str) -> pl.Series | None:
        col = case.table(table).c[column]
        frame = case.read(sa.select(col).where(col.is_not(None)).distinct())
        return frame[column].cast(pl.String)

    return read


def public_ids(read: Reader) -> Public:
    """Values of the evidence's non-personal id columns (listing_id, change_id, …) as text."""
    found = [pl.Series([], dtype=pl.String)]
    for table in metadata.sorted_tables:
        for c in table.columns:
            if c.name.endswith("_id") and c.info.get("pii") in (PII.NONE, PII.QUASI):
                values = read(table.name, c.name)
                found += [values.cast(pl.String)] if values is not None else []
    return Public(pl.concat(found).unique())


class Public:
    """The non-personal ids, looked up as numbers where they are written as numbers (no leading zero).

    At national they are 4.5 M: hashed as text for each of ten columns of customer numbers
    they cost about 1.5 CPU-s a column, as numbers a tenth of it.
    """

    def __init__(self, values: pl.Series):
        canonical = canonical_number(values)
        self.numbers = values.filter(canonical).cast(pl.UInt64).implode()
        self.other = values.filter(~canonical)  # ids of other forms, compared as text

    def among(self, column: pl.Series) -> pl.Series:
        """Whether each of ``column`` (text) is one of the ids."""
        canonical = canonical_number(column)
        hit = canonical & column.cast(pl.UInt64, strict=False).is_in(self.numbers)
        if self.other.len():
            hit = hit | column.is_in(self.other.implode())
        return hit.fill_null(False)


def canonical_number(column: pl.Series) -> pl.Series:
    """Whether each value is a whole number as a number prints it: ASCII digits, no leading zero, up to 19."""
    return column.str.contains(r"^(?:0|[1-9][0-9]{0,18})$")
