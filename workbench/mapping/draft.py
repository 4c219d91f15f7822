"""``workbench map init``: look at a hand-over and write a draft mapping for a person to finish.

Each input is recognised by what it holds, not its name alone: CSV (dialect sniffed:
delimiter, UTF-8 or else Windows-1252, decimal commas), Parquet, JSON Lines, an IIS log
(``#Fields:``), another access log (taken as the combined format), ``.eml`` files, a
Maildir, an mbox, and SQLite databases (each table a ``SELECT *``). Every input is scored
against every v1 table by how many of its column names match a v1 column (English or
Swedish, see :data:`SYNONYMS`); a table takes its best input. Within it, each v1 column
takes the source column of that name; a yes/no column gets a value map for the values
seen, an enumeration one for those that match; what could not be placed is written
``null  # TODO`` or ``TODO``, which ``workbench map check`` then reports.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sqlite3
from pathlib import Path

import polars as pl

from .. import evidence
from .mail import MAIL_COLUMNS

__all__ = ["SYNONYMS", "write_draft"]

# Source names (lower case, letters and digits only) taken for a v1 column, Swedish first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "applicant_id": ("kundnr", "kundnummer", "sokandeid", "sokande", "customerid", "account"),
    "account_id": ("kund", "kundnr", "konto", "renderedaccount"),
    "personnummer": ("personnr", "pnr", "ssn"),
    "name": ("namn", "fullname"),
    "address": ("adress", "gatuadress"),
    "postal_code": ("postnr", "postnummer", "zip"),
    "city": ("ort", "postort", "stad"),
    "email": ("epost", "mail"),
    "phone": ("telefon", "tel", "mobil"),
    "employer": ("arbetsgivare",),
    "annual_income": ("inkomst", "arsinkomst"),
    "student": ("studerande",),
    "protected_identity": ("skyddad", "skyddadidentitet"),
    "queue_start": ("kostart", "kodatum", "koplats"),
    "registered_at": ("registrerad", "registrerat", "skapad"),
    "status": ("tillstand",),
    "year": ("ar", "avgiftsar", "betalningsar"),
    "amount": ("belopp", "summa", "avgift"),
    "paid_at": ("betald", "betalningsdag", "betalningsdatum", "betaldatum", "inbetald"),
    "version": ("versionsnr",),
    "description": ("beskrivning", "kommentar", "notering", "anteckning"),
    "action": ("atgard", "handelse", "typ"),
    "reason": ("orsak", "anledning"),
    "time": ("tid", "tidpunkt", "datetime", "timestamp"),
    "session_id": ("session", "sessionsid", "sessionid"),
    "method": ("metod", "inloggningsmetod"),
    "ip": ("ipadress", "cip", "remoteaddr"),
    "user_agent": ("webblasare", "useragent", "httpuseragent", "csuseragent"),
    "path": ("sida", "url", "csuristem", "uri"),
    "status_code": (),
    "listing_id": ("objektnr", "lagenhetsid", "objekt"),
    "handler_id": ("handlaggare", "handlaggarid", "hid"),
    "team": ("grupp", "enhet"),
    "active_from": ("fran", "franmed", "anstalld"),
    "active_to": ("till", "tillmed", "slutat"),
    "message_id": ("messageid",),
    "received_at": ("mottagen", "receivedat"),
    "sender_address": ("fromaddress", "avsandare"),
    "body": ("text", "meddelande"),
}
_IIS_STATUS = {"status": ("scstatus", "status")}


def _norm(name: str) -> str:
    table = str.maketrans("åäöÅÄÖé", "aaoAAOe")
    return re.sub(r"[^a-z0-9]", "", name.translate(table).lower())


def _match(target: str, names: list[str]) -> str | None:
    wanted = {_norm(target), *SYNONYMS.get(target, ()), *_IIS_STATUS.get(target, ())}
    for name in names:
        if _norm(name) in wanted:
            return name
    return None


class _Found:
    def __init__(self, spec: dict, columns: list[str], samples: dict[str, list[str]], label: str):
        self.spec, self.columns, self.samples, self.label = spec, columns, samples, label


def _sniff_csv(path: Path, rel: str) -> _Found:
    raw = path.read_bytes()[:65536]
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"  # a BOM (Excel's "CSV UTF-8") is no part of the header
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252", "replace"), "cp1252"
    lines = text.splitlines()
    delimiter = max(";,\t|", key=lambda d: sum(line.count(d) for line in lines[:20]))
    # The header is the first line with as many fields as most lines have: a title line above
    # it has fewer; a delimiter inside a quoted value does not count (csv splits the line).
    counts = [len(fields) for fields in csv.reader(lines[:20], delimiter=delimiter)]
    usual = max(sorted(set(counts)), key=counts.count) if counts else 0
    header = next((i for i, c in enumerate(counts) if c == usual), 0) + 1
    rows = list(csv.reader(lines[header - 1 : header + 200], delimiter=delimiter))
    columns = rows[0] if rows else []
    samples = {c: [r[i] for r in rows[1:] if i < len(r) and r[i]] for i, c in enumerate(columns)}
    spec: dict = {"csv": rel, "delimiter": delimiter, "encoding": encoding}
    if any(re.fullmatch(r"-?\d+,\d+", v) for vs in samples.values() for v in vs[:50]):
        spec["decimal_comma"] = True
    if header > 1:
        spec["header"] = header
    return _Found(spec, columns, samples, rel)


def _inputs(root: Path) -> list[_Found]:
    found: list[_Found] = []
    eml_dirs: set[Path] = set()
    iis_dirs: dict[Path, _Found] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir()):
            found.append(_Found({"maildir": rel}, MAIL_COLUMNS, {}, rel))
            continue
        if not path.is_file() or path.parent.name in ("cur", "new", "tmp"):
            continue
        head = path.read_bytes()[:4096]
        suffix = path.suffix.lower()
        if suffix in (".csv", ".txt", ".tsv"):
            found.append(_sniff_csv(path, rel))
        elif suffix == ".parquet":
            found.append(_Found({"parquet": rel}, list(pl.read_parquet_schema(path)), {}, rel))
        elif suffix in (".jsonl", ".ndjson"):
            found.append(_Found({"jsonl": rel}, _jsonl_keys(path), {}, rel))
        elif suffix == ".eml" and path.parent not in eml_dirs:
            eml_dirs.add(path.parent)
            glob = f"{path.parent.relative_to(root).as_posix()}/*.eml".removeprefix("./")
            found.append(_Found({"eml": glob}, MAIL_COLUMNS, {}, glob))
        elif head.startswith(b"From "):
            found.append(_Found({"mbox": rel}, MAIL_COLUMNS, {}, rel))
        elif head.startswith(b"SQLite format 3"):
            found += _sqlite(path, rel)
        elif b"#Fields:" in head:
            directives = [
                line.split()[1:] for line in head.decode("latin-1").splitlines() if line.startswith("#Fields:")
            ]
            fields = list(dict.fromkeys(f for directive in directives for f in directive))  # all, where they change
            if path.parent in iis_dirs:  # IIS writes a file a day: one source for the folder's logs
                first = iis_dirs[path.parent]
                glob = f"{path.parent.relative_to(root).as_posix()}/*{path.suffix}".removeprefix("./")
                first.spec, first.label = {"iis": glob}, glob
                first.columns = list(dict.fromkeys([*first.columns[:-1], *fields, "datetime"]))
                continue
            iis_dirs[path.parent] = _Found({"iis": rel}, [*fields, "datetime"], {}, rel)
            found.append(iis_dirs[path.parent])
        elif suffix == ".log" or "access" in path.name:
            from .weblogs import COMBINED, format_columns

            names = format_columns(COMBINED)[1]
            found.append(_Found({"weblog": rel}, [*names, "method", "path", "protocol", "time"], {}, rel))
    return found


def _jsonl_keys(path: Path) -> list[str]:
    """The keys of the first objects of a JSON Lines file; a line that is no object is passed over
    (ingest quarantines it), never the end of the draft."""
    keys: dict[str, None] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in itertools.islice(fh, 200):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                keys.update(dict.fromkeys(record))
    return list(keys)


def _sqlite(path: Path, rel: str) -> list[_Found]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            cursor = con.execute(f'SELECT * FROM "{table}" LIMIT 200')
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            samples = {c: [str(r[i]) for r in rows if r[i] is not None] for i, c in enumerate(columns)}
            spec = {"sql": f'SELECT * FROM "{table}"', "url": f"sqlite:///{rel}"}
            out.append(_Found(spec, columns, samples, f"{rel}#{table}"))
        return out
    finally:
        con.close()


def _score(table: str, found: _Found) -> int:
    kind = next(iter(found.spec))
    if kind in ("eml", "maildir", "mbox"):
        return 100 if table == "support_messages" else 0
    if kind in ("iis", "weblog"):
        return 100 if table == "page_views" else 0
    return sum(_match(str(c), found.columns) is not None for c in evidence.polars_schema(table))


def _column_text(table: str, target: str, dtype: pl.DataType, found: _Found) -> tuple[str, bool]:
    """The YAML of one v1 column, and whether it was placed."""
    name = "datetime" if "iis" in found.spec and target == "time" else _match(target, found.columns)
    if name is None:
        return f"null  # TODO: no source column found for {target} ({dtype})", False
    quoted = _quote(name)
    values = sorted(set(found.samples.get(name, [])))[:20]
    allowed = evidence.allowed_values(table, target)
    if dtype == pl.Boolean() and values and not {v.lower() for v in values} <= {"true", "false"}:
        known = {
            **dict.fromkeys(("ja", "j", "yes", "y", "1", "sant"), "true"),
            **dict.fromkeys(("nej", "n", "no", "0", "falskt"), "false"),
        }
        pairs = ", ".join(f"{_quote(v)}: {known.get(v.lower(), 'TODO')}" for v in values)
        return f"{{column: {quoted}, values: {{{pairs}}}}}  # TODO: check the value map", True
    if allowed and values and not set(values) <= set(allowed):
        pairs = ", ".join(f"{_quote(v)}: {v.lower() if v.lower() in allowed else 'TODO'}" for v in values)
        return f"{{column: {quoted}, values: {{{pairs}}}}}  # allowed: {', '.join(allowed)}", True
    return quoted, True


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_draft(root: Path, out: Path) -> tuple[str, list[str]]:
    """Write the draft mapping for the hand-over in ``root`` to ``out`` (never overwritten)."""
    if out.exists():
        raise FileExistsError(f"{out} exists; a draft never overwrites a mapping (use --out)")
    inputs = _inputs(root)
    lines = [
        "# Draft mapping written by `workbench map init`: check every line, then run",
        f"# `workbench map check {root} --mapping {out.name}`. TODO marks what could not be placed.",
        "version: 1",
        "timezone: Europe/Stockholm  # TODO: the zone of times written without an offset",
        "tables:",
    ]
    notes: list[str] = []
    # The best (table, input) pairs first: of equal scores, the table declared first and the
    # first input in path order; so an input goes to the table it fits best (the incident log
    # to incident_actions, not to deployments, which shares two of its columns).
    pairs = sorted((-_score(t, f), k, i) for k, t in enumerate(evidence.TABLES) for i, f in enumerate(inputs))
    chosen: dict[str, int] = {}
    for score, k, i in pairs:
        table = evidence.TABLES[k]
        if -score >= 2 and table not in chosen and i not in chosen.values():
            chosen[table] = i
    taken = set(chosen.values())
    for table in evidence.TABLES:
        if table not in chosen:
            notes.append(f"{table}: no input found (left out; the case will hold it empty)")
            continue
        found = inputs[chosen[table]]
        source = ", ".join(f"{k}: {_quote(v) if isinstance(v, str) else str(v).lower()}" for k, v in found.spec.items())
        lines += [f"  {table}:", f"    source: {{{source}}}", "    columns:"]
        placed = 0
        for target, dtype in evidence.polars_schema(table).items():
            text, ok = _column_text(table, str(target), dtype, found)
            placed += ok
            lines.append(f"      {target}: {text}")
        notes.append(f"{table}: from {found.label}, {placed} of {len(evidence.polars_schema(table))} columns placed")
    for i, f in enumerate(inputs):
        if i not in taken:
            notes.append(f"{f.label}: not placed in any table")
    text = "\n".join(lines) + "\n"
    out.write_text(text, encoding="utf-8")
    return text, notes
