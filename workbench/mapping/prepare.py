"""Before anything is read: find every mapped table's inputs, scan them, and check the mapping against them.

:func:`prepare` hashes each input and runs its whole-file checks (:func:`.files.scan`) in
threads, and raises, before anything is written, for a source column the mapping reads that
no input offers. :func:`mail_apart` starts a child process parsing a large mail input as soon
as the inputs are found, so that it parses while the others are scanned.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .files import SourceFile, resolve, scan
from .mail import Apart, mail_columns
from .prefetch import Later
from .read import columns
from .schema import Mapping, MappingError

__all__ = ["MAIL", "mail_apart", "prepare"]

# Mail is parsed in a child process (.mail) when starting one (~0.2-0.3 CPU-s) costs less than
# it frees: the parser takes ~0.4 CPU-s a MB of messages (stockholm's 4,231 .eml, 3.6 MB: 1.3-1.5 CPU-s).
MAIL, _APART_BYTES = ("eml", "maildir", "mbox"), 1 << 20


def _twin(f: SourceFile, databases: dict[Path, SourceFile]) -> bool:
    """Whether ``f`` queries an SQLite database already noted in ``databases`` (else note it)."""
    if f.spec.kind != "sql" or f.path is None:
        return False
    if f.path in databases:
        return True
    databases[f.path] = f
    return False


def _scanned(f: SourceFile, hash_database: bool = True) -> Exception | None:
    try:
        scan(f, hash_database)
    except Exception as error:
        return error
    return None


def prepare(
    source_dir: Path,
    mapping: Mapping,
    workers: int = 1,
    later: Later | None = None,
    begin: Callable[[dict[str, list[SourceFile]]], None] | None = None,
) -> tuple[dict[str, list[SourceFile]], dict[str, list[str]]]:
    """The inputs of every mapped table, scanned (in ``workers`` threads), and the source columns each offers.

    Raises :class:`MappingError` when a column the mapping reads is not in the source, and
    the first input's error (in mapping order) when an input cannot be used. ``later``: an
    SQLite database is hashed there, in a thread of its own, while the tables are read.
    ``begin``: called with the inputs found, before they are scanned.
    """
    inputs = resolve(source_dir, mapping)
    if begin is not None:
        begin(inputs)
    offered = {}
    databases: dict[Path, SourceFile] = {}  # an SQLite database read by many queries is hashed once
    first = [f for files in inputs.values() for f in files if not _twin(f, databases)]
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="mapping-scan") as pool:
        scan_one = functools.partial(_scanned, hash_database=later is None)
        scans = dict(zip(map(id, first), pool.map(scan_one, first), strict=True))  # hashlib frees the GIL
    if later is not None:
        for f in first:
            if f.spec.kind == "sql" and f.path is not None:
                later.hash(f.path)
    for table, files in inputs.items():
        for f in files:
            if id(f) in scans:
                if (error := scans[id(f)]) is not None:  # the first failure in input order, as read one by one
                    raise error
                continue
            twin = databases[f.path] if f.path is not None else f
            f.sha256, f.bytes = twin.sha256, twin.bytes
        offered[table] = columns(files)
        for spec in mapping.tables[table].columns.values():
            for name in spec.sources():
                if name not in offered[table]:
                    listing = ", ".join(offered[table]) or "none"
                    if files[0].spec.kind == "iis" and offered[table] == ["datetime"]:
                        listing += " (the log has no #Fields: directive naming its fields)"
                    raise MappingError(
                        f"{spec.where}: source column {name!r} is not in {files[0].label}"
                        f"{f' (nor the other {len(files) - 1} inputs)' if len(files) > 1 else ''}; its columns are: {listing}"
                    )
    return inputs, offered


def mail_apart(inputs: dict[str, list[SourceFile]], mapping: Mapping, stack: contextlib.ExitStack, out: dict) -> None:
    """Start a child parsing each mapped mail input of ``_APART_BYTES`` or more, before the scans.

    Parsing is pure Python under the GIL (:mod:`.mail`); started now, it runs while this
    process hashes and scans the other inputs (the GIL-bound first seconds of an ingest, when
    a core is free) rather than later, beside the readers. An input that cannot be read here
    is left to the scan, which says why.
    """
    for table, files in inputs.items():
        kind = mapping.tables[table].source.kind
        paths = [f.path for f in files if f.path is not None]
        if kind not in MAIL or not paths:
            continue
        try:
            if sum(p.stat().st_size for p in paths) < _APART_BYTES:
                continue
            offered = mail_columns(paths, kind)
        except Exception:  # not started early: reading it the usual way says what is wrong
            continue
        needed = frozenset(n for spec in mapping.tables[table].columns.values() for n in spec.sources())
        out[table] = stack.enter_context(Apart(paths, kind, offered, needed))
