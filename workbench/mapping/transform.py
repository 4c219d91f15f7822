"""Make the v1 columns of a table from a batch of source rows, as the mapping says.

Per v1 column, in order: take the source column, the concatenation or the constant; cut
out the ``extract`` group; replace through the value map; then, for numbers, take out the
declared digit-group separator (``384 000`` → ``384000``, see :mod:`.numbers`) and read a decimal
comma (``1250,00`` → ``1250.00``; for an integer column a fraction of zeros is dropped), and
for dates and times parse ``format`` and give a time without an offset the mapping's zone.

A row is quarantined, never guessed at, when a value is outside its value map, does not
match its ``extract`` or ``format``, is a number grouped otherwise than in threes by the
declared separator (or grouped by spaces in a decimal-comma source that declares none), is a local time that does not exist (the spring DST
change: 02:30 on 2013-03-31 in Stockholm) or exists twice (the autumn change: 02:30 on
2013-10-27), or is a time without zone where the mapping declares none; or when a field
it reads is not logged under the ``#Fields:`` directive in force (IIS). Everything else
(types, enumerations, lengths, keys, orphans) is checked as for any evidence, by
:mod:`workbench.ingest.validate` and :mod:`workbench.ingest.integrity`.
"""

from __future__ import annotations

import re

import polars as pl

from .. import evidence
from ..ingest.batch import LINE, PROBLEMS_SCHEMA
from .extract import cut, literal_then_up_to
from .numbers import grouped_hint, misgrouped, ungroup, whole_decimals
from .schema import ColumnSpec, TableSpec
from .times import TimeParse, stage
from .weblogs import ABSENT, FIELDS_LINE

__all__ = ["text_sources", "transform"]

# Why a row is refused: the condition (cheap, on every row) and the reason (formatted only
# for the rows the condition refuses).
_Why = tuple[pl.Expr, pl.Expr]
# A time: its value, why it is refused, and the parse to stage first (none for a time with a zone).
_Time = tuple[pl.Expr, _Why, TimeParse | None]


def _why(condition: pl.Expr, reason: pl.Expr) -> _Why:
    return condition, pl.when(condition).then(reason)


_SHOWN = 60


def _text(v: pl.Expr) -> pl.Expr:
    return v.cast(pl.String).str.slice(0, _SHOWN)


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _base(spec: ColumnSpec, schema: pl.Schema) -> pl.Expr:
    if spec.has_constant:
        return pl.lit(_as_text(spec.constant), pl.String)
    if spec.concat is not None:
        return pl.concat_str([pl.col(v).cast(pl.String) if k == "column" else pl.lit(v) for k, v in spec.concat])
    assert spec.column is not None
    return pl.col(spec.column)


def _column(
    spec: ColumnSpec,
    want: pl.DataType,
    schema: pl.Schema,
    zone: str | None,
    numbers: tuple[bool, str | None] | None,
    key: str,
    cuts: dict[str, tuple[pl.Expr, str]] | None = None,
) -> tuple[pl.Expr, list[_Why], TimeParse | None]:
    """The v1 value (text, or a native type), the reasons a row is refused, in order, and a time's parse.

    ``numbers``: for a number column read as text, the source's ``(decimal_comma, thousands)``;
    None where its text has neither mark nor space in this batch (it is read as it is).

    ``cuts``: where an ``extract`` of the usual shape (:mod:`.extract`) is noted, as the
    hidden column ``key + "x"`` to make first (the text to cut, the pattern).
    """
    v = _base(spec, schema)
    source_is_text = spec.column is None or schema[spec.column] in (pl.String(), pl.Null())
    whys: list[_Why] = []
    where = f"{spec.target}"
    if spec.concat is not None and len(spec.sources()) > 1:
        v = _partial_concat(spec, v)
    if spec.extract is not None:
        raw = v.cast(pl.String)
        if cuts is not None and literal_then_up_to(spec.extract) is not None:
            cuts[key + "x"] = (raw, spec.extract)
            v = pl.col(key + "x")
        else:
            v = raw.str.extract(spec.extract, 1)
        whys.append(
            _why(
                raw.is_not_null() & v.is_null(),
                pl.format(f"'{{}}' does not match the extract pattern {spec.extract!r} of {where}", _text(raw)),
            )
        )
        source_is_text = True
    if spec.values is not None:
        raw = v.cast(pl.String)
        keys = list(spec.values)
        v = raw.replace_strict(keys, [_as_text(x) for x in spec.values.values()], default=None, return_dtype=pl.String)
        listed = ", ".join(keys)
        whys.append(
            _why(
                raw.is_not_null() & ~raw.is_in(keys),
                pl.format(
                    f"'{{}}' is outside the value map of {where}; allowed: {listed} (add it to values: in the mapping)",
                    _text(raw),
                ),
            )
        )
        source_is_text = True
    if want in (pl.Int64(), pl.Float64()) and source_is_text and numbers is not None:
        decimal_comma, thousands = numbers
        raw = v.cast(pl.String)
        if thousands is None:
            whys.append(_why(*grouped_hint(raw, decimal_comma, where)))
        else:
            whys.append(_why(*misgrouped(raw, thousands, decimal_comma, where)))
            v = ungroup(raw, thousands, decimal_comma)
        if decimal_comma:
            # A point reads as the comma does ('200.00'), but where it could as well group digits
            # ('12.000': 12, or twelve thousand?) the value is refused, never guessed.
            whys.append(_why(v.str.contains(r"^[+-]?\d{1,3}(?:\.\d{3})+$"), _point_in_comma(raw, where)))
            v = v.str.replace(",", ".", literal=True)
            if want == pl.Int64():
                v = whole_decimals(v)
                read = v.str.contains(r"^[+-]?\d+$")
            else:
                read = v.cast(pl.Float64, strict=False).is_not_null()
            # A value that is no number either way stays as written, so the reason quotes '200,50', not '200.50'.
            v = pl.when(read).then(v).otherwise(raw)
        elif thousands is not None:  # likewise a value that is no number once ungrouped
            v = pl.when(v.cast(want, strict=False).is_not_null()).then(v).otherwise(raw)
    if isinstance(want, pl.Datetime):
        v, why, parse = _time(v, spec, zone, source_is_text, schema, key)
        whys.append(why)
        return v, whys, parse
    elif want == pl.Date() and spec.format is not None:
        raw = v.cast(pl.String)
        v = raw.str.to_date(spec.format, strict=False)
        whys.append(
            _why(
                raw.is_not_null() & v.is_null(),
                pl.format(f"'{{}}' does not match the format {spec.format!r} of {where}", _text(raw)),
            )
        )
    return v, whys, None


def _written(spec: ColumnSpec, schema: pl.Schema) -> pl.Expr:
    """The source value as a refused row quotes it: a ``concat`` with the parts it has, not null."""
    if spec.concat is None:
        return _base(spec, schema).cast(pl.String)
    parts = [pl.col(n).cast(pl.String) if k == "column" else pl.lit(n) for k, n in spec.concat]
    given = pl.any_horizontal(pl.col(n).is_not_null() for n in spec.sources()) if spec.sources() else pl.lit(True)
    return pl.when(given).then(pl.concat_str(parts, ignore_nulls=True))


def _partial_concat(spec: ColumnSpec, v: pl.Expr) -> pl.Expr:
    """A ``concat`` some of whose columns are empty: the parts it has, never a silent null.

    A first name without a last is the first name; a time whose offset column is empty is a
    time without an offset, placed in the declared zone as any such time (and refused where
    that zone has it twice or not at all); what the parts make is then checked as any value.
    """
    partial = pl.any_horizontal(pl.col(n).is_null() for n in spec.sources())
    return pl.when(partial).then(_written(spec, pl.Schema())).otherwise(v)


def _point_in_comma(raw: pl.Expr, where: str) -> pl.Expr:
    return pl.format(
        f"'{{}}' could be a decimal point or digits grouped by points, in a source with a decimal comma "
        f"({where}); allowed: a decimal comma and no grouping, e.g. 12000 or 12,5, or thousands: '.' on the "
        "source in the mapping if its points group digits",
        raw,
    )


def _time(v: pl.Expr, spec: ColumnSpec, zone: str | None, text: bool, schema: pl.Schema, key: str) -> _Time:
    """A UTC time, why not, and the parse to stage: local times are placed in ``zone``, never guessed."""
    zone = spec.timezone or zone
    have = pl.String() if text else schema[spec.column]  # type: ignore[index]
    if isinstance(have, pl.Datetime) and have.time_zone is not None:
        return v.dt.convert_time_zone("UTC").dt.cast_time_unit("us"), (pl.lit(False), pl.lit(None, pl.String)), None
    parse = TimeParse(key, v, spec.format, zone, text=not isinstance(have, pl.Datetime))
    naive, zoned, local = parse.col("n"), parse.col("z"), parse.col("l")
    raw = parse.col("r") if parse.text else v.cast(pl.String)
    bad_format = raw.is_not_null() & zoned.is_null() & naive.is_null() if parse.text else pl.lit(False)
    shown = _text(raw)
    allowed = (
        f"the format {spec.format!r}"
        if spec.format
        else "ISO 8601, e.g. 2013-12-13 18:42:05 (a local time) or 2013-12-13T17:42:05Z (UTC)"
    )
    if zone is None:
        why_local = pl.format(
            f"'{{}}' is a time without zone and the mapping declares no timezone for {spec.target}; "
            "allowed: times with an offset, or timezone: (e.g. Europe/Stockholm) on the table or column",
            shown,
        )
    elif zone == "UTC":
        why_local = pl.lit(None, pl.String)
    else:
        why_local = (
            pl.when(parse.ambiguous())
            .then(
                pl.format(
                    f"'{{}}' occurs twice in {zone} (clocks went back that night): it cannot be placed in UTC without a guess; quarantined",
                    shown,
                )
            )
            .otherwise(
                pl.format(
                    f"'{{}}' does not exist in {zone} (clocks went forward that night); quarantined, never guessed",
                    shown,
                )
            )
        )
    value = pl.coalesce(zoned, local)
    unplaced = naive.is_not_null() & local.is_null()
    why = (
        pl.when(bad_format)
        .then(pl.format(f"'{{}}' is not a date and time ({spec.target}); allowed: {allowed}", shown))
        .when(unplaced)
        .then(why_local)
    )
    return value, (bad_format | unplaced, why), parse


def text_sources(table: TableSpec) -> frozenset[str]:
    """The source columns every use of which in ``table`` reads them as text.

    That is: into a text or time v1 column, or through a value map, an ``extract`` or a
    ``concat`` (each of which casts to text first). A reader may give these as text from the
    start (:func:`workbench.mapping.sqlite_read.read_batches`) rather than infer a type.
    """
    schema = evidence.polars_schema(table.name)
    text: dict[str, bool] = {}
    for target, spec in table.columns.items():
        want = schema[target]
        as_text = (
            spec.concat is not None
            or spec.values is not None
            or spec.extract is not None
            or want == pl.String()
            or isinstance(want, pl.Datetime)
        )
        for name in spec.sources():
            text[name] = text.get(name, True) and as_text
    return frozenset(name for name, yes in text.items() if yes)


def _plain_numbers(frame: pl.DataFrame, table: TableSpec, decimal_comma: bool, thousands: str | None) -> set[str]:
    """Number columns read as text whose values in this batch hold no mark to read: no space (see
    :mod:`.numbers`), nor the declared separator, nor with a decimal comma ',' (and '.', for integers).

    Reading such text leaves it as it is, so it is not rewritten: a regular expression a
    value, over millions of customer numbers and years, was a third of ``fees``' mapping.
    """
    plain = set()
    spaces = " \u00a0\u202f"
    extra = re.escape(thousands) if thousands not in (None, " ") else ""
    for target, want in evidence.polars_schema(table.name).items():
        spec = table.columns[str(target)]
        if want not in (pl.Int64(), pl.Float64()) or spec.column is None or spec.extract is not None:
            continue
        if spec.values is not None or spec.has_constant or spec.concat is not None:
            continue
        if frame.schema[spec.column] != pl.String():
            continue
        comma = ",." if decimal_comma else ""
        marks = f"[{re.escape(comma)}{spaces}{extra}]"
        if not frame[spec.column].str.contains(marks).any():
            plain.add(str(target))
    return plain


def transform(frame: pl.DataFrame, table: TableSpec, decimal_comma: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The v1 columns of ``table`` made from ``frame`` (source columns and ``__line``).

    Returns the rows made, with the v1 columns as text or native values plus ``__line`` (to
    be typed by :func:`workbench.ingest.validate.check_values`), and the rows refused here
    (``PROBLEMS_SCHEMA``: v1 column, source value, reason; the source row as JSON).
    """
    schema = frame.schema
    exprs, reasons, refused, parses = [], [], [], []
    thousands = table.source.thousands
    # A source that declares neither writes its numbers plainly: nothing to look for, no scan (a
    # grouped one is then refused by the type check, not told of thousands:).
    numeric = {str(t) for t, w in evidence.polars_schema(table.name).items() if w in (pl.Int64(), pl.Float64())}
    plain = _plain_numbers(frame, table, decimal_comma, thousands) if decimal_comma or thousands else numeric
    cuts: dict[str, tuple[pl.Expr, str]] = {}
    for i, (target, want) in enumerate(evidence.polars_schema(table.name).items()):
        spec = table.columns[str(target)]
        numbers = None if str(target) in plain else (decimal_comma, thousands)
        value, whys, parse = _column(spec, want, schema, table.timezone, numbers, f"__t{i}", cuts)
        parses += [parse] if parse is not None else []
        # A field the directive in force does not log: null where the v1 column may be null
        # (it was not recorded), else the line is quarantined saying so.
        if ABSENT in schema and not evidence.table(table.name).c[str(target)].nullable:
            for name in spec.sources():
                whys.insert(
                    0,
                    _why(
                        pl.col(ABSENT).str.contains(f"|{name}|", literal=True),
                        pl.format(
                            f"field {name!r} is not logged under the #Fields: directive of line {{}}, in force here; allowed: lines whose directive names it",
                            pl.col(FIELDS_LINE),
                        ),
                    ),
                )
        exprs.append(value.alias(str(target)))
        refused += [condition.fill_null(False) for condition, _ in whys]
        source_value = _written(spec, schema) if not spec.has_constant else pl.lit(None, pl.String)
        reasons.append(
            pl.struct(
                pl.lit(str(target)).alias("column"),
                source_value.alias("value"),
                pl.coalesce(w for _, w in whys).alias("reason"),
            ).alias(f"__r{i}")
            if whys
            else None
        )
    checks = [r for r in reasons if r is not None]
    frame = stage(frame, parses)
    if cuts:  # extracts cut by splitting (.extract), read by the values and conditions above
        texts = frame.select(raw.alias(name) for name, (raw, _) in cuts.items())
        frame = frame.with_columns(
            cut(texts[name], pattern, literal_then_up_to(pattern)).alias(name)  # type: ignore[arg-type]
            for name, (_, pattern) in cuts.items()
        )
    names = [str(t) for t in evidence.polars_schema(table.name)]
    if not checks:
        return frame.lazy().select(*exprs, LINE).collect(engine="in-memory"), pl.DataFrame(schema=PROBLEMS_SCHEMA)
    source_cols = [c for c in schema if not c.startswith("__")]
    record = (
        pl.struct(pl.col(c).cast(pl.String) for c in source_cols).struct.json_encode()
        if source_cols
        else pl.lit(None, pl.String)
    )
    # Times are parsed once, above, into hidden columns that values and conditions read.
    # Reasons are written only for the rows refused: formatting one for every row, to keep
    # the few that are not null, cost more than the rest.
    made = frame.lazy().select(*exprs, pl.any_horizontal(refused).alias("__refused"), LINE).collect(engine="in-memory")
    if not made["__refused"].any():  # the usual batch: nothing refused, nothing to filter
        return made.select(*names, LINE), pl.DataFrame(schema=PROBLEMS_SCHEMA)
    good = made.filter(~pl.col("__refused")).select(*names, LINE)
    lines = made.filter(pl.col("__refused"))[LINE]
    suspect = frame.filter(pl.col(LINE).is_in(lines.implode()))
    first = pl.coalesce(
        pl.when(pl.col(c.meta.output_name()).struct.field("reason").is_not_null()).then(pl.col(c.meta.output_name()))
        for c in checks
    )
    bad = suspect.lazy().select(*checks, LINE, record.alias("record")).with_columns(first.alias("__problem")).collect()
    problems = bad.select(LINE, pl.col("__problem").struct.unnest(), "record")
    return good, problems.select(list(PROBLEMS_SCHEMA)).cast(PROBLEMS_SCHEMA)
