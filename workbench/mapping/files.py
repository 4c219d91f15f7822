"""Find the source files a mapping names, and check each as a whole before anything is loaded.

A source's glob is relative to the SOURCE folder; every file it matches is one input of
the manifest, with its sha256 and size. Lock and hidden files are passed over; a match that
is a folder (except for a Maildir), or a link out of SOURCE, is an error. Text sources are
decoded in their declared encoding while they are hashed: a byte that is not in it stops
ingest naming the file, line and byte; a file declared Windows-1252 or Latin-1 that is in
fact UTF-8 with accents stops it too (it would load as "Ã¶" silently).

An SQL source is a database, not a file. An SQLite database inside SOURCE is hashed like a
file; for a server database the manifest's sha256 is of the rows as read (see :mod:`.sql`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import polars as pl

from ..errors import EvidenceError
from .schema import Mapping, MappingError, SourceSpec
from .scratch import flags
from .weblogs import check_fields

__all__ = ["SourceFile", "resolve", "scan", "sha256_of"]

_CHUNK = 1 << 20
_TEXT = {"csv", "jsonl", "iis", "weblog"}
_SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp850", "mac-roman"}


@dataclass
class SourceFile:
    """One input of a mapped table: a file (or an SQL query) and what the checks learned."""

    table: str
    spec: SourceSpec
    label: str  # as recorded in the case, relative to SOURCE, e.g. "export/sokande.csv"
    path: Path | None  # None for a query on a server database
    sha256: str = ""
    bytes: int = 0
    columns: list[str] = field(default_factory=list)
    fields_lines: list[tuple[int, list[str]]] = field(default_factory=list)  # IIS: (line, fields)
    header_only: bool = False  # CSV: the header line is the last, without a line end (no rows; pyarrow fails on it)
    ascii: bool = False  # a text file of ASCII bytes only, in an encoding where they are ASCII letters

    @property
    def read_encoding(self) -> str:
        """The encoding to read the file in: UTF-8 for ASCII bytes in an ASCII-compatible encoding.

        The letters are the same, and readers skip transcoding (pyarrow's CSV reader decodes
        and re-encodes every block otherwise: about 0.3 CPU-s for stockholm's 113 MB
        ``avgifter.csv`` declared cp1252).
        """
        return "utf-8" if self.ascii else self.spec.encoding


def _skipped(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower() in ("thumbs.db", "desktop.ini")


def resolve(root: Path, mapping: Mapping) -> dict[str, list[SourceFile]]:
    """The input files of every mapped table, in name order; nothing is read yet."""
    if not root.is_dir():
        raise EvidenceError(f"source folder {str(root)!r} does not exist or is not a folder")
    real = root.resolve()
    out: dict[str, list[SourceFile]] = {}
    folders: dict[Path, Path] = {}  # a folder and where it really is: thousands of .eml files share one
    for name, table in mapping.tables.items():
        spec = table.source
        if spec.kind == "sql":
            out[name] = [_database(root, name, spec)]
            continue
        found = []
        for path in _glob(root, spec):
            if _skipped(path.name):
                continue
            resolved = _resolved(path, folders)
            if not resolved.is_relative_to(real):
                raise MappingError(f"{spec.where}: {path} leads outside the source folder {real}; copy the file in")
            if spec.kind == "maildir":
                if not (path / "cur").is_dir() and not (path / "new").is_dir():
                    raise MappingError(f"{spec.where}: {path} is not a Maildir (no cur/ or new/ folder)")
                for sub in ("new", "cur"):
                    for message in sorted((path / sub).glob("*")) if (path / sub).is_dir() else []:
                        if message.is_file() and not _skipped(message.name):
                            found.append(SourceFile(name, spec, message.relative_to(root).as_posix(), message))
                continue
            if not resolved.is_file():
                raise MappingError(f"{spec.where}: {path.relative_to(root)} is not a file")
            found.append(SourceFile(name, spec, path.relative_to(root).as_posix(), resolved))
        if not found:
            raise MappingError(f"{spec.where}: {spec.kind}: {spec.target!r} matches no file in {root}")
        out[name] = found
    return out


def _glob(root: Path, spec: SourceSpec) -> list[Path]:
    """The paths ``spec``'s glob matches under ``root``, in name order; an absolute glob is a mapping error."""
    if PurePosixPath(spec.target).is_absolute() or PureWindowsPath(spec.target).anchor:
        raise MappingError(
            f"{spec.where}: {spec.kind}: {spec.target!r} is an absolute path; allowed: a glob relative to the source "
            f"folder {root} (copy the file in)"
        )
    try:
        return sorted(root.glob(spec.target))
    except ValueError as exc:  # pathlib: "Unacceptable pattern" (an empty one)
        raise MappingError(f"{spec.where}: {spec.kind}: {spec.target!r} is not a usable glob ({exc})") from None


def _resolved(path: Path, folders: dict[Path, Path]) -> Path:
    """``path.resolve()``, its folder resolved once (resolving walks every part of a path, link by link)."""
    if path.is_symlink():
        return path.resolve()
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = path.parent.resolve()
    return folder / path.name


def _database(root: Path, table: str, spec: SourceSpec) -> SourceFile:
    import sqlalchemy as sa

    try:
        url = sa.make_url(spec.url or "")
    except sa.exc.ArgumentError:
        raise MappingError(f"{spec.where}.url: {spec.url!r} is not an SQLAlchemy URL") from None
    if url.get_backend_name() == "sqlite":
        return _sqlite(root, table, spec, url.database or "")
    shown = url.render_as_string(hide_password=True)
    return SourceFile(table, spec, f"{shown}#{table}", None)


def _sqlite(root: Path, table: str, spec: SourceSpec, database: str) -> SourceFile:
    """An SQLite database inside SOURCE, recorded by its place there (a relative URL is relative to SOURCE)."""
    if database in ("", ":memory:"):
        raise MappingError(f"{spec.where}.url: names no SQLite database file; allowed: sqlite:///<file in SOURCE>")
    path = Path(os.path.abspath(root / database))  # dots resolved as written, links below
    real, resolved = root.resolve(), path.resolve()
    if not resolved.is_relative_to(real):
        raise MappingError(f"{spec.where}.url: {str(path)!r} leads outside the source folder {real}; copy the file in")
    if path.is_dir():
        raise MappingError(f"{spec.where}.url: {str(path)!r} is a folder, not an SQLite database file")
    if not path.is_file():
        raise MappingError(f"{spec.where}.url: SQLite database {str(path)!r} does not exist")
    place = Path(os.path.abspath(root))
    label = (path.relative_to(place) if path.is_relative_to(place) else resolved.relative_to(real)).as_posix()
    return SourceFile(table, spec, f"{label}#{table}", resolved)


def scan(source: SourceFile, hash_database: bool = True) -> None:
    """Hash ``source`` and run its whole-file checks, filling in sha256, bytes and columns.

    ``hash_database=False``: an SQLite database (which has no whole-file checks) gets only its
    size; the caller hashes it later (:func:`sha256_of`).
    """
    kind = source.spec.kind
    if source.path is None:
        return  # a server database: hashed as it is read
    if kind == "sql" and not hash_database:
        source.bytes, head = source.path.stat().st_size, b""
    else:
        head = _hash(source)
    if source.bytes == 0 and kind not in ("eml", "maildir"):
        raise EvidenceError(f"{source.label}: empty file (0 bytes); allowed: a {kind} file with rows")
    if kind == "csv":
        source.columns = _csv_header(source)
    elif kind == "parquet":
        if not head.startswith(b"PAR1"):
            raise EvidenceError(f"{source.label}: not a Parquet file (it starts with {head[:8]!r})")
        source.columns = _parquet_columns(source)
    elif kind == "jsonl":
        source.columns = _jsonl_keys(source)
    elif kind == "mbox" and not head.startswith(b"From "):
        raise EvidenceError(f"{source.label}: not an mbox file: it does not start with a 'From ' line")


def _parquet_columns(source: SourceFile) -> list[str]:
    """The columns of a Parquet file, from its footer; a file cut short or damaged there is an error."""
    assert source.path is not None
    try:
        return list(pl.read_parquet_schema(source.path))
    except (pl.exceptions.PolarsError, OSError) as exc:
        why = " ".join(str(exc).split())
        raise EvidenceError(
            f"{source.label}: not a readable Parquet file ({why}); allowed: a complete, uncorrupted Parquet file "
            "(copy it again)"
        ) from None


def sha256_of(path: Path) -> str:
    """The sha256 of a file (hashlib frees the GIL while it hashes a chunk)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hash(source: SourceFile) -> bytes:
    """sha256 and size in one pass; text sources are decoded in their declared encoding on the way."""
    assert source.path is not None
    digest = hashlib.sha256()
    text = source.spec.kind in _TEXT
    encoding = codecs.lookup(source.spec.encoding).name
    decoder = codecs.getincrementaldecoder(encoding)() if text else None
    utf8 = codecs.getincrementaldecoder("utf-8")() if text and encoding in _SINGLE_BYTE else None
    utf8_ok, high = utf8 is not None, False
    head, size, newlines = b"", 0, 0
    fields_lines: list[tuple[int, list[str]]] = []
    carry, carry_line = "", 1  # IIS: a line cut between two chunks that may be a directive
    ascii_safe = encoding == "utf-8" or encoding in _SINGLE_BYTE  # ASCII bytes are the same letters
    all_ascii = ascii_safe and text
    with open(source.path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            head = head or chunk[:65536]
            digest.update(chunk)
            # Lines are counted only to name the line of an error (numpy: a quarter of bytes.count's time).
            count = (
                int(np.count_nonzero(np.equal(np.frombuffer(chunk, np.uint8), 10, out=flags(len(chunk)))))
                if text
                else 0
            )
            # A chunk of ASCII after whole characters decodes as itself: nothing to check. An IIS
            # log's chunk without a '#' (and no directive cut at its start) holds no directive.
            plain = ascii_safe and chunk.isascii() and decoder is not None and not decoder.getstate()[0]
            all_ascii = all_ascii and plain
            if decoder is not None and not plain:
                try:
                    decoded = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    _raise_encoding(source, exc, newlines, encoding)
            if source.spec.kind == "iis":
                if plain and not carry and b"#" not in chunk:
                    carry_line += count
                else:
                    decoded = chunk.decode("ascii") if plain else decoded
                    carry, carry_line = _fields(source.label, carry + decoded, carry_line, fields_lines)
            if utf8 is not None and utf8_ok and not (plain and not utf8.getstate()[0]):
                high = high or not chunk.isascii()
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            newlines += count
            size += len(chunk)
    if carry:
        _fields(source.label, carry + "\n", carry_line, fields_lines)
    if utf8 is not None and utf8_ok and high:
        raise EvidenceError(
            f"{source.label}: declared {source.spec.encoding}, but the file is UTF-8 (its accented letters would "
            f"load as 'Ã¶'); allowed: the file's real encoding, here encoding: utf-8 in the mapping"
        )
    source.sha256, source.bytes, source.fields_lines = digest.hexdigest(), size, fields_lines
    source.ascii = all_ascii and size > 0
    if source.spec.kind == "iis":
        seen: dict[str, None] = {}
        for _, names in fields_lines:
            seen.update(dict.fromkeys(names))
        source.columns = [*seen, "datetime"]
    return head


def _fields(label: str, text: str, first_line: int, out: list[tuple[int, list[str]]]) -> tuple[str, int]:
    """Note the ``#Fields:`` directives among the whole lines of ``text`` (its first is ``first_line``).

    Chunks are cut anywhere, so the last, unfinished line is returned with its number, to be
    read with the next chunk, when it may be a directive. A UTF-8 BOM before the first line
    is not part of it (a log may start with it and its directive right after).
    """
    if first_line == 1:
        text = text.removeprefix("\ufeff")
    cut = text.rfind("\n") + 1
    rest, rest_line = text[cut:], first_line + text.count("\n", 0, cut)
    if text.find("#Fields:", 0, cut) >= 0:
        for i, line in enumerate(text[:cut].split("\n")):
            if line.startswith("#Fields:"):
                names = line[len("#Fields:") :].split()
                check_fields(label, first_line + i, names)
                out.append((first_line + i, names))
    return (rest if "#Fields:".startswith(rest[:8]) else ""), rest_line


def _raise_encoding(source: SourceFile, exc: UnicodeDecodeError, newlines: int, encoding: str) -> None:
    data, at = exc.object, exc.start
    line = newlines + data.count(b"\n", 0, at) + 1
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    shown = data[start : end if end >= 0 else len(data)][:120].decode("latin-1")
    guess = "UTF-8?" if encoding != "utf-8" else "Windows-1252 or Latin-1?"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:200].count(0) * 3 > min(len(data), 200):
        guess = "UTF-16? a byte-order mark, or a zero byte beside every letter: declare encoding: utf-16"
    raise EvidenceError(
        f"{source.label}: not {source.spec.encoding} at line {line}: byte 0x{data[at]:02X} in {shown!r} "
        f"({guess}); allowed: text in the encoding the mapping declares (encoding: in its source)"
    ) from None


def _csv_header(source: SourceFile) -> list[str]:
    spec = source.spec
    assert source.path is not None
    with open(source.path, encoding=spec.encoding, newline="") as fh:
        for _ in range(spec.header - 1):
            fh.readline()
        line = fh.readline()
    header = next(
        csv.reader(io.StringIO(line.removeprefix("\ufeff")), delimiter=spec.delimiter, quotechar=spec.quote), []
    )
    source.header_only = not line.endswith(("\n", "\r"))
    if not any(h.strip() for h in header):
        raise EvidenceError(f"{source.label}: line {spec.header} (the header, says the mapping) is empty")
    if len(header) == 1 and spec.delimiter not in line and any(d in line for d in ",;\t|"):
        other = next(d for d in ",;\t|" if d in line)
        raise EvidenceError(
            f"{source.label}: the header on line {spec.header} has one column with delimiter {spec.delimiter!r}; "
            f"the file looks {other!r}-separated: declare delimiter: {other!r}"
        )
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise EvidenceError(
            f"{source.label}: the header on line {spec.header} names {', '.join(repr(h) for h in twice)} more than "
            "once; allowed: each column once (a mapping reads columns by name)"
        )
    return header


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _jsonl_keys(source: SourceFile) -> list[str]:
    keys: dict[str, None] = {}
    assert source.path is not None
    with open(source.path, encoding=source.spec.encoding) as fh:
        for n, line in enumerate(fh):
            if n >= 1000:
                break
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue  # quarantined line by line when read
            if isinstance(value, dict):  # a key with a lone surrogate is no text: its line is quarantined
                keys.update(dict.fromkeys(k for k in value if k.isascii() or not _has_surrogate(k)))
    return list(keys)
