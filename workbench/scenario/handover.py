"""Write the synthetic case as an organisation would hand it over (``workbench generate … --handover DIR``).

From the same (degraded) tables as ``evidence/``, ``DIR`` gets::

    mapping.yaml                  reads everything below back into the v1 tables
    ko.sqlite                     the queue system: Swedish tables and columns, times in UTC
    export/*.csv                  semicolon CSV in Windows-1252, decimal commas, local times
    logs/W3SVC1/u_exYYMMDD.log    the IIS W3C extended log, one file per UTC day, in UTC
    mail/kundtjanst/NNNNNN.eml    support mail, one message per file

``workbench ingest DIR --mapping DIR/mapping.yaml`` makes the same case as ingesting
``evidence/`` (tests/test_handover.py). Where each table lives, its codes and its time
conventions are declared in :mod:`.handover_spec`. Anything the hand-over could not carry
exactly stops the writer with a :class:`~workbench.errors.GeneratorError` rather than
write rows the ingest would lose: a time without offset in a DST change hour, text
outside Windows-1252, a name without a space, a space in a log field.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from .. import evidence
from ..errors import GeneratorError
from ..settings import LOCAL_TZ
from .handover_spec import DATABASE, EXPORTS, IIS_FIELDS, Export, mapping
from .raw import _POST, SITE, _message
from .writer import conform

__all__ = ["write_handover"]

_PARTS = ("mapping.yaml", DATABASE, "export", "logs", "mail")
_MAPPING_HEAD = """\
# The mapping of the synthetic hand-over written by `workbench generate --handover`.
# Read it with: workbench ingest {dir} --mapping {dir}/mapping.yaml
# CSV exports: Windows-1252, ';', decimal commas, Stockholm local time (an offset column
# beside the times of exports that span DST changes); the queue system's SQLite database
# stores UTC; the IIS log is UTC, with the account a page rendered in the custom field X-Kundnr.
"""
_IIS_SERVER = "10.20.1.10"


def write_handover(tables: dict[str, pl.DataFrame], out: Path, rng: np.random.Generator) -> dict[str, int]:
    """Write the hand-over of ``tables`` into ``out``; returns rows (lines, messages) per v1 table.

    Replaces what an earlier hand-over wrote in ``out`` (mapping.yaml, ko.sqlite, export/,
    logs/, mail/) and leaves anything else there alone.
    """
    out.mkdir(parents=True, exist_ok=True)
    for part in _PARTS:
        path = out / part
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    rows = {}
    con = sqlite3.connect(out / DATABASE)
    try:
        for table in evidence.TABLES:
            export, frame = EXPORTS[table], conform(table, tables[table])
            if export.kind == "csv":
                _write_csv(table, frame, export, out)
            elif export.kind == "sql":
                _write_sql(con, table, frame, export)
            elif export.kind == "iis":
                _write_iis(frame, tables["logins"], out / Path(export.name).parent, rng)
            else:
                _write_eml(frame, tables["applicants"], out / Path(export.name).parent)
            rows[table] = frame.height
        con.commit()
    finally:
        con.close()
    text = yaml.safe_dump(mapping(), sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    (out / "mapping.yaml").write_text(_MAPPING_HEAD.format(dir=out.name) + text, encoding="utf-8")
    return rows


def _coded(table: str, target: str, export: Export) -> pl.Expr:
    """The v1 column in the organisation's codes, where it has them."""
    if target not in export.codes:
        return pl.col(target)
    codes = export.codes[target]
    return pl.col(target).replace_strict(list(codes), list(codes.values()), return_dtype=pl.String)


def _seconds(frame: pl.DataFrame, column: str) -> str:
    """The time format: to the second, or to the microsecond where the column has fractions."""
    fraction = frame.select((pl.col(column).dt.microsecond() != 0).any()).item()
    return "%Y-%m-%d %H:%M:%S%.6f" if fraction else "%Y-%m-%d %H:%M:%S"


def _csv_columns(table: str, frame: pl.DataFrame, export: Export) -> list[pl.Expr]:
    out = []
    for target, dtype in evidence.polars_schema(table).items():
        target = str(target)
        source, value = export.columns[target], _coded(table, target, export)
        if isinstance(source, tuple):
            parts = value.str.splitn(" ", 2)
            out += [parts.struct.field("field_0").alias(source[0]), parts.struct.field("field_1").alias(source[1])]
        elif isinstance(dtype, pl.Datetime):
            local = value.dt.convert_time_zone(LOCAL_TZ)
            out.append(local.dt.strftime(_seconds(frame, target)).alias(source))
            if export.offset:
                out.append(local.dt.strftime("%:z").alias(f"{source}Offset"))
        elif target in export.money:
            out.append(pl.format("{},00", value).alias(source))
        else:
            out.append(value.alias(source))
    return out


def _check_local(table: str, frame: pl.DataFrame, export: Export) -> None:
    """A time written without offset must name one instant: none may fall in the autumn's repeated hour."""
    for target, dtype in evidence.polars_schema(table).items():
        if not isinstance(dtype, pl.Datetime):
            continue
        wall = pl.col(str(target)).dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
        again = wall.dt.replace_time_zone(LOCAL_TZ, ambiguous="null")
        bad = frame.filter(pl.col(str(target)).is_not_null() & again.is_null())
        if bad.height:
            raise GeneratorError(
                f"hand-over: {bad.height} {table}.{target} times fall in the hour the clocks went back "
                f"(first {bad[str(target)][0]}); written without an offset in {export.name} they would be "
                "quarantined by the mapping ingest; give the export an offset column (offset=True in handover_spec)"
            )


def _write_csv(table: str, frame: pl.DataFrame, export: Export, out: Path) -> None:
    if "name" in frame.columns and isinstance(export.columns.get("name"), tuple):
        single = frame.filter(~pl.col("name").str.contains(" ", literal=True))
        if single.height:
            raise GeneratorError(f"hand-over: {table}.name {single['name'][0]!r} has no space to split at")
    if not export.offset:
        _check_local(table, frame, export)
    text = frame.select(_csv_columns(table, frame, export)).write_csv(separator=";", line_terminator="\r\n")
    if export.title:
        text = f"{export.title}\r\n{text}"
    try:
        data = text.encode("cp1252")
    except UnicodeEncodeError as exc:
        raise GeneratorError(
            f"hand-over: {export.name}: {exc.object[exc.start : exc.end]!r} near "
            f"{exc.object[max(0, exc.start - 30) : exc.end + 30]!r} is not in Windows-1252"
        ) from None
    path = out / export.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_sql(con: sqlite3.Connection, table: str, frame: pl.DataFrame, export: Export) -> None:
    schema = evidence.polars_schema(table)
    columns, types = [], []
    for target, dtype in schema.items():
        target, value = str(target), _coded(table, str(target), export)
        if isinstance(dtype, pl.Datetime):
            value = value.dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
        elif dtype == pl.Date():
            value = value.dt.strftime("%Y-%m-%d")
        columns.append(value.alias(export.columns[target]))
        types.append("INTEGER" if dtype == pl.Int64() and target not in export.codes else "TEXT")
    keys = [export.columns[c.name] for c in evidence.table(table).primary_key.columns]
    ddl = ", ".join(f'"{export.columns[str(c)]}" {t}' for c, t in zip(schema, types, strict=True))
    key = f", PRIMARY KEY ({', '.join(keys)})" if keys else ""
    con.execute(f'CREATE TABLE "{export.name}" ({ddl}{key})')
    marks = ", ".join("?" * len(schema))
    con.executemany(f'INSERT INTO "{export.name}" VALUES ({marks})', frame.select(columns).iter_rows())


def _field(expr: pl.Expr) -> pl.Expr:
    """A W3C field: '-' for none, spaces as '+' (as IIS writes user agents)."""
    return expr.cast(pl.String).str.replace_all(" ", "+", literal=True).fill_null("-")


def _write_iis(views: pl.DataFrame, logins: pl.DataFrame, folder: Path, rng: np.random.Generator) -> None:
    blank = pl.any_horizontal(pl.col(c).str.contains(r"\s") for c in ("ip", "session_id", "path"))
    bad = views.filter(blank | pl.col("session_id").str.contains(";", literal=True))
    if bad.height:
        raise GeneratorError(
            f"hand-over: page view at {bad['time'][0]} cannot be an IIS log line: whitespace in ip, session_id "
            f"or path, or ';' in session_id ({bad.row(0)!r})"
        )
    agents = logins.unique("session_id", keep="first", maintain_order=True).select("session_id", _agent="user_agent")
    time = "%H:%M:%S%.6f" if _seconds(views, "time").endswith("f") else "%H:%M:%S"
    url = pl.col("path").str.split_exact("?", 1)
    lines = (
        views.lazy()
        .join(agents.lazy(), on="session_id", how="left", maintain_order="left")
        .with_columns(_taken=pl.Series(rng.integers(15, 900, views.height)))
        .select(
            pl.col("time").dt.date().alias("day"),
            pl.concat_str(
                pl.col("time").dt.strftime("%Y-%m-%d"),
                pl.col("time").dt.strftime(time),
                pl.lit(_IIS_SERVER),
                pl.when(pl.col("path").str.contains(_POST)).then(pl.lit("POST")).otherwise(pl.lit("GET")),
                url.struct.field("field_0"),
                _field(url.struct.field("field_1")),
                pl.lit("443 -"),
                _field(pl.col("ip")),
                _field(pl.col("_agent")),
                _field(pl.lit(SITE) + pl.col("path").shift(1).over("session_id")),
                pl.lit("ASP.NET_SessionId=") + pl.col("session_id"),
                pl.col("status").cast(pl.String),
                pl.lit("0 0"),
                pl.col("_taken").cast(pl.String),
                pl.col("path"),
                _field(pl.col("account_id")),
                separator=" ",
            ).alias("line"),
        )
        .collect()
    )
    folder.mkdir(parents=True, exist_ok=True)
    for (day,), part in lines.partition_by("day", as_dict=True, maintain_order=True).items():
        first = views["time"][int(lines["day"].search_sorted(day))]
        head = (
            "#Software: Microsoft Internet Information Services 8.5\r\n#Version: 1.0\r\n"
            f"#Date: {first:%Y-%m-%d %H:%M:%S}\r\n#Fields: {' '.join(IIS_FIELDS)}\r\n"
        )
        with open(folder / f"u_ex{day:%y%m%d}.log", "w", encoding="utf-8", newline="") as fh:
            fh.write(head)
            part.select("line").write_csv(fh, include_header=False, quote_style="never", line_terminator="\r\n")


def _write_eml(messages: pl.DataFrame, applicants: pl.DataFrame, folder: Path) -> None:
    """One .eml per message, as a mail client's "save as" writes it (the mbox form without its From_ line)."""
    table = messages.sort("received_at", "message_id", maintain_order=True)
    names = applicants.select(sender_applicant_id="applicant_id", _name="name")
    table = table.join(names, on="sender_applicant_id", how="left", maintain_order="left")
    folder.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(table.iter_rows(named=True), 1):
        raw = _message(row, row.pop("_name"))
        (folder / f"{i:06d}.eml").write_bytes(raw.split(b"\n", 1)[1])
