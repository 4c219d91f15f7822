"""Annotations: an investigator's tags and comments on sessions, accounts, messages, changes, allocations, caseworkers.

>>> from workbench.notes import annotate                                   # doctest: +SKIP
>>> annotate("runs/demo/case.duckdb", "session", "9f2c4e1a7b3d5f60", tag="confirmed",
...          note="Swap seen in the access log")                           # doctest: +SKIP

Each annotation is kept in the notes database beside the case (see :mod:`.db`), never in
the case. An edit or a withdrawal adds a version; nothing is deleted, so the history of
every judgement stays for the record. Each version is also appended to the journal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from ..errors import UnknownNameError
from . import db
from .journal import append, manifest_fingerprint
from .record import activate

__all__ = ["KINDS", "MAX_NOTE", "VOCABULARY", "Annotation", "Notes", "annotate", "open_notes"]

KINDS: dict[str, tuple[str, str]] = {
    "session": ("logins", "session_id"),
    "account": ("applicants", "applicant_id"),
    "support_message": ("support_messages", "message_id"),
    "profile_change": ("profile_changes", "change_id"),
    "allocation": ("contracts", "listing_id"),
    "caseworker": ("handlers", "handler_id"),
}
"""What can be annotated, and the case table and column its key is looked up in."""

VOCABULARY: dict[str, str] = {
    "confirmed": "checked by hand: it is what the analysis says it is",
    "false-positive": "checked by hand: the analysis flagged it wrongly",
    "needs-review": "someone should look at it",
    "contacted": "the person concerned was contacted",
    "restored": "what was changed was put back",
}
"""The documented tags; free tags are allowed too, as short slugs (see :data:`FREE_TAG`)."""

FREE_TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
"""A free tag: lower-case letters, digits and hyphens, starting with a letter or digit, at most 32."""
MAX_NOTE = 10_000


@dataclass(frozen=True)
class Annotation:
    """One version of an annotation."""

    annotation_id: str
    version: int
    kind: str
    key: str
    tags: tuple[str, ...]
    note: str
    state: str
    reason: str
    analyst: str
    at: str
    case_fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}


def _kind(kind: str) -> str:
    name = str(kind).strip().lower().replace(" ", "_").replace("-", "_")
    if name not in KINDS:
        raise UnknownNameError("annotation kind", str(kind), KINDS)
    return name


def _tags(tag: str | Iterable[str] | None) -> tuple[str, ...]:
    given = [] if tag is None else [tag] if isinstance(tag, str) else list(tag)
    for t in given:
        if not isinstance(t, str) or not (t in VOCABULARY or FREE_TAG.fullmatch(t)):
            raise db.NotesError(
                f"tag {t!r} is not allowed: use one of {', '.join(VOCABULARY)}, or a free tag of lower-case "
                "letters, digits and hyphens (at most 32, e.g. 'swap-2019')"
            )
    return tuple(sorted(set(given)))


def _note(note: str | None) -> str:
    text = "" if note is None else str(note)
    if len(text) > MAX_NOTE:
        raise db.NotesError(f"a note is at most {MAX_NOTE} characters; this one has {len(text)}")
    return text


def _row(row: Any) -> Annotation:
    values = dict(row)
    values.pop("row_id", None)
    values["tags"] = tuple(json.loads(values["tags"]))
    return Annotation(**values)


class Notes:
    """The annotations on one case, in its notes database; use as a context manager, or ``close()``.

    ``case`` is an open case or a path or URL (opened read-only); ``notes`` a path or URL of
    the notes database (default: beside a file case, see :func:`workbench.notes.db.notes_url`).
    """

    def __init__(self, case: Any, notes: str | os.PathLike[str] | sa.URL | None = None):
        from ..case import open_case

        self._owned = isinstance(case, (str, os.PathLike, sa.URL))
        self.case = open_case(case if not isinstance(case, os.PathLike) else os.fspath(case)) if self._owned else case
        self.url = db.notes_url(self.case.url, notes)

    def close(self) -> None:
        if self._owned:
            self.case.close()

    def __enter__(self) -> Notes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _key(self, kind: str, key: Any) -> str:
        """``key`` as text, once the case is seen to hold it; an unknown key names the table it is not in."""
        table_name, column_name = KINDS[kind]
        column = self.case.table(table_name).c[column_name]
        value: Any = str(key).strip()
        if isinstance(column.type, sa.Integer):
            try:
                value = int(value)
            except ValueError:
                raise db.NotesError(
                    f"a {kind} key is a whole number ({table_name}.{column_name}); got {key!r}"
                ) from None
        with self.case.connect() as conn:
            found = conn.execute(sa.select(column).where(column == value).limit(1)).first()
        if found is None:
            raise db.NotesError(f"no {kind} {key!r} in this case: {table_name}.{column_name} holds no such value")
        return str(value)

    def fingerprint(self) -> str:
        with self.case.connect() as conn:
            return manifest_fingerprint(conn)

    def _save(self, version: dict[str, Any]) -> Annotation:
        fingerprint = self.fingerprint()

        def work(conn: sa.Connection) -> Annotation:
            t = db.annotation_table
            number = version.get("version")
            if number is None:  # the next version of an existing annotation, read in this transaction
                latest = conn.execute(
                    sa.select(sa.func.max(t.c.version)).where(t.c.annotation_id == version["annotation_id"])
                ).scalar()
                number = int(latest or 0) + 1
            row = {
                **version,
                "version": number,
                "tags": json.dumps(list(version["tags"])),
                "analyst": db.analyst(),
                "at": db.now(),
                "case_fingerprint": fingerprint,
            }
            conn.execute(sa.insert(t).values(**row))
            saved = _row(row)
            append(conn, "annotation", _journalled(saved), fingerprint)
            return saved

        saved = db.write(self.url, work)
        activate(self.url, fingerprint)
        return saved

    def annotate(
        self, kind: str, key: Any, tag: str | Iterable[str] | None = None, note: str | None = None
    ) -> Annotation:
        """Tag and/or comment on one thing in the case: ``annotate("session", "9f2c…", tag="confirmed")``."""
        kind = _kind(kind)
        tags, text = _tags(tag), _note(note)
        if not tags and not text:
            raise db.NotesError("an annotation needs a tag or a note (or both)")
        version = {"annotation_id": str(uuid.uuid4()), "version": 1, "kind": kind, "key": self._key(kind, key)}
        return self._save({**version, "tags": tags, "note": text, "state": "active", "reason": ""})

    def _latest(self, annotation_id: str) -> Annotation:
        found = self.history(annotation_id)
        if not found:
            raise db.NotesError(f"no annotation {annotation_id!r} in {db.notes_label(self.url)}")
        return found[-1]

    def edit(
        self,
        annotation_id: str,
        tag: str | Iterable[str] | None = None,
        note: str | None = None,
        reason: str = "",
    ) -> Annotation:
        """A new version with other tags and/or another note (None keeps what was there); the old one stays."""
        latest = self._latest(annotation_id)
        tags = latest.tags if tag is None else _tags(tag)
        text = latest.note if note is None else _note(note)
        if not tags and not text:
            raise db.NotesError("an annotation needs a tag or a note (or both); to take it back, withdraw it")
        base = {"annotation_id": annotation_id, "kind": latest.kind, "key": latest.key}
        return self._save({**base, "tags": tags, "note": text, "state": "active", "reason": _note(reason)})

    def withdraw(self, annotation_id: str, reason: str = "") -> Annotation:
        """A new version marked withdrawn, keeping its tags and note for the record."""
        latest = self._latest(annotation_id)
        base = {"annotation_id": annotation_id, "kind": latest.kind, "key": latest.key}
        return self._save({**base, "tags": latest.tags, "note": latest.note, "state": "withdrawn", "reason": reason})

    def history(self, annotation_id: str | None = None) -> list[Annotation]:
        """Every version (of one annotation, or of all), oldest first."""
        t = db.annotation_table
        stmt = sa.select(t).order_by(t.c.row_id)
        if annotation_id is not None:
            stmt = stmt.where(t.c.annotation_id == annotation_id)
        with db.notes_engine(self.url).connect() as conn:
            return [_row(r) for r in conn.execute(stmt).mappings()]

    def current(self, kind: str | None = None, *, withdrawn: bool = False) -> list[Annotation]:
        """The latest version of each annotation (of ``kind`` if given), withdrawn ones only if asked."""
        latest: dict[str, Annotation] = {}
        for a in self.history():
            if latest.get(a.annotation_id) is None or a.version > latest[a.annotation_id].version:
                latest[a.annotation_id] = a
        wanted = None if kind is None else _kind(kind)
        return [
            a for a in latest.values() if (wanted is None or a.kind == wanted) and (withdrawn or a.state == "active")
        ]


def _journalled(a: Annotation) -> dict[str, Any]:
    """What the journal keeps of an annotation version: everything but the note's text, which it hashes."""
    out = a.as_dict()
    out["note_sha256"] = hashlib.sha256(out.pop("note").encode("utf-8")).hexdigest()
    for name in ("analyst", "at", "case_fingerprint"):  # the entry itself records these
        out.pop(name)
    return out


def open_notes(case: Any, notes: str | os.PathLike[str] | sa.URL | None = None) -> Notes:
    """The annotations on ``case`` (see :class:`Notes`)."""
    return Notes(case, notes)


def annotate(
    case: Any,
    kind: str,
    key: Any,
    tag: str | Iterable[str] | None = None,
    note: str | None = None,
    *,
    notes: str | os.PathLike[str] | sa.URL | None = None,
) -> Annotation:
    """Tag and/or comment on a session, account, support message, profile change, allocation or caseworker.

    ``case`` is an open case or its path or URL; ``kind`` one of :data:`KINDS`; ``key`` its
    key in the case (a ``session_id``, an ``applicant_id``, …), which must be there; ``tag``
    one tag or several, from :data:`VOCABULARY` or free (a short slug). Stored in the notes
    database ``notes`` (default: beside the case) and journalled.
    """
    with Notes(case, notes) as store:
        return store.annotate(kind, key, tag=tag, note=note)
