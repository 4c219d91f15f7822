"""Find the evidence files in a folder and check each one as a whole before anything is loaded.

The checks here are the ones that reject a whole file: an unknown table name, two files
for one table, not CSV or Parquet, an empty file, CSV that is not UTF-8 or has a quote
never closed, a truncated Parquet file, missing or extra columns, and Parquet columns
whose type cannot hold the declared one. They run before the case database is touched, so a bad file stops ingest
before any long load. The same pass computes each file's sha256 for the manifest.

Extra columns are an error rather than a warning: dropping a column of evidence silently
would break "nothing is lost", and the fix (remove or rename the column) is the owner's.

Raw forms (:data:`workbench.evidence.RAW_FORMS`) stand in for a table: ``access.log`` for
``page_views`` and ``support.mbox`` for ``support_messages``. They are taken from the
evidence folder itself, or, for a table that has no file there, from the sibling folder
``raw/`` (where ``workbench generate`` writes them). A table file and a raw form for the
same table in the evidence folder are refused like two files for one table; a table file
in the evidence folder wins over a raw form in ``raw/``.

What is not evidence is passed over and listed in the report: lock files of spreadsheet
programs (``~$logins.csv``, LibreOffice's ``.~lock.logins.csv#``) and hidden files (any
name starting with a dot, ``Thumbs.db``, ``desktop.ini``) are *skipped*; folders and files
of other formats are *ignored*. A name that would be taken as a table file but is not a
regular file is an error: a folder, a dangling symbolic link, a link that leaves the
evidence folder (its sha256 would be of a file outside the evidence handed over), or a
device. A link to a file inside the evidence folder is followed.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from .. import evidence
from ..errors import EvidenceError, UnknownNameError

__all__ = ["EvidenceFile", "Sources", "accepts", "check_file", "discover", "file_sha256"]

FORMATS = {".csv": "csv", ".parquet": "parquet"}
RAW_FORMATS = {"access.log": "access_log", "support.mbox": "mbox"}  # file name -> format
_CHUNK = 1 << 20
# File signatures of formats that are sometimes misnamed as CSV.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a ZIP archive (xlsx?)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an OLE document (xls?)",
    b"SQLite format 3": "an SQLite database",
}


@dataclass
class EvidenceFile:
    """One input file and what the whole-file checks learned about it."""

    path: Path
    table: str
    format: str  # "csv", "parquet", "access_log" or "mbox"
    label: str  # path as recorded in the case, e.g. "evidence/logins.csv", "raw/access.log"
    sha256: str = ""
    bytes: int = 0
    columns: list[str] = field(default_factory=list)
    rows: int | None = None  # known up front for Parquet only
    # CSV dialect; format v1 is the default. A mapping (workbench.mapping) declares others.
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    skip_lines: int = 0  # lines above the header


@dataclass
class Sources:
    """The evidence files of a folder, the tables without a file, and files not taken."""

    files: dict[str, EvidenceFile]
    missing: list[str]
    ignored: list[str]
    skipped: list[str] = field(default_factory=list)  # lock and hidden files, "name (why)"


def discover(evidence_dir: Path) -> Sources:
    """Map each evidence table to its file in ``evidence_dir`` (e.g. ``runs/demo/evidence``)."""
    if not evidence_dir.is_dir():
        raise EvidenceError(
            f"evidence folder {str(evidence_dir)!r} does not exist or is not a folder; pass the folder holding <table>.parquet or <table>.csv files"
        )
    files: dict[str, EvidenceFile] = {}
    ignored: list[str] = []
    skipped: list[str] = []
    root = evidence_dir.resolve()
    for path in sorted(evidence_dir.iterdir()):
        if why := _not_evidence(path.name):
            skipped.append(f"{path.name} ({why})")
            continue
        raw = path.name in RAW_FORMATS
        fmt = RAW_FORMATS[path.name] if raw else FORMATS.get(path.suffix.lower())
        if fmt is None:
            # Folders (raw/) and other files are not tables; they are listed in the report.
            ignored.append(path.name)
            continue
        table = evidence.RAW_FORMS[path.name] if raw else path.stem
        label = f"{evidence_dir.name}/{path.name}"
        path = _regular_file(path, root, label, evidence_dir.name)
        if table not in evidence.TABLES:
            known = UnknownNameError("table", table, evidence.TABLES)
            raise EvidenceError(f"{label}: no evidence table is named {table!r}: {known}")
        if table in files:
            raise EvidenceError(
                f"{label}: table {table!r} has two files ({files[table].label} and {label}); allowed: one file per table"
            )
        files[table] = EvidenceFile(path, table, fmt, label)
    for name, table in evidence.RAW_FORMS.items():
        sibling = evidence_dir.parent / "raw" / name
        if table not in files and (sibling.exists() or sibling.is_symlink()):
            path = _regular_file(sibling, sibling.parent.resolve(), f"raw/{name}", "raw")
            files[table] = EvidenceFile(path, table, RAW_FORMATS[name], f"raw/{name}")
    missing = [t for t in evidence.TABLES if t not in files]
    return Sources(files, missing, ignored, skipped)


def _not_evidence(name: str) -> str | None:
    """Why a folder entry named ``name`` is no evidence at all (a lock or hidden file), or None."""
    if name.startswith(".~lock.") and name.endswith("#"):
        return "LibreOffice lock file"
    if name.startswith("~$"):
        return "Microsoft Office lock file"
    if name == ".DS_Store":
        return "macOS folder settings"
    if name.startswith("."):
        return "hidden file"
    if name.lower() in ("thumbs.db", "desktop.ini"):
        return "Windows folder file"
    return None


def _regular_file(path: Path, root: Path, label: str, folder: str) -> Path:
    """The regular file ``path`` names, following a link only inside ``root``; else an error."""
    resolved = path
    link = ""
    if path.is_symlink():
        link = f"a symbolic link to {os.readlink(path)!r}"
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):  # a missing target, or a loop of links
            raise EvidenceError(
                f"{label}: {link}, which does not exist (a dangling link); allowed: a file, "
                f"or a link to a file inside the {folder} folder"
            ) from None
        if not resolved.is_relative_to(root):
            if str(resolved) != os.readlink(path):
                link += f", that is {str(resolved)!r}"
            raise EvidenceError(
                f"{label}: {link}, outside the {folder} folder {str(root)!r}; "
                f"allowed: a file inside the {folder} folder (copy the file in, so that what is ingested is what was handed over)"
            )
        link += ", which is "
    if resolved.is_dir():
        raise EvidenceError(f"{label}: {link or 'this is '}a folder, not a file; allowed: a file")
    if not resolved.is_file():
        raise EvidenceError(
            f"{label}: {link or 'this is '}not a regular file (a device, socket or named pipe); allowed: a file"
        )
    return resolved


def check_file(source: EvidenceFile, hash_now: bool = True) -> None:
    """Hash ``source`` and run the whole-file checks, filling in sha256, bytes, columns and rows.

    ``hash_now=False``: a Parquet file or raw form is only sized and its head read here, and
    :func:`file_sha256` hashes it later, beside the load (the checks are the same). A CSV
    file is always read whole here: that pass is what proves it UTF-8 with paired quotes.
    """
    head = _hash(source) if hash_now or source.format == "csv" else _head(source)
    if source.bytes == 0:
        allowed = {
            "access_log": "an access log with a line per request",
            "mbox": "an mbox with at least one message",
        }.get(source.format, f"a {source.format.upper()} file with a header and rows")
        raise EvidenceError(f"{source.label}: empty file (0 bytes); allowed: {allowed}")
    if source.format == "csv":
        _inspect_csv(source, head)
    elif source.format == "parquet":
        _inspect_parquet(source, head)
    else:
        _inspect_raw(source, head)
    _check_columns(source)


def _hash(source: EvidenceFile) -> bytes:
    """Hash the file in one pass; for CSV also prove it is UTF-8 with balanced quotes.

    Returns the first bytes, for sniffing the format.
    """
    digest = hashlib.sha256()
    is_csv = source.format == "csv"
    decoder = codecs.getincrementaldecoder("utf-8")() if is_csv else None
    head, size, newlines, quotes, last_quote_line = b"", 0, 0, 0, 0
    with open(source.path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not head:
                head = chunk[:65536]
                if is_csv:
                    _reject_binary(source, head)
            digest.update(chunk)
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    _raise_encoding(source, exc, newlines)
                if n := chunk.count(b'"'):
                    quotes += n
                    last_quote_line = newlines + chunk.count(b"\n", 0, chunk.rfind(b'"')) + 1
                newlines += chunk.count(b"\n")
            size += len(chunk)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise EvidenceError(
                f"{source.label}: not UTF-8: the file ends inside a multi-byte character; allowed: UTF-8 text"
            ) from None
    if quotes % 2:
        # A quote left open swallows the rest of the file into one value, silently; in
        # RFC 4180 CSV quotes come in pairs (a quote inside a value is doubled).
        raise EvidenceError(
            f"{source.label}: a double quote is never closed: the file has an odd number ({quotes}) of '\"' "
            f"characters, the last on line {last_quote_line}; allowed: RFC 4180 CSV, values quoted in pairs "
            f"of '\"' and a '\"' inside a value doubled"
        )
    source.sha256, source.bytes = digest.hexdigest(), size
    return head


def _head(source: EvidenceFile) -> bytes:
    """The first bytes of ``source``, for sniffing its format; fills in its size, not its sha256."""
    with open(source.path, "rb") as fh:
        source.bytes = os.fstat(fh.fileno()).st_size
        return fh.read(65536)


def file_sha256(source: EvidenceFile) -> str:
    """The sha256 of ``source``, refusing a file whose size changed since :func:`check_file`."""
    digest = hashlib.sha256()
    size = 0
    with open(source.path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if size != source.bytes:
        raise EvidenceError(
            f"{source.label}: the file changed during ingest ({source.bytes} bytes when checked, {size} when "
            f"hashed); allowed: a file nobody writes to while it is ingested"
        )
    return digest.hexdigest()


def _reject_binary(source: EvidenceFile, head: bytes) -> None:
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise EvidenceError(
                f"{source.label}: not a CSV file: it is {what} (starts with {magic!r}); allowed: UTF-8 CSV text with a header line"
            )
    if b"\x00" in head:
        at = head.index(b"\x00")
        raise EvidenceError(
            f"{source.label}: not a CSV file: binary data (a NUL byte at byte {at}); allowed: UTF-8 CSV text with a header line"
        )


def _raise_encoding(source: EvidenceFile, exc: UnicodeDecodeError, newlines: int) -> None:
    # exc.object is what the decoder held: at most 3 bytes of a split character plus the chunk.
    data, bad_at = exc.object, exc.start
    line = newlines + data.count(b"\n", 0, bad_at) + 1
    start = data.rfind(b"\n", 0, bad_at) + 1
    end = data.find(b"\n", bad_at)
    shown = data[start : end if end >= 0 else len(data)][:120].decode("latin-1")
    raise EvidenceError(
        f"{source.label}: not UTF-8 at line {line}: byte 0x{data[bad_at]:02X} in {shown!r} "
        f"(Latin-1 or Windows-1252?); allowed: UTF-8 text; convert with `iconv -f latin1 -t utf-8`"
    ) from None


def _inspect_csv(source: EvidenceFile, head: bytes) -> None:
    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise EvidenceError(
            f"{source.label}: the header line cannot be parsed as CSV ({exc}); allowed: a comma-separated header naming the columns"
        ) from None
    if not any(h.strip() for h in header):
        raise EvidenceError(
            f"{source.label}: no header line (the file starts with a blank line); allowed: a header naming the columns: {', '.join(evidence.polars_schema(source.table))}"
        )
    source.columns = header


def _inspect_parquet(source: EvidenceFile, head: bytes) -> None:
    if not head.startswith(b"PAR1"):
        raise EvidenceError(
            f"{source.label}: not a Parquet file (it does not start with the PAR1 signature, it starts with {head[:8]!r}); allowed: Parquet, or name a CSV file .csv"
        )
    with open(source.path, "rb") as fh:
        fh.seek(-4, 2)
        tail = fh.read(4)
    if tail != b"PAR1":
        raise EvidenceError(
            f"{source.label}: truncated Parquet file: the footer signature PAR1 is missing at the end ({source.bytes} bytes); allowed: a complete Parquet file, copy it again"
        )
    try:
        meta = pq.ParquetFile(source.path).metadata
        schema = pl.read_parquet_schema(source.path)
    except Exception as exc:  # pyarrow and polars raise several types for corrupt footers
        raise EvidenceError(
            f"{source.label}: unreadable Parquet footer ({exc}); allowed: a complete Parquet file, copy it again"
        ) from None
    source.columns = list(schema)
    source.rows = meta.num_rows
    _check_parquet_types(source, schema)


def _inspect_raw(source: EvidenceFile, head: bytes) -> None:
    """Refuse a raw form that is another kind of file; its rows are checked line by line later."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            fix = "; decompress it first" if magic == b"\x1f\x8b" else ""
            raise EvidenceError(
                f"{source.label}: not {'an mbox' if source.format == 'mbox' else 'an access log'}: it is {what} (starts with {magic!r}){fix}"
            )
    if source.format == "mbox" and not head.startswith(b"From "):
        first = head.split(b"\n", 1)[0][:60].decode("utf-8", "backslashreplace")
        raise EvidenceError(
            f"{source.label}: not an mbox file: the first line is {first!r}; allowed: an mbox, where every "
            f"message starts with a 'From ' line (e.g. 'From anna@example.com Sat Dec 14 08:15:02 2013')"
        )
    source.columns = list(evidence.polars_schema(source.table))


def _check_columns(source: EvidenceFile) -> None:
    declared = list(evidence.polars_schema(source.table))
    seen: set[str] = set()
    for name in source.columns:
        if name in seen:
            raise EvidenceError(
                f"{source.label}: column {name!r} appears twice in the header; allowed: each of {', '.join(declared)} once"
            )
        seen.add(name)
    missing = [c for c in declared if c not in seen]
    extra = [c for c in source.columns if c not in declared]
    if missing:
        raise EvidenceError(
            f"{source.label}: missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}; "
            f"{_instead(source.columns, missing, extra)}table {source.table} requires the columns {', '.join(declared)}"
        )
    if extra:
        raise EvidenceError(
            f"{source.label}: unexpected column{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}; "
            f"allowed are only the columns of table {source.table}: {', '.join(declared)} (remove or rename the extra column)"
        )


def _instead(header: list[str], missing: list[str], extra: list[str]) -> str:
    """The header's unknown columns, each with the missing column it may be a misspelling of."""
    if not extra:
        return ""
    said = []
    for name in extra:
        close = difflib.get_close_matches(name.lower(), missing, n=1, cutoff=0.6)
        guess = f" (is it {close[0]!r} misspelt?)" if close else ""
        said.append(f"{name!r} in column {header.index(name) + 1}{guess}")
    return f"the header (line 1) has {' and '.join(said)} instead; "


def accepts(declared: pl.DataType, actual: pl.DataType) -> bool:
    """Whether a Parquet column of dtype ``actual`` can be checked value by value as ``declared``."""
    if actual == pl.Null() or actual == pl.String():
        return True  # all-null columns cast; strings are parsed like CSV text
    if declared == pl.Int64():
        return actual.is_integer()
    if declared == pl.Float64():
        return actual.is_numeric()
    if isinstance(declared, pl.Datetime):
        return isinstance(actual, pl.Datetime) and actual.time_zone is not None
    if declared == pl.String():
        return isinstance(actual, (pl.Categorical, pl.Enum))
    return actual == declared


def _check_parquet_types(source: EvidenceFile, schema: dict[str, pl.DataType]) -> None:
    declared = evidence.polars_schema(source.table)
    for name, actual in schema.items():
        want = declared.get(name)
        if want is None or accepts(want, actual):
            continue
        if isinstance(want, pl.Datetime) and isinstance(actual, pl.Datetime):
            raise EvidenceError(
                f"{source.label}: column {name!r} holds timestamps without time zone ({actual}); "
                f"allowed: timestamps with a zone (stored as UTC), e.g. pl.col({name!r}).dt.replace_time_zone('UTC') if they are UTC"
            )
        raise EvidenceError(
            f"{source.label}: column {name!r} has type {actual}; allowed: {want} (or text, checked value by value)"
        )
