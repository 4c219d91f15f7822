"""Row-level checks of single values: type, time zone, required, enumeration, length.

:func:`check_values` types a batch of raw rows as the table is declared and splits it into
the rows that passed and one quarantine entry per refused row. Every reason names the bad
value and what is allowed.

Rules (CSV text, or Parquet text columns, parsed value by value):

- integers: optional sign and digits, within 64 bits (``"1048213"``);
- booleans: ``true`` or ``false`` in any case;
- dates: ``YYYY-MM-DD``;
- timestamps: ISO 8601 with a zone, ``Z`` or ``±HH:MM`` (``±HHMM``, as polars writes it,
  is accepted too), ``T`` or a space between date and time, optional fraction of a
  second; converted to UTC. Without a zone the reason is "timestamp without time zone":
  a naive time is an error, not a guess;
- CSV: an unquoted empty field is null, a quoted one (``""``) the empty string.

Then, on every source: a declared non-null or key column needs a value; an enumeration
column holds one of its allowed values; text fits the declared length (PostgreSQL enforces
it, so all engines do) and holds no NUL character (PostgreSQL cannot store one).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from .. import evidence
from .batch import LINE, PROBLEMS_SCHEMA

__all__ = ["NAIVE_TIMESTAMP", "ZONED_TIMESTAMP", "check_values"]

ZONED_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
NAIVE_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"
_TS_ALLOWED = "allowed: ISO 8601 with a zone, Z or ±HH:MM, e.g. 2013-12-13T17:42:05Z or 2013-12-13T18:42:05+01:00"
_SHOWN = 60  # characters of a bad value repeated inside a reason; the full value has its own column


_INT_RANGE = f"{-(2**63):,} to {2**63 - 1:,}".replace(",", " ")


def _shown(v: pl.Expr) -> pl.Expr:
    return v.cast(pl.String).str.slice(0, _SHOWN)


def _parse_text(v: pl.Expr, want: pl.DataType, example) -> tuple[pl.Expr, pl.Expr]:
    """Typed value and failure reason (null when fine) of text ``v`` for a column of type ``want``."""
    if want == pl.String():
        return v, pl.lit(None, pl.String)
    if want == pl.Int64():
        typed = v.str.to_integer(base=10, strict=False)
        allowed = f"allowed: a whole number, e.g. {example if example is not None else 7}"
        bad = v.is_not_null() & typed.is_null()
        return typed, (
            pl.when(bad & v.str.contains(r"^[+-]?\d+$"))
            .then(pl.format("'{}' is a whole number out of range; allowed: " + _INT_RANGE, _shown(v)))
            .when(bad)
            .then(pl.format("'{}' is not a whole number; " + allowed, _shown(v)))
        )
    if want == pl.Float64():
        typed = v.cast(pl.Float64, strict=False)
        return typed, pl.when(v.is_not_null() & typed.is_null()).then(
            pl.format("'{}' is not a number; allowed: a decimal number, e.g. 384000.5", _shown(v))
        )
    if want == pl.Boolean():
        low = v.str.to_lowercase()
        typed = pl.when(low == "true").then(True).when(low == "false").then(False).otherwise(None)
        return typed, pl.when(v.is_not_null() & typed.is_null()).then(
            pl.format("'{}' is not a boolean; allowed: true or false", _shown(v))
        )
    if want == pl.Date():
        typed = pl.when(v.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(v.str.to_date("%Y-%m-%d", strict=False))
        return typed, pl.when(v.is_not_null() & typed.is_null()).then(
            pl.format("'{}' is not a date; allowed: YYYY-MM-DD, e.g. 2004-03-01", _shown(v))
        )
    if isinstance(want, pl.Datetime):
        iso = v.str.replace(r"Z$", "+00:00").str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        zoned = v.str.contains(ZONED_TIMESTAMP)
        # A 60th second (places 17-18) is refused: polars would read it as the next minute's first.
        typed = pl.when(zoned & (iso.str.slice(17, 2) != "60")).then(
            iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False)
        )
        why = (
            pl.when(v.is_null())
            .then(None)
            .when(v.str.contains(NAIVE_TIMESTAMP))
            .then(pl.format("'{}' is a timestamp without time zone; " + _TS_ALLOWED, _shown(v)))
            .when(~zoned)
            .then(pl.format("'{}' is not an ISO 8601 timestamp; " + _TS_ALLOWED, _shown(v)))
            .when(typed.is_null())
            .then(pl.format("'{}' is not a valid date and time; " + _TS_ALLOWED, _shown(v)))
        )
        return typed, why
    raise TypeError(f"no text parser for {want}")


def _convert_native(v: pl.Expr, have: pl.DataType, want: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """Typed value and failure reason of a Parquet column already of a compatible type."""
    if isinstance(want, pl.Datetime) and isinstance(have, pl.Datetime):
        return v.dt.convert_time_zone("UTC").dt.cast_time_unit("us"), pl.lit(None, pl.String)
    typed = v.cast(want, strict=False)
    if have.is_float() and want == pl.Int64():
        # A cast would cut 384000.5 to 384000 and make NaN null without a word: only a
        # whole number within 64 bits is one.
        whole = v.is_finite() & (v == v.floor()) & (v.abs() < 2.0**63)
        reason = pl.format("'{}' is not a whole number; allowed: a whole number within 64 bits", _shown(v))
        return pl.when(whole).then(typed), pl.when(v.is_not_null() & ~whole).then(reason)
    if have.is_integer() and want == pl.Int64():
        reason = pl.format(
            "{} is out of range; allowed: integers from -9223372036854775808 to 9223372036854775807", _shown(v)
        )
        return typed, pl.when(v.is_not_null() & typed.is_null()).then(reason)
    return typed, pl.lit(None, pl.String)


def _checks(table: str, column: sa.Column, typed: pl.Expr, raw: pl.Expr) -> list[pl.Expr]:
    """Reasons, in order of precedence, why a typed value of ``column`` is refused."""
    out: list[pl.Expr] = []
    if not column.nullable:
        what = "key column" if column.primary_key else "column"
        out.append(
            pl.when(raw.is_null()).then(
                pl.lit(
                    f"missing value: {what} {column.name} requires a value; allowed: any {column.name}; an empty field, a missing field and null all count as no value"
                )
            )
        )
    allowed = evidence.allowed_values(table, column.name)
    if allowed:
        listed = ", ".join(allowed)
        out.append(
            pl.when(typed.is_not_null() & ~typed.is_in(list(allowed))).then(
                pl.format("'{}' is not an allowed value; allowed: " + listed, _shown(typed))
            )
        )
    if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum) and column.type.length:
        n = column.type.length
        out.append(
            pl.when(typed.str.len_chars() > n).then(
                pl.format("value is {} characters long; allowed: at most " + str(n), typed.str.len_chars())
            )
        )
    if isinstance(column.type, (sa.String, sa.Text)):
        out.append(
            pl.when(typed.str.contains("\x00", literal=True)).then(
                pl.lit("contains a NUL character; allowed: text without NUL (PostgreSQL cannot store it)")
            )
        )
    return out


def check_values(raw: pl.DataFrame, table: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type ``raw`` (columns as read, plus ``__line``) as ``table`` is declared.

    Returns the rows that passed, typed, in the declared column order plus ``__line``, and
    the refused rows in ``PROBLEMS_SCHEMA``: the first problem's column, value and reason,
    further problems appended after "also:", and the whole row as JSON.
    """
    schema = evidence.polars_schema(table)
    declared = evidence.table(table)
    names = [str(n) for n in schema]  # plain str: polars mistakes SQLAlchemy's quoted_name for a row
    typed_exprs, whys = [], []
    for i, (name, want) in enumerate(schema.items()):
        have = raw.schema[name]
        col = pl.col(name)
        if have == pl.String() or have == pl.Null():
            typed, why = _parse_text(col.cast(pl.String), want, declared.c[name].info.get("example"))
        else:
            typed, why = _convert_native(col, have, want)
        typed_exprs.append(typed.alias(f"__t{i}"))
        checks = [why, *_checks(table, declared.c[name], pl.col(f"__t{i}"), col)]
        whys.append(pl.coalesce(checks).alias(f"__w{i}"))
    blank = pl.all_horizontal(pl.col(n).is_null() for n in names)
    frame = raw.with_columns(typed_exprs).with_columns(whys)
    frame = frame.with_columns(
        pl.when(blank)
        .then(pl.lit("empty record: every field is empty (a blank line?); allowed: a row with values"))
        .alias("__blank")
    )
    refused = (
        pl.any_horizontal(pl.col(f"__w{i}").is_not_null() for i in range(len(names))) | pl.col("__blank").is_not_null()
    )
    good = frame.filter(~refused).select(*(pl.col(f"__t{i}").alias(n) for i, n in enumerate(names)), LINE)
    bad = frame.filter(refused)
    if bad.is_empty():
        return good, pl.DataFrame(schema=PROBLEMS_SCHEMA)
    return good, _describe(bad, names)


def _describe(bad: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """One quarantine entry per refused row: first problem first, the others after 'also:'."""

    def problem(order: int, column: str | None, value: pl.Expr, reason: str) -> list[str | pl.Expr]:
        return [
            LINE,
            pl.lit(order).alias("order"),
            pl.lit(column, pl.String).alias("column"),
            value.alias("value"),
            pl.col(reason).alias("reason"),
        ]

    parts = [bad.filter(pl.col("__blank").is_not_null()).select(problem(-1, None, pl.lit(None, pl.String), "__blank"))]
    for i, name in enumerate(names):
        rows = bad.filter(pl.col("__blank").is_null() & pl.col(f"__w{i}").is_not_null())
        parts.append(rows.select(problem(i, name, pl.col(name).cast(pl.String), f"__w{i}")))
    long = pl.concat(parts).sort(LINE, "order")
    also = pl.format("{}: {}", pl.col("column"), pl.col("reason"))
    per_row = long.group_by(LINE, maintain_order=True).agg(
        pl.col("column").first(),
        pl.col("value").first(),
        pl.col("reason").first(),
        also.slice(1).str.join("; ").alias("also"),
    )
    also_text = pl.format("{}; also: {}", pl.col("reason"), pl.col("also"))
    per_row = per_row.with_columns(
        pl.when(pl.col("also") != "").then(also_text).otherwise(pl.col("reason")).alias("reason")
    )
    records = bad.select(LINE, pl.struct(pl.col(n).cast(pl.String) for n in names).struct.json_encode().alias("record"))
    return per_row.join(records, on=LINE, how="left").select(list(PROBLEMS_SCHEMA)).cast(PROBLEMS_SCHEMA)
