"""Check a report set: unaltered since rendering, and made from this case's evidence.

``workbench verify DIR --case URL`` recomputes

- the sha256 of every file in the set and compares them with ``report-set.json``: a file
  altered, missing or added is named;
- the case's fingerprint (its manifest of evidence files with sha256 and row
  reconciliation, and the rows in each table) and compares it with the one the reports
  were rendered from;
- where the evidence files themselves lie beside a file case (``evidence/…`` next to
  ``case.db``), their sha256 against the case's manifest;
- that every report saw the case the set was made from: the case fingerprint each notebook
  recorded (in ``report-set.json`` and in its report's provenance section) against the set's.
- every HTML page of the set for markup the workbench does not write (a ``<base>``, a
  foreign ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<meta http-equiv>``…,
  see :mod:`workbench.reportset.pagescan`): the sign of evidence that got through as markup.

The evidence files are re-hashed on threads (hashlib lets go of the GIL while it hashes), the
largest first, while this thread checks the set's files and pages, and each file is hashed
once (a mapped case's mapping was hashed twice: to find the hand-over, then as evidence). At
national scale (2.0 GB of evidence, one file of 1.3 GB) ``workbench verify`` went from
one core to 1.35 cores on average, 2.9 s wall to 2.2 s (README).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..case import Case

__all__ = ["Verification", "VerificationError", "verify"]


class VerificationError(WorkbenchError):
    """A report set that does not match its hashes or its case; the message lists every difference."""


@dataclass
class Verification:
    """What was checked, and every difference found (empty when the set verifies)."""

    files_checked: int = 0
    evidence_files: int = 0
    evidence_rehashed: int = 0
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{self.files_checked} files of the report set checked against their sha256",
            f"{self.evidence_files} evidence files of the case checked against the manifest the reports were made from",
        ]
        if self.evidence_rehashed:
            lines.append(f"{self.evidence_rehashed} evidence files on disk re-hashed against the case's manifest")
        lines += self.notes
        if self.ok:
            return "verified: " + "; ".join(lines)
        return "\n".join(
            [
                f"NOT verified: {len(self.differences)} difference(s):",
                *(f"  - {d}" for d in self.differences),
                "checked: " + "; ".join(lines),
            ]
        )


def _short(digest: str) -> str:
    return digest[:16] + "…"


def _compare_files(root: Path, recorded: Mapping[str, Mapping], result: Verification) -> None:
    from .contents import hash_tree

    now = hash_tree(root)
    result.files_checked = len(recorded)
    for path, entry in recorded.items():
        if path not in now:
            result.differences.append(f"missing from the report set: {path}")
        elif now[path]["sha256"] != entry["sha256"]:
            was, has = _short(entry["sha256"]), _short(now[path]["sha256"])
            result.differences.append(f"altered since rendering: {path} (sha256 was {was}, now {has})")
    for path in sorted(set(now) - set(recorded)):
        result.differences.append(f"not part of the report set (added after rendering): {path}")


def _compare_case(recorded: Mapping[str, Any], now: Mapping[str, Any], result: Verification) -> None:
    was = {f["path"]: f for f in recorded["manifest"]}
    has = {f["path"]: f for f in now["manifest"]}
    result.evidence_files = len(was)
    for path, f in was.items():
        if path not in has:
            result.differences.append(f"evidence file {path} is in the reports' manifest but not in this case")
            continue
        g = has[path]
        changes = []
        if g["sha256"] != f["sha256"]:
            changes.append(f"sha256 {_short(f['sha256'])} in the reports, {_short(g['sha256'])} in this case")
        changes += [
            f"{key} {f[key]} → {g[key]}" for key in ("rows_read", "rows_loaded", "rows_quarantined") if g[key] != f[key]
        ]
        if changes:
            result.differences.append(f"evidence file {path} differs: " + "; ".join(changes))
    for path in sorted(set(has) - set(was)):
        result.differences.append(f"evidence file {path} is in this case but the reports were not made from it")
    tables = [
        f"{t} {rows} → {now['table_rows'].get(t)}"
        for t, rows in recorded["table_rows"].items()
        if now["table_rows"].get(t) != rows
    ]
    if tables:
        result.differences.append(
            "case tables have other row counts than the reports were made from: " + ", ".join(tables)
        )


def _evidence_roots(base: Path, files: list[Mapping[str, Any]], sha256_file) -> list[Path]:
    """The folders the manifest's paths may be relative to.

    Beside the case for a v1 ingest (``evidence/fees.csv``); for a case ingested through a
    mapping, whose paths are relative to the hand-over, each folder beside the case that holds
    that very mapping (by its sha256 in the manifest).
    """
    mapping = next((f for f in files if f.get("table") == "(mapping)"), None)
    if mapping is None or (base / mapping["path"]).is_file():
        return [base]
    return [
        folder
        for folder in sorted(p for p in base.iterdir() if p.is_dir())
        if (folder / mapping["path"]).is_file() and sha256_file(folder / mapping["path"]) == mapping["sha256"]
    ] or [base]


HASH_THREADS = min(4, os.cpu_count() or 1)
"""Threads that re-hash evidence files at once (besides the thread that checks the set)."""


class _Hashes:
    """The sha256 of files, each hashed once: on ``pool`` as soon as asked for (:meth:`start`), else here."""

    def __init__(self, pool: Executor | None = None) -> None:
        self._pool = pool
        self._started: dict[Path, Future[str]] = {}

    def start(self, path: Path) -> Future[str]:
        from .contents import sha256_file

        if path not in self._started:
            if self._pool is not None:
                self._started[path] = self._pool.submit(sha256_file, path)
            else:
                done: Future[str] = Future()
                done.set_result(sha256_file(path))
                self._started[path] = done
        return self._started[path]

    def __call__(self, path: Path) -> str:
        return self.start(path).result()


def _start_rehash(url: sa.URL, fingerprint: Mapping[str, Any], hashes: _Hashes) -> Callable[[Verification], None]:
    """Start re-hashing the evidence files of ``fingerprint`` beside the file case at ``url``, the largest first.

    Returns what records the outcome in a :class:`Verification`.
    """
    notes: list[str] = []
    found: list[tuple[Path, str]] = []  # (the file on disk, the sha256 the manifest records), in manifest order

    def finish(result: Verification) -> None:
        result.evidence_rehashed += len(found)
        for path, recorded in found:
            digest = hashes(path)
            if digest != recorded:
                result.differences.append(
                    f"evidence file {path} on disk has sha256 {_short(digest)}, "
                    f"but the case's manifest says {_short(recorded)}"
                )
        result.notes.extend(notes)

    if url.get_backend_name() not in ("sqlite", "duckdb") or url.database is None:
        notes.append("evidence files not re-hashed: the case is not a file, so where they lie is unknown")
        return finish
    roots = _evidence_roots(Path(url.database).resolve().parent, fingerprint["manifest"], hashes)
    if len(roots) > 1:
        names = ", ".join(r.name for r in roots)
        notes.append(f"evidence files not re-hashed: the case's mapping is in several folders ({names})")
        return finish
    base = roots[0]
    missing = 0
    for f in fingerprint["manifest"]:
        path = base / f["path"]
        if not path.is_file() and "#" in f["path"]:  # a mapped SQL source: 'ko.sqlite#handlers'
            path = base / f["path"].rpartition("#")[0]
        if not path.is_file():
            missing += 1
            continue
        found.append((path, f["sha256"]))
    for path in sorted({p for p, _ in found}, key=lambda p: -p.stat().st_size):  # the longest hash starts first
        hashes.start(path)
    if missing:
        notes.append(f"{missing} evidence files not found beside the case ({base}), so not re-hashed")
    return finish


def _hash_ahead(url: sa.URL, record: Mapping[str, Any], hashes: _Hashes) -> None:
    """Begin hashing the evidence files the set records it was made from, before the case is open.

    Only a head start: what is compared is the case's own manifest, whose files are these unless
    the case changed. ``report-set.json`` is not trusted here: only files inside the case's folder
    are hashed, and a record that cannot be read so starts nothing (the checks name what is wrong).
    """
    if url.get_backend_name() not in ("sqlite", "duckdb") or url.database is None:
        return
    try:
        files = [
            f for f in record["case_fingerprint"]["manifest"] if isinstance(f, dict) and isinstance(f.get("path"), str)
        ]
        inside = [f for f in files if not Path(f["path"]).is_absolute() and ".." not in Path(f["path"]).parts]
        _start_rehash(url, {"manifest": inside}, hashes)
    except (KeyError, TypeError, ValueError, OSError):
        return


def _rehash_evidence(case: Case, fingerprint: Mapping[str, Any], result: Verification) -> None:
    """Re-hash the evidence files beside a file case, when they are there (in this thread)."""
    _start_rehash(case.url, fingerprint, _Hashes())(result)


def _compare_report_cases(root: Path, record: Mapping[str, Any], result: Verification) -> None:
    """Name the reports that saw another case than the set was made from, or record none they saw."""
    from .fingerprint import digest, shown_in

    expected = digest(record.get("case_fingerprint") or {})
    files = record.get("files") or {}
    same: list[str] = []
    others: dict[str, list[str]] = {}
    unrecorded: list[str] = []
    for entry in record.get("reports") or []:
        name, seen, html = str(entry.get("notebook")), entry.get("case_fingerprint"), entry.get("html")
        page = root / str(html)
        inside = html in files and page.resolve().is_relative_to(root.resolve())
        shown = shown_in(page) if inside else None
        if not seen:
            unrecorded.append(name)
        elif shown != seen:
            result.differences.append(
                f"{name}: report-set.json records that it saw the case with fingerprint {seen}, but its report's "
                f"provenance shows {shown or 'none'}"
            )
        elif seen == expected:
            same.append(name)
        else:
            others.setdefault(seen, []).append(name)
    if unrecorded:
        result.differences.append(
            f"{', '.join(unrecorded)}: report-set.json records no case fingerprint for these reports, so nothing "
            "shows they saw the case the set was made from; render the set again"
        )
    if others:
        saw = "; ".join(f"{', '.join(names)} saw the case with fingerprint {seen}" for seen, names in others.items())
        as_seen = f" (as {', '.join(same)} saw it)" if same else " (as no report saw it)"
        result.differences.append(
            f"the reports were made from more than one case: {saw}, but the set was made from {expected}{as_seen}"
        )


def _check_markup(root: Path, pages: list[str], result: Verification) -> None:
    """Name every active element or attribute in a page that the workbench did not write."""
    from .pagescan import foreign_markup

    for page in pages:
        path = root / page
        if not path.is_file():
            continue  # named as missing by _compare_files
        found = foreign_markup(path.read_text(encoding="utf-8", errors="replace"))
        for what in found[:5]:
            result.differences.append(f"markup the workbench does not write in {page}, {what}")
        if len(found) > 5:
            result.differences.append(f"… and {len(found) - 5} more such in {page}")
    result.notes.append(f"{len(pages)} pages scanned for markup the workbench does not write")


def _check_journal(record: Mapping[str, Any], case: Case, notes: str | None, result: Verification) -> None:
    """The case's journal must verify and reach the head the set recorded, at this set's ``report_set`` entry."""
    head = record.get("journal_head")
    if not head:
        result.notes.append("no journal head recorded: the set was built without a notes database")
        return
    from ..notes.verify import check_report_set_head

    found = check_report_set_head(case, str(head), record.get("files") or {}, notes)
    result.differences += found
    if not found:
        result.notes.append(f"the case's journal verifies and reaches the head the set recorded ({_short(head)})")


def verify(report_dir: str | Path, case_url: str | Path | sa.URL, notes: str | None = None) -> Verification:
    """Verify the report set in ``report_dir`` against the case at ``case_url``.

    ``notes`` names the notes database holding the case's journal (default: beside the case).

    Returns a :class:`Verification`; ``.ok`` is False and ``.differences`` names each file or
    figure that differs. Raises WorkbenchError when ``report_dir`` is not a report set.
    """
    from ..case import case_url as resolved, open_case
    from .contents import load_set
    from .provenance import case_fingerprint

    root = Path(report_dir)
    record = load_set(root)
    result = Verification()
    pool = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="verify-sha256")
    hashes = _Hashes(pool)
    try:
        try:
            url: sa.URL | None = resolved(case_url)
        except WorkbenchError:  # open_case below names the mistake, as the user wrote the case
            url = None
        if url is not None:
            _hash_ahead(url, record, hashes)  # on the other core(s) while this one opens the case and checks the set
        with open_case(case_url) as case:  # as given: its errors quote the path the user wrote
            now = case_fingerprint(case)
            rehashed = _start_rehash(case.url, now, hashes)
            _compare_files(root, record.get("files", {}), result)
            _compare_report_cases(root, record, result)
            _check_markup(root, sorted(p for p in record.get("files", {}) if p.endswith(".html")), result)
            _compare_case(record["case_fingerprint"], now, result)
            rehashed(result)
            _check_journal(record, case, notes, result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a failure above: hashes not begun are dropped
    return result
