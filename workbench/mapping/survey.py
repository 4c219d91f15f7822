"""What ``workbench map init`` finds in a hand-over: every input, its columns and the first values of each.

Each input is recognised by what it holds, not its name alone: CSV (dialect sniffed:
delimiter, UTF-8 or else Windows-1252, decimal commas, a title line above the header),
Parquet, JSON Lines, an IIS log (``#Fields:``), another access log (taken as the combined
format), ``.eml`` files, a Maildir, an mbox, and SQLite databases (each table a
``SELECT *``). A case database (the workbench's own, left in the folder by an earlier
ingest: SQLite or DuckDB with ``manifest`` and ``quarantine`` tables) and any other DuckDB
file are passed over, each with the reason, never offered as evidence.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import sqlite3
from pathlib import Path

import polars as pl

from .mail import MAIL_COLUMNS
from .shapes import GROUPED

__all__ = ["Found", "survey"]

_SAMPLE = 200  # rows read per input for the values a proposal looks at
_CASE_TABLES = {"manifest", "quarantine"}


_DISTINCT = 50  # a column with more distinct values than this is no enumeration


class Found:
    """One input: its mapping source, its columns and the first values of each (as text).

    ``path`` (and ``table`` for a database) let :meth:`distinct` read every value of a column,
    for a value map: the first rows may not hold every status a queue system uses.
    """

    def __init__(
        self,
        spec: dict,
        columns: list[str],
        samples: dict[str, list[str]],
        label: str,
        path: Path | None = None,
        table: str | None = None,
    ):
        self.spec, self.columns, self.samples, self.label = spec, columns, samples, label
        self.path, self.table = path, table
        self._distinct: dict[str, list[str] | None] | None = None
        self.text: bytes | None = None  # a CSV file as UTF-8, once read for distinct values
        self.shapes: dict | None = None  # column -> propose.Shape, filled in by propose

    @property
    def kind(self) -> str:
        return next(iter(self.spec))

    def distinct(self, column: str) -> list[str]:
        """Every distinct value of ``column`` in the whole input (up to 50; the first rows' where it cannot be read)."""
        if self._distinct is None:
            self._distinct = {}
        if column not in self._distinct:
            try:
                self._distinct.update(_all_distinct(self, column))
            except Exception:  # the draft reads what it can; ingest and map check report the rest
                pass
            self._distinct.setdefault(column, None)
        values = self._distinct[column]
        return values if values is not None else sorted(set(self.samples.get(column, [])))


def _all_distinct(found: Found, wanted: str) -> dict[str, list[str] | None]:
    """Column -> its distinct values as text (None where more than :data:`_DISTINCT`).

    A JSON Lines file is read once for all its keys; a CSV file, a database table or a Parquet
    file is asked for ``wanted`` only (polars and SQLite read a column quickly).
    """
    seen: dict[str, set[str] | None] = {c: set() for c in found.columns if found.kind == "jsonl" or c == wanted}

    def add(column: str, value: object) -> None:
        bucket = seen.get(column)
        if bucket is not None and value is not None and value != "":
            bucket.add(str(value).lower() if isinstance(value, bool) else str(value))
            if len(bucket) > _DISTINCT:
                seen[column] = None

    if found.path is None:
        return {}
    if found.kind == "csv":
        spec = found.spec
        if found.text is None:  # polars reads UTF-8 only: a Windows-1252 export is transcoded once
            data = found.path.read_bytes()
            found.text = data if spec["encoding"] == "utf-8" else data.decode(spec["encoding"]).encode("utf-8")
        frame = pl.read_csv(
            io.BytesIO(found.text),
            separator=spec["delimiter"],
            skip_rows=spec.get("header", 1) - 1,
            columns=[wanted],
            infer_schema=False,
            truncate_ragged_lines=True,
        )
        for value in frame.to_series().unique().head(_DISTINCT + 1):
            add(wanted, value)
    elif found.kind == "sql" and found.table is not None:
        con = sqlite3.connect(f"file:{found.path}?mode=ro", uri=True)
        try:
            query = f"SELECT DISTINCT {_ident(wanted)} FROM {_ident(found.table)} LIMIT {_DISTINCT + 1}"
            for (value,) in con.execute(query):
                add(wanted, value)
        finally:
            con.close()
    elif found.kind == "parquet":
        lazy = pl.scan_parquet(found.path).select(pl.col(wanted).unique().head(_DISTINCT + 1))
        for value in lazy.collect().to_series():
            add(wanted, value)
    elif found.kind == "jsonl":
        with open(found.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    for column, value in record.items():
                        add(column, value)
    else:
        return {}
    return {c: sorted(v) if v is not None else None for c, v in seen.items()}


def _is_utf8(path: Path) -> bool:
    """Whether the whole file is UTF-8: a Windows-1252 export may be plain ASCII for its first megabytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_csv(path: Path, rel: str) -> Found:
    raw = path.read_bytes()[:65536]
    if _is_utf8(path):
        text, encoding = (
            raw.decode("utf-8-sig", "ignore"),
            "utf-8",
        )  # a BOM (Excel's "CSV UTF-8") is no part of the header
    else:
        text, encoding = raw.decode("cp1252", "replace"), "cp1252"
    lines = text.splitlines()
    delimiter = max(";,\t|", key=lambda d: sum(line.count(d) for line in lines[:20]))
    # The header is the first line with as many fields as most lines have: a title line above
    # it has fewer; a delimiter inside a quoted value does not count (csv splits the line).
    counts = [len(fields) for fields in csv.reader(lines[:20], delimiter=delimiter)]
    usual = max(sorted(set(counts)), key=counts.count) if counts else 0
    header = next((i for i, c in enumerate(counts) if c == usual), 0) + 1
    rows = list(csv.reader(lines[header - 1 : header + _SAMPLE], delimiter=delimiter))
    columns = rows[0] if rows else []
    samples = {c: [r[i] for r in rows[1:] if i < len(r) and r[i]] for i, c in enumerate(columns)}
    spec: dict = {"csv": rel, "delimiter": delimiter, "encoding": encoding}
    first = [v.strip() for vs in samples.values() for v in vs[:50]]
    if any(re.fullmatch(r"-?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+),\d+", v) for v in first):
        spec["decimal_comma"] = True
    if any(GROUPED.fullmatch(v) for v in first):  # 384 000,00: digits grouped by spaces
        spec["thousands"] = " "
    if header > 1:
        spec["header"] = header
    return Found(spec, columns, samples, rel, path)


def _frame_samples(frame: pl.DataFrame) -> dict[str, list[str]]:
    return {
        str(c): [str(v).lower() if isinstance(v, bool) else str(v) for v in frame[c].to_list() if v is not None]
        for c in frame.columns
    }


def _parquet(path: Path, rel: str) -> Found:
    frame = pl.read_parquet(path, n_rows=_SAMPLE)
    return Found({"parquet": rel}, frame.columns, _frame_samples(frame), rel, path)


def _jsonl(path: Path, rel: str) -> Found:
    """The keys and values of the first objects; a line that is no object is passed over (ingest quarantines it)."""
    records: list[dict] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in itertools.islice(fh, _SAMPLE):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    keys = list(dict.fromkeys(k for r in records for k in r))
    samples = {
        k: [str(v).lower() if isinstance(v, bool) else str(v) for r in records if (v := r.get(k)) is not None]
        for k in keys
    }
    return Found({"jsonl": rel}, keys, samples, rel, path)


def _mail(spec: dict, paths: list[Path], kind: str, label: str) -> Found:
    """Mail offers its usual columns and every header seen in the first messages, with their values."""
    from .mail import _messages, _row

    samples: dict[str, list[str]] = {c: [] for c in MAIL_COLUMNS}
    for _, _, _, raw in itertools.islice(_messages(paths, kind), _SAMPLE):
        try:
            row = _row(raw)
        except Exception:  # a broken message: ingest quarantines it; the draft passes over it
            continue
        for k, v in row.items():
            samples.setdefault(k, [])
            if v is not None:
                samples[k].append(v)
    return Found(spec, list(samples), samples, label)


def _ident(name: str) -> str:
    """An SQLite identifier quoted as SQL quotes one (a ``"`` doubled): names come from the database, not a person."""
    return '"' + name.replace('"', '""') + '"'


def _sqlite(path: Path, rel: str) -> tuple[list[Found], str | None]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        if _CASE_TABLES <= set(tables):
            return [], "a workbench case (it has manifest and quarantine tables), not evidence"
        out = []
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            cursor = con.execute(f"SELECT * FROM {_ident(table)} LIMIT {_SAMPLE}")
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            samples = {c: [str(r[i]) for r in rows if r[i] is not None] for i, c in enumerate(columns)}
            spec = {"sql": f"SELECT * FROM {_ident(table)}", "url": f"sqlite:///{rel}"}
            out.append(Found(spec, columns, samples, f"{rel}#{table}", path, table))
        return out, None
    finally:
        con.close()


def _duckdb_reason(path: Path) -> str:
    try:
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    except Exception as exc:  # locked, or of another DuckDB version: still not read
        return f"a DuckDB database that could not be opened ({type(exc).__name__}); map it by hand with an sql source"
    if _CASE_TABLES <= tables:
        return "a workbench case (it has manifest and quarantine tables), not evidence"
    return "a DuckDB database: map init reads SQLite only; map it by hand with an sql source (url: duckdb:///…)"


def _iis_fields(head: bytes) -> list[str]:
    directives = [line.split()[1:] for line in head.decode("latin-1").splitlines() if line.startswith("#Fields:")]
    return list(dict.fromkeys(f for directive in directives for f in directive))  # all, where they change


def survey(root: Path) -> tuple[list[Found], list[str]]:
    """Every input under ``root`` in path order, and a note for each file passed over with its reason."""
    found: list[Found] = []
    skipped: list[str] = []
    eml_dirs: set[Path] = set()
    iis_dirs: dict[Path, Found] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir()):
            messages = sorted(p for d in ("cur", "new") if (path / d).is_dir() for p in (path / d).iterdir())
            found.append(_mail({"maildir": rel}, messages, "maildir", rel))
            continue
        if not path.is_file() or path.parent.name in ("cur", "new", "tmp"):
            continue
        with open(path, "rb") as fh:
            head = fh.read(4096)
        suffix = path.suffix.lower()
        try:
            if suffix in (".csv", ".txt", ".tsv"):
                found.append(_sniff_csv(path, rel))
            elif suffix == ".parquet":
                found.append(_parquet(path, rel))
            elif suffix in (".jsonl", ".ndjson"):
                found.append(_jsonl(path, rel))
            elif suffix == ".eml" and path.parent not in eml_dirs:
                eml_dirs.add(path.parent)
                glob = f"{path.parent.relative_to(root).as_posix()}/*.eml".removeprefix("./")
                found.append(_mail({"eml": glob}, sorted(path.parent.glob("*.eml")), "eml", glob))
            elif head.startswith(b"From "):
                found.append(_mail({"mbox": rel}, [path], "mbox", rel))
            elif head.startswith(b"SQLite format 3"):
                tables, reason = _sqlite(path, rel)
                found += tables
                if reason:
                    skipped.append(f"{rel}: {reason}")
            elif head[8:12] == b"DUCK":
                skipped.append(f"{rel}: {_duckdb_reason(path)}")
            elif b"#Fields:" in head:
                with open(path, "rb") as fh:
                    head = fh.read(65536)  # a directive may change the fields further down
                fields = _iis_fields(head)
                if path.parent in iis_dirs:  # IIS writes a file a day: one source for the folder's logs
                    first = iis_dirs[path.parent]
                    glob = f"{path.parent.relative_to(root).as_posix()}/*{path.suffix}".removeprefix("./")
                    first.spec, first.label = {"iis": glob}, glob
                    first.columns = list(dict.fromkeys([*first.columns[:-1], *fields, "datetime"]))
                    continue
                iis_dirs[path.parent] = Found({"iis": rel}, [*fields, "datetime"], _iis_samples(head), rel)
                found.append(iis_dirs[path.parent])
            elif suffix == ".log" or "access" in path.name:
                from .weblogs import COMBINED, format_columns

                names = format_columns(COMBINED)[1]
                found.append(Found({"weblog": rel}, [*names, "method", "path", "protocol", "time"], {}, rel))
        except (OSError, ValueError, sqlite3.Error, pl.exceptions.PolarsError) as exc:
            # a damaged file stops no draft: it is named, with what went wrong, and left out
            skipped.append(f"{rel}: cannot be read ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]})")
    return found, skipped


def _iis_samples(head: bytes) -> dict[str, list[str]]:
    """The values of the first log lines under their ``#Fields:`` directive (the cookie, to propose its extract)."""
    samples: dict[str, list[str]] = {}
    fields: list[str] = []
    for line in head.decode("latin-1").lstrip("\ufeff").splitlines():
        if line.startswith("#Fields:"):
            fields = line.split()[1:]
        elif line and not line.startswith("#") and fields:
            values = line.split()
            if len(values) == len(fields):
                for name, value in zip(fields, values, strict=True):
                    if value != "-":
                        samples.setdefault(name, []).append(value)
    return samples
