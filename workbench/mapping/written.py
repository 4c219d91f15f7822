"""The mapping's YAML as its writer wrote it, where YAML's own reading would change it.

YAML 1.1 (PyYAML's) reads a plain ``Yes``, ``No``, ``On`` or ``Off`` as a boolean, ``010`` as
the number 8 and ``2013-12-13`` as a date, and lets a later key silently replace an earlier
one of the same name. In a mapping those are source column names and source values, which
are text as they stand in the hand-over: a value map ``{Yes: true}`` would never match the
export's ``Yes``, and a repeated ``name:`` would map the column its writer did not mean.
So the names and value-map keys are taken as written, and a key given twice is refused.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import polars as pl
import yaml

__all__ = ["as_written", "constant_refused", "duplicate_key", "extract_refused", "format_refused", "not_utf8"]


def duplicate_key(node: yaml.Node | None, path: tuple = ()) -> tuple[tuple, int, int] | None:
    """The first key given twice in one YAML mapping: (its path, first line, second line), or None."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                return (*path, key.value), seen[key.value], line
            seen[key.value] = line
            if found := duplicate_key(value, (*path, key.value)):
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if found := duplicate_key(item, (*path, i)):
                return found
    return None


def _child(node: yaml.Node | None, key: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _text(node: yaml.Node | None, parsed: Any) -> Any:
    """A plain scalar's text as written where YAML made it other than text (not a null); else ``parsed``."""
    if isinstance(node, yaml.ScalarNode) and parsed is not None and not isinstance(parsed, str):
        return node.value
    return parsed


def as_written(data: dict, node: yaml.Node) -> dict:
    """``data`` (as YAML read it) with every source column name and value-map key as written in ``node``."""
    tables = data.get("tables")
    if not isinstance(tables, dict):
        return data
    for name, table in tables.items():
        columns = table.get("columns") if isinstance(table, dict) else None
        if not isinstance(columns, dict):
            continue
        nodes = _child(_child(_child(node, "tables"), name), "columns")
        for target, spec in columns.items():
            at = _child(nodes, target)
            if not isinstance(spec, dict):
                columns[target] = _text(at, spec)
                continue
            if "column" in spec:
                spec["column"] = _text(_child(at, "column"), spec["column"])
            if isinstance(spec.get("constant"), (datetime.date, datetime.datetime)):  # YAML read 2013-12-13 as a date
                spec["constant"] = _text(_child(at, "constant"), spec["constant"])
            if isinstance(spec.get("concat"), list):
                parts = _child(at, "concat")
                items = parts.value if isinstance(parts, yaml.SequenceNode) else []
                spec["concat"] = [
                    _text(items[i] if i < len(items) else None, part) for i, part in enumerate(spec["concat"])
                ]
            if isinstance(spec.get("values"), dict):
                keys = _child(at, "values")
                written = [k.value for k, _ in keys.value] if isinstance(keys, yaml.MappingNode) else []
                if len(written) == len(spec["values"]):
                    spec["values"] = dict(zip(written, spec["values"].values(), strict=True))
    return data


def extract_refused(pattern: str) -> str | None:
    """Why ``pattern`` cannot be an ``extract``, or None: not a regular expression, not one group, or one
    polars (which runs it) cannot run: look-around and back-references pass Python's ``re`` but not polars.
    """
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        return f"not a regular expression: {exc}"
    if groups != 1:
        return f"the expression has {groups} groups; allowed: exactly one (the value)"
    try:
        pl.Series([""], dtype=pl.String).str.extract(pattern, 1)
    except pl.exceptions.PolarsError as exc:
        said = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())[:300]
        return f"the reader's regular expressions cannot run it: {said}; allowed: a pattern without look-around or back-references"
    return None


def not_utf8(path: Path, data: bytes, at: int) -> str:
    """Where a mapping that is not UTF-8 goes wrong: line, column, the line as read, what is allowed."""
    line = data.count(b"\n", 0, at) + 1
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    shown = data[start : end if end >= 0 else len(data)].rstrip(b"\r").decode("utf-8", "backslashreplace")
    return (
        f"{path}:{line}: byte 0x{data[at]:02X} at column {at - start + 1} is not UTF-8: '{shown[:120]}'; "
        "allowed: a mapping saved as UTF-8 (in Notepad: Save As, Encoding UTF-8; a Windows-1252 "
        "file saved as 'ANSI' is not)"
    )


# chrono's strftime directives, as polars reads them: %Y, %-d, %.3f, %:z, %%, ...
_DIRECTIVE = re.compile(r"%(?:[-_0]?[A-Za-z+%]|\.?[369]?f|:{1,3}z|#z)")
_KNOWN = set("YCymbBhdeaAwuUWGgVjDxFvHkIlPpMSfRTXrZzcstn+%")


def format_refused(fmt: str, dtype: pl.DataType) -> str | None:
    """Why ``fmt`` cannot read a date or time, or None: an unknown directive, or one polars refuses."""
    at = fmt.find("%")
    while at >= 0:
        match = _DIRECTIVE.match(fmt, at)
        if match is None or match.group()[-1] not in _KNOWN:
            return f"{fmt[at : at + 2]!r} is not a strftime directive"
        at = fmt.find("%", match.end())
    try:
        probe = pl.Series(["2013-12-13"], dtype=pl.String)
        probe.str.to_date(fmt, strict=False) if dtype == pl.Date() else probe.str.to_datetime(fmt, strict=False)
    except pl.exceptions.PolarsError as exc:
        return str(exc).splitlines()[0]
    return None


def constant_refused(value: Any, dtype: pl.DataType, fmt: str | None) -> str | None:
    """Why the ``constant`` ``value`` is no value of a ``dtype`` column, or None (a null always is one)."""
    from ..ingest.validate import _parse_text
    from .times import iso

    if value is None or dtype == pl.String():
        return None
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    frame = pl.DataFrame({"v": [text]})
    if isinstance(dtype, pl.Datetime):
        naive, zoned = iso(pl.col("v"))
        parsed = pl.col("v").str.to_datetime(fmt, strict=False) if fmt else pl.coalesce(naive, zoned)
        ok = frame.select(parsed.is_not_null()).item()
        return None if ok else f"{text!r} is not a date and time; allowed: ISO 8601, e.g. 2013-12-13 18:42:05"
    if dtype == pl.Date() and fmt:
        ok = frame.select(pl.col("v").str.to_date(fmt, strict=False).is_not_null()).item()
        return None if ok else f"{text!r} does not match the format {fmt!r}"
    _, why = _parse_text(pl.col("v"), dtype, None)
    return frame.select(why).item()
