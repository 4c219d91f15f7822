"""``workbench map check``: every mapped table as the case would hold it, and every problem, without a case.

The hand-over goes through exactly the steps of a mapped ingest (:func:`.run.load_table`):
the mapping, the inputs' whole-file checks, the transform, the value, key and orphan
checks; only the writer is replaced by one that keeps the first rows of each table and
the quarantine in memory.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import WorkbenchError
from ..ingest.integrity import ParentKeys, load_order
from . import schema as mapping_schema
from .prepare import prepare
from .run import load_table

__all__ = ["check"]


class _Memory:
    """Stands in for a case writer: keeps the first rows of each table and every quarantine row."""

    def __init__(self, rows: int):
        self.rows = rows
        self.tables: dict[str, pl.DataFrame] = {}
        self.quarantine: list[pl.DataFrame] = []

    def append(self, name: str, frame: pl.DataFrame) -> None:
        if name == "quarantine":
            self.quarantine.append(frame)
            return
        have = self.tables.get(name)
        if have is None or have.height < self.rows:
            self.tables[name] = frame.head(self.rows) if have is None else pl.concat([have, frame]).head(self.rows)


def check(source_dir: Path, mapping_path: Path, rows: int = 5, batch_rows: int = 200_000) -> tuple[str, bool]:
    """The text ``workbench map check`` prints, and whether the mapping reads the hand-over without a problem."""
    try:
        mapping = mapping_schema.load(mapping_path)
        inputs, offered = prepare(source_dir, mapping)
    except WorkbenchError as exc:
        return f"The mapping cannot be used: {exc}", False
    memory = _Memory(rows)
    parents = ParentKeys(set(inputs))
    out: list[str] = []
    reports = []
    if True:
        for table in load_order():
            if table not in inputs:
                continue
            try:
                reports += load_table(mapping.tables[table], inputs[table], offered[table], memory, parents, batch_rows)  # type: ignore[arg-type]
            except WorkbenchError as exc:
                out += [f"## {table}", f"cannot be read: {exc}", ""]
                continue
            frame = memory.tables.get(table)
            out.append(f"## {table} (first {rows} rows as the case would hold them)")
            out += [
                f"  {', '.join(f'{k}={v!r}' for k, v in row.items())}"
                for row in (frame.iter_rows(named=True) if frame is not None else [])
            ] or ["  (no rows)"]
            out.append("")
    out.append("## Inputs: rows read = loaded + quarantined")
    out += [
        f"{r.file}: read {r.rows_read:,}, loaded {r.rows_loaded:,}, quarantined {r.rows_quarantined:,}" for r in reports
    ]
    quarantined = pl.concat(memory.quarantine) if memory.quarantine else None
    ok = quarantined is None and not any(line.startswith("cannot be read") for line in out)
    if quarantined is not None:
        out += ["", f"## Problems: {quarantined.height:,} rows would be quarantined"]
        # the same reason repeats on many rows: count them with the quoted values left out
        kinds = (
            quarantined.group_by(
                "table", pl.col("column").fill_null("(record)"), pl.col("reason").str.replace_all(r"'[^']*'", "'…'")
            )
            .len()
            # most first, then in the order of table, column and reason: the same text every run
            .sort(["len", "table", "column", "reason"], descending=[True, False, False, False])
        )
        out += [f"{n:>8,}  {t}.{c}: {why}" for t, c, why, n in kinds.iter_rows()]
        out += ["", "First rows quarantined:"]
        out += [
            f"  {r['file']}:{r['line']}: {r['column'] or '(record)'}: {r['reason']}"
            for r in quarantined.head(20).iter_rows(named=True)
        ]
    missing = [t for t in load_order() if t not in inputs]
    if missing:
        out += ["", "Not mapped (the case will hold them empty): " + ", ".join(missing)]
    return "\n".join(out), ok
