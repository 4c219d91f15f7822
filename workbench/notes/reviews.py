"""Annotations in the analyses: what an investigator confirmed or dismissed, and the annotations fit for each audience.

>>> found = read_annotations(case, None)            # beside the case if it has notes; [] if not   # doctest: +SKIP
>>> review_verdicts(found, "support_message")       # {"m-0042": "confirmed", "m-0107": "false-positive"}  # doctest: +SKIP

A notebook's ``notes_url`` parameter comes here. ``None`` reads the notes database acts on
the case are journalled to (``--notes`` / ``WORKBENCH_NOTES_URL``, else ``case.notes.sqlite``
beside a file case) if there is one, and no annotations if not; a ``notes_url`` that names a
SQLite file that does not exist is an error, never an empty reading.

A thing's *review* is the verdict of the latest active annotation on it that carries
``confirmed`` or ``false-positive`` (its ``at``, the time its latest version was saved); an
annotation carrying both says nothing and is ignored. Withdrawn annotations never count.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from ..audience import Audience, fit, pseudonym
from ..evidence import PII, metadata
from . import db
from .record import location
from .store import KINDS, Annotation, Notes

__all__ = [
    "DISMISSED",
    "REVIEW_TAGS",
    "annotation_list",
    "read_annotations",
    "resolve_notes",
    "review_column",
    "review_verdicts",
    "reviewed_rows",
]

REVIEW_TAGS = ("confirmed", "false-positive")
"""The tags that settle a thing by hand: it is what the analysis says, or the analysis was wrong."""
DISMISSED = "false-positive"


def resolve_notes(case: Any, notes: str | os.PathLike[str] | sa.URL | None) -> sa.URL | None:
    """The notes database a notebook reads for ``case`` (see the module), or None when it has none."""
    if notes is None or (isinstance(notes, str) and not notes.strip()):
        url = location(case.url)
        if url is not None and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
            return None
        return url
    if not isinstance(notes, (str, os.PathLike, sa.URL)):
        raise db.NotesError(
            f"notes_url {notes!r} is a {type(notes).__name__}; allowed: None (the notes beside the case, if any) "
            "or the path or URL of a notes database as text, e.g. 'runs/demo/case.notes.sqlite'"
        )
    url = db.notes_url(case.url, notes)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise db.NotesError(
            f"notes_url {str(notes)!r}: no notes database at {url.database}; allowed: None (the notes beside "
            "the case, if any) or the path or URL of an existing notes database"
        )
    return url


def read_annotations(case: Any, notes: str | os.PathLike[str] | sa.URL | None) -> tuple[Annotation, ...]:
    """The active annotations on ``case`` (an open case, or its path or URL) in the database ``notes`` resolves to; () when none."""
    from ..case import Case, open_case

    if isinstance(case, (sa.Engine, sa.Connection)):  # an analysis handed a bare engine: no case to read notes for
        if notes is None:
            return ()
        raise db.NotesError("notes need an open case, or its path or URL, not a bare engine or connection")
    if not isinstance(case, Case):
        with open_case(os.fspath(case) if isinstance(case, os.PathLike) else case) as opened:
            return read_annotations(opened, notes)
    url = resolve_notes(case, notes)
    if url is None:
        return ()
    with Notes(case, url) as store:
        return tuple(sorted(store.current(), key=lambda a: (a.at, a.annotation_id)))


def review_verdicts(annotations: Iterable[Annotation], kind: str) -> dict[str, str]:
    """``{key: "confirmed" | "false-positive"}`` for each ``kind`` the annotations settle (see the module)."""
    latest: dict[str, Annotation] = {}
    for a in sorted(annotations, key=lambda a: (a.at, a.annotation_id)):
        if a.kind == kind and a.state == "active" and set(a.tags) & set(REVIEW_TAGS):
            latest[a.key] = a
    verdicts = {}
    for key, a in latest.items():
        said = set(a.tags) & set(REVIEW_TAGS)
        if len(said) == 1:
            verdicts[key] = said.pop()
    return verdicts


def reviewed_rows(frame: pl.DataFrame, annotations: Iterable[Annotation], kind: str, column: str) -> pl.DataFrame:
    """The rows of ``frame`` whose ``kind`` key in ``column`` an investigator confirmed or dismissed, with ``review``."""
    return review_column(frame, annotations, kind, column).filter(pl.col("review") != "not reviewed")


def review_column(
    frame: pl.DataFrame, annotations: Iterable[Annotation], kind: str, column: str, *, name: str = "review"
) -> pl.DataFrame:
    """``frame`` with a column ``name``: "confirmed", "dismissed" or "not reviewed", by the ``kind`` key in ``column``."""
    verdicts = review_verdicts(annotations, kind)
    said = {k: ("dismissed" if v == DISMISSED else "confirmed") for k, v in verdicts.items()}
    return frame.with_columns(
        pl.col(column)
        .cast(pl.String)
        .replace_strict(said, default="not reviewed", return_dtype=pl.String)
        .fill_null("not reviewed")
        .alias(name)
    )


LIST_COLUMNS: dict[str, PII] = {
    "kind": PII.NONE,
    "key": PII.DIRECT,
    "tags": PII.NONE,
    "note": PII.FREE_TEXT,
    "analyst": PII.DIRECT,
    "at": PII.NONE,
    "version": PII.NONE,
}


def _key_is_personal(kind: str) -> bool:
    table, column = KINDS[kind]
    return metadata.tables[table].c[column].info.get("pii") is PII.DIRECT


def annotation_list(
    annotations: Iterable[Annotation],
    audience: str | Audience,
    *,
    kinds: Sequence[str] | None = None,
    key: str | bytes | None = None,
) -> pl.DataFrame:
    """The annotations (of ``kinds``) fit for ``audience``.

    Investigators: every annotation with its key, tags, note, analyst and time. Auditors:
    the same rows with keys and analysts as pseudonyms (a session's pseudonym is the one it
    has in every other auditor table) and no note text, only ``has_note``. The public: how
    many things of each kind carry each tag (``kind, tag, n``), under the disclosure rules.
    """
    who = Audience.parse(audience)
    rows = [a for a in annotations if a.state == "active" and (kinds is None or a.kind in kinds)]
    frame = pl.DataFrame(
        {
            "kind": [a.kind for a in rows],
            "key": [a.key for a in rows],
            "tags": [", ".join(a.tags) for a in rows],
            "note": [a.note for a in rows],
            "analyst": [a.analyst for a in rows],
            "at": [a.at for a in rows],
            "version": [a.version for a in rows],
        },
        schema={"kind": pl.String, "key": pl.String, "tags": pl.String, "note": pl.String}
        | {"analyst": pl.String, "at": pl.String, "version": pl.Int64},
    )
    if who is Audience.INVESTIGATOR:
        return frame
    if who is Audience.AUDITOR:
        keys = [pseudonym(a.key, KINDS[a.kind][1], key) if _key_is_personal(a.kind) else a.key for a in rows]
        return frame.with_columns(
            key=pl.Series(keys, dtype=pl.String),
            analyst=pl.Series([pseudonym(a.analyst, "analyst", key) for a in rows], dtype=pl.String),
            has_note=pl.col("note") != "",
        ).drop("note")
    tagged = pl.DataFrame(
        {"kind": [a.kind for a in rows for _ in a.tags], "tag": [t for a in rows for t in a.tags]},
        schema={"kind": pl.String, "tag": pl.String},
    )
    counts = tagged.group_by("kind", "tag").agg(n=pl.len().cast(pl.Int64)).sort("kind", "tag")
    return fit(counts, who, columns={"kind": PII.NONE, "tag": PII.NONE}, counts=["n"])
