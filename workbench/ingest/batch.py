"""A batch of raw evidence rows, as every reader yields it, and the shape of refused rows.

Each row carries ``__line``: where it stands in its file (see :mod:`.readers` for what a
line is in each form). Readers, validation and integrity checks share these names.
"""

from __future__ import annotations

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
    """Rows as read (``frame``, with ``__line``) and records refused while parsing (``malformed``)."""

    frame: pl.DataFrame
    malformed: pl.DataFrame
