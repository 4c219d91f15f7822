"""A batch of raw evidence rows, as every reader yields it, and the shape of refused rows.

Each row carries ``__line``: where it stands in its file (see :mod:`.readers` for what a
line is in each form). Readers, validation and integrity checks share these names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

__all__ = ["LINE", "PROBLEMS_SCHEMA", "RawBatch"]

LINE = "__line"
PROBLEMS_SCHEMA = pl.Schema(
    {LINE: pl.Int64(), "column": pl.String(), "value": pl.String(), "reason": pl.String(), "record": pl.String()}
)
"""One row per refused input row, before file and table are attached."""


@dataclass
class RawBatch:
    """Rows as read (``frame``, with ``__line``) and records refused while parsing (``malformed``).

    ``records``: when ``frame`` holds only some of the source's columns (a projected read),
    the rows of the given ``__line`` s with every column, for a refused row's record.
    """

    frame: pl.DataFrame
    malformed: pl.DataFrame
    records: Callable[[pl.Series], pl.DataFrame] | None = None
