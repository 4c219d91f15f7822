"""The mapping file: a JSON Schema built from the v1 declarations, and the loader.

A mapping (YAML) says, for each format-v1 table it supplies, where the rows come from and
how each v1 column is made from the source's columns::

    version: 1
    timezone: Europe/Stockholm          # of times written without an offset
    tables:
      applicants:
        source: {csv: "export/sokande*.csv", delimiter: ";", encoding: cp1252, decimal_comma: true}
        columns:
          applicant_id: Kundnummer                          # a rename
          name: {concat: [Fornamn, {text: " "}, Efternamn]} # a concatenation
          student: {column: Student, values: {"Ja": true, "Nej": false}}
          registered_at: {column: Registrerad, format: "%Y-%m-%d %H:%M"}
          co_applicant_name: null                           # not in this hand-over
          ...

Every column of a mapped table must be named (``null`` where the hand-over has none), so a
column is never left out by accident. The file is checked against :func:`json_schema`
(``jsonschema``), then for what a schema cannot say (one source kind, a known time zone and
encoding, value maps onto allowed values); every error names the mapping file, the line
and the key, e.g. ``mapping.yaml:14: tables.logins.columns.method.values.BankID: ...``.
"""

from __future__ import annotations

import codecs
import re
import zoneinfo
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import yaml

from .. import evidence
from ..errors import EvidenceError
from . import written
from .numbers import THOUSANDS, refused_separator
from .weblogs import format_columns

__all__ = ["SOURCE_KINDS", "ColumnSpec", "Mapping", "MappingError", "SourceSpec", "TableSpec", "json_schema", "load"]

# Source kinds: the key naming the kind holds a glob (relative to SOURCE) or, for sql, the query.
SOURCE_KINDS = {
    "csv": "CSV files in the declared dialect",
    "parquet": "Parquet files",
    "jsonl": "JSON Lines files (one object per line)",
    "iis": "IIS W3C extended logs (#Fields: directives honoured)",
    "weblog": "nginx or Apache access logs in the declared log_format",
    "eml": ".eml files, one message each",
    "maildir": "Maildir folders (cur/ and new/)",
    "mbox": "mbox files",
    "sql": "an SQL query against the database at url",
}


class MappingError(EvidenceError):
    """A mapping file that cannot be used; the message names its file, line and key."""


def _column_schema() -> dict:
    text_or_column = {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
                "additionalProperties": False,
            },
        ]
    }
    return {
        "type": ["null", "string", "object"],
        "properties": {
            "column": {"type": "string", "description": "the source column"},
            "concat": {"type": "array", "items": text_or_column, "minItems": 1},
            "constant": {"type": ["string", "number", "boolean", "null"]},
            "values": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                "description": "source value -> v1 value; a value outside the map is quarantined",
            },
            "extract": {"type": "string", "description": "a regular expression with one group"},
            "format": {"type": "string", "description": "strftime format of a date or time"},
            "timezone": {"type": "string"},
        },
        "additionalProperties": False,
    }


def json_schema() -> dict:
    """The JSON Schema of a mapping file, with every v1 table and column spelt out."""
    column = _column_schema()
    source = {
        "type": "object",
        "properties": {
            **{kind: {"type": "string", "minLength": 1} for kind in SOURCE_KINDS},
            "url": {"type": "string", "description": "SQLAlchemy URL; sqlite:///x.db is relative to SOURCE"},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
            "quote": {"type": "string", "minLength": 1, "maxLength": 1},
            "encoding": {"type": "string"},
            "decimal_comma": {"type": "boolean"},
            "thousands": {"type": "string", "enum": list(THOUSANDS), "description": "digit-group separator of numbers"},
            "header": {"type": "integer", "minimum": 1, "description": "line of the header row"},
            "log_format": {"type": "string"},
        },
        "additionalProperties": False,
    }
    tables = {
        name: {
            "type": "object",
            "properties": {
                "source": source,
                "timezone": {"type": "string"},
                "columns": {
                    "type": "object",
                    "properties": {str(c): column for c in evidence.polars_schema(name)},
                    "required": [str(c) for c in evidence.polars_schema(name)],
                    "additionalProperties": False,
                },
            },
            "required": ["source", "columns"],
            "additionalProperties": False,
        }
        for name in evidence.TABLES
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "workbench mapping (evidence format v1)",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "timezone": {"type": "string"},
            "tables": {"type": "object", "properties": tables, "additionalProperties": False, "minProperties": 1},
        },
        "required": ["version", "tables"],
        "additionalProperties": False,
    }


@dataclass
class ColumnSpec:
    """How one v1 column is made: from ``column``, a ``concat``, or a ``constant`` (or null)."""

    target: str
    where: str  # "mapping.yaml:12: tables.logins.columns.method"
    column: str | None = None
    concat: list[tuple[str, str]] | None = None  # ("column", name) or ("text", literal)
    constant: Any = None
    has_constant: bool = False
    values: dict[str, Any] | None = None
    extract: str | None = None
    format: str | None = None
    timezone: str | None = None

    def sources(self) -> list[str]:
        """The source columns this v1 column reads."""
        if self.column is not None:
            return [self.column]
        return [v for k, v in self.concat or [] if k == "column"]


@dataclass
class SourceSpec:
    kind: str
    target: str  # glob, or the query for sql
    where: str
    url: str | None = None
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    decimal_comma: bool = False
    thousands: str | None = None
    header: int = 1
    log_format: str | None = None


@dataclass
class TableSpec:
    name: str
    source: SourceSpec
    columns: dict[str, ColumnSpec]
    timezone: str | None
    where: str


@dataclass
class Mapping:
    path: Path
    tables: dict[str, TableSpec]
    timezone: str | None = None
    lines: dict[tuple, int] = field(default_factory=dict, repr=False)


def _marks(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """The 1-based line of every key path in a composed YAML document."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.update(_marks(value, (*path, key.value)))
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_marks(item, (*path, i)))
    return out


class _Where:
    def __init__(self, path: Path, lines: dict[tuple, int]):
        self.path, self.lines = path, lines

    def __call__(self, *keys) -> str:
        keys = tuple(keys)
        probe = keys
        while probe not in self.lines and probe:
            probe = probe[:-1]
        dotted = ".".join(str(k) for k in keys) or "(top)"
        return f"{self.path.name}:{self.lines.get(probe, 1)}: {dotted}"

    def fail(self, keys: tuple, message: str) -> MappingError:
        return MappingError(f"{self(*keys)}: {message}")


def load(path: str | Path) -> Mapping:
    """Read, validate and interpret the mapping file at ``path``; raise :class:`MappingError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(written.not_utf8(path, data, exc.start)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise MappingError(f"{path.name}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    where = _Where(path, _marks(node) if node is not None else {})
    if not isinstance(data, dict):
        raise where.fail((), "a mapping file is a YAML mapping with 'version: 1' and 'tables:'")
    if (twice := written.duplicate_key(node)) is not None:
        keys, first, second = twice
        message = f"given twice (lines {first} and {second}): which one counts cannot be known; allowed: each key once"
        raise MappingError(f"{path.name}:{second}: {'.'.join(map(str, keys))}: {message}")
    if node is not None:
        written.as_written(data, node)  # in place
    validator = jsonschema.Draft202012Validator(json_schema())
    # A misspelt key shows as an unknown key and as a missing one: name the unknown one first.
    errors = sorted(
        validator.iter_errors(data),
        key=lambda e: (e.validator != "additionalProperties", len(e.absolute_path), str(e.absolute_path)),
    )
    if errors:
        raise _schema_error(errors[0], where, len(errors))
    default_zone = _zone(data.get("timezone"), where, ("timezone",))
    # Every table is checked, so that a draft's TODOs in several tables are named at once.
    tables, problems = {}, []
    for name, spec in data["tables"].items():
        try:
            tables[name] = _table(name, spec, where, default_zone)
        except MappingError as exc:
            problems.append(str(exc))
    if problems:
        raise MappingError("\n".join(problems))
    return Mapping(path, tables, default_zone, where.lines)


def _schema_error(error: jsonschema.ValidationError, where: _Where, count: int) -> MappingError:
    keys = tuple(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        found = re.findall(r"'([^']+)' w(?:as|ere) unexpected", message)
        unexpected = re.findall(r"'([^']+)'", message.split("(")[-1]) if not found else found
        if unexpected:
            keys = (*keys, unexpected[0])
            allowed = sorted(error.schema.get("properties", {}))
            message = f"unknown key {unexpected[0]!r}; allowed: {', '.join(allowed)}"
    elif error.validator == "required" and keys and keys[-1] == "columns":
        message = f"{message}; every column of a mapped table is named (write `name: null` for one the hand-over lacks)"
    more = f" ({count - 1} more problem{'s' if count > 2 else ''} after this one)" if count > 1 else ""
    return where.fail(keys, message + more)


def _zone(name: str | None, where: _Where, keys: tuple) -> str | None:
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise where.fail(
            keys, f"unknown time zone {name!r}; allowed: an IANA zone, e.g. Europe/Stockholm or UTC"
        ) from None
    return name


def _table(name: str, spec: dict, where: _Where, zone: str | None) -> TableSpec:
    table_zone = _zone(spec.get("timezone"), where, ("tables", name, "timezone")) or zone
    source = _source(spec["source"], where, ("tables", name, "source"))
    declared = evidence.polars_schema(name)
    columns = {}
    for target, column in spec["columns"].items():
        keys = ("tables", name, "columns", target)
        columns[target] = _column(target, column, where, keys, declared[target], name)
    return TableSpec(name, source, columns, table_zone, where("tables", name))


def _source(spec: dict, where: _Where, keys: tuple) -> SourceSpec:
    kinds = [k for k in SOURCE_KINDS if k in spec]
    if len(kinds) != 1:
        found = f"it names {', '.join(kinds)}" if kinds else "it names none"
        raise where.fail(keys, f"a source names exactly one kind, {found}; allowed: {', '.join(SOURCE_KINDS)}")
    kind = kinds[0]
    options = {k: v for k, v in spec.items() if k != kind}
    fits = {
        "csv": {"delimiter", "quote", "encoding", "decimal_comma", "thousands", "header"},
        "jsonl": {"encoding", "decimal_comma", "thousands"},
        "iis": {"encoding"},
        "weblog": {"log_format", "encoding"},
        "sql": {"url", "decimal_comma", "thousands"},
    }.get(kind, set())
    for key in options:
        if key not in fits:
            allowed = ", ".join(sorted(fits)) or "no options"
            raise where.fail((*keys, key), f"{key!r} does not apply to a {kind} source; allowed: {allowed}")
    if kind == "sql" and "url" not in options:
        raise where.fail(keys, "an sql source needs url: (e.g. sqlite:///queue.db, relative to SOURCE)")
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise where.fail(
                (*keys, "encoding"), f"unknown encoding {options['encoding']!r}; allowed: e.g. utf-8, cp1252, latin-1"
            ) from None
    if kind == "weblog":
        _log_format(options.get("log_format"), where, keys)
    if "thousands" in options and (why := refused_separator(options["thousands"], options.get("decimal_comma"))):
        raise where.fail((*keys, "thousands"), why)
    return SourceSpec(kind, spec[kind], where(*keys), **options)


def _log_format(log_format: str | None, where: _Where, keys: tuple) -> None:
    """Each field once: two of the same name (nginx's ``$x $x``, Apache's ``%h`` and ``%a``) would be one column."""
    names = format_columns(log_format)[1]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise where.fail(
            (*keys, "log_format"),
            f"the log_format names {', '.join(repr(n) for n in twice)} more than once; allowed: each field once "
            "(Apache's %h and %a are both remote_addr: keep one)",
        )


def _column(target: str, spec: Any, where: _Where, keys: tuple, dtype: pl.DataType, table: str) -> ColumnSpec:
    out = ColumnSpec(target, where(*keys))
    if spec is None:
        out.has_constant = True
        return out
    if isinstance(spec, str):
        out.column = spec
        return out
    assert isinstance(spec, AnyMapping)
    ways = [k for k in ("column", "concat", "constant") if k in spec]
    if len(ways) != 1:
        raise where.fail(keys, f"say exactly one of column, concat or constant (found {', '.join(ways) or 'none'})")
    out.column = spec.get("column")
    if "concat" in spec:
        out.concat = [("text", i["text"]) if isinstance(i, dict) else ("column", i) for i in spec["concat"]]
    if "constant" in spec:
        out.has_constant, out.constant = True, spec["constant"]
    out.values = {str(k): v for k, v in spec["values"].items()} if "values" in spec else None
    out.extract, out.format = spec.get("extract"), spec.get("format")
    out.timezone = _zone(spec.get("timezone"), where, (*keys, "timezone"))
    if out.extract is not None and (why := written.extract_refused(out.extract)) is not None:
        raise where.fail((*keys, "extract"), why)
    if (out.format or out.timezone) and not (isinstance(dtype, pl.Datetime) or dtype == pl.Date()):
        raise where.fail(keys, f"format and timezone apply to dates and times; {table}.{target} is {dtype}")
    if out.format and (why := written.format_refused(out.format, dtype)):
        raise where.fail((*keys, "format"), f"{why}; allowed: a strftime format such as %d/%m/%Y %H:%M")
    if out.has_constant and (why := written.constant_refused(out.constant, dtype, out.format)):
        raise where.fail((*keys, "constant"), f"{why} ({table}.{target} is {dtype})")
    if out.values == {}:
        raise where.fail((*keys, "values"), "an empty value map would refuse every row; allowed: one entry or more")
    allowed = evidence.allowed_values(table, target)
    for source_value, value in (out.values or {}).items():
        if value is None:
            continue
        if allowed and str(value) not in allowed:
            raise where.fail(
                (*keys, "values", source_value),
                f"{value!r} is not a value of {table}.{target}; allowed: {', '.join(allowed)}",
            )
        if dtype == pl.Boolean() and not isinstance(value, bool):
            raise where.fail((*keys, "values", source_value), f"{value!r} is not a boolean; allowed: true or false")
        if why := written.constant_refused(value, dtype, out.format):
            raise where.fail((*keys, "values", source_value), f"{why} ({table}.{target} is {dtype})")
    if allowed and out.has_constant and out.constant is not None and str(out.constant) not in allowed:
        raise where.fail(
            (*keys, "constant"), f"{out.constant!r} is not a value of {table}.{target}; allowed: {', '.join(allowed)}"
        )
    return out
