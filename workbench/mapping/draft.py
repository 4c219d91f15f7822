"""``workbench map init``: look at a hand-over and write a draft mapping for a person to finish.

The inputs are found by :mod:`.survey` (case databases passed over, with the reason), each
v1 column is proposed and each table placed by :mod:`.propose` (names with Swedish and
English synonyms from :mod:`.names`, values that fit the v1 type by :mod:`.shapes`, a
global assignment of inputs to tables with a minimum), and value maps by :mod:`.valuemaps`. The draft marks ``TODO`` exactly where the
investigator must act: a required column no source column was found for, a value no word
names, a date whose day and month order the values cannot tell. Proposals that only need a
look say ``check``; a nullable column with nothing found stays ``null``. An input placed in
no table, and every file passed over, is listed with its reason at the end of the draft and
in the command's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from .. import evidence
from .propose import SYNONYMS, Column, Fit, assign
from .survey import Found, survey

__all__ = ["SYNONYMS", "write_draft"]


_KEYS = {"column", "values", "format", "extract", "concat", "text", "constant", "timezone"}
"""The mapping's own keys, written bare; every other key (a source value: ``N`` is false in YAML) is quoted."""


def _quote(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes are YAML's (a newline or NUL in a name stays on its line)."""
    return json.dumps(text, ensure_ascii=False)


def _flow(value: object) -> str:
    """``value`` as flow-style YAML; the string ``TODO`` is left bare, for the investigator to replace."""
    if value == "TODO":
        return "TODO"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k if k in _KEYS else _quote(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return "null" if value is None else str(value)


def _type_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "a time"
    return {pl.Date(): "a date", pl.Int64(): "a whole number", pl.Boolean(): "true or false"}.get(dtype, "text")


def _column_line(table: str, target: str, column: Column | None) -> str:
    if column is None:
        dtype = _type_name(evidence.polars_schema(table)[target])
        if not evidence.table(table).columns[target].nullable:
            return f"      {target}: null  # TODO: no source column found for {target} ({dtype}); it is required"
        return f"      {target}: null  # no source column found for {target} ({dtype}); null is allowed"
    note = f"  # {column.note}" if column.note else ""
    return f"      {target}: {_flow(column.spec)}{note}"


_OFFSET = re.compile(r".*(?:Z|[+-]\d{2}:?\d{2})$")


def _zone_less(table: str, fit: Fit, found: Found) -> bool:
    """Whether a time of the table is read from values without an offset (the file's zone then applies)."""
    if found.kind == "iis":
        return False  # IIS logs are in UTC
    for target, dtype in evidence.polars_schema(table).items():
        column = fit.columns[target]
        if not isinstance(dtype, pl.Datetime) or column is None:
            continue
        spec = column.spec
        name = spec if isinstance(spec, str) else spec.get("column")
        if name is None:
            continue  # a concatenation: the time and its offset column
        values = found.samples.get(name, [])
        if not values or not all(_OFFSET.match(v) for v in values):
            return True
    return False


def _source_line(spec: dict) -> str:
    return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in spec.items()) + "}"


def write_draft(root: Path, out: Path) -> tuple[str, list[str]]:
    """Write the draft mapping for the hand-over in ``root`` to ``out`` (never overwritten); its text and notes."""
    if out.exists():
        raise FileExistsError(f"{out} exists; a draft never overwrites a mapping (use --out)")
    inputs, skipped = survey(root)
    chosen, unplaced = assign(inputs)
    lines = [
        "# Draft mapping written by `workbench map init`: replace every TODO, look at every `check`, then run",
        f"# `workbench map check {root} --mapping {out}`.",
        "version: 1",
        "timezone: Europe/Stockholm  # check: the zone of times written without an offset",
        "tables:",
    ]
    zone_less = [t for t in evidence.TABLES if t in chosen and _zone_less(t, chosen[t][1], inputs[chosen[t][0]])]
    if zone_less:
        lines[3] += f", in {', '.join(zone_less)} (a table in another zone, e.g. UTC, takes its own `timezone:`)"
    notes: list[str] = []
    for table in evidence.TABLES:
        if table not in chosen:
            notes.append(f"{table}: no input found (left out; the case will hold it empty)")
            continue
        i, fit = chosen[table]
        lines += [f"  {table}:", f"    source: {_source_line(inputs[i].spec)}", "    columns:"]
        lines += [_column_line(table, str(target), fit.columns[target]) for target in evidence.polars_schema(table)]
        todo = [t for t, c in fit.columns.items() if (c is None and t in fit.required) or (c is not None and c.todo)]
        notes.append(
            f"{table}: from {inputs[i].label}, {fit.placed} of {len(fit.columns)} columns placed"
            + (f" (TODO: {', '.join(todo)})" if todo else "")
        )
    notes += [f"unplaced: {inputs[i].label}: {why}" for i, why in unplaced.items()]
    notes += [f"skipped: {note}" for note in skipped]
    left = [n for n in notes if n.startswith(("unplaced:", "skipped:"))]
    if left:
        lines += ["", "# Inputs the draft did not use:"] + [f"#   {n}" for n in left]
    text = "\n".join(lines) + "\n"
    out.write_text(text, encoding="utf-8")
    return text, notes
