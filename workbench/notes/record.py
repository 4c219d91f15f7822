"""Where acts are journalled from: the query runner, the CSV writer, the command line.

A query is journalled only where its case has a notes database: one named by
:func:`configure` (``--notes``) or ``WORKBENCH_NOTES_URL``, or ``case.notes.sqlite`` already
beside a file case (the first annotation, or ``workbench journal init``, makes it). A case
without one is left as it was: opening and querying a case never creates a file. Writing an
entry costs one short transaction (WAL, no fsync on SQLite) and one sha256 of the result as
an uncompressed Arrow IPC file; ``benchmarks/bench_journal.py`` measures it.

A journal that cannot be written never fails the query: it warns, once per reason.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import db
from .journal import Entry, append, file_sha256, manifest_fingerprint

__all__ = [
    "SetJournal",
    "activate",
    "case_fingerprint",
    "configure",
    "location",
    "record",
    "record_export",
    "record_notebook",
    "record_query",
    "record_report_set",
    "report_set_journal",
    "result_sha256",
]

_CONFIGURED: list[sa.URL] = []
_ACTIVE: list[tuple[sa.URL, str]] = []  # the journal last written in this process, for exports
_WARNED: set[str] = set()


def configure(notes: str | os.PathLike[str] | sa.URL | None) -> None:
    """Journal this process's acts to ``notes`` (a path or URL); None goes back to the default."""
    _CONFIGURED.clear()
    if notes is not None:
        _CONFIGURED.append(db.notes_url(None, notes))


def location(case: sa.URL) -> sa.URL | None:
    """The notes database acts on ``case`` are journalled to, or None when it has none."""
    if _CONFIGURED:
        return _CONFIGURED[0]
    if os.environ.get(db.NOTES_ENV, "").strip():
        return db.notes_url(case)
    path = db.default_notes_path(case)
    return sa.URL.create("sqlite", database=str(path)) if path is not None and path.is_file() else None


def activate(url: sa.URL, case_fingerprint: str) -> None:
    """Make ``url`` the journal exports of this process are recorded in, and listen to the CSV writer."""
    from .. import csvout

    _ACTIVE[:] = [(url, case_fingerprint)]
    csvout.on_write(record_export)


def record(url: sa.URL, act: str, details: Mapping[str, Any], case_fingerprint: str) -> Entry:
    """Append one entry to the journal at ``url`` in its own transaction; returns it."""
    entry = db.write(url, lambda conn: append(conn, act, details, case_fingerprint))
    activate(url, case_fingerprint)
    return entry


def _warn(url: sa.URL, what: str, exc: Exception) -> None:
    reason = f"{db.notes_label(url)}: {exc}"
    if reason not in _WARNED:
        _WARNED.add(reason)
        warnings.warn(f"the journal could not record {what} ({reason}); the work goes on unrecorded", stacklevel=3)


def result_sha256(frame: Any) -> str:
    """sha256 of a polars frame as an uncompressed Arrow IPC file: a few ms for 100,000 rows."""
    import hashlib

    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def record_query(conn: sa.Connection, name: str, params: Mapping[str, Any], frame: Any) -> None:
    """Journal a query run on ``conn``'s case, when that case has a notes database (see the module)."""
    try:
        url = location(conn.engine.url)
    except db.NotesError:
        return
    if url is None:
        return
    try:
        details = {
            "query": name,
            "parameters": dict(params),
            "engine": conn.dialect.name,
            "rows": frame.height,
            "result_sha256": result_sha256(frame),
        }
        record(url, "query", details, manifest_fingerprint(conn))
    except (db.NotesError, sa.exc.SQLAlchemyError, OSError) as exc:
        _warn(url, f"the run of query {name!r}", exc)


def record_export(path: str | os.PathLike[str]) -> None:
    """Journal a file written for readers (its path and sha256) to the journal last written in this process."""
    if not _ACTIVE:
        return
    url, fingerprint = _ACTIVE[0]
    target = Path(path).resolve()
    try:
        details = {"path": str(target), "sha256": file_sha256(target), "bytes": target.stat().st_size}
        record(url, "export", details, fingerprint)
    except (db.NotesError, sa.exc.SQLAlchemyError, OSError) as exc:
        _warn(url, f"the export {target}", exc)


def case_fingerprint(case: Any) -> str:
    """The manifest fingerprint of ``case``: an open case, or a path or URL opened read-only for it."""
    from ..case import open_case

    if hasattr(case, "connect") and hasattr(case, "url"):
        with case.connect() as conn:
            return manifest_fingerprint(conn)
    with open_case(os.fspath(case) if isinstance(case, os.PathLike) else case) as opened, opened.connect() as conn:
        return manifest_fingerprint(conn)


def record_notebook(
    case: Any,
    notes: sa.URL,
    notebook: str,
    output: str | os.PathLike[str],
    parameters: Mapping,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Journal a notebook run: its name, executed copy or rendered report (with sha256), parameters, and ``extra``."""
    target = Path(output).resolve()
    details = {
        "notebook": notebook,
        "output": str(target),
        "sha256": file_sha256(target) if target.is_file() else None,
        "parameters": dict(parameters),
        **(extra or {}),
    }
    record(notes, "notebook", details, case_fingerprint(case))


def record_report_set(case: Any, notes: sa.URL, details: Mapping[str, Any]) -> str:
    """Journal a report set built (``details``: audience, folder, case fingerprint, files digest); returns the head."""
    return record(notes, "report_set", details, case_fingerprint(case)).hash


class SetJournal:
    """The journaller of one ``workbench report`` run: a ``notebook`` entry per report, a ``report_set`` entry at the end.

    Called with the ``report-set.json`` record before it is written, it appends a
    ``report_set`` entry binding the set's file list and returns the head to record in it.
    """

    def __init__(self, case: Any, url: sa.URL, *, audience: str, out: Path, case_digest: str):
        self.case, self.url, self.audience, self.out, self.case_digest = case, url, audience, out, case_digest

    def notebook(self, name: str, report: str | os.PathLike[str], parameters: Mapping, case_digest: str | None) -> None:
        """Journal one notebook run of the set: its name, rendered report (with sha256), parameters and the
        fingerprint of the case it ran on, as the notebook itself recorded it."""
        extra = {"audience": self.audience, "case_fingerprint": case_digest or self.case_digest}
        record_notebook(self.case, self.url, name, report, parameters, extra)

    def __call__(self, record: Mapping[str, Any]) -> str:
        from .verify import files_digest

        details = {
            "audience": self.audience,
            "out": str(self.out),
            "case_fingerprint": self.case_digest,
            "reports": [r.get("notebook") for r in record.get("reports", [])],
            "files_sha256": files_digest(record.get("files", {})),
        }
        return record_report_set(self.case, self.url, details)


def report_set_journal(
    case: Any, notes: str | os.PathLike[str] | sa.URL | None, *, audience: str, out: Path, case_digest: str
) -> tuple[dict[str, str], SetJournal | None]:
    """For ``workbench report``: the kernel environment that journals the notebooks' queries, and the set's journaller
    (a :class:`SetJournal`). Both are empty when the case has no notes database and none is named.
    """
    url = db.notes_url(case.url, notes) if notes is not None else location(case.url)
    if url is None:
        return {}, None
    journal = SetJournal(case, url, audience=audience, out=out, case_digest=case_digest)
    return {db.NOTES_ENV: url.render_as_string(hide_password=False)}, journal
