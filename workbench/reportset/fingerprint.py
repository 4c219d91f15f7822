"""One case per report set: the case's fingerprint, taken before the first notebook and checked around each one.

``workbench report`` digests the case's fingerprint (:func:`~workbench.reportset.provenance.case_fingerprint`:
every manifest row, with each evidence file's sha256, row reconciliation and ingest time,
and the rows in each case table) into one ``sha256:…`` string before the first notebook
runs. It passes that string and the case URL to each notebook's kernel environment
(:data:`FINGERPRINT_ENV`, :data:`CASE_ENV`); the execution layer digests the case again just
before the notebook starts and just after it ends, whatever the notebook's code, and stops
the run with :class:`CaseChangedError` naming both fingerprints when they differ. A
re-ingest always changes the fingerprint, since it records a new ingest time. What a
notebook saw is kept in the executed notebook's metadata, shown in its report's provenance
section and listed per report in ``report-set.json``; ``workbench verify`` compares them.

Cost: one read of the manifest and one ``count(*)`` per table, so a fraction of a second
even on a case of 500,000 members. An edit that keeps every table's row count is not seen;
cases are opened read-only, and ingest is the only writer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError

if TYPE_CHECKING:
    from ..case import CaseLike

__all__ = [
    "CASE_ENV",
    "FINGERPRINT_ENV",
    "METADATA_KEY",
    "CaseChangedError",
    "case_check",
    "case_digest",
    "check_case",
    "digest",
    "record_seen",
    "recorded_in",
    "shown_in",
]

FINGERPRINT_ENV = "WORKBENCH_CASE_FINGERPRINT"
"""The fingerprint every notebook of a report set must see, e.g. ``sha256:5f0c…``."""
CASE_ENV = "WORKBENCH_CASE_URL"
"""The case that fingerprint is of, as the kernel opens it (no password: that travels as ``PGPASSWORD``)."""
METADATA_KEY = "case_fingerprint"
"""Where an executed notebook records the fingerprint it saw: ``metadata.workbench.case_fingerprint``."""
_SHOWN = re.compile(r'<code class="wb-case-fingerprint">(sha256:[0-9a-f]{64})</code>')


class CaseChangedError(WorkbenchError):
    """The case changed while a report set was being made: its reports would mix two cases."""


def digest(fingerprint: Mapping[str, Any]) -> str:
    """One string for a case fingerprint, ``"sha256:…"``: equal for the same fingerprint, whatever the key order."""
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def case_digest(case: CaseLike) -> str:
    """The digest of a case's fingerprint now; ``case`` is an open case or engine, or a URL or path opened read-only."""
    import os

    import sqlalchemy as sa

    from ..case import open_case
    from .provenance import case_fingerprint

    if not isinstance(case, (str, os.PathLike, sa.URL)):
        return digest(case_fingerprint(case))
    with open_case(case if isinstance(case, (str, sa.URL)) else os.fspath(case)) as opened:
        return digest(case_fingerprint(opened))


def check_case(case: CaseLike, expected: str, notebook: str, when: str) -> str:
    """The case's digest, or :class:`CaseChangedError` when it is not ``expected``.

    ``notebook`` names the notebook (``"03_queue_fairness.ipynb"``) and ``when`` the moment,
    ``"start"`` or ``"end"``, so the message says where the change was seen.
    """
    seen = case_digest(case)
    if seen != expected:
        raise CaseChangedError(
            f"{notebook}: the case changed while the report set was being made: its fingerprint was {expected} "
            f"when the set began and is {seen} at the {when} of this notebook (the case was re-ingested or altered). "
            "The reports would mix two cases, so the run stops; render the set again once the case stays as it is"
        )
    return seen


def case_check(notebook: str, env: Mapping[str, str]) -> Callable[[str], str | None]:
    """``check(when)`` for one notebook run: :func:`check_case` against the fingerprint in ``env``, if any.

    ``env`` is the kernel's environment; without :data:`FINGERPRINT_ENV` there is nothing to
    check and ``check`` returns None (``workbench run``, papermill alone).
    """
    expected, case = env.get(FINGERPRINT_ENV), env.get(CASE_ENV)
    if expected and not case:
        raise WorkbenchError(f"{notebook}: {FINGERPRINT_ENV} is set but {CASE_ENV} does not name the case")

    def check(when: str) -> str | None:
        return check_case(case, expected, notebook, when) if expected and case else None

    return check


def record_seen(executed: str | Path, seen: str | None) -> None:
    """Keep the fingerprint a notebook saw in its executed copy (``metadata.workbench``), for its provenance."""
    import nbformat

    if seen is None:
        return
    nb = nbformat.read(str(executed), as_version=4)
    nb.metadata.setdefault("workbench", {})[METADATA_KEY] = seen
    nbformat.write(nb, str(executed))


def recorded_in(executed_nb: Any) -> str | None:
    """The fingerprint an executed notebook (a node) recorded, or None."""
    seen = executed_nb.metadata.get("workbench", {}).get(METADATA_KEY)
    return seen if isinstance(seen, str) else None


def shown_in(html_path: str | Path) -> str | None:
    """The case fingerprint a rendered report's provenance section shows, or None when it shows none."""
    try:
        text = Path(html_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    start = text.rfind('id="provenance"')
    found = _SHOWN.findall(text[start:] if start >= 0 else "")
    return found[-1] if found else None
