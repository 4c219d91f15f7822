"""The report set: an index page and ``report-set.json`` with the sha256 of every file.

A report set is the folder ``workbench report`` writes for one audience::

    index.html              reports, headline findings, every file's sha256
    report-set.json         the same, for machines, plus the case fingerprint
    00_case_overview/00_case_overview.html, findings.json, tables/*.csv, *.pdf
    ...

``report-set.json`` lists every other file of the folder, ``index.html`` included, so
``workbench verify`` can tell whether anything was altered, removed or added since rendering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError

__all__ = [
    "HEADLINES",
    "INDEX_FILE",
    "SET_FILE",
    "ReportEntry",
    "claim_folder",
    "hash_tree",
    "load_set",
    "mark_incomplete",
    "sha256_file",
    "write_set",
]

SET_FILE = "report-set.json"
INDEX_FILE = "index.html"
FORMAT = 1
# The figures a reader looks for first, when the notebooks record them (the summary names them all, in words).
HEADLINES = ("accounts_exposed", "accounts_changed_by_others", "time_to_contain_hours", "caseworkers_flagged")
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass
class ReportEntry:
    """One report of the set, paths relative to the set's folder."""

    notebook: str  # "01_incident_reconstruction"
    title: str  # "Incident reconstruction"
    html: str  # "01_incident_reconstruction/01_incident_reconstruction.html"
    findings: str | None  # "01_incident_reconstruction/findings.json"
    pdf: str | None = None
    case_fingerprint: str | None = None  # "sha256:…", as the notebook saw the case at its start and end


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_tree(root: str | Path) -> dict[str, dict[str, Any]]:
    """``{relative path: {"sha256": ...}}`` for every file under ``root`` but ``report-set.json``.

    Exact byte counts are left out on purpose: a 7-digit size reads like a customer number
    to anyone scanning the set for identifiers, and the hash already pins the content.
    """
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): {"sha256": sha256_file(p)}
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != SET_FILE
    }


def _size(path: Path) -> str:
    """A file's size for reading, in the current language's numbers: '6 kB', '1.3 MB' ('1,3 MB')."""
    from ..values import format_number

    n = path.stat().st_size
    return f"{format_number(round(n / 1e6, 1))} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"


def _recorded_set(root: Path) -> dict[str, Any]:
    """``root/report-set.json`` as a mapping (complete or not); empty when it cannot be read as one."""
    try:
        data = json.loads((root / SET_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _contents(root: Path) -> tuple[dict[str, Path], list[str], list[str]]:
    """Regular files (relative path → path), folders (deepest first) and anything else under ``root``, unfollowed."""
    import os
    import stat

    files: dict[str, Path] = {}
    folders: list[str] = []
    other: list[str] = []
    for top, dirs, names in os.walk(root, followlinks=False):
        for name in sorted([*dirs, *names]):
            path = Path(top, name)
            rel = path.relative_to(root).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                other.append(f"{rel} (a symbolic link)")
            elif stat.S_ISDIR(mode):
                folders.append(rel)
            elif stat.S_ISREG(mode):
                files[rel] = path
            else:
                other.append(f"{rel} (not a regular file)")
    folders.sort(key=lambda rel: rel.count("/"), reverse=True)
    return files, folders, sorted(other)


def _inside(root: Path, rel: str, remove) -> None:
    """``remove(name, dir_fd=…)`` on ``root/rel``, opening each folder on the way without following a link."""
    import os

    *parents, name = rel.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parents:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        remove(name, dir_fd=fd)
    finally:
        os.close(fd)


def _empty_set(root: Path, record: Mapping[str, Any]) -> None:
    """Remove the files of the report set in ``root``: only if each is listed in ``record`` with its sha256.

    A ``report-set.json`` is plain text anyone can write or copy: it lets this command remove
    only files whose content it pins. Anything else there (an unlisted or changed file, a
    symbolic link, a device) is named and nothing is removed. Links are never followed.
    """
    import os

    listed = record.get("files")
    listed = listed if isinstance(listed, dict) else {}
    files, folders, strays = _contents(root)
    for rel, path in files.items():
        entry = listed.get(rel)
        if rel != SET_FILE and not (isinstance(entry, dict) and entry.get("sha256") == sha256_file(path)):
            strays.append(rel)
    if strays:
        strays.sort()
        shown = ", ".join(strays[:10]) + (f" and {len(strays) - 10} more" if len(strays) > 10 else "")
        raise WorkbenchError(
            f"--out {root} holds {len(strays)} file(s) that its {SET_FILE} does not list with the sha256 they have "
            f"now, so this command did not write them or they changed since: {shown}. The workbench removes only "
            "the files of a report set it wrote; move these away, or give another folder"
        )
    for rel in files:
        _inside(root, rel, os.unlink)
    for rel in folders:
        _inside(root, rel, os.rmdir)


def claim_folder(root: str | Path, audience: str, *, force: bool = False) -> Path:
    """Make ``root`` ready for ``audience``'s report set: create it, or empty a previous report set there.

    A folder that holds other files is refused rather than emptied: it may be anything. Only
    files its ``report-set.json`` lists with the sha256 they have now are removed, so a
    forged or copied ``report-set.json`` cannot make this remove anything else. A set for
    another audience (or one whose audience is not recorded) is refused unless ``force``: a
    public set written over an investigator set loses it, and the reverse puts personal data
    into a folder whose name says it is public.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise WorkbenchError(f"--out {root} is a file; give a folder for the report set")
    if root.is_dir() and any(root.iterdir()):
        marker = root / SET_FILE
        if marker.is_symlink() or not marker.is_file():
            raise WorkbenchError(
                f"--out {root} is not empty and holds no {SET_FILE}, so it is not a report set this command may "
                "replace; give an empty or new folder"
            )
        record = _recorded_set(root)
        there = record.get("audience") if isinstance(record.get("audience"), str) else None
        if there != audience and not force:
            held = f"the {there} report set" if there else f"a report set whose {SET_FILE} names no audience"
            raise WorkbenchError(
                f"--out {root} holds {held}; this run is for {audience}. Give another folder, "
                f"or add --force to replace it with the {audience} set"
            )
        _empty_set(root, record)
    root.mkdir(parents=True, exist_ok=True)
    # Written first, so an interrupted run still marks the folder as ours, incomplete, and whose.
    _mark(root, audience)
    return root


def _mark(root: Path, audience: str, files: Mapping[str, Any] | None = None, failed: str | None = None) -> None:
    marker = {"format": FORMAT, "status": "incomplete", "audience": audience, **({"files": files} if files else {})}
    if failed:
        marker["failed"] = failed
    (root / SET_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def mark_incomplete(root: str | Path, audience: str) -> None:
    """Record, after a failed run, the files it wrote in ``root`` (regular files only): the next run may remove them.

    The folder was empty when the run claimed it, so what is there now is the run's.
    """
    import contextlib

    root = Path(root)
    with contextlib.suppress(OSError):  # the run's own error is the one to report
        failed = None  # a reason the failing step recorded (e.g. "leak scan") is kept
        with contextlib.suppress(ValueError, AttributeError):
            failed = json.loads((root / SET_FILE).read_text(encoding="utf-8")).get("failed")
        files, _, _ = _contents(root)
        hashes = {rel: {"sha256": sha256_file(p)} for rel, p in files.items() if rel != SET_FILE}
        _mark(root, audience, hashes, failed=failed if isinstance(failed, str) else None)


def _unanswered(reports: list[ReportEntry], findings: Mapping[str, Mapping]) -> list[dict]:
    """The questions each report could not answer: its findings recorded as unknown, with why."""
    from ..findings import unanswered

    return [
        {
            "report": r.title,
            "html": r.html,
            "questions": [
                {"name": name, "description": findings[r.notebook][name]["description"], "reason": reason}
                for name, reason in unanswered(findings.get(r.notebook, {})).items()
            ],
        }
        for r in reports
        if unanswered(findings.get(r.notebook, {}))
    ]


def write_set(
    root: str | Path,
    *,
    audience: str,
    banner: str,
    case_label: str,
    env: Mapping,
    fingerprint: Mapping,
    parameters: Mapping,
    reports: list[ReportEntry],
    check: Callable[[str], None] | None = None,
    journal: Callable[[Mapping[str, Any]], str] | None = None,
    language: str = "en",
) -> Path:
    """Write ``index.html`` and then ``report-set.json`` (which hashes the index too); returns the index.

    The index is written in ``language`` (``"en"`` or ``"sv"``), which the record names.

    ``check(record)`` runs after the index is written and before the record that declares the
    set complete is: it gets the record's text, and an exception from it leaves the set incomplete.
    ``journal(record)``, after the check, journals the set and returns the head recorded as ``journal_head``.
    """
    from ..audience import Audience
    from ..i18n import check_language, using
    from ..values import format_value, format_when
    from ..wording import how_to_read, say
    from .story import key_figures, summary, unanswered_questions

    check_language(language)
    root = Path(root)
    findings = {
        r.notebook: (json.loads((root / r.findings).read_text(encoding="utf-8")) if r.findings else {}) for r in reports
    }
    files = hash_tree(root)
    story = summary(findings, language)
    with using(language):
        page = _index_page(
            audience=audience,
            banner=banner,
            case=case_label,
            env=env,
            fingerprint=fingerprint,
            parameters=parameters,
            reports=reports,
            findings=findings,
            files=files,
            technical=Audience.parse(audience).sees_sql,
            story=story,
            open_questions=unanswered_questions(story),
            keys={r.notebook: key_figures(r.notebook, findings[r.notebook], language) for r in reports},
            how={r.notebook: how_to_read(r.notebook, language) for r in reports},
            say=say,
            unanswered=_unanswered(reports, findings),
            sizes={path: _size(root / path) for path in files},
            format_value=format_value,
            format_when=format_when,
            set_file=SET_FILE,
            language=language,
        )
    index = root / INDEX_FILE
    index.write_text(page, encoding="utf-8")
    record = {
        "format": FORMAT,
        "status": "complete",
        "audience": audience,
        "language": language,
        "case": case_label,
        **{k: env[k] for k in ("generated_at", "workbench_version", "git_commit")},
        "parameters": dict(parameters),
        "case_fingerprint": fingerprint,
        "reports": [asdict(r) for r in reports],
        "files": hash_tree(root),
    }
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if check is not None:
        check(text)
    if journal is not None:
        record["journal_head"] = journal(record)
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    (root / SET_FILE).write_text(text, encoding="utf-8")
    return index


def _index_page(**context: Any) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "reportset"), autoescape=True, keep_trailing_newline=True
    )
    return environment.get_template("index.html.j2").render(**context)


def load_set(root: str | Path) -> dict[str, Any]:
    """The ``report-set.json`` of a report folder, or a WorkbenchError saying what is wrong."""
    path = Path(root) / SET_FILE
    if not path.is_file():
        raise WorkbenchError(f"{root} is not a report set: it has no {SET_FILE}. Render one with `workbench report`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path} is not valid JSON ({exc}): the report set was damaged") from None
    if data.get("status") != "complete":
        raise WorkbenchError(f"{path} marks an incomplete report set: rendering failed or is still running")
    if data.get("format") != FORMAT:
        raise WorkbenchError(f"{path} has format {data.get('format')!r}; this workbench reads format {FORMAT}")
    return data
