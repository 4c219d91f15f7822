"""The journal: every act that shaped a finding, appended to the notes database as a hash chain.

Each entry records the act (``query``, ``export``, ``annotation``, ``notebook``,
``report_set``), its details, who (``WORKBENCH_ANALYST``, else the OS user), when (UTC),
the case's manifest fingerprint, and the hash of the previous entry. An entry's hash is the
sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of all of that, its number
included, so :func:`check_chain` can recompute the chain and name the first entry altered,
inserted or removed.

Tamper-evident, not tamper-proof: whoever can write the notes database can rewrite the
whole chain from the altered entry on. Only a head recorded elsewhere shows that: a report
set records the head it was built at (``journal_head`` in ``report-set.json``), and
``workbench verify`` checks that the journal still reaches it, which also catches a chain
cut short at its end.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import db

__all__ = [
    "ACTS",
    "GENESIS",
    "ChainCheck",
    "Entry",
    "append",
    "canonical",
    "check_chain",
    "entries",
    "entry_hash",
    "manifest_fingerprint",
]

ACTS = ("query", "export", "annotation", "notebook", "report_set", "start")
GENESIS = "0" * 64
"""The previous-entry hash of the first entry."""
_PG_LOCK = (0x57424E43, 0x4A524E4C)  # "WBNC", "JRNL": appenders of one journal queue here


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def canonical(value: Any) -> str:
    """The canonical JSON of ``value``: sorted keys, no spaces, non-ASCII kept; times as ISO 8601."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


@dataclass(frozen=True)
class Entry:
    """One journal entry as stored; ``details`` is its canonical JSON text."""

    seq: int
    at: str
    analyst: str
    act: str
    case_fingerprint: str
    details: str
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        """What the hash covers."""
        return {
            "seq": self.seq,
            "at": self.at,
            "analyst": self.analyst,
            "act": self.act,
            "case_fingerprint": self.case_fingerprint,
            "details": self.details,
            "prev": self.prev,
        }

    def recomputed(self) -> str:
        return entry_hash(self.body())

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "details": json.loads(self.details), "hash": self.hash}


def entry_hash(body: Mapping[str, Any]) -> str:
    """The sha256 (hex) of an entry's canonical JSON."""
    return hashlib.sha256(canonical(dict(body)).encode("utf-8")).hexdigest()


_FINGERPRINTS: dict[str, tuple[Any, str]] = {}
_PG_FINGERPRINT_SECONDS = 30.0


def manifest_fingerprint(conn: sa.Connection) -> str:
    """``sha256:…`` of the case's manifest (each evidence file's path, sha256, rows and ingest time).

    Cached per case: until the file changes for a file case, for 30 s for a server case, so
    a query pays for it once, not each time. A re-ingest always changes it (new ingest time).
    """
    from ..case import case_metadata

    url = conn.engine.url
    key = url.render_as_string(hide_password=True)
    path = db.case_file(url)
    stamp: Any
    if path is not None:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    else:
        stamp = int(time.monotonic() // _PG_FINGERPRINT_SECONDS)
    cached = _FINGERPRINTS.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    manifest = case_metadata.tables["manifest"]
    rows = conn.execute(sa.select(manifest).order_by(manifest.c.path)).mappings().all()
    text = canonical([dict(r) for r in rows])
    found = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    _FINGERPRINTS[key] = (stamp, found)
    return found


def _last(conn: sa.Connection) -> tuple[int, str]:
    j = db.journal_table
    row = conn.execute(sa.select(j.c.seq, j.c.hash).order_by(j.c.seq.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def append(conn: sa.Connection, act: str, details: Mapping[str, Any], case_fingerprint: str) -> Entry:
    """Append one entry in ``conn``'s write transaction (see :func:`workbench.notes.db.write`); returns it."""
    if act not in ACTS:
        raise ValueError(f"unknown journal act {act!r}; known: {', '.join(ACTS)}")
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _PG_LOCK[0], "b": _PG_LOCK[1]})
    seq, prev = _last(conn)
    body: dict[str, Any] = {
        "seq": seq + 1,
        "at": db.now(),
        "analyst": db.analyst(),
        "act": act,
        "case_fingerprint": case_fingerprint,
        "details": canonical(details),
        "prev": prev,
    }
    entry = Entry(**body, hash=entry_hash(body))
    conn.execute(sa.insert(db.journal_table).values(**body, hash=entry.hash))
    return entry


def entries(url: sa.URL, *, act: str | None = None) -> list[Entry]:
    """Every entry of the journal at ``url``, in order (only those of ``act`` if given)."""
    j = db.journal_table
    stmt = sa.select(j).order_by(j.c.seq)
    if act is not None:
        stmt = stmt.where(j.c.act == act)
    with db.notes_engine(url, create=False).connect() as conn:
        return [Entry(**row) for row in conn.execute(stmt).mappings()]


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of :func:`check_chain`: ``problem`` names the first entry altered, inserted or removed."""

    entries: int
    head: str | None
    problem: str | None = None
    first_bad: int | None = None
    how: str | None = None  # "altered", "inserted", "removed", "truncated"

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            head = f"head {self.head}" if self.head else "no entries yet"
            return f"journal verified: {self.entries} entries, each linked to the one before; {head}"
        return f"journal NOT verified: {self.problem}"


def _broken_link(rows: list[Entry], i: int) -> ChainCheck:
    row, before = rows[i], rows[i - 1]
    n, head = len(rows), rows[-1].hash
    if (i >= 2 and row.prev == rows[i - 2].hash) or row.prev == before.prev:
        return ChainCheck(
            n,
            head,
            f"entry {before.seq} ({before.act}, {before.at}) was inserted: entry {row.seq} follows the entry "
            f"before it, not entry {before.seq}",
            before.seq,
            "inserted",
        )
    if row.seq > before.seq + 1:
        gone = f"entry {before.seq + 1}" if row.seq == before.seq + 2 else f"entries {before.seq + 1}-{row.seq - 1}"
        return ChainCheck(
            n, head, f"{gone} removed: entry {row.seq} follows a hash no entry here has", before.seq + 1, "removed"
        )
    return ChainCheck(
        n,
        head,
        f"entry {before.seq} ({before.act}, {before.at}) was altered and its hash rewritten, or the entry after it "
        f"was removed and the rest renumbered: entry {row.seq} does not follow it",
        before.seq,
        "altered",
    )


def check_chain(rows: list[Entry], head: str | None = None) -> ChainCheck:
    """Recompute the chain of ``rows`` (in order) and name the first entry altered, inserted or removed.

    ``head``, a hash recorded elsewhere (a report set's ``journal_head``), must be the hash of
    one of the entries: when it is not, entries were cut from the end of the journal.
    """
    n, last = len(rows), (rows[-1].hash if rows else None)
    if rows and (rows[0].seq != 1 or rows[0].prev != GENESIS):
        first = rows[0]
        gone = "entry 1" if first.seq == 2 else f"entries 1-{first.seq - 1}" if first.seq > 1 else "its first entries"
        return ChainCheck(n, last, f"{gone} removed from the start: entry {first.seq} is first", 1, "removed")
    for i, row in enumerate(rows):
        if i and row.prev != rows[i - 1].hash:
            return _broken_link(rows, i)
        if row.recomputed() != row.hash:
            return ChainCheck(
                n,
                last,
                f"entry {row.seq} ({row.act}, {row.at}) was altered: its content no longer gives its recorded hash",
                row.seq,
                "altered",
            )
        if i and row.seq != rows[i - 1].seq + 1:  # unreachable with intact hashes; kept for hand-made rows
            return _broken_link(rows, i)
    if head is not None and head not in {r.hash for r in rows}:
        where = f"entry {rows[-1].seq} (hash {rows[-1].hash})" if rows else "nothing"
        return ChainCheck(
            n,
            last,
            f"the journal does not reach the recorded head {head}: it ends at {where}; entries were cut from its "
            "end, or this is another case's journal",
            (rows[-1].seq + 1) if rows else 1,
            "truncated",
        )
    return ChainCheck(n, last)


def file_sha256(path: str | Path) -> str:
    """The sha256 (hex) of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
