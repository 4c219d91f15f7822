"""Hostile evidence for tests: markup, script, bidirectional text and huge values in every text column.

Evidence comes from the organisation under investigation, and its free text from anyone who
ever wrote to it, so every text column of the evidence format is a way in. :func:`poison`
rewrites a generated case's evidence so that every free text column (every ``String`` or
``Text`` column of :mod:`workbench.evidence` that is not an enumeration) holds the payloads
below, as far as each column's declared length allows, and the unbounded ``Text`` columns
also hold 1 MB values.

The rewrite keeps the evidence valid, so nothing is quarantined and every analysis still
runs on it: a payload is appended to the original value (the original is kept as its prefix,
so a request path still names its page and a message body still reads as a fault report),
and one value is rewritten the same way in every column where it occurs, so session ids
still join.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from workbench import evidence

# Each is something a browser would act on if a report let it through as markup.
PAYLOADS: dict[str, str] = {
    "script": "</script><script>alert(document.title)</script>",
    "img": "<img src=x onerror=alert(1)>",
    "base": '<base href="http://attacker.invalid/">',
    "style": "<style>body{display:none}</style>",
    "js_link": '<a href="javascript:alert(1)">x</a>',
    "md_link": "[x](javascript:alert(1))",
    "js_url": "javascript:alert(1)",
    "iframe": '<iframe src="http://attacker.invalid/">',
    "meta": '<meta http-equiv="refresh" content="0;url=http://attacker.invalid/">',
    "svg": "<svg onload=alert(1)>",
    "close": "</script>",
    "bidi": "\u202egnp.exe\u202c\u2066\u2069\u200f",
    "zero_width": "\u200b\u200d\u2060\ufeff",
}
# Spreadsheet formulas (OWASP CSV injection): put at the START of values, where a spreadsheet acts on them.
FORMULAS: tuple[str, ...] = ('=HYPERLINK("http://attacker.invalid","x")', "+1+1 ", "-2+3 ", "@SUM(A1) ", "\t=1 ")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BIG_CHARS = 1_000_000
# Every bidirectional control and zero-width character a hostile value may hold (issue 14), listed
# here independently of workbench.markup so the test checks the list too.
INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)


def big_value() -> str:
    """A value of :data:`BIG_CHARS` characters: every payload, repeated."""
    unit = " " + " ".join(PAYLOADS.values())
    return (unit * (BIG_CHARS // len(unit) + 1))[:BIG_CHARS]


def text_columns() -> dict[str, list[tuple[str, int | None]]]:
    """Every free text column of the evidence format, per table: ``(column, max length or None)``."""
    out: dict[str, list[tuple[str, int | None]]] = {}
    for name in evidence.TABLES:
        t = evidence.table(name)
        cols = [
            (str(c.name), getattr(c.type, "length", None))
            for c in t.columns
            if evidence.polars_dtype(c.type) == pl.String() and evidence.allowed_values(name, str(c.name)) is None
        ]
        if cols:
            out[name] = cols
    return out


def _hostile(value: str, index: int, limit: int | None) -> str:
    """``value`` with a payload appended: the ``index``-th of those that fit within ``limit``."""
    room = None if limit is None else limit - len(value)
    fitting = [p for p in PAYLOADS.values() if room is None or len(p) <= room]
    if fitting:
        return value + fitting[index % len(fitting)]
    short = min(PAYLOADS.values(), key=len)  # a value already at its limit: its tail gives way
    return value[: max(0, (limit or 0) - len(short))] + short


def poison(
    evidence_dir: str | Path, *, big_rows: int = 1, big: Mapping[str, int | pl.Expr] | None = None
) -> dict[str, int]:
    """Rewrite the Parquet evidence in ``evidence_dir`` with hostile text; returns the values changed per column.

    Every non-null value of every free text column gets a payload. In every unbounded
    ``Text`` column the first ``big_rows`` non-null values get 1 MB of payloads appended;
    ``big["table.column"]`` overrides that with another number or with the rows to choose,
    e.g. ``{"support_messages.body": 25}`` or ``{"profile_changes.new_value": pl.col("change_id") == 5521}``.
    """
    folder = Path(evidence_dir)
    columns = text_columns()
    frames = {t: pl.read_parquet(folder / f"{t}.parquet") for t in columns if (folder / f"{t}.parquet").is_file()}
    values: dict[str, list[str]] = {}  # table.column -> its distinct values
    limits: dict[str, int | None] = {}  # a value shared by columns must fit the narrowest
    for table, cols in columns.items():
        for col, length in cols if table in frames else ():
            values[f"{table}.{col}"] = sorted(frames[table][col].drop_nulls().unique().to_list())
            for v in values[f"{table}.{col}"]:
                old = limits.get(v, length)
                limits[v] = length if old is None else old if length is None else min(old, length)
    # Each column's values take the payloads in turn, so a column of a few values still gets the
    # first ones; a value shared with an earlier column (a session id) keeps that column's payload.
    mapping: dict[str, str] = {}
    for column_values in values.values():
        fresh = [v for v in column_values if v not in mapping]
        mapping.update({v: _hostile(v, i, limits[v]) for i, v in enumerate(fresh)})
    changed: dict[str, int] = {}
    for table, cols in columns.items():
        if table not in frames:
            continue
        frame = frames[table]
        updates = []
        for col, length in cols:
            expr = pl.col(col).replace_strict(mapping, default=pl.col(col), return_dtype=pl.String)
            if length is None:
                chosen = (big or {}).get(f"{table}.{col}", big_rows)
                if not isinstance(chosen, pl.Expr):
                    chosen = pl.col(col).is_not_null().cum_sum() <= chosen
                grown = pl.col(col) + pl.lit(big_value())
                expr = pl.when(pl.col(col).is_not_null() & chosen).then(grown).otherwise(expr)
            updates.append(expr.alias(col))
            changed[f"{table}.{col}"] = int(frame[col].is_not_null().sum())
        frame.with_columns(updates).write_parquet(folder / f"{table}.parquet")
    return changed


def lead_with_formulas(evidence_dir: str | Path, columns: tuple[str, ...]) -> int:
    """Prefix the distinct values of ``columns`` (``"table.column"``) with :data:`FORMULAS` in turn; returns the values changed.

    Bounded columns keep their length: the value's tail gives way.
    """
    folder = Path(evidence_dir)
    limits = {f"{t}.{c}": n for t, cols in text_columns().items() for c, n in cols}
    changed = 0
    for table in sorted({c.split(".")[0] for c in columns}):
        path = folder / f"{table}.parquet"
        frame = pl.read_parquet(path)
        for name in (c.split(".")[1] for c in columns if c.startswith(f"{table}.")):
            limit = limits[f"{table}.{name}"]
            values = frame[name].to_list()
            # Per distinct value, as an organisation's data would hold it: a district stays one district.
            distinct = sorted({v for v in values if v is not None})
            led = {v: (FORMULAS[i % len(FORMULAS)] + v)[: limit or None] for i, v in enumerate(distinct)}
            changed += sum(v is not None for v in values)
            frame = frame.with_columns(
                pl.Series(name, [None if v is None else led[v] for v in values], dtype=pl.String)
            )
        frame.write_parquet(path)
    return changed
