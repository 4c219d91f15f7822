"""Render ``docs/evidence-format.md`` from the evidence declarations (``workbench docs``)."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

import sqlalchemy as sa

from .evidence import ENUMS, FORMAT_VERSION, PAGE_FIELDS, RAW_FORM_DOCS, RAW_FORMS, metadata

__all__ = ["render_markdown"]


def _sql_type(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.Enum):
        return "enum"
    if isinstance(t, sa.DateTime):
        return "timestamp (UTC)"
    return {sa.BigInteger: "integer", sa.Boolean: "boolean", sa.Date: "date", sa.Text: "text"}.get(type(t), "text")


def _example(value) -> str:
    if value is None:
        return "*(null)*"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value).replace("|", "\\|")


def render_markdown() -> str:
    """Render ``docs/evidence-format.md`` from the declarations."""
    out = [
        f"# Evidence format, version {FORMAT_VERSION}",
        "",
        "<!-- Generated from workbench/evidence/tables.py by `workbench docs`; edit the declarations, not this file. -->",
        "",
        "Evidence is a folder of files named `<table>.parquet` or `<table>.csv`, one per table below.",
        "Timestamps are UTC with the zone given (`2013-12-13T17:42:05Z`); a timestamp without a zone is an error.",
        "Display converts to Europe/Stockholm. The account of applicant X has `account_id` = X.",
        "",
        "Personal-data classes drive the audience layer: *direct identifier* columns are pseudonymised",
        "for auditors, *free text* is withheld, *quasi-identifier* columns are only published in aggregates.",
        "",
        "## Enumerations",
        "",
    ]
    for name, values in ENUMS.items():
        out.append(f"- `{name}`: " + ", ".join(f"`{v}`" for v in values))
    for t in metadata.tables.values():
        out += ["", f"## `{t.name}`", "", t.info["doc"], ""]
        keys = ", ".join(f"`{c.name}`" for c in t.primary_key.columns)
        out += [f"Key: {keys}.", ""]
        out.append("| column | type | null | personal data | meaning | example |")
        out.append("|---|---|---|---|---|---|")
        for c in t.columns:
            typ = _sql_type(c)
            if c.info.get("enum"):
                typ = f"enum `{c.info['enum']}`"
            out.append(
                f"| `{c.name}` | {typ} | {'yes' if c.nullable else 'no'} | {c.info['pii'].value} "
                f"| {c.info['doc']} | {_example(c.info['example'])} |"
            )
    out += ["", "## Pages and the fields they render", ""]
    out.append("Pages that render an account's data; `{listing_id}` stands for a listing number. Any other")
    out.append("path (search, listings, help, login) renders no account, and a page served with an error")
    out.append("status renders none either. For members with protected identity the address is hidden.")
    out.append("")
    out.append("| path | fields |")
    out.append("|---|---|")
    for path, fields in PAGE_FIELDS.items():
        out.append(f"| `{path}` | {', '.join(fields)} |")
    out += ["", "## Raw forms", ""]
    out.append("Two tables may be handed over in their raw form instead of a table file, under these names,")
    out.append("in the evidence folder or in its sibling folder `raw/` (where `workbench generate` writes them).")
    out.append("A malformed line or message is quarantined with its line number.")
    out.append("")
    out.append("| file | table | form |")
    out.append("|---|---|---|")
    for name, table_name in RAW_FORMS.items():
        out.append(f"| `{name}` | `{table_name}` | {RAW_FORM_DOCS[name]} |")
    out.append("")
    # Evidence as organisations hand it over (workbench.mapping); prose kept beside the package.
    out.append(files("workbench").joinpath("data/bring_your_own_evidence.md").read_text(encoding="utf-8"))
    return "\n".join(out)
