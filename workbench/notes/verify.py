"""Checking the journal: its chain, the annotations against it, and a head recorded elsewhere."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import sqlalchemy as sa

from . import db
from .journal import ChainCheck, Entry, check_chain, entries

__all__ = ["check_annotations", "check_report_set_head", "journal_entries", "verify_journal"]


def _case_url(case: Any) -> sa.URL:
    from ..case import case_url

    if hasattr(case, "url") and isinstance(case.url, sa.URL):
        return case.url
    return case_url(os.fspath(case) if isinstance(case, os.PathLike) else case)


def journal_entries(case: Any, notes: str | os.PathLike[str] | sa.URL | None = None) -> list[Entry]:
    """The journal of ``case`` (a path, URL or open case), from the notes database ``notes`` or beside it."""
    return entries(db.notes_url(_case_url(case), notes))


def check_annotations(url: sa.URL, rows: list[Entry]) -> list[str]:
    """Annotation versions that differ from, or are missing in, the journal entry made with them."""
    journalled: dict[tuple[str, int], dict] = {}
    for e in rows:
        if e.act == "annotation":
            d = json.loads(e.details)
            journalled[(d.get("annotation_id"), d.get("version"))] = d
    t = db.annotation_table
    problems = []
    with db.notes_engine(url, create=False).connect() as conn:
        for r in conn.execute(sa.select(t).order_by(t.c.row_id)).mappings():
            name = f"annotation {r['annotation_id']} version {r['version']} ({r['kind']} {r['key']})"
            d = journalled.pop((r["annotation_id"], r["version"]), None)
            if d is None:
                problems.append(f"{name} is not in the journal: it was added behind the workbench's back")
                continue
            seen = {
                "kind": r["kind"],
                "key": r["key"],
                "tags": json.loads(r["tags"]),
                "state": r["state"],
                "reason": r["reason"],
                "note_sha256": hashlib.sha256(r["note"].encode("utf-8")).hexdigest(),
            }
            changed = [k for k, v in seen.items() if d.get(k) != v]
            if changed:
                problems.append(f"{name} was altered after it was journalled: {', '.join(changed)} differ")
    for annotation_id, version in journalled:
        problems.append(f"annotation {annotation_id} version {version} is journalled but was removed")
    return problems


def verify_journal(
    case: Any, notes: str | os.PathLike[str] | sa.URL | None = None, head: str | None = None
) -> tuple[ChainCheck, list[str]]:
    """Recompute the journal's chain (against ``head`` if given) and check the annotations against it."""
    url = db.notes_url(_case_url(case), notes)
    rows = entries(url)
    return check_chain(rows, head), check_annotations(url, rows)


def check_report_set_head(
    case: Any, head: str, files: dict[str, Any], notes: str | os.PathLike[str] | sa.URL | None = None
) -> list[str]:
    """Differences between a report set's recorded ``journal_head`` and the case's journal (empty: it matches).

    The journal must verify, reach ``head``, and the entry with that hash must be the
    ``report_set`` entry of these ``files`` (the set's ``{path: {"sha256": …}}``).
    """
    try:
        chain, _ = verify_journal(case, notes, head)
        rows = journal_entries(case, notes)
    except db.NotesError as exc:
        return [f"the report set records journal head {head}, but its journal cannot be read: {exc}"]
    if not chain.ok:
        return [f"the case's journal does not verify against the head the report set recorded: {chain.problem}"]
    entry = next(e for e in rows if e.hash == head)
    details = json.loads(entry.details)
    if entry.act != "report_set" or details.get("files_sha256") != files_digest(files):
        return [
            f"journal entry {entry.seq} (the recorded head) is a {entry.act} entry, not the building of this report set "
            "with these files"
        ]
    return []


def files_digest(files: dict[str, Any]) -> str:
    """sha256 of a report set's file list (``{path: {"sha256": …}}``) as canonical JSON."""
    from .journal import canonical

    return hashlib.sha256(canonical(files).encode("utf-8")).hexdigest()
